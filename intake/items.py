"""What a source yields, and the little a source must do. The per-item loop lives in pipeline/runner.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence


@dataclass(frozen=True)
class RawItem:
    """One inbound item exactly as a source fetched it."""

    source: str  # the configured source's name
    kind: str  # "email" or "letter"
    natural_key: str  # unique within the source: "uidvalidity:uid", a Maildir key, a file's SHA-256
    raw: bytes
    received_at: dt.datetime  # aware; when it reached the landlord
    filename: str | None = None
    details: dict = field(default_factory=dict)  # source-specific facts (e.g. the letter's path)


class Source(Protocol):
    """A source of raw items. ``done_all`` and ``wait_for_mail`` have defaults here: a class that
    subclasses Source explicitly inherits them; for one that does not, call the module's
    ``mark_done`` and ``wait_for_mail``, which fall back to the same defaults."""

    name: str

    def fetch(self) -> Iterable[RawItem]:
        """Yield new items, oldest first; a source may read ahead in batches, never the whole backlog
        at once. Raise SourceUnavailable when the source cannot be reached."""

    def done(self, item: RawItem) -> None:
        """Called only after the item's submission has committed: move/flag it as processed."""

    def done_all(self, items: Sequence[RawItem]) -> None:
        """``done`` for a batch whose submissions have all committed (an IMAP source moves the batch in
        one command). The default calls ``done`` for each."""
        for item in items:
            self.done(item)

    def wait_for_mail(self, seconds: float) -> bool:
        """Block until the source reports new mail (True) or ``seconds`` pass (False).

        The contract, for the scheduler: True means "fetch now, something has arrived"; False means
        nothing was reported, which includes "this source cannot tell" (the default returns False at
        once: no push, the caller polls on its timer). It never fetches, stores or marks anything,
        never raises for a dropped connection (it returns False and the next fetch reconnects), and
        may be called from a thread other than the one that fetches (an IMAP source waits on its own
        connection). A True can be spurious (a flag change, mail another worker took): the fetch that
        follows then finds nothing."""
        return False

    def close(self) -> None: ...


def mark_done(source: Source, items: Sequence[RawItem]) -> None:
    """Tell a source a committed batch is done: its ``done_all`` if it has one, else ``done`` for each."""
    done_all = getattr(source, "done_all", None)
    if done_all is not None:
        done_all(items)
    else:
        for item in items:
            source.done(item)


def wait_for_mail(source: Source, seconds: float) -> bool:
    """``source.wait_for_mail(seconds)``, or False at once for a source without it (it cannot push)."""
    wait = getattr(source, "wait_for_mail", None)
    return bool(wait(seconds)) if wait is not None else False
