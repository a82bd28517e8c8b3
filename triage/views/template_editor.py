"""Managers' templates (/templates): list, edit with live preview, versions, diff, restore (issue 11)."""

from __future__ import annotations

routes: list = []
