"""The Policy: the landlord's complaint clocks, and where its variations breach the rules it is under.

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

Clock start days: receipt (and a stage 2 escalation request) counts from ``Calendar.receipt_day``,
rolled past non-working days and closing time as policy.md says. An acknowledgement counts from its
own local date, unrolled: the stricter reading of "within N working days of the acknowledgement".
"""

from __future__ import annotations

import calendar as weekdays
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casework.calendar import Calendar
from core.settings import PolicySettings
from casework.vocabulary import ClockKind, Flag

CODE_2024 = "Housing Ombudsman Code 2024"
SPSO_MODEL = "SPSO model CHP"
AWAABS_LAW = "Awaab's Law"
LANDLORD = "Landlord policy"


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
    """Computes clocks from one landlord's PolicySettings."""

    def __init__(self, settings: PolicySettings) -> None:
        self.settings = settings
        self.calendar = Calendar.from_settings(settings)
        self.is_spso = settings.nation == "SCT"
        self._standard = spso_policy() if self.is_spso else PolicySettings()

    def _source(self, *fields: str) -> str:
        """Who sets a rule: the standard, or the landlord when it varies the standard."""
        if any(getattr(self.settings, f) != getattr(self._standard, f) for f in fields):
            return LANDLORD
        return SPSO_MODEL if self.is_spso else CODE_2024

    def _due(self, day0: date, days: int) -> datetime:
        return self.calendar.end_of_day(self.calendar.add_working_days(day0, days))

    def acknowledgement_clock(self, stage: int, received_at: datetime) -> ClockSpec:
        """Stage 1: from receipt of the complaint; stage 2: from the escalation request."""
        _check_stage(stage)
        field = f"stage{stage}_ack_days"
        days = getattr(self.settings, field)
        what = "receipt" if stage == 1 else "the escalation request"
        return ClockSpec(
            kind=ClockKind.ACK_STAGE1 if stage == 1 else ClockKind.ACK_STAGE2,
            starts_at=_utc(received_at),
            due_at=self._due(self.calendar.receipt_day(received_at), days),
            rule=f"{self._source(field)}: acknowledge stage {stage} within {days} working days of "
            f"{what}",
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
            day0 = self.calendar.local(acknowledged_at).date()
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
        return self._due(self.calendar.local(response_due).date(), days)

    def hazard_clocks(self, flags: Iterable[str], aware_at: datetime) -> list[ClockSpec]:
        """Awaab's Law clocks for the hazard flags present; other flags are ignored."""
        present = {str(flag) for flag in flags}
        clocks = []
        if Flag.EMERGENCY_HAZARD in present:
            clocks.append(self._emergency_clock(aware_at))
        if Flag.DAMP_MOULD in present:
            clocks.append(self._damp_mould_clock(aware_at))
        return clocks

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

    def _damp_mould_clock(self, aware_at: datetime) -> ClockSpec:
        days = self.settings.damp_mould_investigation_days
        source = self._hazard_source("damp_mould_investigation_days")
        return ClockSpec(
            kind=ClockKind.DAMP_MOULD,
            starts_at=_utc(aware_at),
            due_at=self._due(self.calendar.receipt_day(aware_at), days),
            rule=f"{source}: investigate damp and mould within {days} working days of becoming aware",
        )

    def is_late(self, issue_date: date, received_at: datetime) -> bool:
        """True when the issue is more than time_limit_months before the (local) date of receipt."""
        received_on = self.calendar.local(received_at).date()
        return issue_date < months_before(received_on, self.settings.time_limit_months)

    def code_breaches(self) -> list[str]:
        """One sentence per configured variation that breaches the Code (or, in SCT, the SPSO model)."""
        found = _spso_breaches(self.settings) if self.is_spso else _code_breaches(self.settings)
        return found + _shared_breaches(self.settings)


def _code_breaches(s: PolicySettings) -> list[str]:
    checks = [
        (s.stage1_ack_days > 5, f"stage1_ack_days={s.stage1_ack_days}: the Code requires a stage 1 "
         "acknowledgement within 5 working days of receipt."),
        (s.stage1_response_days > 10, f"stage1_response_days={s.stage1_response_days} (from "
         f"{s.stage1_response_from}): the Code requires a stage 1 response within 10 working days of the "
         "acknowledgement."),
        (s.stage1_extension_days > 10, f"stage1_extension_days={s.stage1_extension_days}: the Code allows a "
         "stage 1 extension of at most 10 working days."),
        (s.stage2_ack_days > 5, f"stage2_ack_days={s.stage2_ack_days}: the Code requires a stage 2 "
         "acknowledgement within 5 working days of the escalation request."),
        (s.stage2_response_days > 20, f"stage2_response_days={s.stage2_response_days}: the Code requires a "
         "stage 2 response within 20 working days of the acknowledgement."),
        (s.stage2_extension_days > 20, f"stage2_extension_days={s.stage2_extension_days}: the Code allows a "
         "stage 2 extension of at most 20 working days."),
        (s.time_limit_months < 12, f"time_limit_months={s.time_limit_months}: the Code gives residents 12 "
         "months from the issue (or from becoming aware of it) to complain; older complaints go to a person, "
         "never refused automatically."),
        (s.frontline_resolution_days > 0, f"frontline_resolution_days={s.frontline_resolution_days}: "
         "the Code bans an informal step before stage 1; anything that expresses dissatisfaction is a "
         "stage 1 complaint."),
        (s.escalation_requires_reasons, "escalation_requires_reasons=True: the Code says residents must not "
         "be required to give reasons to escalate to stage 2."),
    ]
    return [message for breached, message in checks if breached]


def _spso_breaches(s: PolicySettings) -> list[str]:
    from_ack = s.stage1_response_from == "acknowledgement"
    stage1_worst = s.stage1_response_days + (s.stage1_ack_days if from_ack else 0)
    checks = [
        (stage1_worst > 5, f"stage1_response_days={s.stage1_response_days} (from {s.stage1_response_from}): "
         "the SPSO model requires a stage 1 frontline response within 5 working days of receipt."),
        (s.stage1_extension_days > 5, f"stage1_extension_days={s.stage1_extension_days}: the SPSO model "
         "allows at most 5 more working days at stage 1."),
        (s.stage2_ack_days > 3, f"stage2_ack_days={s.stage2_ack_days}: the SPSO model requires a stage 2 "
         "acknowledgement within 3 working days."),
        (s.stage2_response_days > 20, f"stage2_response_days={s.stage2_response_days}: the SPSO model "
         "requires a stage 2 response within 20 working days."),
        (s.time_limit_months < 6, f"time_limit_months={s.time_limit_months}: the SPSO model gives customers "
         "6 months to complain."),
        (s.frontline_resolution_days > 0, f"frontline_resolution_days={s.frontline_resolution_days}: "
         "the SPSO model has exactly two stages and stage 1 is the frontline response; a step before it "
         "delays the 5-day clock."),
    ]
    return [message for breached, message in checks if breached]


def _shared_breaches(s: PolicySettings) -> list[str]:
    if s.auto_close_after_days is None:
        return []
    return [
        f"auto_close_after_days={s.auto_close_after_days}: a case closed automatically after the stage 1 "
        "outcome must still go to stage 2 if the resident asks later; auto-closing must not block escalation."
    ]
