"""The Maildir source: read a Maildir's new/ and cur/, and file each done message under .Processed.

``received_at`` is the message file's mtime: Dovecot (LDA, LMTP and IMAP APPEND, where it is the
INTERNALDATE) and Postfix's local delivery both leave the delivery time as the file's mtime.
``done()`` renames the file into the Maildir++ sub-folder ``.Processed`` (created if missing),
keeping its sub-directory and flags: the inbox empties, nothing is deleted, and a rename within one
file system cannot leave a message half-moved. A message already in ``.Processed`` counts as
processed: it is skipped, and ``done()`` for it does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import mailbox
import os
from pathlib import Path
from typing import Iterator

from core.errors import SourceUnavailable
from core.settings import MaildirSourceSettings
from intake.items import RawItem, Source

log = logging.getLogger(__name__)

PROCESSED = "Processed"  # the Maildir++ folder, on disk ".Processed"
SUBDIRS = ("new", "cur")


class MaildirSource(Source):
    """One configured Maildir as a source of raw e-mail items."""

    def __init__(self, settings: MaildirSourceSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.path = Path(settings.path)

    def fetch(self) -> Iterator[RawItem]:
        self._require_maildir()
        done_already = _index(self.path / f".{PROCESSED}")
        waiting = {key: path for key, path in _index(self.path).items() if key not in done_already}
        log.info("Maildir %s: %d messages to fetch, %d already processed", self.name, len(waiting), len(done_already))
        for key in sorted(waiting):  # keys start with the delivery time: oldest first
            item = self._item(key, waiting[key])
            if item is not None:
                yield item

    def done(self, item: RawItem) -> None:
        key = item.natural_key
        found = _still_there(item) or _find(self.path, key)
        if found is None:
            log.info("Maildir %s: %s already gone from the inbox", self.name, key)
            return
        os.rename(found, self._processed_dir() / found.parent.name / found.name)
        log.info("Maildir %s: %s moved to .%s", self.name, key, PROCESSED)

    def close(self) -> None:
        pass

    def _require_maildir(self) -> None:
        if not all((self.path / sub).is_dir() for sub in SUBDIRS):
            raise SourceUnavailable(f"Maildir source {self.name!r}: no Maildir at {self.path}")

    def _item(self, key: str, path: Path) -> RawItem | None:
        try:
            raw, received_at = path.read_bytes(), _mtime(path)
        except FileNotFoundError:  # renamed (new/ -> cur/ by an IMAP reader) or taken away
            path = _find(self.path, key)
            if path is None:
                return None
            raw, received_at = path.read_bytes(), _mtime(path)
        return RawItem(
            source=self.name,
            kind="email",
            natural_key=key,
            raw=raw,
            received_at=received_at,
            filename=path.name,
            details={"path": str(path)},
        )

    def _processed_dir(self) -> Path:
        inbox = mailbox.Maildir(self.path, factory=None, create=False)
        folder = self.path / f".{PROCESSED}"
        if PROCESSED not in inbox.list_folders():
            inbox.add_folder(PROCESSED)
            _same_owner_as(self.path, folder)
        return folder


def _index(maildir: Path) -> dict[str, Path]:
    """Every message file in new/ and cur/, by Maildir key (the name before ":2,<flags>")."""
    found: dict[str, Path] = {}
    for sub in SUBDIRS:
        folder = maildir / sub
        if folder.is_dir():
            with os.scandir(folder) as entries:
                found.update({_key(e.name): Path(e.path) for e in entries if _is_message(e)})
    return found


def _find(maildir: Path, key: str) -> Path | None:
    """The file holding the message with this key now: new/<key> or cur/<key>:2,<flags>."""
    return _index(maildir).get(key)


def _still_there(item: RawItem) -> Path | None:
    path = Path(item.details.get("path", ""))
    return path if path.name and path.is_file() else None


def _key(name: str) -> str:
    return name.split(":", 1)[0]


def _is_message(entry: os.DirEntry) -> bool:
    return not entry.name.startswith(".") and entry.is_file()


def _same_owner_as(maildir: Path, folder: Path) -> None:
    """Run as root, give the new folder to the Maildir's owner, or Dovecot could not use it."""
    if os.geteuid() != 0:
        return
    owner = maildir.stat()
    for path in [folder, *folder.iterdir()]:
        os.chown(path, owner.st_uid, owner.st_gid)


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc)
