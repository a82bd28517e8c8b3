"""classifier.model.Classifier: a model trained on the corpus, saved, loaded and verified."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.errors import ModelUnavailable
from classifier import Classification
from classifier.corpus import load_corpus
from classifier.model import MODELS_DIR, Classifier
from classifier.rules import may_acknowledge_by_category
from classifier.train import save, train


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("models")
    save(train(load_corpus()), directory)
    return directory


@pytest.fixture(scope="module")
def clf(model_dir):
    return Classifier.load(model_dir)


def test_the_saved_model_loads_and_classifies(clf):
    result = clf.classify("Boiler", "My boiler stopped working this morning, can someone come out please?")
    assert isinstance(result, Classification)
    assert result.category in clf.classes
    assert 0.0 <= result.confidence <= 1.0
    assert result.model_version == clf.model_version
    assert len(result.explanation) <= 5


def test_the_shipped_model_loads_and_classifies():
    if not (MODELS_DIR / "current.skops").exists():
        pytest.skip("no model shipped yet in classifier/models")
    result = Classifier.load().classify("", "Just wanted to say the plumber was brilliant, thank you so much")
    assert result.category == "compliment"


def test_classify_many_agrees_with_classify(clf):
    items = [("Leak", "Water is coming through my ceiling from upstairs"), ("", "Thank you for the new kitchen")]
    assert clf.classify_many(items) == [clf.classify(*item) for item in items]
    assert clf.classify_many([]) == []


def test_a_tampered_model_file_is_refused(model_dir, tmp_path):
    for name in ("current.skops", "current.json"):
        shutil.copy(model_dir / name, tmp_path / name)
    data = bytearray((tmp_path / "current.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "current.skops").write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match="checksum"):
        Classifier.load(tmp_path)


def test_a_missing_model_is_reported_clearly(tmp_path):
    with pytest.raises(ModelUnavailable, match="not found"):
        Classifier.load(tmp_path)


def test_the_sidecar_records_version_threshold_checksum_and_counts(model_dir):
    sidecar = json.loads((model_dir / "current.json").read_text())
    assert sidecar["model_version"].endswith(sidecar["sha256"][:8])
    assert 0.5 <= sidecar["threshold"] <= 1.0 + 1e-6
    counts = sidecar["counts"]
    assert counts["examples"] == sum(counts["categories"].values()) == counts["sources"]["corpus"] > 0


def auto_acknowledged(clf: Classifier, result: Classification) -> bool:
    return may_acknowledge_by_category(result.confidence, clf.threshold, result.flags)


def test_below_threshold_is_not_acknowledged_by_category(model_dir):
    text = ("Bins", "There are bin bags dumped by block C, can they be removed please?")
    confidence = Classifier.load(model_dir).classify(*text).confidence
    below, above = Classifier.load(model_dir, threshold=confidence - 1e-6), Classifier.load(model_dir, threshold=confidence + 1e-6)
    assert auto_acknowledged(below, below.classify(*text))
    assert not auto_acknowledged(above, above.classify(*text))


def test_a_safeguarding_flag_is_never_acknowledged_automatically(model_dir):
    clf = Classifier.load(model_dir, threshold=0.0)
    result = clf.classify("Neighbour", "I am worried the children next door are being left alone and hit")
    assert "safeguarding" in result.flags
    assert not auto_acknowledged(clf, result)


def test_flags_include_the_rule_flags(clf):
    result = clf.classify("Urgent", "I can smell gas in the hallway")
    assert "emergency_hazard" in result.flags


def test_quoted_text_does_not_decide_the_category(clf):
    quoted_complaint = (
        "Thanks, received.\n\n"
        "On Mon, 3 Nov 2026 at 10:02, Example Homes <complaints@example.org> wrote:\n"
        "> We have received your complaint. Your reference is CMP-2026-000123.\n"
        "> You told us: I reported the leak three weeks ago and nobody has come. I am disgusted with the\n"
        "> service, your contractor was rude and left a mess, this is the third time I have complained.\n"
    )
    with_quote = clf.classify("Re: CMP-2026-000123", quoted_complaint)
    assert with_quote == clf.classify("Re: CMP-2026-000123", "Thanks, received.")
    assert with_quote.category != "complaint"


def test_the_urgent_threshold_lets_at_most_the_false_rate_of_messages_without_the_flag_reach_it():
    from classifier.train import urgent_threshold

    negatives = [0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]  # 10 messages without the flag
    probs = np.array(negatives + [0.95, 0.85, 0.5])
    truth = np.array([False] * 10 + [True] * 3)
    threshold = urgent_threshold(probs, truth, false_rate=0.1)  # 1 of 10 may reach it: 0.9 does, 0.8 must not
    assert 0.8 < threshold <= 0.85
    assert ((probs >= threshold) & ~truth).sum() == 1
    assert ((probs >= threshold) & truth).sum() == 2  # 0.95 and 0.85


def test_the_check_threshold_is_the_highest_at_which_both_tiers_and_the_rules_reach_the_recall():
    from classifier.train import check_threshold

    probs = np.array([0.95, 0.6, 0.3, 0.2, 0.05, 0.4])
    truth = np.array([True, True, True, True, True, False])
    rules = np.array([False, False, False, True, False, False])
    # urgent (>= 0.9) finds one, the rules one more; 4 of 5 needs two more: 0.6 and 0.3
    assert check_threshold(probs, truth, rules, urgent=0.9, recall=0.8) == pytest.approx(0.3)
    assert check_threshold(probs, truth, rules, urgent=0.9, recall=0.4) == pytest.approx(0.9)  # never above urgent


def test_a_flag_is_urgent_when_its_model_is_sure_and_a_check_on_a_rule_or_a_weaker_score():
    from classifier.tiers import tiers

    thresholds, checks = {"safeguarding": 0.8, "representative": 0.6}, {"safeguarding": 0.3}
    assert tiers({"safeguarding": 0.85, "representative": 0.1}, set(), thresholds, checks) == ({"safeguarding"}, set())
    assert tiers({"safeguarding": 0.5, "representative": 0.1}, set(), thresholds, checks) == (set(), {"safeguarding"})
    assert tiers({"safeguarding": 0.1, "representative": 0.1}, {"safeguarding"}, thresholds, checks) == (
        set(), {"safeguarding"})  # a rule alone: a check, not urgent
    assert tiers({"safeguarding": 0.1, "representative": 0.1}, {"representative"}, thresholds, checks) == (
        {"representative"}, set())  # a flag without tiers: model or rules
    assert tiers({"safeguarding": 0.1, "representative": 0.1}, set(), thresholds, checks) == (set(), set())


def test_a_classification_records_the_rules_that_fired_and_keeps_each_flag_in_one_tier(clf):
    result = clf.classify("", "To be honest I have been saving my tablets, I can't see a way out")
    assert "SG_SAVING_TABLETS" in [hit.rule_id for hit in result.rules]
    assert "safeguarding" in result.flags | result.checks
    items = [(e.subject, e.body) for e in load_corpus()[:300]]
    assert all(not (r.flags & r.checks) for r in clf.classify_many(items))


def test_another_flag_threshold_is_the_best_f1_of_model_or_rules():
    from classifier.train import choose_flag_threshold

    probs = np.array([0.9, 0.7, 0.6, 0.3, 0.2])
    truth = np.array([True, True, True, False, False])
    assert choose_flag_threshold("representative", probs, truth, np.zeros(5, dtype=bool)) == pytest.approx(0.6)
