"""The Maildir source, on real Maildirs: one written here, and one Dovecot delivered into."""

from __future__ import annotations

import datetime as dt
import glob
import mailbox
import os
import shutil

import pytest

from core.errors import SourceUnavailable
from core.settings import MaildirSourceSettings
from intake.maildir import MaildirSource

DELIVERED = dt.datetime(2026, 2, 3, 16, 45, 12, tzinfo=dt.timezone.utc)


def message(n: int) -> bytes:
    return f"From: resident{n}@example.net\nSubject: Repair {n}\nMessage-ID: <r{n}@example.net>\n\nLeak {n}\n".encode()


def deliver(box: mailbox.Maildir, raw: bytes, when: dt.datetime, subdir: str = "new") -> str:
    entry = mailbox.MaildirMessage(raw)
    entry.set_subdir(subdir)
    if subdir == "cur":
        entry.set_flags("S")
    key = box.add(entry)
    [path] = glob.glob(os.path.join(box.root, subdir, glob.escape(key) + "*"))
    os.utime(path, (when.timestamp(), when.timestamp()))
    return key


@pytest.fixture
def inbox(tmp_path):
    box = mailbox.Maildir(tmp_path / "complaints", create=True)
    box.root = str(tmp_path / "complaints")
    return box


def source_for(path) -> MaildirSource:
    return MaildirSource(MaildirSourceSettings(name="mailbox", path=path))


def test_it_fetches_new_and_read_messages_with_their_delivery_time_as_receipt(inbox):
    fresh = deliver(inbox, message(1), DELIVERED)
    seen = deliver(inbox, message(2), DELIVERED + dt.timedelta(minutes=5), subdir="cur")

    items = {item.natural_key: item for item in source_for(inbox.root).fetch()}

    assert set(items) == {fresh, seen}
    assert items[fresh].raw == message(1) and items[seen].raw == message(2)
    assert items[fresh].received_at == DELIVERED
    assert items[seen].received_at == DELIVERED + dt.timedelta(minutes=5)
    assert items[seen].source == "mailbox" and items[seen].kind == "email"


def test_done_moves_messages_to_processed_so_the_inbox_empties_and_nothing_is_deleted(inbox):
    keys = {deliver(inbox, message(n), DELIVERED, subdir) for n, subdir in [(1, "new"), (2, "cur")]}
    source = source_for(inbox.root)
    items = list(source.fetch())

    for item in items:
        source.done(item)

    processed = mailbox.Maildir(inbox.root, create=False).get_folder("Processed")
    assert set(processed.keys()) == keys
    assert sorted(processed.get_bytes(key) for key in keys) == [message(1), message(2)]
    assert os.path.exists(os.path.join(inbox.root, ".Processed", "maildirfolder"))
    assert len(mailbox.Maildir(inbox.root, create=False)) == 0
    assert list(source.fetch()) == []


def test_done_twice_is_harmless(inbox):
    deliver(inbox, message(1), DELIVERED)
    source = source_for(inbox.root)
    [item] = list(source.fetch())
    source.done(item)
    source.done(item)
    assert len(mailbox.Maildir(inbox.root, create=False).get_folder("Processed")) == 1


def test_a_message_already_in_processed_is_skipped(inbox):
    key = deliver(inbox, message(1), DELIVERED)
    deliver(inbox, message(2), DELIVERED)
    inbox.add_folder("Processed")
    processed_path = os.path.join(inbox.root, ".Processed")
    shutil.copy(os.path.join(inbox.root, "new", key), os.path.join(processed_path, "new", key))

    items = list(source_for(inbox.root).fetch())

    assert [item.raw for item in items] == [message(2)]


def test_a_missing_maildir_makes_the_source_unavailable_naming_the_path(tmp_path):
    missing = tmp_path / "no-such-maildir"
    with pytest.raises(SourceUnavailable, match=str(missing)):
        list(source_for(missing).fetch())


def test_it_reads_mail_dovecot_delivered_and_dovecot_sees_it_moved_to_processed(dovecot):
    raw = message(7).replace(b"\n", b"\r\n")
    dovecot.append("INBOX", raw, internaldate=DELIVERED)
    source = source_for(dovecot.maildir())

    [item] = list(source.fetch())
    source.done(item)

    assert item.received_at == DELIVERED  # Dovecot keeps INTERNALDATE as the file's mtime
    assert item.raw.replace(b"\r\n", b"\n") == message(7)  # Dovecot stores LF line ends
    assert dovecot.folder_uids("INBOX") == []
    assert len(dovecot.folder_uids("Processed")) == 1
