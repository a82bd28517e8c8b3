"""The receipt date is the post room's date, not the scan date; scanning lag is measured."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from casework.calendar import Calendar
from intake.scans.receipt import receipt_date, scanning_lag, scanning_lag_note, start_of_day
from tests.letters.conftest import set_mtime

SCANNED = dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)  # a Thursday


def make(root, relative: str):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Dear Sir")
    set_mtime(path, SCANNED)
    return path


def test_a_dated_subfolder_gives_the_receipt_date(tmp_path):
    path = make(tmp_path, "2026-11-20/batch-a/scan 3.pdf")
    assert receipt_date(path, tmp_path, "convention") == (dt.date(2026, 11, 20), "folder")


def test_a_date_prefix_in_the_file_name_gives_the_receipt_date(tmp_path):
    assert receipt_date(make(tmp_path, "20261119_0001.tif"), tmp_path) == (dt.date(2026, 11, 19), "filename")
    assert receipt_date(make(tmp_path, "2026-11-18 Smith.pdf"), tmp_path) == (dt.date(2026, 11, 18), "filename")


def test_without_a_convention_the_modification_time_is_used(tmp_path):
    assert receipt_date(make(tmp_path, "scan 3.pdf"), tmp_path) == (dt.date(2026, 11, 26), "mtime")


def test_mtime_mode_ignores_the_post_room_convention(tmp_path):
    path = make(tmp_path, "2026-11-20/scan.pdf")
    assert receipt_date(path, tmp_path, "mtime") == (dt.date(2026, 11, 26), "mtime")


def test_an_impossible_or_future_date_falls_back_to_the_modification_time(tmp_path):
    assert receipt_date(make(tmp_path, "2026-13-45/scan.pdf"), tmp_path)[1] == "mtime"
    assert receipt_date(make(tmp_path, "2026-12-25/scan.pdf"), tmp_path) == (dt.date(2026, 11, 26), "mtime")


def test_the_root_folders_own_date_name_is_not_a_receipt_date(tmp_path):
    root = tmp_path / "2026-01-01"
    assert receipt_date(make(root, "scan.pdf"), root) == (dt.date(2026, 11, 26), "mtime")


def test_received_at_is_midnight_in_london_even_in_summer_time():
    start = start_of_day(dt.date(2026, 7, 1))
    assert start.utcoffset() == dt.timedelta(hours=1)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC)


def test_the_receipt_date_and_its_midnight_are_on_the_calendar_of_the_zone_given(tmp_path):
    auckland = ZoneInfo("Pacific/Auckland")  # 15:00 UTC on Thursday 26 November is 04:00 on Friday 27th there
    path = make(tmp_path, "scan 3.pdf")
    assert receipt_date(path, tmp_path, "mtime", auckland) == (dt.date(2026, 11, 27), "mtime")
    dated = make(tmp_path, "2026-11-27/scan.pdf")  # not after the scan on Auckland's calendar, so it counts
    assert receipt_date(dated, tmp_path, zone=auckland) == (dt.date(2026, 11, 27), "folder")
    start = start_of_day(dt.date(2026, 11, 27), auckland)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 11, 26, 11, 0, tzinfo=dt.UTC)


def test_scanning_lag_counts_the_working_days_used_before_the_scan():
    calendar = Calendar("ENG")
    received = start_of_day(dt.date(2026, 11, 20))  # a Friday
    assert scanning_lag(calendar, received, SCANNED) == 4  # Mon, Tue, Wed, Thu
    assert scanning_lag(calendar, received, dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC)) == 0
    assert scanning_lag(calendar, received, dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)) == 0  # the weekend


def test_the_case_note_says_how_much_of_the_window_scanning_used():
    calendar = Calendar("ENG")
    received = start_of_day(dt.date(2026, 11, 20))
    assert scanning_lag_note(calendar, received, SCANNED) == (
        "scanned 4 working days after it arrived: 4 of the 5 working days to acknowledge were used"
    )
    late = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    assert "window has passed" in scanning_lag_note(calendar, received, late)
    assert scanning_lag_note(calendar, received, received) is None
