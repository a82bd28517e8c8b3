"""What a source yields, and the little a source must do. The per-item loop lives in runner.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Protocol


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
    name: str

    def fetch(self) -> Iterable[RawItem]:
        """Yield new items. Raise SourceUnavailable when the source cannot be reached."""

    def done(self, item: RawItem) -> None:
        """Called only after the item's submission has committed: move/flag it as processed."""

    def close(self) -> None: ...
