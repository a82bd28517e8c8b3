"""The letter corpus (tests/fixtures/letters) stays consistent: every manifest entry names a file that
exists, every expected home is in the stock list, every postcode the manifest states is well formed
and is on the page, and a scan says the same as the text it was drawn from.

These checks use no production code on purpose: the corpus is the yardstick the address reading is
measured against, so it must not be checked with the thing it measures. The postcode pattern below is
the published UK format (outward A9, A99, AA9, AA99, A9A, AA9A; inward 9AA with no C, I, K, M, O, V)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "letters"
FOLDERS = sorted(path.parent for path in CORPUS.glob("*/manifest.json"))
STOCK_FILES = [CORPUS / "stock.csv", *sorted(CORPUS.glob("stock-*.csv"))]
STOCK_COLUMNS = ["uprn", "address_1", "address_2", "address_3", "town", "postcode", "tenancy_ref", "tenant_names"]
POSTCODE = re.compile(r"^(?:[A-Z]{1,2}[0-9][0-9]?|[A-Z]{1,2}[0-9][A-Z]) [0-9][ABD-HJLNP-UW-Z]{2}$")
CATEGORIES = {"complaint", "service_request", "compliment", "out_of_scope"}
FLAGS = {"safeguarding", "emergency_hazard", "damp_mould", "escalation_request", "auto_reply", "representative",
         "anonymous", "late"}
SAME_FOR_A_SCAN = ("address", "resident_address", "postcode_written", "postcode", "tenancy_ref",
                   "expected_property", "category", "flags")


def stock_rows() -> list[dict]:
    rows = []
    for path in STOCK_FILES:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == STOCK_COLUMNS, path.name
            rows.extend(reader)
    return rows


def entries() -> list[tuple[Path, dict]]:
    found = []
    for folder in FOLDERS:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        found.extend((folder, entry) for entry in manifest["files"])
    return found


def manifest_fields(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("fields", {})


def squash(text: str) -> str:
    """Upper case, spaces and line breaks gone: 'nm2 4df' and 'NM24DF' compare equal."""
    return re.sub(r"\s+", "", text).upper()


def is_scan(entry: dict) -> bool:
    return not entry["file"].endswith(".txt")


def source_of(entry: dict) -> str:
    """The .txt a scan was drawn from: named in ``source`` (half a) or the scan's own stem (half b)."""
    return entry.get("source") or str(Path(entry["file"]).with_suffix(".txt"))


def page_text(folder: Path, entry: dict) -> str:
    return (folder / (source_of(entry) if is_scan(entry) else entry["file"])).read_text(encoding="utf-8")


def entry_id(item) -> str:
    folder, entry = item
    return f"{folder.name}/{entry['file']}"


ENTRIES = entries()


def test_the_corpus_has_both_halves_worth_of_letters_and_scans():
    assert (CORPUS / "a" / "manifest.json").is_file()
    for folder in FOLDERS:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        letters = {source_of(entry) for entry in manifest["files"]}
        scans = [entry for entry in manifest["files"] if is_scan(entry)]
        if folder.name == "a":  # the brief for half a: at least 55 letters, 30 of them also scanned
            assert len(letters) >= 55 and len(scans) >= 30, (len(letters), len(scans))


def test_every_letter_file_in_a_half_is_in_its_manifest_and_names_are_unique():
    for folder in FOLDERS:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        named = [entry["file"] for entry in manifest["files"]]
        assert len(named) == len(set(named)), folder.name
        on_disk = {path.name for path in folder.iterdir() if path.suffix in {".txt", ".png", ".pdf", ".tif", ".jpg"}}
        assert on_disk == set(named), f"{folder.name}: not in manifest {on_disk - set(named)}, missing {set(named) - on_disk}"


def test_the_stock_list_is_well_formed():
    rows = stock_rows()
    uprns = [row["uprn"] for row in rows]
    assert len(uprns) == len(set(uprns)), "a UPRN appears twice"
    assert all(re.fullmatch(r"[0-9]{1,12}", uprn) for uprn in uprns)
    refs = [row["tenancy_ref"] for row in rows if row["tenancy_ref"]]
    assert len(refs) == len(set(refs)), "a tenancy reference appears twice"
    bad = [row["postcode"] for row in rows if not POSTCODE.match(row["postcode"])]
    assert not bad
    assert all(row["address_1"] and row["town"] for row in rows)
    homes = [(squash(row["address_1"] + row["address_2"]), row["postcode"]) for row in rows]
    assert len(homes) == len(set(homes)), "one home listed twice (the two halves' stock lists overlap)"


def test_the_stock_list_has_near_misses_for_the_matching_to_tell_apart():
    rows = stock_rows()
    by_postcode: dict[str, int] = {}
    for row in rows:
        by_postcode[row["postcode"]] = by_postcode.get(row["postcode"], 0) + 1
    assert max(by_postcode.values()) >= 6  # one postcode shared by many homes (a block of flats and houses)
    expected = {entry["expected_property"] for _, entry in ENTRIES if entry["expected_property"]}
    assert len([row for row in rows if row["uprn"] not in expected]) >= 10  # homes nobody wrote from


@pytest.mark.parametrize("item", ENTRIES, ids=entry_id)
def test_an_entry_is_consistent(item):
    folder, entry = item
    path = folder / entry["file"]
    assert path.is_file()
    assert entry["category"] in CATEGORIES
    assert set(entry["flags"]) <= FLAGS and len(entry["flags"]) == len(set(entry["flags"]))
    text = page_text(folder, entry)
    if entry["postcode"] is not None:
        assert POSTCODE.match(entry["postcode"]), entry["postcode"]
        assert squash(entry["postcode"]) in squash(text), "a postcode the letter does not give"
    if entry.get("postcode_written") is not None:
        assert entry["postcode_written"] in text
    for line in (entry["address"] or []) + (entry.get("resident_address") or []):
        assert " ".join(line.split()).upper() in " ".join(text.split()).upper(), line  # a line of the page
    if entry["tenancy_ref"] is not None:
        assert entry["tenancy_ref"] in text


@pytest.mark.parametrize("item", [item for item in ENTRIES if item[1]["expected_property"]], ids=entry_id)
def test_an_expected_home_is_in_the_stock_list(item):
    _, entry = item
    homes = {row["uprn"]: row for row in stock_rows()}
    home = homes.get(entry["expected_property"])
    assert home is not None, f"UPRN {entry['expected_property']} is in no stock list"
    if entry["tenancy_ref"] and home["tenancy_ref"] == entry["tenancy_ref"]:
        return  # found by its reference
    assert not entry["tenancy_ref"] or entry["tenancy_ref"] not in {row["tenancy_ref"] for row in homes.values()}, \
        "the letter's tenancy reference belongs to another home"


FITTED = [item for item in ENTRIES if item[1]["expected_property"] and "resident_address" in manifest_fields(item[0])]


@pytest.mark.parametrize("item", FITTED, ids=entry_id)
def test_an_expected_home_fits_the_address_the_letter_gives(item):
    """Only for a manifest that says which address is the home (``resident_address``, half a): there
    the home's number and postcode must be in the letter's address for the home."""
    _, entry = item
    home = {row["uprn"]: row for row in stock_rows()}[entry["expected_property"]]
    lines = entry.get("resident_address") or entry["address"]
    if lines:
        number = re.match(r"(?:no\. )?(\d+)", home["address_1"].replace("Flat ", ""), re.IGNORECASE)
        assert number and re.search(rf"\b{number.group(1)}\b", " ".join(lines)), "the home's number is not in the address"
    if entry.get("resident_address"):
        assert squash(home["postcode"]) in squash(" ".join(entry["resident_address"]))
    elif entry["postcode"]:
        assert home["postcode"] == entry["postcode"]


@pytest.mark.parametrize("item", [item for item in ENTRIES if is_scan(item[1])], ids=entry_id)
def test_a_scan_is_a_small_image_of_its_text_and_says_the_same(item):
    folder, entry = item
    path = folder / entry["file"]
    assert path.suffix in {".png", ".pdf"}
    head = path.read_bytes()[:8]
    assert head.startswith(b"\x89PNG" if path.suffix == ".png" else b"%PDF")
    assert path.stat().st_size <= 250_000
    [text_entry] = [other for other in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
                    if other["file"] == source_of(entry)]
    for key in SAME_FOR_A_SCAN:
        assert entry.get(key) == text_entry.get(key), key


def test_the_corpus_stays_small():
    total = sum(path.stat().st_size for folder in FOLDERS for path in folder.iterdir())
    assert total <= 16_000_000  # two halves of ~8 MB at most each
