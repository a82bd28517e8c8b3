"""What the CLI runs: evaluate, train (and promote only a model no worse than the current one), corrections."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TextIO

from core.errors import ModelUnavailable
from classifier.corpus import Example, load_corpus, load_corrections, load_holdout, load_unseen
from classifier.evaluate import SAFETY_FLAGS, Report, evaluate_holdout, render_rules, rule_figures
from classifier.model import MODELS_DIR, Classifier
from classifier.train import cross_validate, save, train

TOLERANCE = 0.005  # below one held message's worth of safety-flag recall: a candidate may not miss one more
# On a few hundred held messages, macro-F1 moves by about 0.007 when one compliment changes side, so the
# category comparison is paired: refuse a candidate that gets significantly more held messages wrong than
# the current model (a one-sided sign test on the messages they disagree on), or that loses more than
# MAX_MACRO_F1_DROP however the disagreements fall.
SIGNIFICANCE = 0.05
MAX_MACRO_F1_DROP = 0.02
# A candidate whose urgent tier is less precise for a safety flag by more than this is refused: precision
# is what makes staff trust an urgent flag.
MAX_URGENT_PRECISION_DROP = 0.05
SETS = ("holdout", "unseen", "cross-validation")


def evaluate_command(out: TextIO, model_path: Path | None = None, *, data_dir: Path | None = None,
                     rules: bool = False, sets: tuple[str, ...] = SETS) -> int:
    """Print the model's reports: the holdout, each unseen file and all of them together (measured only),
    and a cross-validation report on the training corpus; with ``rules``, each named rule's precision and
    recall on the training corpus."""
    try:
        clf = Classifier.load(model_path)
    except ModelUnavailable as exc:
        print(f"no model to evaluate: {exc}", file=out)
        return 1
    if "holdout" in sets:
        holdout = load_holdout(data_dir)
        print(evaluate_holdout(clf, holdout).render() if holdout else "no holdout examples found", file=out)
        print("", file=out)
    if "unseen" in sets:
        _print_unseen(out, clf, load_unseen(data_dir))
    if "cross-validation" in sets:
        print(cross_validate(load_corpus(data_dir)).render(), file=out)
        print("", file=out)
    if rules:
        corpus = load_corpus(data_dir)
        print(render_rules(rule_figures(corpus), f"the named rules on the training corpus (n={len(corpus)})"), file=out)
    return 0


def _print_unseen(out: TextIO, clf: Classifier, files: dict[str, list[Example]]) -> None:
    if not files:
        print("no unseen files (classifier/data/unseen/*.jsonl)", file=out)
        return
    for name, examples in files.items():
        print(evaluate_holdout(clf, examples, title=f"unseen/{name}").render(), file=out)
        print("", file=out)
    if len(files) > 1:
        every = [e for examples in files.values() for e in examples]
        print(evaluate_holdout(clf, every, title=f"unseen, all {len(files)} files").render(), file=out)
        print("", file=out)


def train_command(out: TextIO, db=None, models_dir: Path | None = None, *, data_dir: Path | None = None) -> int:
    """Retrain on the corpus plus staff corrections; promote to current only if no worse on the holdout."""
    models_dir = Path(models_dir or MODELS_DIR)
    examples = training_examples(db, data_dir)
    corrections = sum(e.source == "correction" for e in examples)
    print(f"training on {len(examples)} examples ({corrections} staff corrections)", file=out)
    try:
        candidate_path = save(train(examples), models_dir, name="candidate")
    except ValueError as exc:
        print(f"training failed: {exc}", file=out)
        return 1
    candidate = Classifier.load(candidate_path)
    holdout = load_holdout(data_dir)
    new = evaluate_holdout(candidate, holdout)
    _record_holdout(candidate_path, new)
    _record_unseen(candidate_path, candidate, load_unseen(data_dir))
    current = _current_report(models_dir, holdout)
    promote, why = decide(new, current)
    print(f"candidate {candidate.model_version}: holdout macro-F1 {new.macro_f1:.3f}, "
          f"safety-flag recall {new.safety_recall:.3f}, threshold {candidate.threshold:.3f}", file=out)
    if promote:
        for suffix in (".skops", ".json"):
            candidate_path.with_suffix(suffix).replace(models_dir / f"current{suffix}")
        print(f"promoted {candidate.model_version} to current: {why}", file=out)
    else:
        for suffix in (".skops", ".json"):
            candidate_path.with_suffix(suffix).unlink(missing_ok=True)
        print(f"not promoted, the current model stays: {why}", file=out)
    return 0


def training_examples(db, data_dir: Path | None = None) -> list[Example]:
    examples = load_corpus(data_dir)
    if db is not None:
        with db.transaction() as session:
            examples += load_corrections(session)
    return examples


def decide(new: Report, current: Report | None) -> tuple[bool, str]:
    """Promote when the candidate is no worse than the current model on the same held messages: no safety
    flag found less often (counting either tier), no safety flag's urgent tier less precise by more than
    MAX_URGENT_PRECISION_DROP, and categories no worse."""
    if current is None:
        return True, "there is no loadable current model"
    if new.n == 0:
        return False, "there is no holdout to compare on"
    refused = _safety_refusal(new, current)
    if refused:
        return False, refused
    worse, better = disagreements(current.correct, new.correct)
    p = sign_test(worse, better)
    if p < SIGNIFICANCE:
        return False, (f"it gets {worse} held messages' category wrong that the current model gets right, "
                       f"and only {better} the other way round (sign test p={p:.3f})")
    if new.macro_f1 < current.macro_f1 - MAX_MACRO_F1_DROP:
        return False, f"holdout macro-F1 would fall from {current.macro_f1:.3f} to {new.macro_f1:.3f}"
    return True, (f"holdout macro-F1 {current.macro_f1:.3f} -> {new.macro_f1:.3f} ({worse} held messages "
                  f"newly wrong, {better} newly right, sign test p={p:.2f}), "
                  f"safety-flag recall {current.safety_recall:.3f} -> {new.safety_recall:.3f}")


def _safety_refusal(new: Report, current: Report) -> str | None:
    """Why the candidate is worse on a safety flag, or None."""
    if new.safety_recall < current.safety_recall - TOLERANCE:
        return f"safety-flag recall would fall from {current.safety_recall:.3f} to {new.safety_recall:.3f}"
    for flag in SAFETY_FLAGS:
        before, after = current.flag_recall(flag), new.flag_recall(flag)
        if before is not None and after is not None and after < before - TOLERANCE:
            return f"{flag} recall (either tier) would fall from {before:.3f} to {after:.3f}"
        before, after = current.flag_precision(flag), new.flag_precision(flag)
        if before is not None and (after or 0.0) < before - MAX_URGENT_PRECISION_DROP:
            return f"{flag} urgent-tier precision would fall from {before:.3f} to {after or 0.0:.3f}"
    return None


def disagreements(current: list[bool], new: list[bool]) -> tuple[int, int]:
    """(held messages only the current model gets right, held messages only the candidate gets right)."""
    if len(current) != len(new):
        raise ValueError("the two reports are not on the same held messages")
    return sum(c and not n for c, n in zip(current, new)), sum(n and not c for c, n in zip(current, new))


def sign_test(worse: int, better: int) -> float:
    """One-sided p-value that the candidate is worse: P(at least `worse` of the disagreements go against it)."""
    n = worse + better
    return sum(math.comb(n, k) for k in range(worse, n + 1)) / 2 ** n if n else 1.0


def _record_holdout(model_path: Path, report: Report) -> None:
    """Add the holdout figures to the sidecar (the checksum covers the .skops file, not the sidecar)."""
    sidecar_path = model_path.with_suffix(".json")
    sidecar = json.loads(sidecar_path.read_text())
    sidecar.setdefault("metrics", {})["holdout"] = report.as_dict()
    sidecar_path.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")


def _record_unseen(model_path: Path, clf: Classifier, files: dict[str, list[Example]]) -> None:
    """Add each unseen file's figures, and all of them together, to the sidecar (measured, never tuned on)."""
    if not files:
        return
    reports = {name: evaluate_holdout(clf, examples, title=f"unseen/{name}") for name, examples in files.items()}
    every = [e for examples in files.values() for e in examples]
    reports["all"] = evaluate_holdout(clf, every, title=f"unseen, all {len(files)} files")
    sidecar_path = model_path.with_suffix(".json")
    sidecar = json.loads(sidecar_path.read_text())
    sidecar.setdefault("metrics", {})["unseen"] = {name: report.as_dict() for name, report in reports.items()}
    sidecar_path.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")


def _current_report(models_dir: Path, holdout: list[Example]) -> Report | None:
    try:
        current = Classifier.load(models_dir / "current.skops")
    except ModelUnavailable:
        return None
    return evaluate_holdout(current, holdout)
