"""Every message in tests/fixtures/real-mail goes through the worker without crashing it: each is
accepted, held, discarded or failed, with its raw bytes stored."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

import scheduler
from core.settings import Settings
from casework.models import Submission
from casework.vocabulary import Disposition
from tests.conftest import REAL_MAIL
from tests.mail import deliver, new_maildir


def test_every_real_world_message_gets_a_disposition_and_keeps_its_bytes(tmp_path, sqlite_url):
    files = sorted(REAL_MAIL.glob("*.eml"))
    assert len(files) > 300, f"the real-mail corpus is missing from {REAL_MAIL}"
    maildir = new_maildir(tmp_path / "maildir")
    for path in files:
        deliver(maildir, path.read_bytes())
    settings = Settings(var_dir=tmp_path / "var", database_url=sqlite_url,
                                  maildir=[{"name": "real-mail", "path": maildir}])
    service = scheduler.build(settings)

    service.run_once()

    with service.db.sessions() as session:
        submissions = session.scalars(select(Submission)).all()
    assert len(submissions) == len(files)
    counts = Counter(submission.disposition for submission in submissions)
    print(f"\nreal-mail dispositions: {dict(counts)}")
    assert set(counts) <= {Disposition.ACCEPTED, Disposition.HELD, Disposition.DISCARDED, Disposition.FAILED}
    assert counts[Disposition.FAILED] == sum(1 for s in submissions if s.reason and "could not be read" in s.reason)
    stored = {submission.raw for submission in submissions}
    assert stored == {path.read_bytes() for path in files}
