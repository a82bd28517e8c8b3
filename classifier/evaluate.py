"""Figures for a classifier: per-category precision/recall/F1, confusion, flags in each tier (precision beside
recall), the share acknowledged by category (and wrong among them), the share the classifier's decision
holds and why, and each named rule's precision and recall on a set of messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np

from casework.vocabulary import Category, Flag
from classifier.corpus import Example
from classifier.rules import consistent_flags, may_acknowledge_by_category, rule_book, rule_flags
from classifier.text import prepare
from classifier.tiers import tiers

if TYPE_CHECKING:
    from classifier.model import Classifier



@dataclass
class OutOfFold:
    """Cross-validated predictions for every training example (made by classifier.train.out_of_fold)."""

    classes: list[str]
    probabilities: np.ndarray  # (n, classes)
    flag_probabilities: dict[str, np.ndarray]  # flag -> (n,)
    rules: list[set[str]]


CATEGORIES = [c.value for c in Category]
SAFETY_FLAGS = (Flag.SAFEGUARDING.value, Flag.EMERGENCY_HAZARD.value, Flag.DAMP_MOULD.value)
# Why the classifier's decision holds a message for a person (pipeline.decide adds what the text alone
# cannot tell: late, no case to escalate, a poor scan, an address we cannot write to).
HELD_SAFEGUARDING = "safeguarding (urgent)"
HELD_MACHINE = "reads like machine mail"
HELD_NOT_CONFIDENT = "classifier not confident"
HELD_OUT_OF_SCOPE_SAFETY = "out of scope with a safety signal"


@dataclass
class Report:
    title: str
    n: int
    per_class: dict[str, dict[str, float]]  # category -> precision, recall, f1, support
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]  # rows: true category, columns: predicted, in CATEGORIES order
    flags: dict[str, dict[str, float]]  # flag -> precision, recall, support, predicted
    threshold: float
    auto_ack_share: float
    wrong_rate_auto_acked: float
    auto_acked: int
    notes: list[str] = field(default_factory=list)
    held_share: float = 0.0  # held for a person by the classifier's decision alone
    held_reasons: dict[str, int] = field(default_factory=dict)  # a message may be held for several
    correct: list[bool] = field(default_factory=list, repr=False)  # per message: category right; for pairing

    def flag_recall(self, flag: str, tier: str = "either") -> float | None:
        """Recall of the flag in the urgent tier ("urgent") or counting either tier ("either")."""
        row = self.flags.get(flag)
        if not row or not row["support"]:
            return None
        return row["recall"] if tier == "urgent" else row.get("either_recall", row["recall"])

    def flag_precision(self, flag: str) -> float | None:
        """Precision of the urgent tier, when it raised the flag at all."""
        row = self.flags.get(flag)
        return row["precision"] if row and row["predicted"] else None

    @property
    def safety_recall(self) -> float:
        """The lowest recall over the safety flags (safeguarding, emergency_hazard, damp_mould) in the data,
        counting either tier."""
        recalls = [r for f in SAFETY_FLAGS if (r := self.flag_recall(f)) is not None]
        return min(recalls, default=1.0)

    @property
    def urgent_safety_recall(self) -> float:
        """The lowest urgent-tier recall over the safety flags in the data."""
        recalls = [r for f in SAFETY_FLAGS if (r := self.flag_recall(f, "urgent")) is not None]
        return min(recalls, default=1.0)

    def as_dict(self) -> dict:
        figures = asdict(self)
        del figures["correct"]
        return figures

    def render(self) -> str:
        lines = [f"{self.title}  (n={self.n})", ""]
        lines.append(f"{'category':<16}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}")
        for cat in CATEGORIES:
            row = self.per_class[cat]
            lines.append(f"{cat:<16}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>9d}")
        lines.append(f"{'macro-F1':<16}{self.macro_f1:>25.3f}")
        lines.append(f"{'accuracy':<16}{self.accuracy:>25.3f}")
        lines += ["", "confusion (rows true, columns predicted)"]
        short = [c[:10] for c in CATEGORIES]
        lines.append(" " * 16 + "".join(f"{s:>12}" for s in short))
        for cat, row in zip(CATEGORIES, self.confusion):
            lines.append(f"{cat:<16}" + "".join(f"{v:>12d}" for v in row))
        lines += ["", "flags: the urgent tier (flags), the check tier (checks), and either",
                  f"{'flag':<20}{'support':>8} | {'urgent P':>9}{'R':>7}{'raised':>7} | {'check P':>8}{'R':>7}"
                  f"{'raised':>7} | {'either P':>9}{'R':>7}"]
        for flag, row in sorted(self.flags.items()):
            lines.append(f"{flag:<20}{row['support']:>8d} | {row['precision']:>9.3f}{row['recall']:>7.3f}"
                         f"{row['predicted']:>7d} | {row['check_precision']:>8.3f}{row['check_recall']:>7.3f}"
                         f"{row['check_raised']:>7d} | {row['either_precision']:>9.3f}{row['either_recall']:>7.3f}")
        lines += ["", f"acknowledged by category (threshold {self.threshold:.3f}): "
                      f"{self.auto_ack_share:.1%} of messages ({self.auto_acked}), "
                      f"wrong category among them {self.wrong_rate_auto_acked:.2%}",
                  f"held for a person by the classifier's decision: {self.held_share:.1%}"
                  + "".join(f"; {reason} {n}" for reason, n in sorted(self.held_reasons.items(), key=lambda kv: -kv[1]))]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def build_report(title: str, true_categories: list[str], predicted: list[str], confidences: Iterable[float],
                 true_flags: list[frozenset[str]], predicted_flags: list[set[str]], threshold: float,
                 notes: list[str] | None = None, predicted_checks: list[set[str]] | None = None) -> Report:
    """Figures for one set of messages; ``predicted_flags`` is the urgent tier, ``predicted_checks`` the
    check tier (none when omitted)."""
    truth, pred = np.array(true_categories), np.array(predicted)
    conf = np.array(list(confidences), dtype=float)
    checks = predicted_checks if predicted_checks is not None else [set() for _ in predicted_flags]
    per_class, f1s = {}, []
    for cat in CATEGORIES:
        tp = int(((pred == cat) & (truth == cat)).sum())
        precision = tp / max(1, int((pred == cat).sum()))
        recall = tp / max(1, int((truth == cat).sum()))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[cat] = {"precision": precision, "recall": recall, "f1": f1, "support": int((truth == cat).sum())}
        if (truth == cat).any():
            f1s.append(f1)
    confusion = [[int(((truth == t) & (pred == p)).sum()) for p in CATEGORIES] for t in CATEGORIES]
    reasons = [held_by_classifier(c, threshold, category, f, k) for c, category, f, k
               in zip(conf, predicted, predicted_flags, checks)]
    auto = np.array([not r for r in reasons], dtype=bool)
    held_reasons: dict[str, int] = {}
    for message_reasons in reasons:
        for reason in message_reasons:
            held_reasons[reason] = held_reasons.get(reason, 0) + 1
    wrong = int((auto & (truth != pred)).sum())
    return Report(
        title=title, n=len(truth), per_class=per_class, macro_f1=float(np.mean(f1s)) if f1s else 0.0,
        accuracy=float((truth == pred).mean()) if len(truth) else 0.0, confusion=confusion,
        flags=_flag_rows(true_flags, predicted_flags, checks), threshold=float(threshold),
        auto_ack_share=float(auto.mean()) if len(truth) else 0.0,
        wrong_rate_auto_acked=wrong / max(1, int(auto.sum())), auto_acked=int(auto.sum()), notes=notes or [],
        correct=[bool(c) for c in truth == pred], held_share=float((~auto).mean()) if len(truth) else 0.0,
        held_reasons=held_reasons,
    )


def held_by_classifier(confidence: float, threshold: float, category: str, flags: set[str] | frozenset[str],
                       checks: set[str] | frozenset[str]) -> list[str]:
    """Why the classifier's decision alone holds this message for a person (empty: acknowledged by
    category), as pipeline.decide holds it: an urgent safeguarding flag, wording like machine mail, a
    category it is not confident of, or "out of scope" with an urgent safety flag or a safeguarding check
    (pipeline/decide.py's ``out_of_scope_with_a_risk``: a hazard or damp check there is a line, not a hold)."""
    reasons = []
    if Flag.SAFEGUARDING.value in flags:
        reasons.append(HELD_SAFEGUARDING)
    if Flag.AUTO_REPLY.value in flags:
        reasons.append(HELD_MACHINE)
    if not reasons and not may_acknowledge_by_category(confidence, threshold, flags):
        reasons.append(HELD_NOT_CONFIDENT)
    if category == Category.OUT_OF_SCOPE.value and (set(flags) & set(SAFETY_FLAGS) or Flag.SAFEGUARDING.value in checks):
        reasons.append(HELD_OUT_OF_SCOPE_SAFETY)
    return reasons


def _flag_rows(true_flags: list[frozenset[str]], predicted_flags: list[set[str]],
               predicted_checks: list[set[str]]) -> dict[str, dict]:
    rows = {}
    names = sorted(set().union(*true_flags, *predicted_flags, *predicted_checks)) if true_flags else []
    for flag in names:
        t = np.array([flag in f for f in true_flags])
        urgent = np.array([flag in f for f in predicted_flags])
        check = np.array([flag in f for f in predicted_checks]) & ~urgent
        either = urgent | check
        support = int(t.sum())
        rows[flag] = {"support": support,
                      "precision": _share(t & urgent, urgent), "recall": _share(t & urgent, t), "predicted": int(urgent.sum()),
                      "check_precision": _share(t & check, check), "check_recall": _share(t & check, t),
                      "check_raised": int(check.sum()),
                      "either_precision": _share(t & either, either), "either_recall": _share(t & either, t),
                      "either_raised": int(either.sum())}
    return rows


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    return int(part.sum()) / max(1, int(whole.sum()))


def evaluate_holdout(clf: "Classifier", examples: list[Example], title: str = "holdout") -> Report:
    """The model's figures on held messages (holdout.jsonl or an unseen file): measured, never tuned on."""
    results = clf.classify_many((e.subject, e.body) for e in examples)
    return build_report(
        f"{title} ({clf.model_version})", [e.category for e in examples], [r.category for r in results],
        [r.confidence for r in results], [e.flags for e in examples], [set(r.flags) for r in results],
        clf.threshold, notes=["never used to choose thresholds, hyper-parameters or rules"],
        predicted_checks=[set(r.checks) for r in results],
    )


def report_from_out_of_fold(oof: OutOfFold, examples: list[Example], threshold: float,
                            flag_thresholds: dict[str, float], check_thresholds: dict[str, float] | None = None,
                            folds: int = 5) -> Report:
    """Cross-validated figures, the tiers made from the out-of-fold probabilities as the model makes them."""
    check_thresholds = check_thresholds or {}
    predicted = [oof.classes[i] for i in oof.probabilities.argmax(axis=1)]
    predicted_flags, predicted_checks = [], []
    for i, rules in enumerate(oof.rules):
        probabilities = {f: float(p[i]) for f, p in oof.flag_probabilities.items()}
        urgent, checks = tiers(probabilities, rules, flag_thresholds, check_thresholds)
        predicted_flags.append(consistent_flags(predicted[i], urgent))
        predicted_checks.append(consistent_flags(predicted[i], checks))
    return build_report(
        f"{folds}-fold cross-validation on the training corpus", [e.category for e in examples], predicted,
        oof.probabilities.max(axis=1), [e.flags for e in examples], predicted_flags, threshold,
        notes=["thresholds were chosen on these same out-of-fold predictions: the figures are optimistic here; "
               "the holdout and unseen reports are the honest ones"], predicted_checks=predicted_checks,
    )


@dataclass
class RuleFigures:
    rule_id: str
    flag: str
    language: str
    fired: int  # messages it fired on
    right: int  # of those, messages that carry its flag
    support: int  # messages that carry its flag

    @property
    def precision(self) -> float:
        return self.right / self.fired if self.fired else 0.0

    @property
    def recall(self) -> float:
        return self.right / self.support if self.support else 0.0


def rule_figures(examples: list[Example]) -> list[RuleFigures]:
    """Each named rule's precision (of the messages it fires on, the share with its flag) and recall (of
    the messages with its flag, the share it fires on), over these examples; a rule that fires mostly on
    look-alikes shows a low precision."""
    fired: dict[str, list[bool]] = {}
    for example in examples:
        for rule_id in {h.rule_id: h for h in rule_flags(prepare(example.subject, example.body))}.keys():
            rule = rule_book().rule(rule_id)
            fired.setdefault(rule_id, []).append(rule.flag in example.flags)
    support = {f.value: sum(f.value in e.flags for e in examples) for f in Flag}
    return [RuleFigures(r.id, r.flag, r.language, len(fired.get(r.id, [])), sum(fired.get(r.id, [])), support[r.flag])
            for r in rule_book().rules]


def render_rules(figures: list[RuleFigures], title: str) -> str:
    """The rules by flag, the least precise first; rules that never fired are counted, not listed."""
    lines = [title, "", f"{'rule':<34}{'lang':>5}{'fired':>7}{'right':>7}{'precision':>10}{'recall':>8}"]
    for flag in sorted({f.flag for f in figures}):
        rows = sorted((f for f in figures if f.flag == flag and f.fired), key=lambda f: (f.precision, -f.fired))
        silent = sum(1 for f in figures if f.flag == flag and not f.fired)
        lines.append(f"-- {flag}: {len(rows)} rules fired, {silent} never did")
        lines += [f"{f.rule_id:<34}{f.language:>5}{f.fired:>7}{f.right:>7}{f.precision:>10.3f}{f.recall:>8.3f}"
                  for f in rows]
    return "\n".join(lines)
