"""The OCR repair word list is drawn from the training files, and kept in step with them."""

from __future__ import annotations

import runpy
from pathlib import Path

from classifier.corpus import DATA_DIR

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_ocr_words.py"


def test_the_ocr_word_list_matches_the_training_files_run_make_ocr_words_after_adding_some():
    corpus_words = runpy.run_path(str(SCRIPT))["corpus_words"]
    assert corpus_words() == (DATA_DIR / "ocr-words.txt").read_text(encoding="utf-8").split()


def test_the_ocr_word_list_holds_no_damaged_words():
    words = (DATA_DIR / "ocr-words.txt").read_text(encoding="utf-8").split()
    assert "mould" in words and "bedroom" in words
    assert not [w for w in words if w.startswith("rn") or not w.isalpha()]
