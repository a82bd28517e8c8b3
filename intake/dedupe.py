"""A key that says "we have already taken in this exact message".

The same mail can arrive twice (an IMAP re-sync, the same message in two folders, a resident
sending it to two of our addresses). Message-ID alone is not enough: some clients and scripts
reuse one, so the key also covers the sender, the Date and the body's hash: a reused Message-ID
with a different body gives a different key.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from intake.message import ParsedMessage


def dedupe_key(message: ParsedMessage) -> str | None:
    """SHA-256 hex of Message-ID, sender, date (UTC ISO) and body hash; None without a Message-ID."""
    if not message.message_id:
        return None
    date = message.date.astimezone(dt.timezone.utc).isoformat() if message.date else ""
    parts = (message.message_id, message.sender or "", date, message.body_sha256)
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
