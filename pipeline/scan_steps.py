"""What the pipeline does differently for a letter: note scanning lag (a poor scan is held by
pipeline.decide's poor_ocr rule)."""

from __future__ import annotations

import datetime as dt

from casework import lifecycle
from casework.models import Case, Submission
from casework.policy import Policy
from casework.vocabulary import Actor, EventAction
from intake.scans.receipt import scanning_lag, scanning_lag_note


def record_scanning_lag(case: Case, submission: Submission, policy: Policy) -> None:
    """When the post room's scanning used part of the acknowledgement window, the case says so."""
    scanned_at = submission.details.get("scanned_at")
    if submission.kind != "letter" or not scanned_at:
        return
    scanned = dt.datetime.fromisoformat(scanned_at)
    note = scanning_lag_note(policy.calendar, submission.received_at, scanned, policy.settings.stage1_ack_days)
    if note:
        days = scanning_lag(policy.calendar, submission.received_at, scanned)
        lifecycle.record(case, Actor.SYSTEM, EventAction.SCANNING_LAG, submission_id=submission.id, working_days=days, note=note)
