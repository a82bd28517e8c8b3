"""Matching a message to one of the landlord's homes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from casework.models import Case
from casework.properties import MatchedBy, import_stock, known_postcodes, match_property, read_stock, same_home_cases

STOCK = """uprn,address_1,address_2,address_3,town,postcode,tenancy_ref,tenant_names
200001,Flat 3,9 Mill Lane,,Northam,NM1 4PB,TR-20011,Ali Khan
200002,Flat 4,9 Mill Lane,,Northam,NM1 4PB,TR-20012,Bo Li
200003,Rose Cottage,Hollins Green,,Warbury,WB6 3LS,,Priya Patel
200004,12 Acacia Avenue,,,Northam,NM2 5QT,TR-20040,Jane Smith
"""
AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def load(db):
    with db.transaction() as session:
        import_stock(session, read_stock(STOCK), AT)


def uprn(db, **given) -> tuple[str, str] | None:
    with db.sessions() as session:
        found = match_property(session, **given)
        return (found.property.uprn, found.by) if found else None


def test_an_exact_address_matches_its_home(db):
    load(db)
    assert uprn(db, address=["Priya Patel", "Rose Cottage", "Hollins Green", "Warbury WB6 3LS"],
                postcode="WB6 3LS") == ("200003", MatchedBy.ADDRESS)
    assert uprn(db, address=["12 ACACIA AVENUE", "Northam NM2 5QT"], postcode="NM2 5QT") == ("200004", MatchedBy.ADDRESS)


def test_house_and_flat_numbers_with_the_postcode_tell_two_flats_apart(db):
    load(db)
    assert uprn(db, address=["Mr Ali Khan", "Flat 3", "9 Mill Lane", "Northam NM1 4PB"], postcode="NM1 4PB") == (
        "200001", MatchedBy.ADDRESS)
    assert uprn(db, address=["4/9 Mill Ln", "Northam", "NM1 4PB"], postcode="NM1 4PB") == ("200002", MatchedBy.ADDRESS)
    # the postcode alone does not say which flat: no match
    assert uprn(db, address=["Mill Lane", "NM1 4PB"], postcode="NM1 4PB") is None


def test_a_tenancy_reference_alone_matches_its_home(db):
    load(db)
    assert uprn(db, text="My tenancy reference is tr-20040 and the boiler is broken.") == (
        "200004", MatchedBy.TENANCY_REFERENCE)


def test_no_match_for_an_address_the_stock_list_does_not_have(db):
    load(db)
    assert uprn(db, address=["7 Elm Road", "Leeds", "LS6 2AB"], postcode="LS6 2AB", text="ref TR-99999") is None
    assert uprn(db, address=["7 Mill Lane", "NM1 4PB"], postcode="NM1 4PB") is None


def test_the_senders_known_email_finds_the_home_of_their_earlier_case_and_cases_meet(db):
    load(db)
    with db.transaction() as session:
        home = match_property(session, text="TR-20011").property
        first = Case(reference="CMP-2026-000001", category="complaint", received_at=AT, resident_email="ali@example.net",
                     property_id=home.id)
        second = Case(reference="SR-2026-000002", category="service_request", received_at=AT, property_id=home.id)
        session.add_all([first, second])
    assert uprn(db, email="Ali@Example.net", text="the lift again") == ("200001", MatchedBy.EMAIL)
    assert uprn(db, email="someone@example.net") is None
    with db.sessions() as session:
        first = session.query(Case).filter_by(reference="CMP-2026-000001").one()
        assert [case.reference for case in same_home_cases(session, first)] == ["SR-2026-000002"]
        assert known_postcodes(session) == {"NM1 4PB", "WB6 3LS", "NM2 5QT"}
