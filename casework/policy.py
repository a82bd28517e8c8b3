"""The Policy: a pure calculator of one landlord's clocks (no database, no models).

England, Wales and Northern Ireland are measured against the Housing Ombudsman Complaint Handling
Code 2024 (``PolicySettings()`` defaults). Scotland (nation ``SCT``) is measured against the SPSO
model complaints handling procedure; ``spso_policy()`` gives its defaults:

* stage 1 is the frontline response, due 5 working days from receipt (``stage1_response_from =
  "receipt"``). The SPSO model has no separate stage 1 acknowledgement, so ``stage1_ack_days`` is
  also 5: the acknowledgement is due no later than the frontline response, never adding a stricter
  clock than the model (0 would make every held case overdue on the day it arrives);
* stage 1 extension at most 5 more working days (exceptional circumstances);
* stage 2 acknowledgement in 3 working days, response in 20; the model sets no ceiling on a stage 2
  extension (the customer is told the revised time), so the preset keeps 20 and does not check it;
* 6 months to complain. Awaab's Law clocks keep their defaults: configuration, not statute, there.

Code clocks count working days on the landlord's ``calendar``: weekends, the nation's bank holidays
and the landlord's closure days are not working days. Receipt (and a stage 2 escalation request)
counts from ``Calendar.receipt_day``, rolled past non-working days and closing time as policy.md
says. An acknowledgement, a response and a due day being extended count from their own local
date, unrolled: the stricter reading of "within N working days of" them.

Awaab's Law clocks count the regulations' own working days on ``statutory_calendar``. Source: the
Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025 (in force 27 October
2025), as summarised in policy.md: weekends and bank holidays are excluded, the landlord's own
closure days are not. (The regulations' definition is understood to read "any day other than a
Saturday, Sunday, Christmas Day, Good Friday or a bank holiday in England and Wales"; that wording
was not confirmed against the published text when this was written.) So there is no closure day
and no closing-time roll, and day 0 is the local date the landlord became aware (or the
investigation concluded), even a Saturday: Monday is then working day 1. The regulations bind
English landlords only; elsewhere the same clocks run as landlord policy with the nation's own bank
holidays. The emergency hazard clock is real hours, not working days.
"""

from __future__ import annotations

import calendar as weekdays
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casework.breaches import breaches_of
from casework.calendar import Calendar
from casework.vocabulary import ClockKind, Flag
from core.errors import IntakeError
from core.settings import PolicySettings

CODE_2024 = "Housing Ombudsman Code 2024"
SPSO_MODEL = "SPSO model CHP"
AWAABS_LAW = "Awaab's Law"
LANDLORD = "Landlord policy"


class ExtensionRefused(IntakeError):
    """An extension the policy does not allow; the message names the limit."""


@dataclass(frozen=True)
class ClockSpec:
    kind: ClockKind
    starts_at: datetime  # aware UTC
    due_at: datetime  # aware UTC
    rule: str


def spso_policy() -> PolicySettings:
    """The SPSO model procedure for a Scottish landlord (see the module docstring)."""
    return PolicySettings(
        nation="SCT",
        stage1_ack_days=5,
        stage1_response_days=5,
        stage1_response_from="receipt",
        stage1_extension_days=5,
        stage2_ack_days=3,
        stage2_response_days=20,
        stage2_extension_days=20,
        time_limit_months=6,
    )


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = weekdays.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place in time: {at!r} (give it a timezone)")
    return at.astimezone(dt.timezone.utc)


def _check_stage(stage: int) -> None:
    if stage not in (1, 2):
        raise ValueError(f"there are exactly two stages, not stage {stage}")


class Policy:
    """Computes clocks from one landlord's PolicySettings. Every clock it returns is in UTC."""

    def __init__(self, settings: PolicySettings) -> None:
        self.settings = settings
        self.calendar = Calendar.from_settings(settings)
        # Awaab's Law working days: the nation's bank holidays only; no closure days, no closing time
        self.statutory_calendar = Calendar(settings.nation, timezone=settings.timezone)
        self.is_spso = settings.nation == "SCT"
        self._standard = spso_policy() if self.is_spso else PolicySettings()

    def _source(self, *fields: str) -> str:
        """Who sets a rule: the standard, or the landlord when it varies the standard."""
        if any(getattr(self.settings, f) != getattr(self._standard, f) for f in fields):
            return LANDLORD
        return SPSO_MODEL if self.is_spso else CODE_2024

    def _due(self, day0: date, days: int) -> datetime:
        """End of the ``days``-th landlord working day after ``day0``."""
        return self.calendar.end_of_day(self.calendar.add_working_days(day0, days))

    def _statutory_due(self, day0: date, days: int) -> datetime:
        """End of the ``days``-th statutory (Awaab's Law) working day after ``day0``."""
        return self.statutory_calendar.end_of_day(self.statutory_calendar.add_working_days(day0, days))

    def _local_date(self, at: datetime) -> date:
        return self.calendar.local(at).date()

    # -- the complaint clocks ----------------------------------------------------------------------

    def acknowledgement_clock(self, stage: int, received_at: datetime) -> ClockSpec:
        """Stage 1: from receipt of the complaint; stage 2: from the escalation request.

        A landlord frontline step (``frontline_resolution_days > 0``) delays stage 1 registration,
        so its acknowledgement falls due frontline + ack working days after the receipt day.
        """
        _check_stage(stage)
        field = f"stage{stage}_ack_days"
        days = getattr(self.settings, field)
        frontline = self.settings.frontline_resolution_days if stage == 1 else 0
        what = "receipt" if stage == 1 else "the escalation request"
        rule = f"{self._source(field)}: acknowledge stage {stage} within {days} working days of {what}"
        if frontline > 0:
            rule = (f"{LANDLORD}: acknowledge stage 1 within {frontline + days} working days of receipt "
                    f"({frontline} of frontline resolution, then {days} to acknowledge)")
        return ClockSpec(
            kind=ClockKind.ACK_STAGE1 if stage == 1 else ClockKind.ACK_STAGE2,
            starts_at=_utc(received_at),
            due_at=self._due(self.calendar.receipt_day(received_at), frontline + days),
            rule=rule,
        )

    def frontline_clock(self, received_at: datetime) -> ClockSpec | None:
        """The landlord's frontline step before stage 1 (a Code breach); None when it has none."""
        days = self.settings.frontline_resolution_days
        if days <= 0:
            return None
        return ClockSpec(
            kind=ClockKind.FRONTLINE,
            starts_at=_utc(received_at),
            due_at=self._due(self.calendar.receipt_day(received_at), days),
            rule=f"{LANDLORD}: resolve at the frontline within {days} working days of receipt, before "
            "registering stage 1",
        )

    def response_clock(self, stage: int, received_at: datetime, acknowledged_at: datetime) -> ClockSpec:
        """Working days from the acknowledgement (or from receipt at stage 1 if so configured)."""
        _check_stage(stage)
        field = f"stage{stage}_response_days"
        days = getattr(self.settings, field)
        if stage == 1 and self.settings.stage1_response_from == "receipt":
            start, day0, what = received_at, self.calendar.receipt_day(received_at), "receipt"
        else:
            start, what = acknowledged_at, "the acknowledgement"
            day0 = self._local_date(acknowledged_at)
        source = self._source(field, "stage1_response_from") if stage == 1 else self._source(field)
        return ClockSpec(
            kind=ClockKind.RESPONSE_STAGE1 if stage == 1 else ClockKind.RESPONSE_STAGE2,
            starts_at=_utc(start),
            due_at=self._due(day0, days),
            rule=f"{source}: respond at stage {stage} within {days} working days of {what}",
        )

    def extended_due(self, stage: int, response_due: datetime) -> datetime:
        """The latest an extension may reach: stage N's extension days after the response due day."""
        _check_stage(stage)
        days = getattr(self.settings, f"stage{stage}_extension_days")
        return self._due(self._local_date(response_due), days)

    def extension(self, stage: int, response_due: datetime, already_extended_days: int, days: int) -> datetime:
        """The new due: ``days`` landlord working days after the local date of ``response_due``.

        Invariant: the extensions of one stage add up to at most ``stage{N}_extension_days`` (the
        configured limit; a limit above the Code's is reported by ``code_breaches``), each adding
        at least one day. Anything else raises ExtensionRefused and computes nothing.
        """
        _check_stage(stage)
        limit = getattr(self.settings, f"stage{stage}_extension_days")
        if days < 1:
            raise ExtensionRefused(f"an extension must add at least 1 working day, not {days}")
        if already_extended_days < 0:
            raise ValueError(f"already_extended_days cannot be negative: {already_extended_days}")
        if already_extended_days + days > limit:
            raise ExtensionRefused(
                f"a stage {stage} extension may add at most {limit} working days in all "
                f"({already_extended_days} already used)"
            )
        return self._due(self._local_date(response_due), days)

    def escalation_window(self, responded_at: datetime) -> ClockSpec | None:
        """The landlord's window to ask for stage 2: calendar days after the stage 1 response date.

        None when the landlord sets no window. A window is never "overdue" (see WINDOWS).
        """
        days = self.settings.escalation_window_days
        if days is None:
            return None
        last_day = self._local_date(responded_at) + timedelta(days=days)
        return ClockSpec(
            kind=ClockKind.ESCALATION_WINDOW,
            starts_at=_utc(responded_at),
            due_at=self.calendar.end_of_day(last_day),
            rule=f"{LANDLORD}: ask for stage 2 within {days} calendar days of the stage 1 response",
        )

    def satisfaction_window(self, responded_at: datetime) -> ClockSpec | None:
        """Landlord working days after the stage 1 response for the resident to say they are satisfied.

        None when the landlord never auto-closes. Closing must not block a later escalation.
        """
        days = self.settings.auto_close_after_days
        if days is None:
            return None
        return ClockSpec(
            kind=ClockKind.SATISFACTION_WINDOW,
            starts_at=_utc(responded_at),
            due_at=self._due(self._local_date(responded_at), days),
            rule=f"{LANDLORD}: the case closes {days} working days after the stage 1 response unless "
            "the resident says they are not satisfied",
        )

    # -- Awaab's Law -------------------------------------------------------------------------------

    def hazard_clocks(self, flags: Iterable[str], aware_at: datetime) -> list[ClockSpec]:
        """Awaab's Law clocks for the hazard flags present, emergency first; other flags are ignored."""
        present = {str(flag) for flag in flags}
        clocks = []
        if Flag.EMERGENCY_HAZARD in present:
            clocks.append(self._emergency_clock(aware_at))
        if Flag.DAMP_MOULD in present:
            clocks.append(self._statutory_clock(
                ClockKind.DAMP_MOULD, "damp_mould_investigation_days", aware_at,
                "investigate damp and mould within {days} working days of becoming aware",
            ))
        return clocks

    def damp_followup_clocks(self, concluded_at: datetime) -> list[ClockSpec]:
        """The written summary and made-safe clocks, from the local date the investigation concluded."""
        return [
            self._statutory_clock(
                ClockKind.DAMP_MOULD_SUMMARY, "damp_mould_summary_days", concluded_at,
                "send the written summary within {days} working days of the damp and mould "
                "investigation concluding",
            ),
            self._statutory_clock(
                ClockKind.DAMP_MOULD_SAFE, "damp_mould_safe_days", concluded_at,
                "make damp and mould safe within {days} working days of the investigation concluding",
            ),
        ]

    def _hazard_source(self, field: str) -> str:
        default = getattr(PolicySettings(), field)
        england = self.settings.nation == "ENG"
        return AWAABS_LAW if england and getattr(self.settings, field) == default else LANDLORD

    def _emergency_clock(self, aware_at: datetime) -> ClockSpec:
        hours = self.settings.emergency_hazard_hours
        source = self._hazard_source("emergency_hazard_hours")
        return ClockSpec(
            kind=ClockKind.EMERGENCY_HAZARD,
            starts_at=_utc(aware_at),
            due_at=_utc(aware_at) + timedelta(hours=hours),
            rule=f"{source}: investigate and make an emergency hazard safe within {hours} hours of "
            "becoming aware",
        )

    def _statutory_clock(self, kind: ClockKind, field: str, start: datetime, wording: str) -> ClockSpec:
        """A clock of statutory working days from the unrolled local date of ``start``."""
        days = getattr(self.settings, field)
        day0 = self.statutory_calendar.local(start).date()
        return ClockSpec(
            kind=kind,
            starts_at=_utc(start),
            due_at=self._statutory_due(day0, days),
            rule=f"{self._hazard_source(field)}: {wording.format(days=days)}",
        )

    # -- time limit and breaches -------------------------------------------------------------------

    def is_late(self, issue_date: date, received_at: datetime) -> bool:
        """True when the issue is more than time_limit_months before the (local) date of receipt."""
        received_on = self._local_date(received_at)
        return issue_date < months_before(received_on, self.settings.time_limit_months)

    def code_breaches(self) -> list[str]:
        """One sentence per configured variation that breaches the Code (or, in SCT, the SPSO model)."""
        return breaches_of(self.settings)
