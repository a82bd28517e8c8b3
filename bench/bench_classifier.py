"""Classifier benchmark: model load time and messages per second on one core.

    .venv/bin/python bench/bench_classifier.py [path/to/model.skops]

classify_many runs once over every distinct message in the training corpus and the holdout (no message
twice, so the per-word feature cache is not flattered), in batches of 500, starting from a freshly
loaded model. That pass is made PASSES times, each with a freshly loaded model, and the fastest is
reported, as timeit does: on a shared virtual machine the slower passes measure the neighbours.
Prints a markdown table row.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, before numpy is imported

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

BATCH = 500
PASSES = 3


def main(argv: list[str]) -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    started = time.perf_counter()
    from classifier.model import Classifier
    from classifier.corpus import load_corpus, load_holdout

    imported = time.perf_counter()
    clf = Classifier.load(Path(argv[0]) if argv else None)
    loaded = time.perf_counter()
    items = list(dict.fromkeys((e.subject, e.body) for e in load_corpus() + load_holdout()))
    elapsed = min(one_pass(Classifier.load(Path(argv[0]) if argv else None), items) for _ in range(PASSES))
    size = (Path(argv[0]) if argv else Path(__file__).parents[1] / "classifier/models/current.skops").stat().st_size
    print("| model | artifact MB | import s | load s | messages | messages/s (1 core) | ms/message |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {clf.model_version} | {size / 1e6:.1f} | {imported - started:.2f} | {loaded - imported:.3f} | "
          f"{len(items)} | {len(items) / elapsed:.0f} | {1000 * elapsed / len(items):.2f} |")
    return 0


def one_pass(clf, items) -> float:
    begin = time.perf_counter()
    for i in range(0, len(items), BATCH):
        clf.classify_many(items[i:i + BATCH])
    return time.perf_counter() - begin


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parents[1]))
    sys.exit(main(sys.argv[1:]))
