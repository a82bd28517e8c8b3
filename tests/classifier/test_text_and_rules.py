"""classifier.text.prepare and classifier.rules.rule_flags."""

from __future__ import annotations

import datetime as dt

import pytest

from classifier.rules import flags_of, issue_date_in, rule_flags
from classifier.text import prepare

TODAY = dt.date(2026, 11, 22)


def flags(text: str) -> set[str]:
    return flags_of(rule_flags(prepare("", text)))


def test_prepare_masks_emails_phone_numbers_and_our_references():
    text = prepare("Re: CMP-2026-000123", "Ring me on 07700 900123 or email jo.bloggs@example.com")
    assert "reftok" in text and "phonetok" in text and "emailtok" in text
    assert "07700" not in text and "example.com" not in text and "000123" not in text


def test_prepare_masks_anyones_reference_in_the_default_shape_but_not_a_year_and_an_amount():
    text = "Contractor job HA/2023/0042, your ref cmp2026000001, tribunal ref lsc/2025/0417; since june 2024 300 pounds"
    assert prepare("", text) == (
        "contractor job reftok , your ref reftok , tribunal ref reftok ; since june 2024 300 pounds")


def test_prepare_repairs_common_ocr_confusions():
    assert prepare("", "There is m0uld in the b1ock and the ﬂat is cold") == "there is mould in the block and the flat is cold"


def test_prepare_repairs_ocr_damage_into_words_the_corpus_uses():
    damaged = "He has fa11en in the bedroorn and hurt hirnself, 1ook at the ceiling. Yours faithfu11y"
    assert prepare("", damaged) == "he has fallen in the bedroom and hurt himself, look at the ceiling. yours faithfully"


@pytest.mark.parametrize("text", ["the pan will burn", "turn the stopcock", "come at 5am", "fault code e119",
                                  "flat 10b", "Mr Hernandez"])
def test_prepare_leaves_real_words_names_and_codes_alone(text):
    assert prepare("", text) == text.lower()


def test_prepare_drops_quoted_lines_and_history_and_our_boilerplate():
    quoted = "Thanks, received.\n\nOn Mon, 3 Nov 2026, Example Homes wrote:\n> We have received your complaint."
    assert prepare("Re: CMP-2026-000123", quoted) == prepare("Re: CMP-2026-000123", "Thanks, received.")
    assert "complaint" not in prepare("", "> I am furious\nWe have received your complaint. Ok thanks")


def test_prepare_reads_what_was_forwarded_but_not_the_reply_history_under_it():
    forward = ("FYI, see below\n\n---------- Forwarded message ---------\nFrom: Jobs App\nSubject: Job 7782\n\n"
               "Hallway stacked ceiling high, lit candles on the pile\n\nOn Mon, 3 Nov 2026, Example Homes wrote:\n"
               "> We have booked a plumber")
    text = prepare("FW: Job 7782", forward)
    assert "lit candles" in text and "plumber" not in text


def test_prepare_is_idempotent_so_stored_prepared_text_can_be_retrained_on():
    once = prepare("Damp", "Black m0uld, call 0161 496 0000, ref CMP-2026-000001, since 2022")
    assert prepare("", once) == once


@pytest.mark.parametrize("text", [
    "I can smell gas in the kitchen",
    "There's a strong smell of gas on the stairs",
    "The carbon monoxide alarm keeps going off",
    "my CO alarm is beeping",
    "There are exposed wires hanging out of the wall in the hallway",
    "Water is pouring through the ceiling from the flat above",
    "the flat upstairs has flooded and it is coming through my light fitting",
    "We have had no water at all since yesterday",
    "no heating and my baby is three weeks old",
    # said the way residents say it, without the textbook words
    "there is a funny whiff by the hob every evening",
    "a lump of render came off the front of the block and landed by the door",
    "the back steps have rusted right through and someone will go through them",
    "the electrician took down the smoke alarms and never put them back",
    "the storage heaters only work in the lounge and my dad is 91",
    "can you make the balcony safe, the rail is wobbling",
    "the lift has been out of order for a week and I use a wheelchair",
    "the socket keeps tripping the electrics and there is a scorch mark on it",
    "taar nange hain, bohat khatarnak hai",
    "Annem 78 yaşında, kalorifer iki gündür çalışmıyor",
])
def test_rule_flags_catches_emergency_hazards(text):
    assert "emergency_hazard" in flags(text)


@pytest.mark.parametrize("text", [
    "My partner hits me and I am scared to go home",
    "I think the children next door are being left alone all day",
    "I can't go on any more, I want to end my life",
    "My elderly neighbour hasn't been seen for days and her curtains are shut",
    "I am worried about domestic abuse at number 4",
    # indirect wording: coercive control, hopelessness, neglect, injuries, someone cut off from care
    "he wont let me go out or see my sister and he keeps my bank card",
    "honestly there's no point in anything any more",
    "I've been saving my tablets just in case",
    "the old gentleman at 12 has stopped eating and keeps wandering at night",
    "the little girl upstairs had bruises on her arms again",
    "she has missed dialysis twice because she can't get down the stairs",
    "I'm scared when he comes home drunk",
    "mae hi'n poeni fi, dydw i ddim wedi ei weld ers dyddiau",
])
def test_rule_flags_catches_safeguarding_phrases(text):
    assert "safeguarding" in flags(text)


@pytest.mark.parametrize("text", [
    "the windows are streaming every morning and the sills have puddles",
    "black all over the window frames in the back bedroom",
    "the bedroom walls are cold and clammy",
    "Mae llwydni yn yr ystafell wely",
    "W łazience jest pleśń na suficie",
    "mae smotiau bach duon yn dechrau ymddangos uwchben y lle tân",
    "The ceiling above the bath is going grey and speckly, I wipe it but it comes back",
])
def test_rule_flags_catches_damp_in_everyday_words_and_other_languages(text):
    assert "damp_mould" in flags(text)


@pytest.mark.parametrize("text", [
    "My gas bill has gone up this quarter, can you check my meter reading?",
    "Please could I have a copy of the fire safety leaflet",  # a request for information, not a defect
    "The kids next door are lovely and always say hello",
    "The painter did a lovely job in the hall, thank you",
    "Our grey speckled cat got out through the broken fence",
])
def test_rule_flags_leaves_ordinary_messages_alone(text):
    assert not {"safeguarding", "damp_mould"} & flags(text)


def test_rule_flags_raises_damp_mould_for_mould_and_not_for_a_gas_bill():
    assert "damp_mould" in flags("There is black mould on the bedroom wall and it smells damp")
    assert "damp_mould" not in flags("My gas bill has gone up and I want to query it")
    assert "damp_mould" not in flags("The mould has been treated and has gone, thank you")


def test_rule_flags_still_raises_a_gas_smell_that_is_denied():
    assert "emergency_hazard" in flags("There is no gas smell now but there was this morning")


def test_rule_flags_finds_escalation_and_representatives():
    assert "escalation_request" in flags("I am not happy with your stage 1 response and want to escalate")
    assert "representative" in flags("I am writing on behalf of my mother, who is your tenant")
    assert "representative" in flags("My constituent has asked me to raise this")


def issue_date(text: str) -> dt.date | None:
    return issue_date_in(prepare("", text), TODAY)


@pytest.mark.parametrize("text, date", [
    ("The damage happened in March 2024", dt.date(2024, 3, 1)),
    ("This started two years ago", dt.date(2024, 11, 22)),
    ("It began 8 months ago", dt.date(2026, 3, 22)),
    ("It happened over a year ago", dt.date(2025, 11, 21)),
    ("The boiler broke last year", dt.date(2025, 1, 1)),
    ("The boiler broke in 2024", dt.date(2024, 12, 31)),
    ("It was years ago, in March 2019 and again two years ago", dt.date(2019, 3, 1)),
    ("This started two weeks ago", None),
    ("The roof has leaked since 2019", None),
    ("The rent has been too high from 2022", None),
    ("Please come in December 2027", None),
])
def test_issue_date_in_dates_the_problem_from_the_day_received(text, date):
    assert issue_date(text) == date


def test_rule_flags_never_decide_late_themselves():
    """Out of time depends on the landlord's limit and the receipt date: pipeline.decide asks the policy."""
    assert "late" not in flags("The damage happened in March 2024")


@pytest.mark.parametrize("text", [
    "your letter is not good enough and I will be taking this further",
    "I want to speak to someone above you about my complaint",
    "Proszę o przekazanie mojej skargi do etapu 2.",
    "Cwyn - cais am Gam 2",
    "Diolch am yr ymateb, ond dydw i ddim yn fodlon o gwbl.",
])
def test_rule_flags_finds_escalation_said_indirectly_or_in_other_languages(text):
    assert "escalation_request" in flags(text)


def test_rule_flags_does_not_read_a_cctv_camera_as_stage_2():
    assert "escalation_request" not in flags("The CCTV on cam 2 shows him kicking my door again")


def test_rule_flags_raises_nothing_for_a_plain_compliment():
    assert flags("Just wanted to say the plumber was brilliant, thank you") == set()


def test_grouping_alternatives_by_first_letter_matches_what_a_plain_alternation_matches():
    import re

    from classifier.rules import _rx

    patterns = [r"\bgas (?:leak|smell)", r"\b(?:kids|children) (?:alone|hungry)", r"\b[ab]roken\b", r"\bx?ray",
                r"\b(?:\w+ ){0,2}sparks", r"\bmou?ld", r"غاز", r"(?<!no )\bdamp", r"\bco2? alarm", r"\b(?:a|an) leak"]
    texts = ["a gas smell", "the kids alone", "broken", "aroken", "xray", "ray", "big blue sparks", "sparks",
             "mold", "mould", "نشم غاز", "no damp", "very damp", "co alarm", "co2 alarm", "an leak", "nothing here",
             "gasleak", "children hungry at night"]
    plain = re.compile("|".join(f"(?:{p})" for p in patterns))
    grouped = _rx(*patterns)
    assert [bool(grouped.search(t)) for t in texts] == [bool(plain.search(t)) for t in texts]


def test_prepare_drops_a_letters_address_block_but_not_words_before_a_greeting_in_an_email():
    letter = "Mrs J Smith\n12 Acacia Avenue\nEX2 4QT\n\n20 November 2026\n\nExample Homes\n1 High Street\n\n" \
             "Dear Sir or Madam,\nThe sink is leaking."
    assert prepare("", letter) == "dear sir or madam, the sink is leaking."
    email = "I am forwarding what my neighbour asked me to send you today\nDear Sir, the sink is leaking."
    assert prepare("", email).startswith("i am forwarding")
