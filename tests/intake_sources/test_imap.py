"""The IMAP source against a real Dovecot. Fakes appear only to inject faults."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from imapclient import IMAPClient

from intake.checkpoints import Checkpoints
from core.errors import SourceUnavailable
from core.settings import ImapSourceSettings
from intake.imap import ImapSource

RECEIVED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
SECRET = "flat 4 has black mould behind the wardrobe"


def message(n: int) -> bytes:
    return (
        f"From: resident{n}@example.net\r\nTo: complaints@example.org\r\n"
        f"Subject: Complaint {n}\r\nMessage-ID: <m{n}@example.net>\r\n\r\n{SECRET} ({n})\r\n"
    ).encode()


def settings(server, **overrides) -> ImapSourceSettings:
    values = dict(name="complaints", host=server.host, port=server.port, security="none",
                  username=server.user, password=server.password, folder="INBOX")
    return ImapSourceSettings(**{**values, **overrides})


def make_source(server, db, *, retries: int = 3, client_factory=None, **overrides) -> ImapSource:
    s = settings(server, **overrides)
    return ImapSource(s, Checkpoints(db, s.name), retries=retries, backoff_seconds=0.01,
                      client_factory=client_factory)


def test_it_fetches_fifty_messages_moves_them_to_processed_and_then_finds_nothing(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(50)], internaldate=RECEIVED)
    uidvalidity = dovecot.uidvalidity("INBOX")
    source = make_source(dovecot, db)

    items = list(source.fetch())

    assert [item.natural_key for item in items] == [f"{uidvalidity}:{uid}" for uid in uids]
    assert {item.received_at for item in items} == {RECEIVED}
    assert all(item.received_at.utcoffset() == dt.timedelta(0) for item in items)
    assert items[7].raw == message(7) and items[7].kind == "email" and items[7].source == "complaints"
    assert items[7].details == {"uid": uids[7], "uidvalidity": uidvalidity}
    for item in items:
        source.done(item)
    assert dovecot.folder_uids("INBOX") == []
    assert len(dovecot.folder_uids("Processed")) == 50
    assert list(source.fetch()) == []
    assert Checkpoints(db, "complaints").all() == {"uidvalidity": str(uidvalidity), "last_uid": str(uids[-1])}
    source.close()


def test_it_fetches_again_messages_whose_done_never_came(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(5)])
    first = make_source(dovecot, db)
    items = list(first.fetch())
    first.done(items[0])
    first.done(items[2])
    first.close()  # as if the worker crashed before the other done() calls

    again = make_source(dovecot, db)
    refetched = list(again.fetch())

    assert [item.details["uid"] for item in refetched] == [uids[1], uids[3], uids[4]]
    assert Checkpoints(db, "complaints").get("last_uid") == str(uids[2])
    again.close()


def test_it_leaves_fetched_messages_unread(dovecot, db):
    uid = dovecot.append("INBOX", message(1))
    source = make_source(dovecot, db)
    list(source.fetch())
    source.close()

    client = dovecot.client()
    client.select_folder("INBOX", readonly=True)
    assert b"\\Seen" not in client.get_flags([uid])[uid]
    client.logout()


def test_a_new_uidvalidity_resets_the_checkpoint_and_reads_the_folder_again(dovecot, db, caplog):
    dovecot.append_many("Complaints", [message(n) for n in range(3)])
    source = make_source(dovecot, db, folder="Complaints")
    for item in list(source.fetch()):
        source.done(item)
    source.close()
    dovecot.recreate_folder("Complaints")
    new_uids = dovecot.append_many("Complaints", [message(n) for n in range(3, 5)])
    new_validity = dovecot.uidvalidity("Complaints")

    items = list(source.fetch())

    assert [item.natural_key for item in items] == [f"{new_validity}:{uid}" for uid in new_uids]
    assert Checkpoints(db, "complaints").all() == {"uidvalidity": str(new_validity), "last_uid": "0"}
    assert "UIDVALIDITY changed" in caplog.text
    source.close()


def test_done_is_harmless_for_a_message_already_moved(dovecot, db):
    dovecot.append("INBOX", message(1))
    source = make_source(dovecot, db)
    [item] = list(source.fetch())
    source.done(item)
    source.done(item)
    assert len(dovecot.folder_uids("Processed")) == 1
    source.close()


def test_a_wrong_password_fails_at_once_with_a_clear_message(dovecot, db):
    attempts = []

    def counting_factory(*args, **kwargs):
        attempts.append(1)
        return IMAPClient(*args, **kwargs)

    source = make_source(dovecot, db, password="wrong", client_factory=counting_factory)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as raised:
        list(source.fetch())
    assert str(raised.value) == f"login failed for {dovecot.user} on {dovecot.host}:{dovecot.port}"
    assert len(attempts) == 1
    assert time.monotonic() - started < 2


def dropping_factory(drops: int):
    """Connections whose fetch dies with a reset socket, the first `drops` times in all."""
    left = [drops]

    class DroppingClient(IMAPClient):
        def fetch(self, *args, **kwargs):
            if left[0] > 0:
                left[0] -= 1
                self.shutdown()
                raise ConnectionResetError("connection reset by peer")
            return super().fetch(*args, **kwargs)

    return DroppingClient


def test_a_connection_dropped_mid_fetch_is_retried_and_succeeds(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(60)])
    source = make_source(dovecot, db, client_factory=dropping_factory(drops=2))
    items = list(source.fetch())
    assert [item.details["uid"] for item in items] == uids
    for item in items:
        source.done(item)
    assert dovecot.folder_uids("INBOX") == []
    source.close()


def test_a_connection_that_keeps_dropping_makes_the_source_unavailable(dovecot, db):
    dovecot.append("INBOX", message(1))
    source = make_source(dovecot, db, retries=2, client_factory=dropping_factory(drops=99))
    with pytest.raises(SourceUnavailable, match="after 3 attempts"):
        list(source.fetch())


def test_a_stopped_server_is_unavailable_after_retries_and_works_once_started_again(dovecot, db):
    dovecot.append("INBOX", message(1))
    source = make_source(dovecot, db)
    assert len(list(source.fetch())) == 1
    dovecot.stop()

    with pytest.raises(SourceUnavailable) as raised:
        list(source.fetch())
    assert f"{dovecot.host}:{dovecot.port}" in str(raised.value)
    assert "'INBOX'" in str(raised.value)

    dovecot.start()
    [item] = list(source.fetch())
    source.done(item)
    assert dovecot.folder_uids("INBOX") == []
    source.close()


class WithoutCapabilities(IMAPClient):
    hidden: set[str] = set()

    def has_capability(self, capability):
        return capability.upper() not in self.hidden and super().has_capability(capability)


def without(*capabilities: str):
    return type("Limited", (WithoutCapabilities,), {"hidden": set(capabilities)})


def test_without_move_it_copies_then_expunges_only_that_message(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(3)])
    source = make_source(dovecot, db, client_factory=without("MOVE"))
    items = list(source.fetch())
    client = dovecot.client()
    client.select_folder("INBOX")
    client.add_flags([uids[2]], [b"\\Deleted"])  # someone else's deletion, not ours to expunge
    client.logout()

    source.done(items[0])

    assert dovecot.folder_uids("INBOX") == uids[1:]
    assert len(dovecot.folder_uids("Processed")) == 1
    source.close()


def test_without_move_or_uidplus_it_flags_the_message_and_skips_it_afterwards(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(2)])
    source = make_source(dovecot, db, client_factory=without("MOVE", "UIDPLUS"))
    first, _ = list(source.fetch())

    source.done(first)

    assert dovecot.folder_uids("INBOX") == uids
    assert [item.details["uid"] for item in source.fetch()] == [uids[1]]
    source.close()


def test_it_never_logs_message_bodies(dovecot, db, caplog):
    caplog.set_level(logging.DEBUG, logger="intake")
    dovecot.append("INBOX", message(1))
    source = make_source(dovecot, db)
    for item in list(source.fetch()):
        source.done(item)
    source.close()
    assert "fetched 1 messages" in caplog.text
    assert SECRET not in caplog.text


def test_a_missing_folder_makes_the_source_unavailable_naming_it(dovecot, db):
    source = make_source(dovecot, db, retries=1, folder="NoSuchFolder")
    with pytest.raises(SourceUnavailable, match="'NoSuchFolder'.*after 2 attempts"):
        list(source.fetch())
