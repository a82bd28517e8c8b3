"""`intake stock import FILE` as a landlord would run it: the real command on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from casework.models import Property
from core.db import Database
from tests.conftest import REPO

HEADER = "uprn,address_1,address_2,address_3,town,postcode,tenancy_ref,tenant_names\n"
GOOD = HEADER + (
    "100001,Flat 3,9 Mill Lane,,Northam,nm1 4pb,TR-0001,Ali Khan\n"
    '100002,"12 Acacia Avenue",,,Northam,NM2 5QT,TR-0002,"Jane Smith; John Smith"\n'
)


@pytest.fixture
def intake(tmp_path):
    env = {**os.environ, "INTAKE_VAR_DIR": str(tmp_path / "var"),
           "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'intake.db'}"}
    env.pop("INTAKE_CONFIG", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)

    return run


def homes(tmp_path) -> list[tuple]:
    db = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    db.migrate()  # a refused import never opened the database
    try:
        with db.sessions() as session:
            return [(p.uprn, p.address_1, p.address_2, p.postcode, p.tenancy_ref)
                    for p in session.scalars(select(Property).order_by(Property.uprn))]
    finally:
        db.engine.dispose()


def test_a_good_file_is_imported_and_importing_it_again_changes_nothing(intake, tmp_path):
    stock = tmp_path / "stock.csv"
    stock.write_text(GOOD)
    first = intake("stock", "import", str(stock))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "stock list stock.csv: 2 homes added, 0 updated, 0 unchanged"
    assert homes(tmp_path) == [("100001", "Flat 3", "9 Mill Lane", "NM1 4PB", "TR-0001"),
                               ("100002", "12 Acacia Avenue", None, "NM2 5QT", "TR-0002")]
    again = intake("stock", "import", str(stock))
    assert again.stdout.strip() == "stock list stock.csv: 0 homes added, 0 updated, 2 unchanged"
    stock.write_text(GOOD.replace("Ali Khan", "Ali and Sara Khan"))
    changed = intake("stock", "import", str(stock))
    assert changed.stdout.strip() == "stock list stock.csv: 0 homes added, 1 updated, 1 unchanged"
    assert len(homes(tmp_path)) == 2


@pytest.mark.parametrize(("bad_line", "message"), [
    ("100003,5 Quay Road,,,Northam,NOT A CODE,,\n", "line 4: 'NOT A CODE' is not a UK postcode; nothing imported"),
    ("100001,5 Quay Road,,,Northam,NM3 1AB,,\n", "line 4: UPRN 100001 is already on line 2; nothing imported"),
    (",5 Quay Road,,,Northam,NM3 1AB,,\n", "line 4: uprn is empty; nothing imported"),
    ("100003,5 Quay Road,Northam\n", "line 4: expected 8 columns; nothing imported"),
])
def test_a_bad_row_is_one_line_naming_it_and_nothing_is_imported(intake, tmp_path, bad_line, message):
    stock = tmp_path / "stock.csv"
    stock.write_text(GOOD + bad_line)
    result = intake("stock", "import", str(stock))
    assert result.returncode == 2
    assert result.stderr == f"intake: {stock}: {message}\n"
    assert homes(tmp_path) == []


def test_a_file_without_the_columns_is_refused(intake, tmp_path):
    stock = tmp_path / "stock.csv"
    stock.write_text("uprn,address,postcode\n1,2 High St,NM1 1AA\n")
    result = intake("stock", "import", str(stock))
    assert result.returncode == 2
    assert result.stderr.startswith(f"intake: {stock}: line 1: the header lacks the column(s) address_1, ")
