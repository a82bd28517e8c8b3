"""The Policy's clocks and Code checks. Expected dates were worked out by hand against a printed
calendar (weekdays checked with python's calendar module), not copied from the code's output.
UK clocks: BST (UTC+1) from 29 Mar to 25 Oct 2026, GMT (UTC+0) otherwise."""

import dataclasses
from datetime import date, datetime, time

import pytest

from casework.policy import ClockSpec, Policy, months_before, spso_policy
from core.settings import PolicySettings
from tests.casework.moments import end_bst, end_gmt, utc
from casework.vocabulary import ClockKind, Flag

XMAS_EVE_2026 = date(2026, 12, 24)


ENGLAND = PolicySettings()
SCOTLAND = spso_policy()
CLOSED_XMAS_EVE = PolicySettings(closure_days=[XMAS_EVE_2026])


@pytest.mark.parametrize(
    ("settings", "stage", "received", "due", "kind"),
    [
        # Wed 1 Jul 23:30 UTC = Thu 2 Jul 00:30 BST, day 0 Thu 2; Fri3=1 Mon6=2 Tue7=3 Wed8=4 Thu9=5
        (ENGLAND, 1, utc(2026, 7, 1, 23, 30), end_bst(2026, 7, 9), ClockKind.ACK_STAGE1),
        # Thu 2 Apr; Good Friday and Easter Monday off: Tue7=1 Wed8=2 Thu9=3 Fri10=4 Mon13=5
        (ENGLAND, 1, utc(2026, 4, 2, 9), end_bst(2026, 4, 13), ClockKind.ACK_STAGE1),
        # Scotland works Easter Monday: Mon6=1 Tue7=2 Wed8=3 Thu9=4 Fri10=5
        (SCOTLAND, 1, utc(2026, 4, 2, 9), end_bst(2026, 4, 10), ClockKind.ACK_STAGE1),
        # Sat 19 Dec -> day 0 Mon 21; Tue22=1 Wed23=2 Thu24=3, 25-28 off, Tue29=4 Wed30=5
        (ENGLAND, 1, utc(2026, 12, 19, 12), end_gmt(2026, 12, 30), ClockKind.ACK_STAGE1),
        # with 24 Dec closed: Tue22=1 Wed23=2 Tue29=3 Wed30=4 Thu31=5
        (CLOSED_XMAS_EVE, 1, utc(2026, 12, 19, 12), end_gmt(2026, 12, 31), ClockKind.ACK_STAGE1),
        # escalation Mon 23 Nov: Tue24=1 Wed25=2 Thu26=3 Fri27=4 Mon30=5 (England works St Andrew's Day)
        (ENGLAND, 2, utc(2026, 11, 23, 14), end_gmt(2026, 11, 30), ClockKind.ACK_STAGE2),
        # SPSO 3 days from Mon 23 Nov: Tue24=1 Wed25=2 Thu26=3
        (SCOTLAND, 2, utc(2026, 11, 23, 14), end_gmt(2026, 11, 26), ClockKind.ACK_STAGE2),
        # SPSO 3 days from Thu 26 Nov: Fri27=1, Mon30 St Andrew's off, Tue1=2 Wed2=3
        (SCOTLAND, 2, utc(2026, 11, 26, 14), end_gmt(2026, 12, 2), ClockKind.ACK_STAGE2),
    ],
)
def test_it_gives_acknowledgement_clocks_from_the_day_of_receipt(settings, stage, received, due, kind):
    clock = Policy(settings).acknowledgement_clock(stage, received)
    assert clock == ClockSpec(kind, received, due, clock.rule)


@pytest.mark.parametrize(
    ("settings", "stage", "received", "acknowledged", "starts", "due"),
    [
        # ack Fri 3 Jul: Mon6-Fri10 = 1-5, Mon13-Fri17 = 6-10
        (ENGLAND, 1, utc(2026, 7, 2, 9), utc(2026, 7, 3, 9), utc(2026, 7, 3, 9), end_bst(2026, 7, 17)),
        # ack sent on Sat 4 Jul counts from its own date: Mon6=1 ... Fri17=10
        (ENGLAND, 1, utc(2026, 7, 4, 9), utc(2026, 7, 4, 10), utc(2026, 7, 4, 10), end_bst(2026, 7, 17)),
        # ack Wed 1 Jul 23:30 UTC = Thu 2 Jul BST: Fri3=1, Mon6-Fri10 = 2-6, Mon13-Thu16 = 7-10
        (ENGLAND, 1, utc(2026, 7, 1, 20), utc(2026, 7, 1, 23, 30), utc(2026, 7, 1, 23, 30), end_bst(2026, 7, 16)),
        # ack Fri 23 Oct (BST): Mon26-Fri30 = 1-5, Mon2-Fri6 Nov = 6-10, due in GMT
        (ENGLAND, 1, utc(2026, 10, 22, 9), utc(2026, 10, 23, 9), utc(2026, 10, 23, 9), end_gmt(2026, 11, 6)),
        # landlord 003 counts from receipt: Sat 4 Jul -> day 0 Mon 6; Tue7-Fri10 = 1-4, Mon13-Fri17 = 5-9, Mon20=10
        (
            PolicySettings(stage1_response_from="receipt"), 1,
            utc(2026, 7, 4, 9), utc(2026, 7, 6, 9), utc(2026, 7, 4, 9), end_bst(2026, 7, 20),
        ),
        # SPSO frontline 5 from receipt Fri 27 Nov: Mon30 off; Tue1=1 Wed2=2 Thu3=3 Fri4=4 Mon7=5
        (SCOTLAND, 1, utc(2026, 11, 27, 10), utc(2026, 11, 27, 11), utc(2026, 11, 27, 10), end_gmt(2026, 12, 7)),
        # stage 2, 20 from ack Wed 2 Dec: Thu3 Fri4 = 1-2, 7-11 = 3-7, 14-18 = 8-12, Mon21-Thu24 = 13-16,
        # Fri25 and Mon28 off, Tue29-Thu31 = 17-19, Fri 1 Jan off, Mon 4 Jan = 20
        (ENGLAND, 2, utc(2026, 12, 1, 9), utc(2026, 12, 2, 15), utc(2026, 12, 2, 15), end_gmt(2027, 1, 4)),
    ],
)
def test_it_gives_response_clocks_from_the_acknowledgement_or_receipt(
    settings, stage, received, acknowledged, starts, due
):
    clock = Policy(settings).response_clock(stage, received, acknowledged)
    kind = ClockKind.RESPONSE_STAGE1 if stage == 1 else ClockKind.RESPONSE_STAGE2
    assert (clock.kind, clock.starts_at, clock.due_at) == (kind, starts, due)


@pytest.mark.parametrize(
    ("settings", "stage", "response_due", "latest"),
    [
        # stage 1 due Fri 17 Jul: Mon20-Fri24 = 1-5, Mon27-Fri31 = 6-10
        (ENGLAND, 1, end_bst(2026, 7, 17), end_bst(2026, 7, 31)),
        # stage 2 due Mon 4 Jan 2027: Tue5-Fri8 = 1-4, then 11-15, 18-22, 25-29 = 5-19, Mon 1 Feb = 20
        (ENGLAND, 2, end_gmt(2027, 1, 4), end_gmt(2027, 2, 1)),
        # SPSO stage 1 due Mon 7 Dec: Tue8-Fri11 = 1-4, Mon14 = 5
        (SCOTLAND, 1, end_gmt(2026, 12, 7), end_gmt(2026, 12, 14)),
    ],
)
def test_it_limits_how_far_an_extension_may_reach(settings, stage, response_due, latest):
    assert Policy(settings).extended_due(stage, response_due) == latest


@pytest.mark.parametrize(
    ("flags", "aware", "expected"),
    [
        # 24 real hours over a weekend: Sat 4 Jul 21:15 UTC -> Sun 5 Jul 21:15 UTC
        ([Flag.EMERGENCY_HAZARD], utc(2026, 7, 4, 21, 15), [(ClockKind.EMERGENCY_HAZARD, utc(2026, 7, 5, 21, 15))]),
        # 24 real hours across the clocks going back (13:00 BST Sat -> 12:00 GMT Sun)
        (["emergency_hazard"], utc(2026, 10, 24, 12), [(ClockKind.EMERGENCY_HAZARD, utc(2026, 10, 25, 12))]),
        # damp and mould reported on Good Friday, which is day 0 (Awaab's Law counts from the day of
        # awareness, unrolled); Easter Monday is off: Tue7-Fri10 = 1-4, 13-17 = 5-9, Mon20 = 10
        ([Flag.DAMP_MOULD], utc(2026, 4, 3, 10), [(ClockKind.DAMP_MOULD, end_bst(2026, 4, 20))]),
        # both, among other flags, come back emergency first: Mon 1 Jun 10:00 UTC; damp Tue2..Mon15 = 10
        (
            ["safeguarding", Flag.DAMP_MOULD, Flag.EMERGENCY_HAZARD], utc(2026, 6, 1, 10),
            [(ClockKind.EMERGENCY_HAZARD, utc(2026, 6, 2, 10)), (ClockKind.DAMP_MOULD, end_bst(2026, 6, 15))],
        ),
        ([Flag.SAFEGUARDING, Flag.LATE], utc(2026, 6, 1, 10), []),  # no hazard, no clock
    ],
)
def test_it_starts_awaabs_law_clocks_for_hazard_flags(flags, aware, expected):
    clocks = Policy(ENGLAND).hazard_clocks(flags, aware)
    assert [(c.kind, c.due_at) for c in clocks] == expected
    assert all(c.starts_at == aware for c in clocks)


@pytest.mark.parametrize(
    ("months", "issue", "received", "late"),
    [
        (12, date(2025, 3, 10), utc(2026, 3, 10, 12), False),  # exactly 12 months: in time
        (12, date(2025, 3, 9), utc(2026, 3, 10, 12), True),  # a day more than 12 months
        # Tue 31 Mar 23:30 UTC is Wed 1 Apr 00:30 BST: the limit is 1 Apr 2025, so 31 Mar 2025 is late
        (12, date(2025, 3, 31), utc(2026, 3, 31, 23, 30), True),
        # received Sat 11 Apr: the actual date counts, not the rolled Mon 13, so 11 Apr 2025 is in time
        (12, date(2025, 4, 11), utc(2026, 4, 11, 10), False),
        (6, date(2026, 2, 28), utc(2026, 8, 31, 10), False),  # 31 Aug less 6 months clamps to 28 Feb 2026
        (6, date(2026, 2, 27), utc(2026, 8, 31, 10), True),
        (12, date(2027, 2, 28), utc(2028, 2, 29, 12), False),  # 29 Feb 2028 less 12 months is 28 Feb 2027
        (12, date(2027, 2, 27), utc(2028, 2, 29, 12), True),
    ],
)
def test_it_marks_complaints_raised_after_the_time_limit_as_late(months, issue, received, late):
    assert Policy(PolicySettings(time_limit_months=months)).is_late(issue, received) is late


def test_it_subtracts_months_across_a_year_end():
    assert months_before(date(2026, 1, 31), 2) == date(2025, 11, 30)  # 30 days in November


def _fields(breaches: list[str]) -> list[str]:
    return sorted(sentence.split("=")[0] for sentence in breaches)


LANDLORDS = {
    # 000: 3-day frontline step before stage 1; 6 months; escalation routes are people, not clocks
    "000": (PolicySettings(frontline_resolution_days=3, time_limit_months=6),
            ["frontline_resolution_days", "time_limit_months"]),
    # 001: agrees with the Code
    "001": (PolicySettings(stage1_ack_days=5, stage1_response_days=10, stage2_ack_days=5, stage2_response_days=20),
            []),
    # 002: closes 10 working days after the stage 1 outcome unless the resident says otherwise
    "002": (PolicySettings(auto_close_after_days=10), ["auto_close_after_days"]),
    # 003: stage 1 letter 10 days from receipt (fine), 28-day window (own rule), reasons required (breach)
    "003": (
        PolicySettings(
            stage1_ack_days=5, stage1_response_days=10, stage1_response_from="receipt",
            escalation_window_days=28, escalation_requires_reasons=True, stage2_response_days=20,
        ),
        ["escalation_requires_reasons"],
    ),
    # 004: 6-month limit
    "004": (PolicySettings(time_limit_months=6), ["time_limit_months"]),
}


@pytest.mark.parametrize("landlord", sorted(LANDLORDS))
def test_it_reports_exactly_the_code_breaches_of_each_landlord_we_serve(landlord):
    settings, expected = LANDLORDS[landlord]
    breaches = Policy(settings).code_breaches()
    assert _fields(breaches) == sorted(expected)
    assert all(sentence.endswith(".") for sentence in breaches)


@pytest.mark.parametrize(
    ("variation", "expected"),
    [
        ({"stage1_ack_days": 6}, ["stage1_ack_days"]),
        ({"stage1_ack_days": 3}, []),  # quicker than the Code is fine
        ({"stage1_response_days": 11}, ["stage1_response_days"]),
        ({"stage1_response_days": 11, "stage1_response_from": "receipt"}, ["stage1_response_days"]),
        ({"stage1_response_days": 10, "stage1_response_from": "receipt"}, []),
        ({"stage1_extension_days": 11}, ["stage1_extension_days"]),
        ({"stage2_ack_days": 6}, ["stage2_ack_days"]),
        ({"stage2_response_days": 21}, ["stage2_response_days"]),
        ({"stage2_extension_days": 21}, ["stage2_extension_days"]),
        ({"time_limit_months": 11}, ["time_limit_months"]),
        ({"time_limit_months": 24}, []),
        ({"frontline_resolution_days": 1}, ["frontline_resolution_days"]),
        ({"escalation_requires_reasons": True}, ["escalation_requires_reasons"]),
        ({"escalation_window_days": 28}, []),  # the landlord's own rule: nothing to say
        ({"auto_close_after_days": 5}, ["auto_close_after_days"]),
    ],
)
def test_it_checks_each_variation_against_the_code(variation, expected):
    assert _fields(Policy(PolicySettings(**variation)).code_breaches()) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (spso_policy(), []),
        # Code defaults in Scotland: 10 days from ack, 10-day extension and 5-day stage 2 ack all too slow
        (PolicySettings(nation="SCT"), ["stage1_extension_days", "stage1_response_days", "stage2_ack_days"]),
        (spso_policy().model_copy(update={"stage2_ack_days": 5}), ["stage2_ack_days"]),
        (spso_policy().model_copy(update={"stage2_response_days": 21}), ["stage2_response_days"]),
        (spso_policy().model_copy(update={"time_limit_months": 3}), ["time_limit_months"]),
        (spso_policy().model_copy(update={"frontline_resolution_days": 2}), ["frontline_resolution_days"]),
        (spso_policy().model_copy(update={"auto_close_after_days": 10}), ["auto_close_after_days"]),
        # 0-day ack then 5 from it is still within 5 from receipt
        (spso_policy().model_copy(update={"stage1_ack_days": 0, "stage1_response_from": "acknowledgement"}), []),
    ],
)
def test_it_measures_scottish_landlords_against_the_spso_model(settings, expected):
    assert _fields(Policy(settings).code_breaches()) == expected


def test_it_presets_the_spso_model():
    s = spso_policy()
    assert (s.nation, s.stage1_response_days, s.stage1_response_from) == ("SCT", 5, "receipt")
    assert (s.stage2_ack_days, s.stage2_response_days, s.time_limit_months) == (3, 20, 6)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (ENGLAND, "Housing Ombudsman Code 2024: acknowledge stage 1 within 5 working days of receipt"),
        (SCOTLAND, "SPSO model CHP: acknowledge stage 1 within 5 working days of receipt"),
        (PolicySettings(stage1_ack_days=3), "Landlord policy: acknowledge stage 1 within 3 working days of receipt"),
    ],
)
def test_it_says_which_rule_set_a_clock(settings, expected):
    assert Policy(settings).acknowledgement_clock(1, utc(2026, 6, 1, 10)).rule == expected


def test_it_names_awaabs_law_only_for_english_landlords():
    assert Policy(ENGLAND).hazard_clocks([Flag.EMERGENCY_HAZARD], utc(2026, 6, 1))[0].rule.startswith("Awaab's Law")
    assert Policy(SCOTLAND).hazard_clocks([Flag.DAMP_MOULD], utc(2026, 6, 1))[0].rule.startswith("Landlord policy")


def test_it_applies_the_landlords_closing_time_to_the_receipt_day():
    settings = PolicySettings(closing_time=time(17))
    # Fri 16 Oct 17:30 BST after closing -> day 0 Mon 19; Tue20=1 Wed21=2 Thu22=3 Fri23=4 Mon26=5 (GMT by then)
    clock = Policy(settings).acknowledgement_clock(1, utc(2026, 10, 16, 16, 30))
    assert clock.due_at == end_gmt(2026, 10, 26)


def test_it_knows_only_two_stages():
    with pytest.raises(ValueError):
        Policy(ENGLAND).acknowledgement_clock(3, utc(2026, 6, 1))


def test_it_refuses_a_naive_time_for_an_emergency_hazard():
    with pytest.raises(ValueError):
        Policy(ENGLAND).hazard_clocks([Flag.EMERGENCY_HAZARD], datetime(2026, 6, 1, 10))


def test_its_clocks_cannot_be_changed_once_made():
    clock = Policy(ENGLAND).acknowledgement_clock(1, utc(2026, 6, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        clock.due_at = utc(2030, 1, 1)  # type: ignore[misc]
