"""Managers' figures (/figures): CH01, CH02, timeliness and the rest, charts, CSV, the annual report (issue 11)."""

from __future__ import annotations

routes: list = []
