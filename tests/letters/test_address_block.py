"""Where a letter's address is read from, and which postcodes are believed (issue 17): the block above
the salutation (top left, or top right: OCR gives it as lines before "Dear"), or under the sign-off;
a postcode well formed as written, or OCR-repaired only into one the stock list has; never a word."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import scheduler
from casework.models import Case, Clock, OutboxMessage, Submission
from casework.properties import import_stock, read_stock
from core.settings import Settings
from intake.scans.extract import letter_facts
from tests.letters.conftest import set_mtime

OWN = ["Riverside Housing Trust", "2 Canal Street", "Northam", "NM1 2AB"]
STOCK = {"NM3 4PQ", "WB6 3LS", "NM1 8BS", "NM5 0SL"}


def read(text: str, known=STOCK):
    return letter_facts(text, own_address=OWN, known_postcodes=known)


def test_a_block_top_left_above_the_date_and_salutation():
    text = ("Mrs Jane Okafor\n14 Weaver Close\nNortham\nNM3 4PQ\n\n3 November 2026\n\n"
            "Riverside Housing Trust\n2 Canal Street\nNortham\nNM1 2AB\n\nDear Sir or Madam,\n"
            "Welcome to my problem: the point is the boiler.\n\nYours faithfully\nJane Okafor\n")
    found = read(text)
    assert found.postal_address == ["Mrs Jane Okafor", "14 Weaver Close", "Northam", "NM3 4PQ"]
    assert found.postcode == "NM3 4PQ"


def test_a_right_aligned_block_comes_before_the_landlords_and_is_taken_not_the_landlords():
    text = ("                         22 Hollins Green\n                         Warbury WB6 3LS\n"
            "                         5th November 2026\nRiverside Housing Trust\n2 Canal Street\nNortham NM1 2AB\n\n"
            "Dear Riverside,\nThe POINT is the roof.\n")
    found = read(text, known=())
    assert found.postal_address == ["22 Hollins Green", "Warbury WB6 3LS"]


def test_only_the_landlords_own_address_above_the_salutation_then_the_sign_off_is_read():
    text = ("Riverside Housing Trust\n2 Canal Street\nNortham\nNM1 2AB\n\nDear Sir,\n"
            "PROBLEM with the close. WELCOME pack never came, in Hollins Green.\n\n"
            "Yours sincerely\n\nAmir Hassan\nFlat 2, 8 Ferry Road\nNortham NM1 8BS\n")
    found = read(text)
    assert found.postal_address == ["Amir Hassan", "Flat 2", "8 Ferry Road", "Northam NM1 8BS"]
    assert found.name == "Amir Hassan"


@pytest.mark.parametrize(("damaged", "postcode"), [
    ("NMl 8BS", "NM1 8BS"), ("NMI 8B5", "NM1 8BS"), ("NM18BS", "NM1 8BS"), ("NM1 BBS", "NM1 8BS"),
    ("NM5 05L", "NM5 0SL"), ("NM3 4P0", None),  # Q is not a misread 0
    ("NMS OSL", None)])  # no digit left as written: a word, never repaired
def test_an_ocr_damaged_postcode_is_repaired_only_into_one_the_stock_list_has(damaged, postcode):
    text = f"Mrs Jane Okafor\n14 Weaver Close\nNortham\n{damaged}\n\nDear Sir,\nThe boiler.\n"
    found = read(text)
    assert found.postcode == postcode
    if postcode:
        assert found.postal_address == ["Mrs Jane Okafor", "14 Weaver Close", "Northam", postcode]


@pytest.mark.parametrize("damaged", ["NM3 4P0", "NM34PQ", "NMS 4PQ"])
def test_without_the_stock_list_a_damaged_postcode_is_not_an_address_but_is_noted_as_unsure(damaged):
    text = f"Mrs Jane Okafor\n14 Weaver Close\nNortham\n{damaged}\n\nDear Sir,\nThe boiler.\n"
    found = read(text, known=())
    assert found.postal_address is None and found.postcode is None
    assert found.unsure_postcode == damaged


@pytest.mark.parametrize("line", ["WELCOME", "PROBLEM", "POINT", "Close", "Hollins Green", "SOLE", "BOLL"])
def test_words_that_look_like_damaged_postcodes_never_are_even_when_they_end_a_line(line):
    # every repair of these words is checked against a stock list holding each of them
    known = {"WE1C 0ME", "PR0B 1EM", "P0 1NT", "C1 0SE", "HO1L 1NS", "S0 1E", "B0 1L"}
    text = f"Dear Sir,\nI write about the\n{line}\n\nYours faithfully\nA Resident\n{line}\n"
    found = read(text, known=known)
    assert found.postal_address is None and found.postcode is None and found.unsure_postcode is None


def test_a_place_name_is_not_split_into_a_postcode_when_the_letter_gives_one():
    text = "Priya Patel\nRose Cottage\nHollins Green\nWarbury\nWB6 3LS\n\nDear Sir,\nThe fence.\n"
    found = read(text)
    assert found.postal_address == ["Priya Patel", "Rose Cottage", "Hollins Green", "Warbury", "WB6 3LS"]


def test_a_postcode_inside_a_sentence_is_never_the_address():
    text = "Dear Sir,\nMy sister at NM3 4PQ says the same about the lifts in her block.\nThanks\nBo\n"
    assert read(text).postal_address is None and read(text).unsure_postcode is None


def test_no_address_and_a_tenancy_reference_only():
    text = "Dear Riverside,\nMy tenancy reference is TR-20040. The damp is back.\n\nYours sincerely\nJane Smith\n"
    found = read(text)
    assert found.postal_address is None and found.postcode is None and found.unsure_postcode is None
    assert found.name == "Jane Smith"


# -- through the real worker: held, nothing printed, until a person confirms -------------------------------

STOCK_CSV = """uprn,address_1,address_2,address_3,town,postcode,tenancy_ref,tenant_names
300001,14 Weaver Close,,,Northam,NM3 4PQ,TR-30001,Jane Okafor
300002,Flat 2,8 Ferry Road,,Northam,NM1 8BS,TR-30002,Amir Hassan
"""
COMPLAINT = ("I am writing to complain about the leak under my\nkitchen sink. It has been dripping for three weeks\n"
             "and nobody has come to repair it.\n")  # as tests/letters/scans.py LETTER: a confident complaint
LETTERS = {
    # the home is in the stock list: printed at once
    "2026-11-16_known.txt": f"Mrs Jane Okafor\n14 Weaver Close\nNortham\nNM3 4PQ\n\n16 November 2026\n\nDear Sir,\n{COMPLAINT}\nYours faithfully\nJane Okafor\n",
    # well formed, but no such home: held
    "2026-11-16_unknown.txt": f"Mr Tom Reed\n40 Weaver Close\nNortham\nNM3 4PQ\n\nDear Sir,\n{COMPLAINT}\nYours faithfully\nTom Reed\n",
    # a tenancy reference and no address: held
    "2026-11-16_reference.txt": f"Dear Sir,\nMy tenancy reference is TR-30002.\n{COMPLAINT}\nYours sincerely\nAmir Hassan\n",
}


def test_a_letter_whose_address_is_not_a_known_home_is_held_and_printed_only_once_a_person_confirms(tmp_path):
    letters = tmp_path / "letters"
    letters.mkdir()
    for name, text in LETTERS.items():
        (letters / name).write_text(text)
        set_mtime(letters / name, dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC))
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'intake.db'}",
                        letters={"path": letters}, landlord={"name": "Riverside Housing Trust", "address": OWN})
    service = scheduler.build(settings)
    with service.db.transaction() as session:
        import_stock(session, read_stock(STOCK_CSV))
    service.run_once()
    service.run_once()

    def state():
        with service.db.sessions() as session:
            cases = {}
            for submission in session.scalars(select(Submission)):
                case = session.get(Case, submission.case_id)
                rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)))
                ack = session.scalar(select(Clock).where(Clock.case_id == case.id, Clock.kind == "ack_stage1"))
                cases[submission.filename.split("_")[1]] = (
                    case.reference, case.status, case.held_reason, [r.postal_address for r in rows], case.category,
                    case.property.uprn if case.property else None, ack.met_at is not None if ack else None)
            return cases

    seen = state()
    assert seen["known.txt"][1:] == ("open", None, [["Mrs Jane Okafor", "14 Weaver Close", "Northam", "NM3 4PQ"]],
                                     "complaint", "300001", True)
    reference, status, reason, printed, category, home, met = seen["unknown.txt"]
    assert (status, printed, home, met) == ("held", [], None, False)
    assert "address to confirm: NM3 4PQ and the house number match no home in the stock list" in reason
    reference, status, reason, printed, category, home, met = seen["reference.txt"]
    assert (status, printed, home, met) == ("held", [], "300002", False)
    assert "address to confirm: the letter gives no postal address; its tenancy reference points at the home" in reason

    # a person confirms: the home (its address filled from the stock list), then releases: printed, clock met
    casework = scheduler.build_casework(settings, service.db)
    assert casework.set_property(reference, "300002", by="alice@riverside.example") is False  # already that home
    casework.set_property(reference, "", by="alice@riverside.example")
    assert casework.set_property(reference, "300002", by="alice@riverside.example") is True
    casework.release(reference, by="alice@riverside.example")
    service.run_once()
    assert state()["reference.txt"][1:] == (
        "open", None, [["Flat 2", "8 Ferry Road", "Northam", "NM1 8BS"]], "complaint", "300002", True)


def test_a_street_that_starts_like_a_month_and_a_town_with_a_full_stop_stay_in_the_block():
    text = "5 Marsh End Cottages,\nMarsh End,\nNortham.\nNM7 2RQ\n\n30/11/2026\n\nDear Sir,\nThe mould.\n"
    assert read(text, known=()).postal_address == ["5 Marsh End Cottages", "Marsh End", "Northam", "NM7 2RQ"]


def test_a_date_typed_far_to_the_right_of_an_address_line_is_left_out():
    text = "3 Quarry bank\n   Westbrook                       Tues 1st Dec\n        WB9 7XA\n\nDear Riverside\nThe switch.\n"
    assert read(text, known=()).postal_address == ["3 Quarry bank", "Westbrook", "WB9 7XA"]
