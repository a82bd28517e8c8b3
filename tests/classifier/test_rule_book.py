"""The phrase rules as data (classifier/rules/*.toml): every rule's examples and look-alikes, the loader's
invariants, and the same conditions in every language."""

from __future__ import annotations

import pytest

from casework.vocabulary import Flag
from classifier.rules import flags_of, rule_book, rule_flags
from classifier.rules.book import RuleBookError, _alternatives, combine
from classifier.text import prepare

RULES = rule_book().rules


def _fired(text: str) -> set[str]:
    return {hit.rule_id for hit in rule_flags(prepare("", text))}


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_matches_its_examples_and_not_its_lookalikes(rule):
    assert rule.examples, f"{rule.id} has no examples"
    assert rule.lookalikes, f"{rule.id} has no look-alikes"
    for example in rule.examples:  # the pattern matches, and the flag is raised (its condition is met)
        text = prepare("", example)
        assert rule.regex.search(text), f"{rule.id} misses its example {example!r}"
        assert rule.flag in flags_of(rule_flags(text)), f"{rule.id}'s example {example!r} raises no {rule.flag}"
    for lookalike in rule.lookalikes:  # the rule does not fire (its pattern may match, denied or without its condition)
        text = prepare("", lookalike)
        assert rule.id not in _fired(lookalike), f"{rule.id} fires on its look-alike {lookalike!r}"
        assert rule.negatable or rule.when or not rule.regex.search(text), f"{rule.id} matches its look-alike {lookalike!r}"


def test_rule_ids_are_unique_and_name_their_flag():
    prefixes = {"SG": Flag.SAFEGUARDING, "EH": Flag.EMERGENCY_HAZARD, "DM": Flag.DAMP_MOULD,
                "ES": Flag.ESCALATION_REQUEST, "RP": Flag.REPRESENTATIVE}
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.flag == prefixes[rule.id.split("_")[0]].value, rule.id


def test_a_hit_names_the_rule_and_the_words_it_matched():
    hits = rule_flags(prepare("", "To be honest I have been saving my tablets for a while."))
    assert [(h.rule_id, h.flag, h.words) for h in hits] == [("SG_SAVING_TABLETS", "safeguarding", "saving my tablets")]


@pytest.mark.parametrize("text", [
    "ogrzewanie jest drogie",  # Polish: heating is expensive
    "dziękuję za naprawę ogrzewania",  # Polish: thank you for fixing the heating
    "no heating in the flat",
    "أريد أن أشكر فريق الصيانة الذي جاء لإصلاح التدفئة",  # Arabic: thank you for fixing the heating
    "diolch am drwsio'r gwres",  # Welsh: thanks for fixing the heating
    "cheers, gaz",  # a resident called Gaz
])
def test_heating_or_gas_named_without_danger_raises_no_hazard_in_any_language(text):
    assert Flag.EMERGENCY_HAZARD.value not in flags_of(rule_flags(prepare("", text)))


@pytest.mark.parametrize("text", [
    "no heating and my baby is only six weeks old",
    "nie ma ogrzewania, mam w domu dwoje małych dzieci",  # Polish: no heating, two small children at home
    "التدفئة لا تعمل وعندي طفل صغير",  # Arabic: the heating does not work and I have a small child
    "mae mam, sy'n 86 oed, heb wres",  # Welsh: mum, who is 86, without heat
    "kuleyl ma jiro, ilmahayga wuu xanuunsan yahay",  # Somali: no heat, my child is ill
])
def test_missing_heat_beside_a_vulnerable_person_raises_a_hazard_in_every_language(text):
    assert Flag.EMERGENCY_HAZARD.value in flags_of(rule_flags(prepare("", text)))


@pytest.mark.parametrize("text", ["mae arogl nwy cryf yn y gegin", "czuć gaz na klatce schodowej",
                                  "هناك رائحة غاز قوية", "I can smell gas in the kitchen"])
def test_a_gas_smell_raises_a_hazard_in_every_language(text):
    assert _fired(text) & {r.id for r in RULES if r.flag == Flag.EMERGENCY_HAZARD.value}


def test_a_negated_damp_mention_fires_no_rule():
    assert _fired("There is no damp at all and the mould has gone, thank you") == set()
    assert _fired("There is black mould behind the wardrobe") == {"DM_DAMP_MOULD"}


def test_a_malformed_rules_file_is_a_one_line_error_naming_the_file_and_rule(tmp_path):
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "SG_BROKEN"\nflag = "safeguarding"\nlanguage = "en"\n'
                                       'pattern = "(unclosed"\nexamples = []\nlookalikes = []\n')
    with pytest.raises(RuleBookError, match=r"bad\.toml, rule SG_BROKEN"):
        rule_book(tmp_path)


def test_an_unknown_flag_or_condition_is_refused(tmp_path):
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "XX_ONE"\nflag = "urgent"\nlanguage = "en"\npattern = "x"\n')
    with pytest.raises(RuleBookError, match="unknown flag 'urgent'"):
        rule_book(tmp_path)
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "EH_ONE"\nflag = "emergency_hazard"\nlanguage = "en"\n'
                                       'pattern = "x"\nwhen = "NOWHERE"\n')
    with pytest.raises(RuleBookError, match="unknown condition 'NOWHERE'"):
        rule_book(tmp_path)


def test_the_rule_book_is_loaded_once():
    assert rule_book() is rule_book()


def test_a_patterns_leading_alternatives_are_split_over_what_follows_them():
    assert _alternatives(r"(?:damp|mou?ld)s?\b|tamp") == [r"damps?\b", r"mou?lds?\b", "tamp"]
    assert _alternatives(r"(?:a|b)?c") == [r"(?:a|b)?c"]  # a repeated group is left whole
    assert _alternatives(r"[(|]x|y") == [r"[(|]x", "y"]  # a | inside a character class is not a split


@pytest.mark.parametrize("patterns, text, found", [
    ([r"\b(?:smell of gas|sparks)\b", r"\bsmell(?:s|ing)? burning\b"], "a smelling burning and sparks",
     ["smelling burning", "sparks"]),
    ([r"\bmou?ld\b", r"\b(?:no|not) (?:heat|heating)\b"], "no heating, mold in the moulding", ["no heating", "mold"]),
    ([r"\b(?:a|b)?cd\b"], "acd cd bcd", ["acd", "cd", "bcd"]),
])
def test_the_combined_pattern_finds_what_the_patterns_find_one_by_one(patterns, text, found):
    assert [m.group(0) for m in combine(patterns).finditer(text)] == found
