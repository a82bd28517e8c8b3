"""A big attachment passes the size cap without being decoded: recorded by name, type and size, with no
bytes, and the resident still gets an acknowledgement. Through the real worker and a real aiosmtpd,
on SQLite and PostgreSQL. (The memory it saves is measured by bench/bench_big_message.py.)"""

from __future__ import annotations

import hashlib
import random
from email.message import EmailMessage

from sqlalchemy import select

import scheduler
from casework.models import Attachment, Submission
from tests.e2e import smtp_settings
from tests.mail import deliver, make_mail, new_maildir

CAP = 1024 * 1024  # attachment_max_bytes for this test: 1 MiB
BIG = 3 * 1024 * 1024  # 3 MiB = 3,145,728 bytes: over the cap
SMALL = 1000  # bytes: under it


def complaint_with_attachments() -> bytes:
    message = EmailMessage()
    message["From"] = "Sam Resident <sam.resident@example.net>"
    message["To"] = "Example Homes <complaints@example.org>"
    message["Subject"] = "Damp in the bedroom: survey attached"
    message["Date"] = "Mon, 16 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = "<big-attachment@mail.example.net>"
    message.set_content("The damp in the bedroom is back and the mould is spreading. I want it fixed.")
    noise = random.Random(15)
    message.add_attachment(noise.randbytes(BIG), maintype="application", subtype="pdf", filename="damp-survey.pdf")
    message.add_attachment(noise.randbytes(SMALL), maintype="image", subtype="jpeg", filename="mould.jpg")
    forwarded = EmailMessage()
    forwarded["From"] = "Surveyor <surveyor@example.com>"
    forwarded["Subject"] = "Survey photos"
    forwarded.set_content("Photos attached.")
    forwarded.add_attachment(noise.randbytes(BIG), maintype="image", subtype="png", filename="photos.png")
    message.add_attachment(forwarded)  # message/rfc822, about 4.2 MB as written: over the cap
    return bytes(message)


def test_an_over_cap_attachment_is_recorded_without_its_bytes_and_the_resident_is_acknowledged(
        tmp_path, make_settings, smtp):
    raw = complaint_with_attachments()
    maildir = new_maildir(tmp_path / "maildir")
    deliver(maildir, raw)
    deliver(maildir, make_mail("Alex Tenant <alex@example.net>", "Repairs", "My boiler has been broken for a week."))
    service = scheduler.build(make_settings(maildir=[{"name": "complaints", "path": maildir}],
                                            smtp=smtp_settings(smtp), attachment_max_bytes=CAP))

    service.run_once()

    with service.db.sessions() as session:
        submission = session.scalars(select(Submission).where(Submission.raw_sha256 == hashlib.sha256(raw).hexdigest())).one()
        assert submission.raw == raw  # every byte kept
        parts = {a.filename: a for a in session.scalars(select(Attachment).where(Attachment.submission_id == submission.id))}
        assert submission.disposition != "failed"
    survey = parts["damp-survey.pdf"]
    assert (survey.content_type, survey.size, survey.truncated, survey.data) == ("application/pdf", BIG, True, None)
    photo = parts["mould.jpg"]
    assert (photo.content_type, photo.size, photo.truncated, len(photo.data)) == ("image/jpeg", SMALL, False, SMALL)
    assert photo.data == random_bytes_after(BIG, SMALL)
    forwarded = next(a for a in parts.values() if a.content_type == "message/rfc822")
    assert forwarded.truncated and forwarded.data is None and forwarded.size > BIG  # 3 MiB of PNG, base64: ~4.2 MB
    acknowledged = {m["To"] for m in smtp.messages}
    assert any("sam.resident@example.net" in to for to in acknowledged)
    assert any("alex@example.net" in to for to in acknowledged)


def random_bytes_after(skip: int, count: int) -> bytes:
    """The bytes complaint_with_attachments gave mould.jpg: the next ``count`` from the same generator."""
    noise = random.Random(15)
    noise.randbytes(skip)
    return noise.randbytes(count)
