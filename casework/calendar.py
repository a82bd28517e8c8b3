"""The working-day Calendar: weekends, the nation's bank holidays and the landlord's closure days.

Day counting follows policy.md: the day of receipt is day 0 and counting starts the working day
after it. A deadline "by" a day means the end of that day (23:59:59) in the landlord's timezone,
returned as an aware UTC datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from core.settings import PolicySettings

NATIONS = ("ENG", "WLS", "SCT", "NIR")
_END_OF_DAY = time(23, 59, 59)


class Calendar:
    """Which days are working days for one landlord, and how to count them."""

    def __init__(
        self,
        nation: str = "ENG",
        closure_days: Iterable[date] = (),
        timezone: str = "Europe/London",
        closing_time: time | None = None,
    ) -> None:
        if nation not in NATIONS:
            raise ValueError(f"unknown nation {nation!r}: expected one of {', '.join(NATIONS)}")
        self.nation = nation
        self.closure_days = frozenset(closure_days)
        self.zone = ZoneInfo(timezone)
        self.closing_time = closing_time
        self._holidays_by_year: dict[int, frozenset[date]] = {}

    @classmethod
    def from_settings(cls, policy: PolicySettings) -> Calendar:
        return cls(policy.nation, policy.closure_days, policy.timezone, policy.closing_time)

    def bank_holidays(self, year: int) -> frozenset[date]:
        """The nation's bank holidays in one year (always by subdivision; cached per year)."""
        if year not in self._holidays_by_year:
            found = holidays.country_holidays("GB", subdiv=self.nation, years=year)
            self._holidays_by_year[year] = frozenset(found.keys())
        return self._holidays_by_year[year]

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.bank_holidays(day.year)
            and day not in self.closure_days
        )

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def local(self, at: datetime) -> datetime:
        """An aware datetime in the landlord's timezone; a naive one is refused."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"a naive datetime has no place in time: {at!r} (give it a timezone)")
        return at.astimezone(self.zone)

    def receipt_day(self, at: datetime) -> date:
        """Day 0 for something received at ``at``: rolled past non-working days and closing time."""
        local = self.local(at)
        day = local.date()
        after_hours = self.closing_time is not None and local.time() >= self.closing_time
        if after_hours or not self.is_working_day(day):
            return self.next_working_day(day)
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself is day 0)."""
        if n < 0:
            raise ValueError(f"cannot count {n} working days: n must be 0 or more")
        day = start
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    def end_of_day(self, day: date) -> datetime:
        """23:59:59 local time on ``day`` as an aware UTC datetime."""
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.zone).astimezone(dt.timezone.utc)
