"""The working-day Calendar. Every expected date below was worked out by hand against a printed
calendar (weekdays checked with python's calendar module), not copied from the code's output."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from casework.calendar import Calendar
from core.settings import PolicySettings

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
XMAS_EVE_2026 = date(2026, 12, 24)


@pytest.mark.parametrize(
    ("nation", "day", "working"),
    [
        ("ENG", date(2026, 4, 3), False),  # Fri: Good Friday
        ("SCT", date(2026, 4, 3), False),  # Fri: Good Friday is a holiday in Scotland too
        ("ENG", date(2026, 4, 6), False),  # Mon: Easter Monday
        ("WLS", date(2026, 4, 6), False),  # Mon: Wales keeps England's bank holidays
        ("NIR", date(2026, 4, 6), False),  # Mon: Easter Monday is a holiday in Northern Ireland
        ("SCT", date(2026, 4, 6), True),  # Mon: Easter Monday is NOT a Scottish bank holiday
        ("ENG", date(2026, 4, 7), True),  # Tue after Easter: an ordinary day
        ("ENG", date(2026, 4, 11), False),  # Sat
        ("ENG", date(2026, 4, 12), False),  # Sun
        ("ENG", date(2026, 12, 25), False),  # Fri: Christmas Day
        ("ENG", date(2026, 12, 28), False),  # Mon: Boxing Day substitute (26 Dec is a Saturday)
        ("WLS", date(2026, 12, 28), False),  # Mon: same substitute in Wales
        ("ENG", date(2026, 12, 29), True),  # Tue: back to work
        ("ENG", date(2027, 12, 27), False),  # Mon: Christmas substitute (25 Dec 2027 is a Saturday)
        ("ENG", date(2027, 12, 28), False),  # Tue: Boxing Day substitute (26 Dec 2027 is a Sunday)
        ("ENG", date(2027, 12, 29), True),  # Wed: back to work
        ("SCT", date(2026, 1, 2), False),  # Fri: 2 January is a Scottish bank holiday
        ("ENG", date(2026, 1, 2), True),  # Fri: but not in England
        ("WLS", date(2026, 1, 2), True),  # Fri: nor in Wales
        ("SCT", date(2027, 1, 4), False),  # Mon: 2 Jan 2027 is a Saturday, substitute Monday 4 Jan
        ("ENG", date(2027, 1, 4), True),  # Mon: England has no 2 January holiday to substitute
        ("SCT", date(2026, 11, 30), False),  # Mon: St Andrew's Day
        ("ENG", date(2026, 11, 30), True),  # Mon: an ordinary day in England
        ("SCT", date(2026, 8, 3), False),  # Mon: Scotland's summer holiday is the FIRST Monday of August
        ("ENG", date(2026, 8, 3), True),  # Mon: not in England
        ("ENG", date(2026, 8, 31), False),  # Mon: England's is the LAST Monday of August
        ("WLS", date(2026, 8, 31), False),  # Mon: and Wales's
        ("SCT", date(2026, 8, 31), True),  # Mon: not in Scotland
        ("NIR", date(2026, 3, 17), False),  # Tue: St Patrick's Day
        ("ENG", date(2026, 3, 17), True),  # Tue: not in England
        ("NIR", date(2026, 7, 13), False),  # Mon: 12 July 2026 is a Sunday, Battle of the Boyne substitute
        ("NIR", date(2026, 7, 14), True),  # Tue: only one substitute day
        ("ENG", date(2026, 7, 13), True),  # Mon: not in England
    ],
)
def test_it_knows_each_nations_bank_holidays(nation, day, working):
    assert Calendar(nation).is_working_day(day) is working


@pytest.mark.parametrize(
    ("closures", "day", "working"),
    [
        ([XMAS_EVE_2026], XMAS_EVE_2026, False),  # Thu 24 Dec closed by the landlord
        ([], XMAS_EVE_2026, True),  # Thu 24 Dec is an ordinary day without the closure
        ([XMAS_EVE_2026], date(2026, 12, 23), True),  # Wed 23 Dec unaffected
    ],
)
def test_it_treats_the_landlords_closure_days_as_non_working(closures, day, working):
    assert Calendar("ENG", closure_days=closures).is_working_day(day) is working


@pytest.mark.parametrize(
    ("nation", "closures", "start", "n", "expected"),
    [
        # Thu 2 Apr: Fri 3 Good Friday, Sat/Sun, Mon 6 Easter Monday; Tue7=1 Wed8=2 Thu9=3 Fri10=4 Mon13=5
        ("ENG", [], date(2026, 4, 2), 5, date(2026, 4, 13)),
        ("WLS", [], date(2026, 4, 2), 5, date(2026, 4, 13)),  # Wales: as England
        # Scotland works Easter Monday: Mon6=1 Tue7=2 Wed8=3 Thu9=4 Fri10=5
        ("SCT", [], date(2026, 4, 2), 5, date(2026, 4, 10)),
        # Wed 23 Dec: Thu24=1, Fri25/Sat/Sun/Mon28 off, Tue29=2 Wed30=3 Thu31=4, Fri 1 Jan off, Mon 4 Jan=5
        ("ENG", [], date(2026, 12, 23), 5, date(2027, 1, 4)),
        # the same with 24 Dec closed: Tue29=1 Wed30=2 Thu31=3 Mon4=4 Tue5=5
        ("ENG", [XMAS_EVE_2026], date(2026, 12, 23), 5, date(2027, 1, 5)),
        # Scotland: Thu24=1 Tue29=2 Wed30=3 Thu31=4, Fri 1 Jan off, Mon 4 Jan (2 Jan substitute) off, Tue5=5
        ("SCT", [], date(2026, 12, 23), 5, date(2027, 1, 5)),
        # Fri 24 Dec 2027: Sat/Sun, Mon 27 and Tue 28 substitutes; Wed 29 = 1
        ("ENG", [], date(2027, 12, 24), 1, date(2027, 12, 29)),
        ("SCT", [], date(2026, 11, 27), 1, date(2026, 12, 1)),  # Fri; Mon 30 Nov St Andrew's -> Tue 1 Dec
        ("ENG", [], date(2026, 11, 27), 1, date(2026, 11, 30)),  # Fri; England works 30 Nov
        ("SCT", [], date(2026, 7, 31), 1, date(2026, 8, 4)),  # Fri; Mon 3 Aug Scottish holiday -> Tue 4
        ("ENG", [], date(2026, 7, 31), 1, date(2026, 8, 3)),  # Fri; England works 3 Aug
        ("ENG", [], date(2026, 8, 28), 1, date(2026, 9, 1)),  # Fri; Mon 31 Aug English holiday -> Tue 1 Sep
        ("SCT", [], date(2026, 8, 28), 1, date(2026, 8, 31)),  # Fri; Scotland works 31 Aug
        ("NIR", [], date(2026, 3, 16), 1, date(2026, 3, 18)),  # Mon; Tue 17 St Patrick's -> Wed 18
        ("NIR", [], date(2026, 7, 10), 1, date(2026, 7, 14)),  # Fri; Sun 12, Mon 13 substitute -> Tue 14
        ("ENG", [], date(2026, 7, 10), 1, date(2026, 7, 13)),  # Fri; England works 13 Jul
        # Mon 1 Jun, no English holidays: Tue2..Fri5 = 1-4, Mon8..Fri12 = 5-9, Mon15 = 10
        ("ENG", [], date(2026, 6, 1), 10, date(2026, 6, 15)),
        ("ENG", [], date(2026, 6, 1), 0, date(2026, 6, 1)),  # 0 days: the start day itself
        ("ENG", [], date(2026, 4, 11), 1, date(2026, 4, 13)),  # Sat start: Mon 13 is the first working day after
    ],
)
def test_it_adds_working_days_counting_from_the_day_after(nation, closures, start, n, expected):
    assert Calendar(nation, closure_days=closures).add_working_days(start, n) == expected


def test_it_refuses_to_count_a_negative_number_of_days():
    with pytest.raises(ValueError):
        Calendar().add_working_days(date(2026, 6, 1), -1)


@pytest.mark.parametrize(
    ("nation", "start", "end", "expected"),
    [
        ("ENG", date(2026, 4, 2), date(2026, 4, 13), 5),  # Tue7 Wed8 Thu9 Fri10 Mon13 (Good Fri, Easter Mon off)
        ("SCT", date(2026, 4, 2), date(2026, 4, 13), 6),  # Mon6 Tue7 Wed8 Thu9 Fri10 Mon13
        ("ENG", date(2026, 4, 10), date(2026, 4, 13), 1),  # Fri -> Mon: just Mon 13
        ("ENG", date(2026, 4, 10), date(2026, 4, 12), 0),  # Fri -> Sun: the weekend only
        ("ENG", date(2026, 6, 1), date(2026, 6, 1), 0),  # same day
        ("ENG", date(2026, 6, 15), date(2026, 6, 1), 0),  # end before start
        ("ENG", date(2026, 12, 23), date(2027, 1, 4), 5),  # Thu24 Tue29 Wed30 Thu31 Mon4, across the year end
    ],
)
def test_it_counts_working_days_after_start_up_to_and_including_end(nation, start, end, expected):
    assert Calendar(nation).working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("nation", "closing", "at", "expected"),
    [
        # Sat 11 Apr 10:00 BST -> Mon 13 Apr
        ("ENG", None, datetime(2026, 4, 11, 9, 0, tzinfo=UTC), date(2026, 4, 13)),
        # Sun 5 Apr (Easter Day): Mon 6 Easter Monday -> Tue 7 in England
        ("ENG", None, datetime(2026, 4, 5, 12, 0, tzinfo=UTC), date(2026, 4, 7)),
        # ... but Mon 6 in Scotland, which works Easter Monday
        ("SCT", None, datetime(2026, 4, 5, 12, 0, tzinfo=UTC), date(2026, 4, 6)),
        # Good Friday 3 Apr 13:00 BST -> Tue 7 Apr
        ("ENG", None, datetime(2026, 4, 3, 12, 0, tzinfo=UTC), date(2026, 4, 7)),
        # Tue 13 Oct 16:59 BST, before 17:00 closing -> the same day
        ("ENG", time(17), datetime(2026, 10, 13, 15, 59, tzinfo=UTC), date(2026, 10, 13)),
        # Tue 13 Oct 17:00 BST exactly, at closing -> Wed 14
        ("ENG", time(17), datetime(2026, 10, 13, 16, 0, tzinfo=UTC), date(2026, 10, 14)),
        # Tue 13 Oct 17:30 BST, after closing -> Wed 14
        ("ENG", time(17), datetime(2026, 10, 13, 16, 30, tzinfo=UTC), date(2026, 10, 14)),
        # Fri 16 Oct 18:00 BST after closing -> Mon 19 (over the weekend)
        ("ENG", time(17), datetime(2026, 10, 16, 17, 0, tzinfo=UTC), date(2026, 10, 19)),
        # the same Friday evening with no closing time configured: Fri 16 itself
        ("ENG", None, datetime(2026, 10, 16, 17, 0, tzinfo=UTC), date(2026, 10, 16)),
        # Wed 1 Jul 23:30 UTC is Thu 2 Jul 00:30 BST -> Thu 2 Jul
        ("ENG", None, datetime(2026, 7, 1, 23, 30, tzinfo=UTC), date(2026, 7, 2)),
        # 00:30 BST is before closing time too: still Thu 2 Jul
        ("ENG", time(17), datetime(2026, 7, 1, 23, 30, tzinfo=UTC), date(2026, 7, 2)),
        # Wed 2 Dec 23:30 UTC is 23:30 GMT, still Wed 2 Dec
        ("ENG", None, datetime(2026, 12, 2, 23, 30, tzinfo=UTC), date(2026, 12, 2)),
        # ... and after a 17:00 closing time -> Thu 3 Dec
        ("ENG", time(17), datetime(2026, 12, 2, 23, 30, tzinfo=UTC), date(2026, 12, 3)),
        # Fri 3 Jul 23:30 UTC is Sat 4 Jul 00:30 BST -> Mon 6 Jul
        ("ENG", None, datetime(2026, 7, 3, 23, 30, tzinfo=UTC), date(2026, 7, 6)),
        # 19:30 in New York (EDT, UTC-4) on Wed 1 Jul is 00:30 BST Thu 2 Jul in London
        ("ENG", None, datetime(2026, 7, 1, 19, 30, tzinfo=ZoneInfo("America/New_York")), date(2026, 7, 2)),
    ],
)
def test_it_rolls_weekend_holiday_and_late_evening_receipt_to_the_next_working_day(nation, closing, at, expected):
    assert Calendar(nation, closing_time=closing).receipt_day(at) == expected


def test_it_rolls_receipt_on_a_closure_day_past_christmas():
    calendar = Calendar("ENG", closure_days=[XMAS_EVE_2026])
    # Thu 24 Dec 10:00 GMT closed, Fri 25, weekend, Mon 28 substitute -> Tue 29 Dec
    assert calendar.receipt_day(datetime(2026, 12, 24, 10, 0, tzinfo=UTC)) == date(2026, 12, 29)


def test_it_refuses_a_naive_receipt_time():
    with pytest.raises(ValueError):
        Calendar().receipt_day(datetime(2026, 7, 1, 12, 0))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 7, 9), datetime(2026, 7, 9, 22, 59, 59, tzinfo=UTC)),  # BST (UTC+1)
        (date(2026, 12, 2), datetime(2026, 12, 2, 23, 59, 59, tzinfo=UTC)),  # GMT
        (date(2026, 3, 29), datetime(2026, 3, 29, 22, 59, 59, tzinfo=UTC)),  # clocks went forward at 01:00 UTC
        (date(2026, 10, 25), datetime(2026, 10, 25, 23, 59, 59, tzinfo=UTC)),  # clocks went back at 01:00 UTC
        (date(2026, 10, 24), datetime(2026, 10, 24, 22, 59, 59, tzinfo=UTC)),  # the last BST evening
    ],
)
def test_it_ends_a_due_day_at_one_second_to_midnight_london_time_in_utc(day, expected):
    end = Calendar().end_of_day(day)
    assert end == expected
    assert end.utcoffset().total_seconds() == 0
    assert end.astimezone(LONDON).time() == time(23, 59, 59)


def test_it_builds_from_policy_settings():
    settings = PolicySettings(nation="SCT", closure_days=[XMAS_EVE_2026], closing_time=time(16, 30))
    calendar = Calendar.from_settings(settings)
    assert not calendar.is_working_day(date(2026, 11, 30))  # St Andrew's Day: the nation came through
    assert not calendar.is_working_day(XMAS_EVE_2026)  # the closure day came through
    # Mon 12 Oct 16:30 BST (15:30 UTC) is at closing time -> Tue 13 Oct
    assert calendar.receipt_day(datetime(2026, 10, 12, 15, 30, tzinfo=UTC)) == date(2026, 10, 13)


def test_it_caches_bank_holidays_per_year():
    calendar = Calendar("NIR")
    assert calendar.bank_holidays(2026) is calendar.bank_holidays(2026)
    assert date(2026, 3, 17) in calendar.bank_holidays(2026)


def test_it_refuses_an_unknown_nation():
    with pytest.raises(ValueError):
        Calendar("GB")
