"""Classification: category, confidence, flags and model version for a message's text.

What is done with it (hold, acknowledge how) is pipeline.decide's; the confidence threshold it compares
against is the classifier's (``Classifier.threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleHit:
    """A named phrase rule that fired (classifier/rules/*): its id, the flag it raises, and the words
    it matched, shown to staff on the case ("flagged by SG_SAVING_TABLETS: 'saving my tablets'").
    The words are the resident's: shown as inert text, never logged."""

    rule_id: str
    flag: str  # a casework.vocabulary.Flag value
    words: str


@dataclass(frozen=True)
class Classification:
    category: str  # a casework.vocabulary.Category value
    confidence: float  # calibrated probability of that category, 0..1
    flags: frozenset[str]  # casework.vocabulary.Flag values
    model_version: str
    explanation: tuple[str, ...] = field(default=(), compare=False)  # words/phrases that weighed most
    # The two tiers (issue 13): ``flags`` is the urgent tier (the model is sure: top of the queue, and
    # safeguarding is never auto-acknowledged); ``checks`` are weaker signals, a line on the case for
    # staff that neither holds it nor takes over the queue. A flag is in one tier or neither, never both.
    checks: frozenset[str] = frozenset()
    rules: tuple[RuleHit, ...] = field(default=(), compare=False)  # the named rules that fired
