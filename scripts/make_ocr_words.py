"""Write classifier/data/ocr-words.txt: the words OCR repair may produce, taken from the training corpus.

A scanned letter's "1ook", "faithfu11y" or "hirnself" is repaired only when the result is a word that the
training corpus uses often (and the damaged form is not itself such a word), so names, codes and real
words like "burn" stay as written. Run after adding training files: python scripts/make_ocr_words.py
The holdout is never read.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

from classifier.corpus import DATA_DIR, load_corpus

MIN_COUNT = 3
MIN_LENGTH = 4  # shorter repairs ("5am" -> "sam") are too often wrong; the short ones are listed in text.py
OUT = DATA_DIR / "ocr-words.txt"


def corpus_words() -> list[str]:
    counts = collections.Counter()
    for example in load_corpus():
        tokens = re.findall(r"\w+", f"{example.subject} {example.body}".lower())
        counts.update(t for t in tokens if t.isalpha() and t.isascii())
    common = {w: n for w, n in counts.items() if n >= MIN_COUNT and len(w) >= MIN_LENGTH}
    return sorted(w for w, n in common.items() if not _looks_damaged(w, n, counts))


def _looks_damaged(word: str, count: int, counts: collections.Counter) -> bool:
    """'hirn' is a damaged 'him' when 'him' is the commoner word; no English word starts with 'rn'."""
    repaired = word.replace("rn", "m")
    return word.startswith("rn") or (repaired != word and counts[repaired] > count)


if __name__ == "__main__":
    words = corpus_words()
    OUT.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT}")
