"""The Policy's clocks for a case's whole life: extensions, Awaab's Law, the frontline step, the
landlord's windows and the time limit. Every expected date below was worked out by hand against a
printed calendar, not copied from the code's output.

Bank holidays used (checked by hand): England 2026: 1 Jan, 3 Apr (Good Friday), 6 Apr (Easter
Monday), 4 May, 25 May, 31 Aug, 25 Dec, 28 Dec (Boxing Day substitute); 1 Jan 2027. Scotland 2026:
1 Jan, 2 Jan, 3 Apr, 4 May, 25 May, 3 Aug, 30 Nov (St Andrew's Day), 25 Dec, 28 Dec; 1 Jan 2027 and
4 Jan 2027 (2 Jan substitute). Scotland works Easter Monday and 31 Aug; England works 2 Jan, 3 Aug
and 30 Nov. UK clocks: BST (UTC+1) from 29 Mar to 25 Oct 2026, GMT (UTC+0) otherwise."""

from datetime import date, datetime

import pytest

from casework.policy import AWAABS_LAW, LANDLORD, ClockSpec, ExtensionRefused, Policy, spso_policy
from casework.vocabulary import ClockKind, Flag
from core.errors import IntakeError
from core.settings import PolicySettings
from tests.casework.moments import end_bst, end_gmt, utc



ENGLAND = PolicySettings()
SCOTLAND = spso_policy()
CLOSED_XMAS_EVE = PolicySettings(closure_days=[date(2026, 12, 24)])
# the Christmas 2026 example: closed Thu 24 and Tue 29 - Thu 31 Dec, on top of the bank holidays
XMAS_CLOSURES = PolicySettings(closure_days=[date(2026, 12, d) for d in (24, 29, 30, 31)])
# a staff training day on Tue 26 May 2026, the day after the spring bank holiday
TRAINING_DAY = date(2026, 5, 26)
CLOSED_AFTER_SPRING = PolicySettings(closure_days=[TRAINING_DAY])
SCOTLAND_CLOSED_XMAS = spso_policy().model_copy(update={"closure_days": XMAS_CLOSURES.closure_days})
LANDLORD_000 = PolicySettings(frontline_resolution_days=3, time_limit_months=6)
LANDLORD_002 = PolicySettings(auto_close_after_days=10)
LANDLORD_003 = PolicySettings(
    stage1_response_from="receipt", escalation_window_days=28, escalation_requires_reasons=True,
)


# -- extensions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "stage", "response_due", "already", "days", "new_due"),
    [
        # Fri 18 Dec + 5: Mon21=1 Tue22=2 Wed23=3 Thu24=4, Fri25 and Mon28 (Boxing Day substitute) off, Tue29=5
        (ENGLAND, 1, end_gmt(2026, 12, 18), 0, 5, end_gmt(2026, 12, 29)),
        # exactly the limit, 10: ... Tue29=5 Wed30=6 Thu31=7, Fri 1 Jan off, Mon4=8 Tue5=9 Wed6=10
        (ENGLAND, 1, end_gmt(2026, 12, 18), 0, 10, end_gmt(2027, 1, 6)),
        # a second extension reaching exactly 10 in all (4 used + 6): Mon21-Thu24 = 1-4, Tue29=5 Wed30=6
        (ENGLAND, 1, end_gmt(2026, 12, 18), 4, 6, end_gmt(2026, 12, 30)),
        # the Code clocks skip the landlord's closure day: Mon21=1 Tue22=2 Wed23=3, Thu24 closed, Tue29=4 Wed30=5
        (CLOSED_XMAS_EVE, 1, end_gmt(2026, 12, 18), 0, 5, end_gmt(2026, 12, 30)),
        # stage 2, Thu 27 Aug + 3: Fri28=1, Mon31 Aug bank holiday, Tue1 Sep=2 Wed2=3
        (ENGLAND, 2, end_bst(2026, 8, 27), 0, 3, end_bst(2026, 9, 2)),
        # stage 2 at the limit, 20: Fri28=1, Tue1-Fri4 = 2-5, 7-11 = 6-10, 14-18 = 11-15, 21-25 = 16-20
        (ENGLAND, 2, end_bst(2026, 8, 27), 0, 20, end_bst(2026, 9, 25)),
        # a second stage 2 extension to exactly 20 (15 + 5): Fri28=1 Tue1=2 Wed2=3 Thu3=4 Fri4=5
        (ENGLAND, 2, end_bst(2026, 8, 27), 15, 5, end_bst(2026, 9, 4)),
        # stage 2 due Fri 23 Oct (BST) + 2: Mon26=1 Tue27=2, due in GMT after the clocks go back
        (ENGLAND, 2, end_bst(2026, 10, 23), 0, 2, end_gmt(2026, 10, 27)),
        # SPSO stage 1 limit 5, Fri 27 Nov: Mon30 St Andrew's off, Tue1=1 Wed2=2 Thu3=3 Fri4=4 Mon7=5
        (SCOTLAND, 1, end_gmt(2026, 11, 27), 0, 5, end_gmt(2026, 12, 7)),
        # a landlord allowing 15 (a breach code_breaches reports): ... Wed6 Jan=10 Thu7=11 Fri8=12 Mon11=13
        # Tue12=14 Wed13=15
        (PolicySettings(stage1_extension_days=15), 1, end_gmt(2026, 12, 18), 0, 15, end_gmt(2027, 1, 13)),
    ],
)
def test_it_extends_a_response_by_working_days_after_its_due_day(
    settings, stage, response_due, already, days, new_due
):
    assert Policy(settings).extension(stage, response_due, already, days) == new_due


@pytest.mark.parametrize(
    ("settings", "stage", "already", "days", "message"),
    [
        (ENGLAND, 1, 0, 11, "a stage 1 extension may add at most 10 working days in all (0 already used)"),
        # a second extension that takes the total over: 6 + 5 = 11
        (ENGLAND, 1, 6, 5, "a stage 1 extension may add at most 10 working days in all (6 already used)"),
        (ENGLAND, 1, 10, 1, "a stage 1 extension may add at most 10 working days in all (10 already used)"),
        (ENGLAND, 2, 0, 21, "a stage 2 extension may add at most 20 working days in all (0 already used)"),
        (ENGLAND, 2, 15, 6, "a stage 2 extension may add at most 20 working days in all (15 already used)"),
        (SCOTLAND, 1, 0, 6, "a stage 1 extension may add at most 5 working days in all (0 already used)"),
        (ENGLAND, 1, 0, 0, "an extension must add at least 1 working day, not 0"),
        (ENGLAND, 2, 0, -3, "an extension must add at least 1 working day, not -3"),
    ],
)
def test_it_refuses_an_extension_beyond_the_limit_naming_the_limit(settings, stage, already, days, message):
    with pytest.raises(ExtensionRefused) as refused:
        Policy(settings).extension(stage, end_gmt(2026, 12, 18), already, days)
    assert str(refused.value) == message


def test_a_refused_extension_is_an_intake_error():
    assert issubclass(ExtensionRefused, IntakeError)


def test_it_knows_only_two_stages_when_extending():
    with pytest.raises(ValueError):
        Policy(ENGLAND).extension(3, end_gmt(2026, 12, 18), 0, 1)


# -- Awaab's Law -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "aware", "due"),
    [
        # Good Friday Fri 3 Apr 11:00 BST is day 0: Mon6 Easter Monday off; Tue7=1 Wed8=2 Thu9=3 Fri10=4,
        # Mon13-Fri17 = 5-9, Mon20=10 (counting from the rolled Tue 7 would give Tue 21)
        (ENGLAND, utc(2026, 4, 3, 10), end_bst(2026, 4, 20)),
        # Scotland works Easter Monday: Mon6=1 Tue7=2 Wed8=3 Thu9=4 Fri10=5, Mon13-Fri17 = 6-10
        (SCOTLAND, utc(2026, 4, 3, 10), end_bst(2026, 4, 17)),
        # aware on Sat 4 Jul: Saturday is day 0, Mon6=1 ... Fri10=5, Mon13=6 ... Fri17=10
        (ENGLAND, utc(2026, 7, 4, 10), end_bst(2026, 7, 17)),
        # Fri 3 Jul 23:30 UTC is Sat 4 Jul 00:30 BST: the local date is day 0, so the same Fri 17
        (ENGLAND, utc(2026, 7, 3, 23, 30), end_bst(2026, 7, 17)),
        # after a 17:00 closing time, Tue 13 Oct 17:30 BST is still day 0 (no roll): Wed14=1 Thu15=2
        # Fri16=3, Mon19-Fri23 = 4-8, Mon26=9 Tue27=10 (GMT by then)
        (PolicySettings(closing_time="17:00"), utc(2026, 10, 13, 16, 30), end_gmt(2026, 10, 27)),
        # England works St Andrew's Day: Fri 27 Nov; Mon30=1 Tue1=2 ... Fri4=5, Mon7-Fri11 = 6-10
        (ENGLAND, utc(2026, 11, 27, 10), end_gmt(2026, 12, 11)),
        # Scotland: Mon30 off; Tue1-Fri4 = 1-4, Mon7-Fri11 = 5-9, Mon14=10
        (SCOTLAND, utc(2026, 11, 27, 10), end_gmt(2026, 12, 14)),
        # Christmas 2026, closed 24 and 29-31 Dec, aware Fri 18 Dec: Mon21=1 Tue22=2 Wed23=3 Thu24=4 (closed
        # but counts), Fri25 and Mon28 off, Tue29=5 Wed30=6 Thu31=7 (closed but count), Fri 1 Jan off,
        # Mon4=8 Tue5=9 Wed6=10
        (XMAS_CLOSURES, utc(2026, 12, 18, 10), end_gmt(2027, 1, 6)),
        # ... the same as a landlord with no closure days
        (ENGLAND, utc(2026, 12, 18, 10), end_gmt(2027, 1, 6)),
        # Scotland over the same Christmas: as England until Thu31=7, then Fri 1 Jan and Mon 4 Jan
        # (2 Jan substitute) off, Tue5=8 Wed6=9 Thu7=10
        (SCOTLAND_CLOSED_XMAS, utc(2026, 12, 18, 10), end_gmt(2027, 1, 7)),
    ],
)
def test_it_gives_the_damp_and_mould_investigation_ten_statutory_working_days(settings, aware, due):
    [clock] = Policy(settings).hazard_clocks([Flag.DAMP_MOULD], aware)
    assert clock == ClockSpec(ClockKind.DAMP_MOULD, aware, due, clock.rule)


@pytest.mark.parametrize(
    ("settings", "concluded", "summary_due", "safe_due"),
    [
        # Thu 2 Apr 16:00 BST: Fri3 Good Friday, Mon6 Easter Monday off; Tue7=1 Wed8=2 Thu9=3 | Fri10=4 Mon13=5
        (ENGLAND, utc(2026, 4, 2, 15), end_bst(2026, 4, 9), end_bst(2026, 4, 13)),
        # Scotland works Easter Monday: Mon6=1 Tue7=2 Wed8=3 | Thu9=4 Fri10=5
        (SCOTLAND, utc(2026, 4, 2, 15), end_bst(2026, 4, 8), end_bst(2026, 4, 10)),
        # Fri 22 May, closed Tue 26: Mon25 bank holiday; Tue26=1 (closed but counts) Wed27=2 Thu28=3 | Fri29=4
        # Mon1 Jun=5
        (CLOSED_AFTER_SPRING, utc(2026, 5, 22, 14), end_bst(2026, 5, 28), end_bst(2026, 6, 1)),
        # Fri 31 Jul in England: Mon3=1 Tue4=2 Wed5=3 | Thu6=4 Fri7=5
        (ENGLAND, utc(2026, 7, 31, 13), end_bst(2026, 8, 5), end_bst(2026, 8, 7)),
        # in Scotland Mon 3 Aug is the summer bank holiday: Tue4=1 Wed5=2 Thu6=3 | Fri7=4 Mon10=5
        (SCOTLAND, utc(2026, 7, 31, 13), end_bst(2026, 8, 6), end_bst(2026, 8, 10)),
        # Wed 31 Dec 2025 in England: Thu 1 Jan off, Fri2=1 Mon5=2 Tue6=3 | Wed7=4 Thu8=5
        (ENGLAND, utc(2025, 12, 31, 12), end_gmt(2026, 1, 6), end_gmt(2026, 1, 8)),
        # in Scotland Fri 2 Jan is a bank holiday too: Mon5=1 Tue6=2 Wed7=3 | Thu8=4 Fri9=5
        (SCOTLAND, utc(2025, 12, 31, 12), end_gmt(2026, 1, 7), end_gmt(2026, 1, 9)),
        # Wed 23 Dec 2026, closed 24 and 29-31: Thu24=1, Fri25 Mon28 off, Tue29=2 Wed30=3 | Thu31=4,
        # Fri 1 Jan off, Mon4=5
        (XMAS_CLOSURES, utc(2026, 12, 23, 11), end_gmt(2026, 12, 30), end_gmt(2027, 1, 4)),
        # concluded on Sat 10 Oct: Saturday is day 0, Mon12=1 Tue13=2 Wed14=3 | Thu15=4 Fri16=5
        (ENGLAND, utc(2026, 10, 10, 11), end_bst(2026, 10, 14), end_bst(2026, 10, 16)),
    ],
)
def test_it_starts_the_summary_and_made_safe_clocks_when_the_investigation_concludes(
    settings, concluded, summary_due, safe_due
):
    summary, safe = Policy(settings).damp_followup_clocks(concluded)
    assert summary == ClockSpec(ClockKind.DAMP_MOULD_SUMMARY, concluded, summary_due, summary.rule)
    assert safe == ClockSpec(ClockKind.DAMP_MOULD_SAFE, concluded, safe_due, safe.rule)


def test_closure_days_delay_the_code_clocks_but_not_awaabs_law():
    policy = Policy(CLOSED_AFTER_SPRING)
    reported = utc(2026, 5, 20, 8)  # Wed 20 May 09:00 BST
    # Code: Thu21=1 Fri22=2, Mon25 bank holiday, Tue26 closed, Wed27=3 Thu28=4 Fri29=5
    assert policy.acknowledgement_clock(1, reported).due_at == end_bst(2026, 5, 29)
    # Awaab's Law: Thu21=1 Fri22=2, Mon25 off, Tue26=3 (closed but counts), Wed27=4 Thu28=5 Fri29=6,
    # Mon1 Jun=7 Tue2=8 Wed3=9 Thu4=10
    [damp] = policy.hazard_clocks([Flag.DAMP_MOULD], reported)
    assert damp.due_at == end_bst(2026, 6, 4)
    # without the closure the Code clock is a day sooner: Tue26=3 Wed27=4 Thu28=5; Awaab's is unchanged
    assert Policy(ENGLAND).acknowledgement_clock(1, reported).due_at == end_bst(2026, 5, 28)
    assert Policy(ENGLAND).hazard_clocks([Flag.DAMP_MOULD], reported)[0].due_at == end_bst(2026, 6, 4)


def test_the_christmas_closure_would_have_cost_four_working_days_on_the_landlords_calendar():
    policy = Policy(XMAS_CLOSURES)
    friday = end_gmt(2026, 12, 18)
    # 10 working days on the landlord's calendar (a stage 2 extension counts that way): Mon21=1 Tue22=2
    # Wed23=3, Thu24 closed, 25 and 28 off, 29-31 closed, 1 Jan off, Mon4=4 ... Fri8=8, Mon11=9 Tue12=10
    assert policy.extension(2, friday, 0, 10) == end_gmt(2027, 1, 12)
    # Awaab's Law from the same Friday: Wed 6 Jan (see the table above), 4 working days sooner
    # (Thu 7, Fri 8, Mon 11, Tue 12)
    [damp] = policy.hazard_clocks([Flag.DAMP_MOULD], utc(2026, 12, 18, 10))
    assert damp.due_at == end_gmt(2027, 1, 6)


def test_the_emergency_hazard_clock_is_twenty_four_real_hours_even_over_christmas():
    aware = utc(2026, 12, 24, 20)  # Thu 24 Dec 20:00 GMT, a closure day, the eve of a bank holiday
    [clock] = Policy(XMAS_CLOSURES).hazard_clocks([Flag.EMERGENCY_HAZARD], aware)
    assert clock == ClockSpec(ClockKind.EMERGENCY_HAZARD, aware, utc(2026, 12, 25, 20), clock.rule)


@pytest.mark.parametrize(
    ("settings", "source"),
    [
        (ENGLAND, AWAABS_LAW),
        (CLOSED_AFTER_SPRING, AWAABS_LAW),  # closure days do not change who sets the rule
        (SCOTLAND, LANDLORD),  # Awaab's Law is English; in Scotland the clocks are the landlord's
        (PolicySettings(damp_mould_summary_days=2, damp_mould_safe_days=4), LANDLORD),
    ],
)
def test_it_says_who_sets_the_summary_and_made_safe_clocks(settings, source):
    clocks = Policy(settings).damp_followup_clocks(utc(2026, 6, 1, 10))
    assert [clock.rule.split(":")[0] for clock in clocks] == [source, source]


def test_it_refuses_a_naive_time_for_a_concluded_investigation():
    with pytest.raises(ValueError):
        Policy(ENGLAND).damp_followup_clocks(datetime(2026, 6, 1, 10))


# -- the frontline step (landlord 000) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "frontline_due", "ack_due"),
    [
        # Mon 1 Jun: frontline Tue2=1 Wed3=2 Thu4=3; acknowledge 3 + 5 = 8: Fri5=4, Mon8=5 Tue9=6 Wed10=7 Thu11=8
        (utc(2026, 6, 1, 10), end_bst(2026, 6, 4), end_bst(2026, 6, 11)),
        # Thu 21 May: Fri22=1, Mon25 bank holiday, Tue26=2 Wed27=3; Thu28=4 Fri29=5 Mon1=6 Tue2=7 Wed3=8
        (utc(2026, 5, 21, 9), end_bst(2026, 5, 27), end_bst(2026, 6, 3)),
        # Sat 19 Dec -> day 0 Mon 21: Tue22=1 Wed23=2 Thu24=3; Fri25 Mon28 off, Tue29=4 Wed30=5 Thu31=6,
        # Fri 1 Jan off, Mon4=7 Tue5=8
        (utc(2026, 12, 19, 12), end_gmt(2026, 12, 24), end_gmt(2027, 1, 5)),
    ],
)
def test_a_frontline_step_delays_the_stage_1_acknowledgement(received, frontline_due, ack_due):
    policy = Policy(LANDLORD_000)
    frontline = policy.frontline_clock(received)
    assert frontline == ClockSpec(ClockKind.FRONTLINE, received, frontline_due, frontline.rule)
    ack = policy.acknowledgement_clock(1, received)
    assert ack == ClockSpec(ClockKind.ACK_STAGE1, received, ack_due, ack.rule)


def test_the_frontline_rule_says_what_it_adds_to_the_acknowledgement():
    policy = Policy(LANDLORD_000)
    received = utc(2026, 6, 1, 10)
    assert policy.acknowledgement_clock(1, received).rule == (
        "Landlord policy: acknowledge stage 1 within 8 working days of receipt "
        "(3 of frontline resolution, then 5 to acknowledge)"
    )
    assert policy.frontline_clock(received).rule.startswith("Landlord policy: resolve at the frontline within 3")


def test_a_frontline_step_does_not_delay_the_stage_2_acknowledgement():
    # escalation Mon 23 Nov: Tue24=1 Wed25=2 Thu26=3 Fri27=4 Mon30=5
    assert Policy(LANDLORD_000).acknowledgement_clock(2, utc(2026, 11, 23, 14)).due_at == end_gmt(2026, 11, 30)


def test_there_is_no_frontline_clock_under_the_code():
    policy = Policy(ENGLAND)
    assert policy.frontline_clock(utc(2026, 6, 1, 10)) is None
    # Mon 1 Jun: Tue2-Fri5 = 1-4, Mon8=5
    assert policy.acknowledgement_clock(1, utc(2026, 6, 1, 10)).due_at == end_bst(2026, 6, 8)


# -- the landlord's windows (landlords 003 and 002) ------------------------------------------------


@pytest.mark.parametrize(
    ("responded", "closes"),
    [
        # Fri 16 Oct + 28 calendar days: 15 to Sat 31 Oct, 13 more -> Fri 13 Nov (GMT by then)
        (utc(2026, 10, 16, 13), end_gmt(2026, 11, 13)),
        # Fri 31 Jul 23:30 UTC is Sat 1 Aug 00:30 BST: 1 Aug + 28 -> Sat 29 Aug (weekends count)
        (utc(2026, 7, 31, 23, 30), end_bst(2026, 8, 29)),
        # Mon 21 Dec + 28: 10 to Thu 31 Dec, 18 more -> Mon 18 Jan 2027 (bank holidays count)
        (utc(2026, 12, 21, 10), end_gmt(2027, 1, 18)),
        # Sat 31 Jan + 28: February 2026 has 28 days -> Sat 28 Feb
        (utc(2026, 1, 31, 12), end_gmt(2026, 2, 28)),
    ],
)
def test_the_escalation_window_is_calendar_days_after_the_stage_1_response(responded, closes):
    window = Policy(LANDLORD_003).escalation_window(responded)
    assert window == ClockSpec(ClockKind.ESCALATION_WINDOW, responded, closes, window.rule)
    assert window.rule.startswith("Landlord policy: ask for stage 2 within 28 calendar days")


@pytest.mark.parametrize(
    ("settings", "responded", "closes"),
    [
        # Fri 22 May: Mon25 bank holiday; Tue26=1 Wed27=2 Thu28=3 Fri29=4, Mon1 Jun-Fri5 = 5-9, Mon8=10
        (LANDLORD_002, utc(2026, 5, 22, 14), end_bst(2026, 6, 8)),
        # Wed 23 Dec: Thu24=1, Fri25 Mon28 off, Tue29=2 Wed30=3 Thu31=4, Fri 1 Jan off, Mon4-Fri8 = 5-9, Mon11=10
        (LANDLORD_002, utc(2026, 12, 23, 11), end_gmt(2027, 1, 11)),
        # the same closed on 24 Dec (a landlord clock skips it): Tue29=1 Wed30=2 Thu31=3, Mon4-Fri8 = 4-8,
        # Mon11=9 Tue12=10
        (LANDLORD_002.model_copy(update={"closure_days": [date(2026, 12, 24)]}),
         utc(2026, 12, 23, 11), end_gmt(2027, 1, 12)),
        # a response sent on Sat 4 Jul counts from its own date: Mon6-Fri10 = 1-5, Mon13-Fri17 = 6-10
        (LANDLORD_002, utc(2026, 7, 4, 9), end_bst(2026, 7, 17)),
    ],
)
def test_the_satisfaction_window_is_working_days_after_the_stage_1_response(settings, responded, closes):
    window = Policy(settings).satisfaction_window(responded)
    assert window == ClockSpec(ClockKind.SATISFACTION_WINDOW, responded, closes, window.rule)


def test_there_are_no_windows_under_the_code():
    policy = Policy(ENGLAND)
    assert policy.escalation_window(utc(2026, 6, 1, 10)) is None
    assert policy.satisfaction_window(utc(2026, 6, 1, 10)) is None


# -- the time limit (12 months under the Code, 6 at landlords 000 and 004) -------------------------


@pytest.mark.parametrize(
    ("months", "issue", "received", "late"),
    [
        # received Mon 15 Jun 2026: 12 months back is 15 Jun 2025
        (12, date(2025, 6, 15), utc(2026, 6, 15, 10), False),
        (12, date(2025, 6, 14), utc(2026, 6, 15, 10), True),
        # 6 months back is 15 Dec 2025
        (6, date(2025, 12, 15), utc(2026, 6, 15, 10), False),
        (6, date(2025, 12, 14), utc(2026, 6, 15, 10), True),
        # the same issue, in time under the Code but late under a 6-month policy
        (12, date(2025, 9, 1), utc(2026, 6, 15, 10), False),
        (6, date(2025, 9, 1), utc(2026, 6, 15, 10), True),
        # Tue 30 Jun 23:30 UTC is Wed 1 Jul 00:30 BST: 6 months back is 1 Jan 2026, so 31 Dec 2025 is late
        (6, date(2026, 1, 1), utc(2026, 6, 30, 23, 30), False),
        (6, date(2025, 12, 31), utc(2026, 6, 30, 23, 30), True),
        # received Sun 31 May (the actual date, not the rolled Mon 1 Jun): 31 Nov clamps to 30 Nov 2025
        (6, date(2025, 11, 30), utc(2026, 5, 31, 11), False),
        (6, date(2025, 11, 29), utc(2026, 5, 31, 11), True),
    ],
)
def test_it_marks_an_issue_older_than_the_time_limit_as_late(months, issue, received, late):
    settings = LANDLORD_000 if months == 6 else ENGLAND
    assert settings.time_limit_months == months
    assert Policy(settings).is_late(issue, received) is late
