"""The post room on the operations page, in Chromium against a real `intake serve`: today's batch file
downloads with its cover sheet, printed letters are listed until marked as posted (the form carries the
CSRF token; without it nothing is recorded), and the page passes axe."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pypdf import PdfReader

from casework.models import CaseEvent, OutboxMessage
from casework.vocabulary import EventAction
from core.db import Database
from responders.post import LetterPrinter
from responders.render import TemplateSet
from tests.letters.test_print_batch import RIVERSIDE, queue
from tests.web.conftest import signed_in
from tests.web.test_screenshots import _axe_violations


def print_two_letters(server) -> list[int]:
    """Two letters printed a minute ago, into the server's print folder (var/print: no letters source)."""
    var = Path(server.env["INTAKE_VAR_DIR"])
    db = Database(f"sqlite:///{var / 'intake.db'}")
    try:
        templates = TemplateSet()
        at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        ids = [queue(db, templates, reference, at=at) for reference in ("CMP-2026-000201", "CMP-2026-000202")]
        assert LetterPrinter(db, templates, RIVERSIDE, var / "print").run_once(now=at) == 2
        return ids
    finally:
        db.engine.dispose()


def posted(server, outbox_id: int):
    db = Database(f"sqlite:///{Path(server.env['INTAKE_VAR_DIR']) / 'intake.db'}")
    try:
        with db.sessions() as session:
            row = session.get(OutboxMessage, outbox_id)
            events = [(e.actor, e.detail["outbox_id"]) for e in session.query(CaseEvent).filter(
                CaseEvent.case_id == row.case_id, CaseEvent.action == EventAction.LETTER_POSTED)]
            return row.posted_by, events
    finally:
        db.engine.dispose()


def test_the_post_room_downloads_todays_batch_and_marks_ticked_letters_as_posted(page, server):
    first, second = print_two_letters(server)
    signed_in(page, server)
    page.goto(f"{server.url}/operations")
    table = page.get_by_role("table", name="Letters printed and not yet posted, oldest first")
    assert "CMP-2026-000201" in table.inner_text() and "CMP-2026-000202" in table.inner_text()
    assert _axe_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("link", name="Download today's batch of printed letters (PDF)").click()
    reader = PdfReader(io.BytesIO(Path(info.value.path()).read_bytes()))
    cover = reader.pages[0].extract_text()
    assert "Letters: 2." in cover and f"(outbox {first})  page 2" in cover

    # Without the CSRF token nothing is recorded.
    refused = page.request.post(f"{server.url}/operations/letters/posted", form={"outbox_id": str(first)})
    assert refused.status == 403 and posted(server, first) == (None, [])

    page.get_by_label(f"Letter {second} was posted").uncheck()
    page.get_by_role("button", name="Mark these as posted").click()
    assert page.get_by_role("status").filter(has_text="1 letter recorded as posted.").is_visible()
    assert posted(server, first) == ("alice@landlord.org", [("alice@landlord.org", first)])
    assert posted(server, second) == (None, [])
    remaining = page.get_by_role("table", name="Letters printed and not yet posted, oldest first").inner_text()
    assert "CMP-2026-000202" in remaining and "CMP-2026-000201" not in remaining
    assert _axe_violations(page) == []
