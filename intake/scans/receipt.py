"""When a letter reached the landlord: the post room's date, not the day it was scanned.

The post room's convention, in order: a date prefix on the file name (``2026-11-20 scan 3.pdf``,
``20261120_0001.tif``), else the nearest dated folder it sits in (``2026-11-20/scan 3.pdf``), else
the file's modification time. ``mode="mtime"`` skips the convention. A convention date later than
the scan itself cannot be right (a typo in a folder name), so the modification time wins then.
Days are on the calendar of ``zone``, the policy's time zone (``ZoneInfo(settings.policy.timezone)``);
Europe/London, the policy's default, when a caller cannot reach the policy.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from casework.calendar import Calendar
from core.settings import PolicySettings

log = logging.getLogger(__name__)
DEFAULT_ZONE = ZoneInfo(PolicySettings().timezone)
DATED_NAME = re.compile(r"^(?P<y>20\d\d)[-_.]?(?P<m>\d\d)[-_.]?(?P<d>\d\d)(?![0-9])")
DATED_FOLDER = re.compile(r"^(?P<y>20\d\d)[-_.]?(?P<m>\d\d)[-_.]?(?P<d>\d\d)$")


def receipt_date(
    path: Path, root: Path, mode: str = "convention", zone: ZoneInfo = DEFAULT_ZONE
) -> tuple[dt.date, str]:
    """The post-room date of a file under ``root`` and where it came from: filename, folder or mtime.
    Never later than the scan's own date in ``zone``."""
    scanned = scanned_at(path).astimezone(zone).date()
    if mode == "convention":
        for day, source in _convention_dates(path, root):
            if day <= scanned:
                return day, source
            log.warning("ignoring %s date %s for %s: it is after the scan (%s)", source, day, path.name, scanned)
    return scanned, "mtime"


def _convention_dates(path: Path, root: Path):
    name_date = _parse(DATED_NAME, path.name)
    if name_date:
        yield name_date, "filename"
    for folder in _folders_between(path, root):
        folder_date = _parse(DATED_FOLDER, folder)
        if folder_date:
            yield folder_date, "folder"
            return


def _folders_between(path: Path, root: Path) -> list[str]:
    """Folder names from the file's own folder up to (not including) root."""
    try:
        relative = path.parent.relative_to(root)
    except ValueError:
        return []
    return list(reversed(relative.parts))


def _parse(pattern: re.Pattern[str], text: str) -> dt.date | None:
    match = pattern.match(text)
    if not match:
        return None
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def scanned_at(path: Path) -> dt.datetime:
    """The file's modification time, aware (UTC)."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


def start_of_day(day: dt.date, zone: ZoneInfo = DEFAULT_ZONE) -> dt.datetime:
    """00:00 in ``zone`` on ``day``, aware: a letter's received_at."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)


def scanning_lag(calendar: Calendar, received_at: dt.datetime, scanned_at: dt.datetime) -> int:
    """Working days of the acknowledgement window used up before the letter was scanned."""
    day0 = calendar.receipt_day(received_at)
    return calendar.working_days_between(day0, calendar.local(scanned_at).date())


def scanning_lag_note(calendar: Calendar, received_at: dt.datetime, scanned_at: dt.datetime, window_days: int = 5) -> str | None:
    """A sentence for the case when scanning used part of the window; None when it used none."""
    lag = scanning_lag(calendar, received_at, scanned_at)
    if lag <= 0:
        return None
    day_word = "working day" if lag == 1 else "working days"
    if lag >= window_days:
        return f"scanned {lag} {day_word} after it arrived: the {window_days}-working-day acknowledgement window has passed"
    return f"scanned {lag} {day_word} after it arrived: {lag} of the {window_days} working days to acknowledge were used"
