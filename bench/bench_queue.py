"""The staff queue at 100,000 cases: how long a page of casework.queue takes.

Run: .venv/bin/python bench/bench_queue.py [--cases N] [--postgres URL] [--runs N]
Creates N cases (default 100,000) with their clocks and first submissions in a new SQLite file (bulk
inserts with SQLAlchemy core), and with --postgres in a throwaway database on that server (created and
dropped; URL names any database on the server, e.g. postgresql+psycopg://postgres@127.0.0.1/postgres).
Then times the first page, a filtered page (unassigned complaints), the 21st page reached by following
the cursor 20 times, and the filter bar's counts: the median of --runs runs each. Prints one line per
database, ready for the README's benchmark table.

The cases look like a landlord's history: 70% closed (their clocks met, many with an escalation window
left unmet, a few closed before they were acknowledged), 22% open (complaints waiting for their
acknowledgement or response, service requests, compliments; 1% safeguarding, 1% emergency hazards, 5%
damp and mould; most opened in the last 20 days, one in seven up to 90 days ago, so a good share of
their clocks are overdue) and 8% held (from the last 5 days).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from casework.lifecycle import priority_for  # noqa: E402
from casework.models import Case, Clock, Submission  # noqa: E402
from casework.queue import QueueFilter, counts, queue_page  # noqa: E402
from core.db import Database  # noqa: E402

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 12, 12, 0, tzinfo=UTC)
STAFF = [f"officer{n}@landlord.org" for n in range(12)]
CHANNELS = ["email"] * 70 + ["letter"] * 15 + ["phone"] * 12 + ["in_person"] * 3
BATCH = 5_000


def populate(db: Database, total: int, seed: int = 7) -> dict[str, int]:
    """``total`` cases with clocks and a first submission each; returns how many of each status."""
    rng = random.Random(seed)
    made = {"open": 0, "held": 0, "closed": 0}
    with db.engine.begin() as connection:
        for start in range(1, total + 1, BATCH):
            cases, clocks, submissions = [], [], []
            for case_id in range(start, min(start + BATCH, total + 1)):
                case, case_clocks = _case(rng, case_id)
                made[case["status"]] += 1
                cases.append(case)
                clocks += case_clocks
                submissions.append({"id": case_id, "source": "bench", "kind": rng.choice(CHANNELS),
                                    "natural_key": f"bench-{case_id}", "raw": b"", "raw_sha256": "0" * 64,
                                    "received_at": case["received_at"], "stored_at": case["received_at"],
                                    "disposition": "accepted", "attempts": 0, "details": {}, "case_id": case_id})
            connection.execute(insert(Case), cases)
            connection.execute(insert(Clock), clocks)
            connection.execute(insert(Submission), submissions)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            connection.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        with db.engine.connect() as connection:  # as a database in use looks: the bulk load checkpointed
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return made


def _case(rng: random.Random, case_id: int) -> tuple[dict, list[dict]]:
    roll = rng.random()
    status = "closed" if roll < 0.70 else "open" if roll < 0.92 else "held"
    if status == "closed":
        age_days = rng.uniform(0, 730)
    elif status == "held":
        age_days = rng.uniform(0, 5)
    else:  # most open cases are within their clocks; about one in seven has been open for weeks
        age_days = rng.uniform(0, 20) if rng.random() < 0.85 else rng.uniform(20, 90)
    received = NOW - dt.timedelta(days=age_days)
    category = rng.choices(["complaint", "service_request", "compliment", "out_of_scope"], [60, 30, 7, 3])[0]
    flags = []
    if status != "closed":
        flag_roll = rng.random()
        flags = (["safeguarding"] if flag_roll < 0.01 else ["emergency_hazard"] if flag_roll < 0.02
                 else ["damp_mould"] if flag_roll < 0.07 else [])
    clocks = []

    def clock(kind: str, due: dt.datetime, met: dt.datetime | None) -> None:
        clocks.append({"case_id": case_id, "kind": kind, "starts_at": received, "due_at": due, "rule": "bench",
                       "met_at": met, "extended_by_days": 0})

    ack_due = _end_of_day(received + dt.timedelta(days=7))
    if category == "complaint":
        if status == "closed":
            if rng.random() < 0.03:  # withdrawn before it was acknowledged: its clock stays unmet
                clock("ack_stage1", ack_due, None)
            else:
                clock("ack_stage1", ack_due, received + dt.timedelta(days=2))
                responded = received + dt.timedelta(days=rng.uniform(5, 20))
                clock("response_stage1", _end_of_day(received + dt.timedelta(days=16)), responded)
                if rng.random() < 0.4:
                    clock("escalation_window", _end_of_day(responded + dt.timedelta(days=30)), None)
        elif rng.random() < 0.3:
            clock("ack_stage1", ack_due, None)
        else:
            clock("ack_stage1", ack_due, received + dt.timedelta(days=2))
            clock("response_stage1", _end_of_day(received + dt.timedelta(days=16)), None)
    if "emergency_hazard" in flags:
        clock("emergency_hazard", received + dt.timedelta(hours=24), None)
    if "damp_mould" in flags:
        clock("damp_mould", _end_of_day(received + dt.timedelta(days=14)), None)
    held = status == "held"
    case = {
        "id": case_id, "reference": f"CMP-{received.year}-{case_id:06d}", "category": category, "flags": flags,
        "stage": 1, "status": status, "held_reason": "classifier not confident (complaint, 0.41)" if held else None,
        "resident_email": f"resident{case_id}@example.net", "resident_name": f"Resident {case_id}",
        "resident_address": [f"{case_id} High Street", "Town", f"AB{case_id % 90 + 10} {case_id % 9}CD"],
        "subject": "Repairs", "received_at": received, "opened_at": received,
        "priority": 0 if status == "closed" else priority_for(flags, held),
        "assignee": rng.choice(STAFF) if status != "held" and rng.random() < 0.7 else None,
        "outcome": "resolved" if status == "closed" else None,
        "closed_at": received + dt.timedelta(days=20) if status == "closed" else None,
    }
    return case, clocks


def _end_of_day(at: dt.datetime) -> dt.datetime:
    return at.replace(hour=23, minute=59, second=59, microsecond=0)


def median_ms(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(db: Database, runs: int) -> dict[str, float]:
    def page(filters=QueueFilter(), after=None):
        with db.sessions() as session:
            return queue_page(session, filters, after=after, now=NOW)

    cursor = None
    for _ in range(20):
        cursor = page(after=cursor).next_cursor
    assert cursor is not None, "fewer than 21 pages in the queue"
    filtered = QueueFilter(category="complaint", assignee="unassigned")
    assert page(filtered).rows, "the filtered page is empty"

    def bar():
        with db.sessions() as session:
            return counts(session, STAFF[0], now=NOW)

    def floor():
        """The least any page costs: 50 open cases and their clocks, by primary key, no ordering work."""
        with db.sessions() as session:
            cases = session.scalars(select(Case).options(selectinload(Case.clocks))
                                    .where(Case.status != "closed").order_by(Case.id).limit(50)).all()
            return [len(case.clocks) for case in cases]

    return {"floor": median_ms(floor, runs), "first": median_ms(page, runs),
            "filtered": median_ms(lambda: page(filtered), runs), "deep": median_ms(lambda: page(after=cursor), runs),
            "counts": median_ms(bar, runs)}


def run(url: str, label: str, total: int, runs: int) -> str:
    db = Database(url)
    db.migrate()
    started = time.perf_counter()
    made = populate(db, total)
    built = time.perf_counter() - started
    with db.sessions() as session:
        in_queue = session.scalar(text("SELECT count(*) FROM cases WHERE status != 'closed'"))
    ms = measure(db, runs)
    db.engine.dispose()
    return (f"queue at {total:,} cases ({in_queue:,} open or held): floor {ms['floor']:.0f} ms, "
            f"first page {ms['first']:.0f} ms, "
            f"filtered {ms['filtered']:.0f} ms, page 21 via cursor {ms['deep']:.0f} ms, "
            f"filter-bar counts {ms['counts']:.0f} ms ({label}; built in {built:.1f} s; {made['closed']:,} closed)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", metavar="URL", help="also on a throwaway database on this PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(run(f"sqlite:///{Path(tmp) / 'queue.db'}", "SQLite", args.cases, args.runs), flush=True)
    if args.postgres:
        server = make_url(args.postgres)
        name = f"intake_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            print(run(url, "PostgreSQL", args.cases, args.runs), flush=True)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
