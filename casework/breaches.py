"""Where a landlord's configured variations breach the rules it is under.

England, Wales and Northern Ireland are measured against the Housing Ombudsman Complaint Handling
Code 2024; Scotland (nation ``SCT``) against the SPSO model complaints handling procedure. Each
breach is one sentence naming the setting (``field=value: ...``) and ending with a full stop. A
breach is a warning, never a refusal: the landlord decides.
"""

from __future__ import annotations

from core.settings import PolicySettings


def breaches_of(s: PolicySettings) -> list[str]:
    """One sentence per configured variation that breaches the Code (or, in SCT, the SPSO model)."""
    found = _spso_breaches(s) if s.nation == "SCT" else _code_breaches(s)
    return found + _shared_breaches(s)


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
