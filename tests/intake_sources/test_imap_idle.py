"""The IMAP source's push (``wait_for_mail``, IMAP IDLE) and its one-move-per-batch ``done_all``, against
a real Dovecot. Fakes appear only to take a capability away."""

from __future__ import annotations

import threading
import time

from imapclient import IMAPClient

from intake.checkpoints import Checkpoints
from intake.items import RawItem, mark_done, wait_for_mail
from intake.maildir import MaildirSource
from tests.intake_sources.test_imap import make_source, message, without


class CountingClient(IMAPClient):
    """A real client that counts the MOVE commands it sends."""

    moves = 0

    def move(self, messages, folder):
        type(self).moves += 1
        return super().move(messages, folder)


def test_it_returns_true_once_mail_arrives_while_it_waits(dovecot, db):
    source = make_source(dovecot, db)
    assert source.wait_for_mail(0.5) is False  # an empty folder: nothing to report, after the wait
    timer = threading.Timer(1.0, lambda: dovecot.append("INBOX", message(1)))
    timer.start()
    started = time.monotonic()
    try:
        assert source.wait_for_mail(20) is True
    finally:
        timer.join()
    assert time.monotonic() - started < 15  # woken by the server, not by the 20 s timeout
    assert [item.natural_key.split(":")[1] for item in source.fetch()] == ["1"]
    source.close()


def test_mail_that_came_between_two_waits_is_reported_at_once(dovecot, db):
    source = make_source(dovecot, db)
    assert source.wait_for_mail(0.2) is False
    dovecot.append("INBOX", message(1))  # nobody is idling now
    started = time.monotonic()
    assert source.wait_for_mail(20) is True
    assert time.monotonic() - started < 15
    source.close()


def test_a_fresh_connection_reports_mail_already_waiting(dovecot, db):
    dovecot.append("INBOX", message(1))
    source = make_source(dovecot, db)
    assert source.wait_for_mail(20) is True
    source.close()


def test_it_times_out_with_false_when_nothing_comes(dovecot, db):
    source = make_source(dovecot, db)
    source.wait_for_mail(0.1)  # connected and idle-ready
    started = time.monotonic()
    assert source.wait_for_mail(1.5) is False
    assert time.monotonic() - started >= 1.4
    source.close()


def test_without_idle_it_returns_false_at_once(dovecot, db):
    dovecot.append("INBOX", message(1))  # even with mail waiting: it cannot say, the caller polls
    source = make_source(dovecot, db, client_factory=without("IDLE"))
    started = time.monotonic()
    assert source.wait_for_mail(30) is False
    assert source.wait_for_mail(30) is False
    assert time.monotonic() - started < 10
    source.close()


def test_a_stopped_server_gives_false_and_the_next_wait_connects_again(dovecot, db):
    source = make_source(dovecot, db)
    source.wait_for_mail(0.1)
    dovecot.stop()
    assert source.wait_for_mail(2) is False
    dovecot.start()
    dovecot.append("INBOX", message(1))
    assert source.wait_for_mail(20) is True
    source.close()


def test_a_source_that_cannot_push_says_false_at_once(tmp_path):
    from tests.mail import new_maildir
    from core.settings import MaildirSourceSettings

    source = MaildirSource(MaildirSourceSettings(name="m", path=new_maildir(tmp_path / "maildir")))
    assert source.wait_for_mail(30) is False
    assert wait_for_mail(object(), 30) is False  # a source without the method at all


def test_a_batch_is_marked_done_with_one_move_and_one_checkpoint(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(7)])
    CountingClient.moves = 0
    source = make_source(dovecot, db, client_factory=CountingClient)
    items = list(source.fetch())

    mark_done(source, items)

    assert CountingClient.moves == 1
    assert dovecot.folder_uids("INBOX") == []
    assert len(dovecot.folder_uids("Processed")) == 7
    assert Checkpoints(db, "complaints").get("last_uid") == str(max(uids))
    source.close()


def test_a_batch_part_of_which_was_moved_already_moves_the_rest(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(4)])
    source = make_source(dovecot, db)
    items = list(source.fetch())
    source.done(items[1])  # an earlier run moved this one, then died before its checkpoint

    source.done_all(items)

    assert dovecot.folder_uids("INBOX") == []
    assert len(dovecot.folder_uids("Processed")) == 4
    assert Checkpoints(db, "complaints").get("last_uid") == str(uids[-1])
    source.close()


def test_a_batch_from_an_old_uidvalidity_is_left_alone(dovecot, db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(2)])
    source = make_source(dovecot, db)
    items = list(source.fetch())
    stale = [RawItem(item.source, item.kind, item.natural_key, item.raw, item.received_at,
                     details={**item.details, "uidvalidity": item.details["uidvalidity"] + 1}) for item in items]

    source.done_all(stale)

    assert dovecot.folder_uids("INBOX") == uids
    source.close()
