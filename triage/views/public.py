"""The residents' public pages, no login: the complaints form (/report) and "where is my complaint?" (/status) (issue 12)."""

from __future__ import annotations

routes: list = []
