"""Classification: category, confidence, flags and model version for a message's text.

What is done with it (hold, acknowledge how) is pipeline.decide's; the confidence threshold it compares
against is the classifier's (``Classifier.threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Classification:
    category: str  # a casework.vocabulary.Category value
    confidence: float  # calibrated probability of that category, 0..1
    flags: frozenset[str]  # casework.vocabulary.Flag values
    model_version: str
    explanation: tuple[str, ...] = field(default=(), compare=False)  # words/phrases that weighed most
