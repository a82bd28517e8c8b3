"""`intake run --once` in a worker without a source's lease processes what the lease holder stores while
it stores it, so two workers started together share the processing (the real command, PostgreSQL).

The test holds the Maildir's lease itself, as another worker would, and stores the mail a batch at a
time, each half a second after the worker has processed the one before (a worker that ended as soon as it
found nothing waiting would stop after the first); the worker must process every message, and end by
itself once nothing new has arrived for a while."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time

from sqlalchemy import func, select

from casework.leases import Leases, source_lease
from casework.models import Submission
from core.db import Database
from intake.items import RawItem
from pipeline.runner import store_many
from tests.conftest import REPO
from tests.e2e import write_config
from tests.mail import make_mail, new_maildir

BATCHES, PER_BATCH = 3, 4
PAUSE = 0.5  # between the worker finishing a batch and the next being stored: inside its two idle seconds


def raw_items(batch: int) -> list[RawItem]:
    return [RawItem(source="mailbox", kind="email", natural_key=f"{batch}-{n}",
                    raw=make_mail(f"Resident {batch}{n} <r{batch}{n}@example.net>", f"Repair {batch}-{n}",
                                  f"Hello, the kitchen tap at flat {batch}{n} is leaking. Can someone come? Thanks"),
                    received_at=dt.datetime.now(dt.UTC)) for n in range(PER_BATCH)]


def wait_until_processed(db: Database, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.sessions() as session:
            if not session.scalar(select(func.count(Submission.id)).where(Submission.disposition == "pending")):
                return
        time.sleep(0.05)
    raise AssertionError("the worker did not process the batch")


def test_a_worker_without_the_lease_processes_what_the_holder_stores_until_it_stops_storing(tmp_path, postgresql_url):
    config = write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": postgresql_url, "log_level": "WARNING",
        "maildir": [{"name": "mailbox", "path": new_maildir(tmp_path / "maildir")}],
    })
    db = Database(postgresql_url)
    db.migrate()
    holder = Leases(db, seconds=60, holder="another-host:1")
    assert holder.hold(source_lease("mailbox"))
    env = {**os.environ, "INTAKE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "cli", "run", "--once"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for batch in range(BATCHES):
            store_many(db, raw_items(batch))
            wait_until_processed(db)  # by the worker: nothing else here processes
            time.sleep(PAUSE)  # the holder is still at work: the next batch comes half a second later
            assert worker.poll() is None, "the worker ended while the holder was still storing"
        out, err = worker.communicate(timeout=120)
    finally:
        worker.kill()
        holder.release_all()
    assert worker.returncode == 0, err
    stored = BATCHES * PER_BATCH
    assert re.search(rf"\bprocessed {stored}\b", out), out
    with db.sessions() as session:
        assert session.scalar(select(func.count(Submission.id)).where(Submission.disposition == "pending")) == 0
    db.engine.dispose()
