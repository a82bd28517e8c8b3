"""Figures for a classifier: per-category precision/recall/F1, confusion, flags, automatic acknowledgements."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np

from casework.vocabulary import Category, Flag
from classifier.corpus import Example
from classifier.rules import consistent_flags, may_acknowledge_by_category

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
    correct: list[bool] = field(default_factory=list, repr=False)  # per message: category right; for pairing

    def flag_recall(self, flag: str) -> float | None:
        row = self.flags.get(flag)
        return row["recall"] if row and row["support"] else None

    @property
    def safety_recall(self) -> float:
        """The lowest recall over the safety flags (safeguarding, emergency_hazard, damp_mould) in the data."""
        recalls = [r for f in SAFETY_FLAGS if (r := self.flag_recall(f)) is not None]
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
        lines += ["", f"{'flag':<20}{'precision':>10}{'recall':>8}{'support':>9}{'raised':>8}"]
        for flag, row in sorted(self.flags.items()):
            lines.append(f"{flag:<20}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['support']:>9d}{row['predicted']:>8d}")
        lines += ["", f"automatic acknowledgement at threshold {self.threshold:.3f}: "
                      f"{self.auto_ack_share:.1%} of messages ({self.auto_acked}), "
                      f"wrong category among them {self.wrong_rate_auto_acked:.2%}"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def build_report(title: str, true_categories: list[str], predicted: list[str], confidences: Iterable[float],
                 true_flags: list[frozenset[str]], predicted_flags: list[set[str]], threshold: float,
                 notes: list[str] | None = None) -> Report:
    truth, pred = np.array(true_categories), np.array(predicted)
    conf = np.array(list(confidences), dtype=float)
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
    auto = np.array([may_acknowledge_by_category(c, threshold, f) for c, f in zip(conf, predicted_flags)], dtype=bool)
    wrong = int((auto & (truth != pred)).sum())
    return Report(
        title=title, n=len(truth), per_class=per_class, macro_f1=float(np.mean(f1s)) if f1s else 0.0,
        accuracy=float((truth == pred).mean()) if len(truth) else 0.0, confusion=confusion,
        flags=_flag_rows(true_flags, predicted_flags), threshold=float(threshold),
        auto_ack_share=float(auto.mean()) if len(truth) else 0.0,
        wrong_rate_auto_acked=wrong / max(1, int(auto.sum())), auto_acked=int(auto.sum()), notes=notes or [],
        correct=[bool(c) for c in truth == pred],
    )


def _flag_rows(true_flags: list[frozenset[str]], predicted_flags: list[set[str]]) -> dict[str, dict]:
    rows = {}
    names = sorted(set().union(*true_flags, *predicted_flags)) if true_flags else []
    for flag in names:
        t = np.array([flag in f for f in true_flags])
        p = np.array([flag in f for f in predicted_flags])
        tp = int((t & p).sum())
        rows[flag] = {"precision": tp / max(1, int(p.sum())), "recall": tp / max(1, int(t.sum())),
                      "support": int(t.sum()), "predicted": int(p.sum())}
    return rows


def evaluate_holdout(clf: "Classifier", examples: list[Example]) -> Report:
    results = clf.classify_many((e.subject, e.body) for e in examples)
    return build_report(
        f"holdout ({clf.model_version})", [e.category for e in examples], [r.category for r in results],
        [r.confidence for r in results], [e.flags for e in examples], [set(r.flags) for r in results],
        clf.threshold, notes=["the holdout is never used to choose thresholds, hyper-parameters or rules"],
    )


def report_from_out_of_fold(oof: OutOfFold, examples: list[Example], threshold: float,
                            flag_thresholds: dict[str, float], folds: int = 5) -> Report:
    predicted = [oof.classes[i] for i in oof.probabilities.argmax(axis=1)]
    predicted_flags = []
    for i, rules in enumerate(oof.rules):
        model = {f for f, p in oof.flag_probabilities.items() if p[i] >= flag_thresholds.get(f, 0.5)}
        predicted_flags.append(consistent_flags(predicted[i], model | rules))
    return build_report(
        f"{folds}-fold cross-validation on the training corpus", [e.category for e in examples], predicted,
        oof.probabilities.max(axis=1), [e.flags for e in examples], predicted_flags, threshold,
        notes=["thresholds were chosen on these same out-of-fold predictions: the automatic-acknowledgement "
               "figures are optimistic here; the holdout report is the honest one"],
    )

