"""Every real-world message in the corpus parses, and known robots are recognised.

The corpus is in the repository (tests/fixtures/real-mail, with SOURCES.md naming every file's
origin and licence). A missing corpus is a failure, not a skip: this test is our robustness proof.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from core.errors import UnreadableSubmission
from intake.autoreply import detect_auto_reply
from intake.dedupe import dedupe_key
from intake.parse import parse_message

from tests.conftest import REAL_MAIL as CORPUS

KNOWN_AUTO_REPLIES = [
    "zammad-mail033-undelivered-mail-returned-to-sender.eml",
    "rubymail-multipart_report_emails-multi_address_bounce1.eml",
    "rubymail-multipart_report_emails-multi_address_bounce2.eml",
    "rubymail-multipart_report_emails-multipart_report_multiple_status.eml",
    "rubymail-multipart_report_emails-report_422.eml",
    "rubymail-multipart_report_emails-report_530.eml",
    "mimekit-delivery-status.eml",
    "mimekit-disposition-notification.eml",
]
KNOWN_PEOPLE = [
    "zammad-mail001.eml",
    "rubymail-plain_emails-raw_email_reply.eml",
    "django-helpdesk-quoted_printable.eml",
    "django-helpdesk-forwarded-message.eml",
]


def corpus_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.eml"))
    if not files:
        raise AssertionError(f"the real-mail corpus is missing or empty at {CORPUS}")
    return files


def test_every_real_message_parses_and_is_checked_for_auto_replies():
    counts = collections.Counter()
    failures = []
    for path in corpus_files():
        try:
            message = parse_message(path.read_bytes())
        except UnreadableSubmission:
            counts["unreadable"] += 1
            continue
        except Exception as exc:  # collected so one run names every failing file
            failures.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        counts["parsed"] += 1
        counts["auto-reply"] += detect_auto_reply(message) is not None
        dedupe_key(message)
    print(f"\nreal-mail corpus: {counts['parsed']} parsed, {counts['unreadable']} unreadable, "
          f"{counts['auto-reply']} auto-replies, of {len(corpus_files())} files")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", KNOWN_AUTO_REPLIES)
def test_it_recognises_known_bounces_and_reports_as_auto_replies(name):
    assert detect_auto_reply(parse_message((CORPUS / name).read_bytes())) is not None


@pytest.mark.parametrize("name", KNOWN_PEOPLE)
def test_it_does_not_flag_known_human_mail(name):
    assert detect_auto_reply(parse_message((CORPUS / name).read_bytes())) is None


def test_it_reads_the_bounce_notice_as_text():
    message = parse_message((CORPUS / KNOWN_AUTO_REPLIES[0]).read_bytes())
    assert "could not\nbe delivered" in message.text
    assert message.content_type == "multipart/report"
    assert "message/delivery-status" in [a.content_type for a in message.attachments]
