"""Records: `intake retention`, `intake sar EMAIL`, `intake export` (issue 16; owned by the retention work)."""

from __future__ import annotations


def add_parsers(commands) -> None:
    """Registers nothing yet: the retention work adds its commands here."""
