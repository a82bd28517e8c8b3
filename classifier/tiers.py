"""The two tiers of a flag, made in one place for the model and for its out-of-fold figures."""

from __future__ import annotations


def tiers(probabilities: dict[str, float], rules: set[str], flag_thresholds: dict[str, float],
          check_thresholds: dict[str, float]) -> tuple[set[str], set[str]]:
    """(urgent flags, check markers) from each flag model's probability and the flags the rules raise.

    A flag with a check threshold has two tiers: urgent when its model reaches the urgent threshold (the
    model reads the rules too); a check when it is not urgent but a rule fired or the model reaches the
    check threshold. Any other flag is raised by its model or its rules, in the urgent tier. A flag is in
    one tier or neither.
    """
    urgent, checks = set(), set()
    for flag in set(probabilities) | rules:
        p = probabilities.get(flag)
        if flag in check_thresholds and p is not None:
            if p >= flag_thresholds[flag]:
                urgent.add(flag)
            elif flag in rules or p >= check_thresholds[flag]:
                checks.add(flag)
        elif flag in rules or (p is not None and p >= flag_thresholds.get(flag, 0.5)):
            urgent.add(flag)
    return urgent, checks
