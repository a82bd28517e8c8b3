"""classifier.evaluate: flag figures for each tier, and what the classifier's decision alone holds."""

from __future__ import annotations

import pytest

from classifier.evaluate import (HELD_MACHINE, HELD_NOT_CONFIDENT, HELD_OUT_OF_SCOPE_SAFETY, HELD_SAFEGUARDING,
                                 build_report, held_by_classifier)


def test_each_tier_has_its_precision_and_recall_and_either_tier_counts_both():
    # 4 messages carry safeguarding: 2 found urgent, 1 as a check, 1 missed; 1 false urgent, 2 false checks
    true_flags = [frozenset({"safeguarding"})] * 4 + [frozenset()] * 6
    urgent = [{"safeguarding"}, {"safeguarding"}, set(), set(), {"safeguarding"}, set(), set(), set(), set(), set()]
    checks = [set(), set(), {"safeguarding"}, set(), set(), {"safeguarding"}, {"safeguarding"}, set(), set(), set()]
    report = build_report("t", ["complaint"] * 10, ["complaint"] * 10, [0.99] * 10, true_flags, urgent, 0.9,
                          predicted_checks=checks)
    row = report.flags["safeguarding"]
    assert (row["precision"], row["recall"], row["predicted"]) == (pytest.approx(2 / 3), 0.5, 3)
    assert (row["check_precision"], row["check_recall"], row["check_raised"]) == (pytest.approx(1 / 3), 0.25, 3)
    assert (row["either_precision"], row["either_recall"]) == (0.5, 0.75)
    assert report.flag_recall("safeguarding") == 0.75 and report.flag_recall("safeguarding", "urgent") == 0.5
    assert report.flag_precision("safeguarding") == pytest.approx(2 / 3)
    # held: the 3 urgent safeguarding; acknowledged by category: the other 7
    assert report.held_share == pytest.approx(0.3) and report.auto_acked == 7
    assert report.held_reasons == {HELD_SAFEGUARDING: 3}


@pytest.mark.parametrize(("confidence", "category", "flags", "checks", "reasons"), [
    (0.99, "complaint", set(), set(), []),
    (0.99, "complaint", set(), {"safeguarding"}, []),  # a check alone holds nothing
    (0.50, "complaint", set(), set(), [HELD_NOT_CONFIDENT]),
    (0.99, "complaint", {"safeguarding"}, set(), [HELD_SAFEGUARDING]),
    (0.50, "out_of_scope", {"auto_reply"}, set(), [HELD_MACHINE]),
    (0.99, "out_of_scope", set(), {"safeguarding"}, [HELD_OUT_OF_SCOPE_SAFETY]),
    (0.99, "out_of_scope", set(), {"emergency_hazard"}, []),  # a hazard check there is a line, as decide has it
    (0.99, "out_of_scope", {"emergency_hazard"}, set(), [HELD_OUT_OF_SCOPE_SAFETY]),
    (0.99, "out_of_scope", set(), {"representative"}, []),
])
def test_what_the_classifiers_decision_alone_holds(confidence, category, flags, checks, reasons):
    assert held_by_classifier(confidence, 0.9, category, flags, checks) == reasons
