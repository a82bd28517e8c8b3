"""Managers' templates on real databases (a SQLite file and PostgreSQL): what is listed and where it is used,
every refusal a save can meet, versions (diff, restore, back to the default, never changed), the sandbox
(escapes refused, and inert when forced into the database), the loader the worker uses (a new version is
used without a restart, the database is read at most every few seconds), and `intake check`."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from jinja2 import TemplateError
from sqlalchemy import event, select

import scheduler
from casework.models import Case, Clock, TemplateVersion
from casework.policy import Policy
from casework.vocabulary import AckKind, Category, ClockKind
from core.db import Database
from responders.render import TEMPLATES_DIR, TemplateSet, sample_context
from responders.template_library import (
    BACK_TO_DEFAULT, REFRESH_SECONDS, SavedTemplates, TemplateLibrary, TemplateRefused,
)
from tests.test_check import intake_check, problems

BODY = "email/complaint_stage1/body.txt"
OMBUDSMAN_INCLUDE = '{% include "email/_ombudsman.txt" %}'
OLD_THANKS = "Thank you for getting in touch."
NEW_THANKS = "Thank you for writing to us: we read every complaint ourselves."
ESCAPES = ["{{ ''.__class__.__mro__ }}", "{{ self }}", "{{ settings }}", "{{ cycler.__init__.__globals__ }}",
           "{{ joiner }}", "{{ range(10**9) }}", "{{ lipsum }}"]
DANGEROUS = ("<class", "<function", "<module", "<built-in", "__", "Settings", "password", "database_url")
WHEN = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def shipped(path: str) -> str:
    return (TEMPLATES_DIR / path).read_text(encoding="utf-8")


def edited(path: str, old: str, new: str) -> str:
    source = shipped(path)
    assert old in source, f"{path} no longer has {old!r}: the test needs a new edit"
    return source.replace(old, new)


def rows(db: Database) -> list[tuple]:
    with db.sessions() as session:
        return [(v.id, v.path, v.source, v.saved_by, v.saved_at, v.restored_from)
                for v in session.scalars(select(TemplateVersion).order_by(TemplateVersion.id))]


def save(db: Database, path: str, source: str, by: str = "manager@landlord.org") -> TemplateVersion:
    library = TemplateLibrary()
    with db.transaction() as session:
        newest = library.versions(session, path)
        return library.save(session, path, source, by, newest[0].id if newest else None, now=WHEN)


def force(db: Database, path: str, source: str) -> None:
    """A version written straight into the table, past every check (as a bug or a hand-edit could)."""
    with db.transaction() as session:
        session.add(TemplateVersion(path=path, source=source, saved_by="someone@landlord.org", saved_at=WHEN))


# -- the list --------------------------------------------------------------------------------------------


def test_every_template_file_is_listed_with_where_it_is_used(sqlite_db):
    library = TemplateLibrary()
    with sqlite_db.sessions() as session:
        entries = {entry.path: entry for entry in library.entries(session)}
    on_disk = {p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*")
               if p.suffix in (".txt", ".html")}
    assert set(entries) == on_disk  # Welsh files under cy/ included, found by walking the folder
    assert entries[BODY].template.describe() == "complaint stage 1 acknowledgement, email body (plain text)"
    assert entries["email/extension/body.html"].template.describe() == "extension notice, email body (HTML)"
    assert entries["letter/neutral.txt"].template.describe() == \
        "neutral acknowledgement (names no category), printed letter"
    # Read from the files by hand: the three email bodies that include the Ombudsman's paragraph.
    ombudsman = entries["email/_ombudsman.txt"]
    assert [p for p in ombudsman.included_by if not p.startswith("cy/")] == [
        "email/complaint_stage1/body.txt", "email/complaint_stage2/body.txt", "email/extension/body.txt"]
    assert {m.name for m in ombudsman.messages if m.language == "en"} == {
        "complaint stage 1 acknowledgement, email", "complaint stage 2 acknowledgement, email",
        "extension notice, email"}
    # Every letter but the reply signs off with the shared sign-off.
    signoff = entries["letter/_signoff.txt"]
    assert {m.kind for m in signoff.messages if m.language == "en"} == set(AckKind) - {AckKind.REPLY}
    assert all(entry.in_force == "default" and entry.newest is None for entry in entries.values())


# -- refusals ---------------------------------------------------------------------------------------------

REFUSALS = {
    # The shipped body has 33 lines ending in a newline: a blank line 34, the open "if" on 35, "no end" on 36,
    # where the template ends without its endif.
    "a syntax error, with its line": (BODY, lambda: shipped(BODY) + "\n{% if resident_name %}\nno end",
                                      "line 36: Unexpected end of template"),
    "an unknown variable": (BODY, lambda: shipped(BODY) + "{{ tenant_name }}",
                            "it uses 'tenant_name', which is not one of the case's variables"),
    "a complaint acknowledgement without the reference": (
        "email/complaint_stage1/subject.txt", lambda: "Your complaint\n",
        "complaint stage 1 acknowledgement, email: subject.txt does not give the reference"),
    "a complaint acknowledgement without the response date": (
        BODY, lambda: edited(BODY, "by {{ response_due }}.", "soon."),
        "complaint stage 1 acknowledgement, email: body.txt does not give the date the response is due"),
    "a complaint acknowledgement without the Ombudsman": (
        BODY, lambda: edited(BODY, OMBUDSMAN_INCLUDE, ""),
        "complaint stage 1 acknowledgement, email: body.txt does not give the Housing Ombudsman's website"),
    "a stage 2 letter without the Ombudsman": (
        "letter/complaint_stage2.txt", lambda: edited("letter/complaint_stage2.txt",
                                                      '{% include "letter/_ombudsman.txt" %}', ""),
        "complaint stage 2 acknowledgement, printed letter: does not give the Housing Ombudsman's website"),
    "an extension notice without the new date": (
        "email/extension/body.txt", lambda: edited("email/extension/body.txt", "{{ new_due }}", "a later date"),
        "extension notice, email: the extension notice does not give the new date"),
    "an extension letter without the reason": (
        "letter/extension.txt", lambda: edited("letter/extension.txt", "{{ extension_reason }}", ""),
        "extension notice, printed letter: the extension notice does not give the reason"),
    "an extension notice without the Ombudsman": (
        "email/extension/body.txt", lambda: edited("email/extension/body.txt", OMBUDSMAN_INCLUDE, ""),
        "extension notice, email: the extension notice does not give the Housing Ombudsman's website"),
    "a partial that drops the Ombudsman from every message including it": (
        "email/_ombudsman.txt", lambda: "Contact us if you are unhappy.\n",
        "extension notice, email: the extension notice does not give the Housing Ombudsman's website"),
    "a body that no longer fills its layout's content block": (
        "email/neutral/body.html", lambda: edited("email/neutral/body.html", "{% block content %}", "{% block text %}"),
        "it does not fill the block 'content' that email/_base.html leaves for it"),
    "a layout that drops a block its bodies fill": (
        "email/_base.html", lambda: edited("email/_base.html", "{% block content %}{% endblock %}", ""),
        "email/complaint_stage1/body.html fills the block 'content', which this template no longer has"),
    "an include of a template that does not exist": (
        BODY, lambda: shipped(BODY) + '{% include "email/_nowhere.txt" %}',
        "it includes 'email/_nowhere.txt', which is not a template here"),
    "a template that includes itself": (
        BODY, lambda: shipped(BODY) + '{% include "email/complaint_stage1/body.txt" %}',
        "it includes itself (directly or through another template)"),
    "escaping turned off": (
        "email/complaint_stage1/body.html", lambda: edited("email/complaint_stage1/body.html", "{{ understood }}",
                                                             "{{ understood|safe }}"),
        "it turns escaping off (|safe or autoescape): a resident's words must stay text"),
    "a neutral acknowledgement that names a category": (
        "email/neutral/subject.txt", lambda: "Your complaint – reference {{ reference }}\n",
        "neutral acknowledgement (names no category), email: the neutral acknowledgement names a category (complain)"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_save_is_refused_with_its_reason_and_writes_nothing(db, case):
    path, source, reason = REFUSALS[case]
    with pytest.raises(TemplateRefused) as refused:
        save(db, path, source())
    assert any(problem.startswith(reason) for problem in refused.value.problems), refused.value.problems
    assert rows(db) == []


def test_the_shipped_templates_pass_the_check_they_are_held_to(sqlite_db):
    """Each shipped file, offered as a save, fails only because nothing changed: the check is not stricter
    than what we ship."""
    library = TemplateLibrary()
    with sqlite_db.sessions() as session:
        failing = {path: found for path in library.paths(session)
                   if (found := library.check(session, path, shipped(path)))}
    assert failing == {}


# -- the sandbox ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_sandbox_escape_is_refused_and_renders_nothing_dangerous_when_forced_in(db, escape):
    source = edited(BODY, OLD_THANKS, f"{OLD_THANKS} {escape}")
    with pytest.raises(TemplateRefused):
        save(db, BODY, source)
    assert rows(db) == []
    force(db, BODY, source)  # past the check, straight into the table
    templates = TemplateSet(overrides=SavedTemplates(db))
    try:
        text = templates.render(AckKind.COMPLAINT_STAGE1, sample_context()).text
    except TemplateError:
        return  # the sandbox stopped it: a render error, and nothing is sent (the item is retried)
    # '{{ self }}' renders a reference to the template itself, and nothing else.
    assert escape == "{{ self }}" and "<TemplateReference 'email/complaint_stage1/body.txt'>" in text
    assert not any(word in text for word in DANGEROUS), text


# -- versions ---------------------------------------------------------------------------------------------


def test_versions_diff_restore_and_back_to_default_never_change_a_version(db):
    library = TemplateLibrary()
    first = edited(BODY, OLD_THANKS, NEW_THANKS)
    second = first.replace("What happens next", "What we do next")
    v1, v2 = save(db, BODY, first).id, save(db, BODY, second, by="other@landlord.org").id
    kept = rows(db)

    with db.sessions() as session:
        changes = library.diff(session, BODY, str(v1), str(v2))
        from_default = library.diff(session, BODY, "default", str(v1))
    assert [(line.sign, line.text) for line in changes if line.sign in "+-"] == [
        ("-", "What happens next"), ("+", "What we do next")]
    assert [(line.sign, line.text) for line in from_default if line.sign in "+-"] == [
        ("-", OLD_THANKS + " We are sorry you have had cause to complain. We have logged your complaint at stage 1 "
              "of our complaints procedure."),
        ("+", NEW_THANKS + " We are sorry you have had cause to complain. We have logged your complaint at stage 1 "
              "of our complaints procedure.")]

    # Someone else saved after this editor opened at v1: refused; so is saving what is already in force.
    with db.transaction() as session, pytest.raises(TemplateRefused, match="other@landlord.org saved version"):
        library.save(session, BODY, first + "\n", "manager@landlord.org", v1)
    with db.transaction() as session, pytest.raises(TemplateRefused, match="nothing changed"):
        library.save(session, BODY, second.replace("\n", "\r\n"), "manager@landlord.org", v2)

    with db.transaction() as session:
        v3 = library.restore(session, BODY, v1, "manager@landlord.org", now=WHEN).id
    with db.transaction() as session:
        v4 = library.back_to_default(session, BODY, "manager@landlord.org", now=WHEN).id
    history = rows(db)
    assert history[:2] == kept  # versions are never changed
    assert [(row[0], row[2], row[5]) for row in history[2:]] == [(v3, first, v1), (v4, shipped(BODY), BACK_TO_DEFAULT)]
    with db.sessions() as session:
        assert library.source_in_force(session, BODY) == shipped(BODY)
        assert library.entry(session, BODY).in_force == "default"
        assert [v.id for v in library.versions(session, BODY)] == [v4, v3, v2, v1]


# -- the loader the worker uses ---------------------------------------------------------------------------


class HandClock:
    """A monotonic clock the test moves by hand, so 'at most every few seconds' can be checked exactly."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_loader_reads_the_database_at_most_every_refresh_and_sees_a_new_version_then(db):
    clock, statements = HandClock(), []
    reading = Database(db.url)  # the worker's own connection
    event.listen(reading.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    templates = TemplateSet(overrides=SavedTemplates(reading, clock=clock))
    context = sample_context()
    try:
        for _ in range(20):
            assert OLD_THANKS in templates.render(AckKind.COMPLAINT_STAGE1, context).text
        assert len(statements) == 2  # the fingerprint and the (empty) versions in force, once

        save(db, BODY, edited(BODY, OLD_THANKS, NEW_THANKS))  # by the staff app, on its own connection
        clock.now += REFRESH_SECONDS - 0.5
        assert OLD_THANKS in templates.render(AckKind.COMPLAINT_STAGE1, context).text
        assert len(statements) == 2  # not due yet: no query at all

        clock.now += 0.5
        assert NEW_THANKS in templates.render(AckKind.COMPLAINT_STAGE1, context).text
        assert len(statements) == 4  # the fingerprint changed, so the versions in force were read again

        clock.now += REFRESH_SECONDS
        assert NEW_THANKS in templates.render(AckKind.COMPLAINT_STAGE1, context).text
        assert len(statements) == 5  # due, unchanged: the fingerprint only

        # A version with a smaller id committed after a larger one (PostgreSQL hands ids out before commit):
        # the newest id is unchanged but the count is not, so it is seen.
        with db.transaction() as session:
            newest = session.scalar(select(TemplateVersion.id).order_by(TemplateVersion.id.desc()).limit(1))
            session.add(TemplateVersion(id=newest + 100, path="email/neutral/subject.txt",
                                        source="Thank you – {{ reference }}\n", saved_by="a@landlord.org",
                                        saved_at=WHEN))
        clock.now += REFRESH_SECONDS
        templates.render(AckKind.NEUTRAL, context)
        with db.transaction() as session:
            session.add(TemplateVersion(id=newest + 50, path="email/compliment/subject.txt",
                                        source="Your kind words – {{ reference }}\n", saved_by="b@landlord.org",
                                        saved_at=WHEN))
        clock.now += REFRESH_SECONDS
        assert templates.render(AckKind.COMPLIMENT, context).subject == "Your kind words – CMP-2026-000123"
    finally:
        reading.engine.dispose()


def test_the_worker_built_by_the_scheduler_sends_a_saved_version_without_a_restart(make_settings):
    settings = make_settings()
    service = scheduler.build(settings)
    correspondence = service.runner.pipeline.correspondence
    received = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    try:
        def acknowledge(reference: str) -> str:
            with service.db.transaction() as session:
                case = Case(reference=reference, category=Category.COMPLAINT, stage=1, received_at=received,
                            resident_email="sam@example.net", resident_name="Sam Resident")
                case.clocks = [Clock(kind=ClockKind.RESPONSE_STAGE1, starts_at=received, rule="10 working days",
                                     due_at=dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC))]
                session.add(case)
                session.flush()
                row = correspondence.acknowledge(session, case, AckKind.COMPLAINT_STAGE1, submission_id=None,
                                                 resident_text="The lock is broken.", now=received)
                return row.text_body

        assert OLD_THANKS in acknowledge("CMP-2026-000001")
        save(service.db, BODY, edited(BODY, OLD_THANKS, NEW_THANKS))
        time.sleep(REFRESH_SECONDS + 0.2)  # the worker's loader asks the database again after this long
        text = acknowledge("CMP-2026-000002")
        assert NEW_THANKS in text and OLD_THANKS not in text
        assert "Friday 4 December 2026" in text and "www.housing-ombudsman.org.uk" in text

        staff = scheduler.build_staff(settings)  # the staff app and the printer are built on the same loader
        assert NEW_THANKS in staff.templates.render(AckKind.COMPLAINT_STAGE1, sample_context()).text
        assert NEW_THANKS in service.printer.templates.render(AckKind.COMPLAINT_STAGE1, sample_context()).text
        staff.db.engine.dispose()
    finally:
        service.db.engine.dispose()


def test_a_preview_on_a_real_case_uses_its_context_and_fills_only_what_it_lacks(sqlite_db, tmp_path):
    from core.settings import Settings

    received = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    with sqlite_db.transaction() as session:
        case = Case(reference="CMP-2026-000777", category=Category.COMPLAINT, stage=1, received_at=received,
                    resident_email="kim@example.net", resident_name="Kim Osei")
        # 20 Nov 2026 is a Friday; the response clock set by hand three weeks on: Friday 11 December 2026.
        case.clocks = [Clock(kind=ClockKind.RESPONSE_STAGE1, starts_at=received, rule="10 working days",
                             due_at=received + dt.timedelta(days=21))]
        session.add(case)
    settings = Settings(var_dir=tmp_path / "var")
    correspondence = scheduler.build_correspondence(settings, TemplateSet(), Policy(settings.policy))
    library = TemplateLibrary()
    with sqlite_db.sessions() as session:
        [message] = library.messages_for(session, "email/extension/body.txt", shipped("email/extension/body.txt"))
        context, filled = library.case_context(session, correspondence, "cmp-2026-000777", message)
        shown = library.preview(session, "email/extension/body.txt", shipped("email/extension/body.txt"), context,
                                message.value, filled)
        with pytest.raises(TemplateRefused, match="no case has the reference 'CMP-1999-000001'"):
            library.case_context(session, correspondence, "CMP-1999-000001", message)
    assert (context["reference"], context["resident_name"], context["response_due"]) == (
        "CMP-2026-000777", "Kim Osei", "Friday 11 December 2026")
    assert filled == ["previous_due", "new_due", "extension_reason", "reply_text"]
    assert shown.problems == [] and "CMP-2026-000777" in shown.rendered.subject
    assert "Dear Kim Osei" in shown.rendered.text


def test_a_welsh_template_is_previewed_in_welsh_and_held_to_the_same_content_checks(sqlite_db):
    library, path = TemplateLibrary(), "cy/email/complaint_stage1/body.txt"
    source = shipped(path)
    with sqlite_db.sessions() as session:
        shown = library.preview(session, path, source)
        without = source.replace('{% include "cy/email/_ombudsman.txt" %}', "").replace(OMBUDSMAN_INCLUDE, "")
        refused = library.check(session, path, without)
    assert shown.message.name == "complaint stage 1 acknowledgement, email (Welsh)" and shown.problems == []
    # The sample's response is due at 17:00 UTC on Friday 4 December 2026: "Dydd Gwener 4 Rhagfyr 2026" in Welsh.
    assert "Dydd Gwener 4 Rhagfyr 2026" in shown.rendered.text
    assert "complaint stage 1 acknowledgement, email (Welsh): body.txt does not give the Housing Ombudsman's " \
           "website" in refused


# -- intake check -----------------------------------------------------------------------------------------


def test_intake_check_reports_a_bad_saved_version_in_force(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'var' / 'intake.db'}")
    db.migrate()
    assert intake_check(tmp_path).returncode == 0
    force(db, BODY, edited(BODY, OMBUDSMAN_INCLUDE, ""))
    db.engine.dispose()
    result = intake_check(tmp_path)
    assert result.returncode == 1
    assert problems(result) == ["template problem with a manager's saved version in force: complaint_stage1: "
                                "body.txt does not give the Housing Ombudsman's website"]
