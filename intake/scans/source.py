"""The scanned-letter folder as a Source.

A file is taken only once it is complete: its size and modification time must be the same on two
polls in a row (the sizes are remembered in memory, so a file is never yielded the first time it
is seen). Hidden and temporary files are ignored, as are the ``processed/`` and ``quarantine/``
folders this source files things into. Each complete file is read here, before any database
transaction (OCR is slow), and yielded with its bytes. A file that cannot be read is yielded too,
with ``details["unreadable"]``, so its bytes are stored and staff see it; ``done`` then moves it to
``quarantine/`` with a note saying why, where a readable one goes to ``processed/<today>/``.
Nothing is ever deleted. Receipt days, received_at and <today> are in the policy's time zone.
Filed scans and their notes are 0600 in folders created 0700 (``core.files``): they are residents' letters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from core.errors import ConfigurationError, SourceUnavailable, UnreadableSubmission
from core.files import FILE_MODE, make_private, private_dir, write_private
from core.settings import LetterSourceSettings
from intake.items import RawItem
from intake.scans.ocr import installed_languages, read_document
from intake.scans.receipt import DEFAULT_ZONE, receipt_date, scanned_at, start_of_day

log = logging.getLogger(__name__)
PROCESSED, QUARANTINE = "processed", "quarantine"
TEMP_PREFIXES = ("~$", ".")
TEMP_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp")
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class Sighting:
    size: int
    mtime_ns: int


class LetterSource:
    def __init__(self, settings: LetterSourceSettings, var_dir: Path, zone: ZoneInfo = DEFAULT_ZONE) -> None:
        """``zone`` is the policy's time zone: ``ZoneInfo(settings.policy.timezone)``."""
        self.settings = settings
        self.zone = zone
        self.name = settings.name
        self.root = Path(settings.path)
        self.var_dir = Path(var_dir)
        self._seen: dict[Path, Sighting] = {}
        self._check_languages()

    def _check_languages(self) -> None:
        wanted = set(self.settings.ocr_languages.split("+"))
        missing = wanted - installed_languages()
        if missing:
            raise ConfigurationError(
                f"letters.ocr_languages: Tesseract has no {', '.join(sorted(missing))} data installed"
                f" (on Debian: apt-get install {' '.join('tesseract-ocr-' + m for m in sorted(missing))})"
            )

    # -- fetching ---------------------------------------------------------------------------------

    def fetch(self) -> Iterator[RawItem]:
        for path in self.complete_files():
            yield self.read(path)

    def complete_files(self) -> list[Path]:
        """Files whose size and mtime have not changed since the previous poll."""
        current = {path: sighting for path in self._candidates() if (sighting := _sight(path))}
        complete = [path for path, sighting in sorted(current.items()) if self._seen.get(path) == sighting]
        self._seen = current
        return complete

    def _candidates(self) -> Iterator[Path]:
        if not self.root.is_dir():
            raise SourceUnavailable(f"letter folder {self.root} does not exist or is not a folder")
        for folder, subfolders, files in os.walk(self.root, onerror=self._walk_error):
            here = Path(folder)
            subfolders[:] = sorted(d for d in subfolders if not self._skipped_folder(here, d))
            yield from (here / name for name in sorted(files) if not is_temporary(name))

    def _skipped_folder(self, here: Path, name: str) -> bool:
        return name.startswith(".") or (here == self.root and name in (PROCESSED, QUARANTINE))

    def _walk_error(self, error: OSError) -> None:
        if Path(error.filename or "") == self.root:
            raise SourceUnavailable(f"cannot read letter folder {self.root}: {error}")
        log.warning("cannot read %s: %s", error.filename, error.strerror)

    def read(self, path: Path) -> RawItem:
        """The file as a RawItem, read (and OCR'd) now; an unreadable file says why in details."""
        data = path.read_bytes()
        day, source = receipt_date(path, self.root, self.settings.receipt_date_from, self.zone)
        details = {
            "path": str(path), "text": None, "ocr_confidence": None, "pages": 0,
            "receipt_date_source": source, "scanned_at": scanned_at(path).isoformat(),
        }
        details.update(self._text_details(data, path))
        return RawItem(
            source=self.name, kind="letter", natural_key=hashlib.sha256(data).hexdigest(), raw=data,
            received_at=start_of_day(day, self.zone), filename=self._relative(path), details=details,
        )

    def _text_details(self, data: bytes, path: Path) -> dict:
        try:
            document = read_document(data, path.suffix, self.settings.ocr_languages)
        except UnreadableSubmission as exc:
            log.warning("letter %s cannot be read: %s", self._relative(path), exc)
            return {"unreadable": str(exc)}
        log.info("read letter %s: %s page(s), OCR confidence %s", self._relative(path), document.pages, document.confidence)
        return {"text": document.text, "ocr_confidence": document.confidence, "pages": document.pages}

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- filing -----------------------------------------------------------------------------------

    def done(self, item: RawItem) -> None:
        """File the item away: quarantine/ if unreadable, else processed/<today>/. Idempotent."""
        path = Path(item.details["path"])
        if not path.exists():
            return  # already filed (done() called again) or moved by a person
        relative = Path(item.filename or path.name)
        if item.details.get("unreadable"):
            target = move_aside(path, self.root / QUARANTINE / relative)
            write_note(target, item)
        else:
            today = dt.datetime.now(self.zone).date().isoformat()
            target = move_aside(path, self.root / PROCESSED / today / relative)
        self._seen.pop(path, None)
        log.info("filed letter %s as %s", relative, target.relative_to(self.root))

    def close(self) -> None:
        self._seen.clear()


def is_temporary(name: str) -> bool:
    lowered = name.lower()
    return name.startswith(TEMP_PREFIXES) or lowered.endswith(TEMP_SUFFIXES) or lowered in IGNORED_NAMES


def _sight(path: Path) -> Sighting | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # gone between listing and looking
    return Sighting(stat.st_size, stat.st_mtime_ns)


def move_aside(path: Path, target: Path) -> Path:
    """Move without overwriting: on a clash the new name gets a suffix (scan.pdf → scan-2.pdf). The
    moved file is made private, whatever mode the scanner gave it."""
    private_dir(target.parent)
    candidate, number = target, 1
    while True:
        try:
            _link_then_unlink(path, candidate)
            return make_private(candidate)
        except FileExistsError:
            number += 1
            candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")


def _link_then_unlink(path: Path, target: Path) -> None:
    """An atomic no-clobber move on one filesystem; a copy-then-remove across filesystems."""
    try:
        os.link(path, target)
    except FileExistsError:
        raise
    except OSError:
        _copy_exclusive(path, target)
    path.unlink()


def _copy_exclusive(path: Path, target: Path) -> None:
    with path.open("rb") as source, open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as copy:
        while chunk := source.read(1 << 20):
            copy.write(chunk)
        copy.flush()
        os.fsync(copy.fileno())


def write_note(target: Path, item: RawItem) -> Path:
    note = target.with_name(target.name + ".why.txt")
    write_private(note, (
        f"Why this file is in quarantine: {item.details['unreadable']}\n"
        f"Original location: {item.filename}\n"
        f"SHA-256: {item.natural_key}\n"
        f"Received (post room date): {item.received_at.date().isoformat()} ({item.details.get('receipt_date_source')})\n"
        f"Quarantined: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
        "It was stored as a failed submission; staff can see it in the queue.\n"
    ).encode("utf-8"))
    return note
