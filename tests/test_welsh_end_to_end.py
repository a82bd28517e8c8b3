"""A resident who writes in Welsh is answered in Welsh, through the whole worker: a real Maildir, the
shipped model, the real sender and a real aiosmtpd server. With Welsh off the same email is answered
in English, and an English email is answered in English with Welsh on.

The landlord here counts the stage 1 response from receipt (``stage1_response_from = "receipt"``), so
the date the acknowledgement gives depends only on when the email arrived, which the test sets: the
Maildir file's mtime is Monday 16 November 2026 10:00 UTC (10:00 GMT, before closing), so day 0 is
16 November and ten working days on (17, 18, 19, 20, 23, 24, 25, 26, 27, 30 November; no bank holiday
in England or Wales) is Monday 30 November 2026: "Dydd Llun 30 Tachwedd 2026" in Welsh."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import select

import scheduler
from casework.models import Case
from tests.e2e import smtp_settings
from tests.mail import deliver, make_mail, new_maildir

RECEIVED = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
WELSH_EMAIL = make_mail(
    "Siân Jones <sian.jones@example.net>", "Cwyn – atgyweirio'r to heb ei wneud",
    "Annwyl Dîm Cwynion,\n\n"
    "Rwy'n ysgrifennu i wneud cwyn ffurfiol. Rhoddais wybod i chi am y to sy'n gollwng yn fy ystafell wely ar "
    "2 Hydref. Daeth contractwr allan unwaith, ond ni chafodd y gwaith ei orffen ac nid oes neb wedi dod yn ôl. "
    "Mae'r dŵr yn dal i ddod i mewn bob tro mae'n bwrw glaw.\n\n"
    "Rwyf wedi ffonio bedair gwaith ac wedi cael addewid y byddai rhywun yn fy ffonio'n ôl, ond ni ddigwyddodd "
    "hynny. Rwy'n anhapus iawn â'r gwasanaeth.\n\n"
    "Hoffwn i'r to gael ei drwsio'n iawn cyn gynted â phosibl, ac ymddiheuriad am yr oedi.\n\n"
    "Yn gywir,\nSiân Jones",
    date="Mon, 16 Nov 2026 10:00:00 +0000")
ENGLISH_EMAIL = make_mail(
    "Sam Resident <sam.resident@example.net>", "Complaint - roof repair never finished",
    "Dear Complaints Team,\n\nI am writing to make a formal complaint. I reported the leaking roof in my bedroom "
    "on 2 October. A contractor came out once but never finished the job and nobody has come back. Water still "
    "comes in every time it rains.\n\nI have phoned four times and was promised a call back that never came. I am "
    "very unhappy with the service. I want the roof fixed properly as soon as possible and an apology for the "
    "delay.\n\nYours sincerely,\nSam Resident",
    date="Mon, 16 Nov 2026 10:00:00 +0000")


def answer(make_settings, tmp_path, smtp, raw: bytes, *, welsh: bool):
    """Deliver one email into a real Maildir as the MTA would, run the worker once; the case and the
    acknowledgement the SMTP server received (subject, plain text, HTML)."""
    maildir = new_maildir(tmp_path / "maildir")
    key = deliver(maildir, raw)
    os.utime(maildir / "new" / key, (RECEIVED.timestamp(), RECEIVED.timestamp()))
    service = scheduler.build(make_settings(
        maildir=[{"name": "complaints", "path": maildir}], smtp=smtp_settings(smtp),
        landlord={"welsh": welsh}, policy={"nation": "WLS", "stage1_response_from": "receipt"}))
    service.run_once()
    with service.db.sessions() as session:
        [case] = session.scalars(select(Case))
        case = (case.reference, case.category, case.status, case.language)
    [message] = smtp.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return case, message["Subject"], text, html


def test_a_welsh_email_is_answered_with_the_welsh_template(make_settings, tmp_path, smtp):
    (reference, category, status, language), subject, text, html = answer(make_settings, tmp_path, smtp, WELSH_EMAIL,
                                                                           welsh=True)

    assert (category, status, language) == ("complaint", "open", "cy")
    assert subject == f"Eich cwyn / Your complaint – cyfeirnod / reference {reference}"
    assert text.startswith("Mae'r neges hon yn Gymraeg ac yn Saesneg.")
    assert "Annwyl Siân Jones," in text
    assert f"Eich cyfeirnod yw {reference}." in text
    assert "Byddwn yn anfon ein hymateb cam 1 atoch erbyn Dydd Llun 30 Tachwedd 2026." in text
    assert "Gwasanaeth Ombwdsmon Tai" in text and "www.housing-ombudsman.org.uk" in text
    # then the same in English, with the English date
    assert "We will send you our stage 1 response by Monday 30 November 2026." in text
    assert text.index("Dydd Llun 30 Tachwedd 2026") < text.index("Monday 30 November 2026")
    assert '<html lang="cy">' in html and "Dydd Llun 30 Tachwedd 2026" in html


def test_with_welsh_off_the_same_welsh_email_is_answered_in_english(make_settings, tmp_path, smtp):
    (reference, _, _, language), subject, text, _ = answer(make_settings, tmp_path, smtp, WELSH_EMAIL, welsh=False)

    assert language is None
    assert subject == f"Your complaint – reference {reference}"
    assert "We will send you our stage 1 response by Monday 30 November 2026." in text
    assert "Tachwedd" not in text and "cyfeirnod" not in text


def test_an_english_email_with_welsh_on_is_answered_in_english(make_settings, tmp_path, smtp):
    (reference, _, _, language), subject, text, _ = answer(make_settings, tmp_path, smtp, ENGLISH_EMAIL, welsh=True)

    assert language is None
    assert subject == f"Your complaint – reference {reference}"
    assert "Dear Sam Resident," in text and "Monday 30 November 2026" in text
    assert "Tachwedd" not in text and "Annwyl" not in text


@pytest.mark.parametrize("welsh", [False, True])
def test_the_language_model_is_loaded_only_by_a_welsh_landlords_worker(tmp_path, welsh):
    """lingua is imported only when a Welsh landlord's worker reads a message: with Welsh off, never."""
    import subprocess
    import sys

    from tests.conftest import REPO

    script = (
        "import sys, scheduler\n"
        "from core.settings import Settings\n"
        "from tests.mail import deliver, make_mail, new_maildir\n"
        f"maildir = new_maildir(__import__('pathlib').Path({str(tmp_path / 'md')!r}))\n"
        "deliver(maildir, make_mail(body='Mae\\'r boeler wedi torri eto ac nid oes dŵr poeth gennym.'))\n"
        f"settings = Settings(var_dir={str(tmp_path / 'var')!r}, maildir=[{{'name': 'm', 'path': maildir}}],"
        f" landlord={{'welsh': {welsh}}})\n"
        "counts = scheduler.build(settings).run_once()\n"
        "print(counts['items'] > 0, 'lingua' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "INTAKE_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", str(welsh)]
