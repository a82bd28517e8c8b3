"""Moments for hand-worked clock tests: UTC times, and the end of a London day in BST or GMT."""

from __future__ import annotations

from datetime import datetime, timezone

UTC = timezone.utc


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def end_bst(y: int, m: int, d: int) -> datetime:
    return utc(y, m, d, 22, 59, 59)  # 23:59:59 BST


def end_gmt(y: int, m: int, d: int) -> datetime:
    return utc(y, m, d, 23, 59, 59)  # 23:59:59 GMT
