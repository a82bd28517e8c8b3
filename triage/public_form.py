"""The residents' complaints form (/report) as data: what was posted, what is wrong with it, and the
Submission it becomes. No web framework here: ``triage/views/public.py`` reads the request into a
``PostedForm`` and shows what ``problems`` returns in the resident's language.

Invariants:
* text is stored as typed, never as HTML (pages escape it) and without control characters
  (``casework.guards.plain``, as the staff verbs store notes);
* a file is kept only when its bytes are a JPEG, PNG, HEIC/HEIF image or a PDF, and the type its name
  claims is the type its bytes are (a ``.jpg`` that is really an HTML page is refused);
* ``raw`` is the canonical JSON of every field as posted (the CSRF token apart) and each file's name,
  type, size and SHA-256 (``pipeline.read`` reads it back); the files' bytes are Attachment rows;
* a form that fills the hidden honeypot field is stored as discarded, never answered (see ``bot_submission``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import PurePath

from casework.guards import plain
from casework.models import Attachment, Submission
from casework.status import normalise_postcode
from casework.vocabulary import Adjustment, Channel, Disposition, Language
from core.settings import PublicSettings

SOURCE = "web-form"
HONEYPOT = "website"  # a field people never see (hidden by CSS) and naive bots fill in
FORM_ID = "form_id"  # a random token in each form page: the same form sent twice is one submission
_FORM_ID_SHAPE = re.compile(r"[0-9a-f]{32}")
ON_BEHALF = ("representative", "councillor", "mp")  # who writes for a resident; "" is the resident themself
TEXT_FIELDS = ("description", "outcome", "name", "email", "phone", "address", "postcode", "on_behalf",
               "resident_name", "consent", "adjustment_note", HONEYPOT, FORM_ID)
MAX_LENGTH = {"description": 10_000, "outcome": 3_000, "name": 200, "email": 254, "phone": 40, "address": 500,
              "postcode": 12, "resident_name": 200, "adjustment_note": 500, "on_behalf": 20, "consent": 10}
# The order problems are listed in, which is the order of the fields on the page.
FIELD_ORDER = ("description", "outcome", "name", "contact", "email", "phone", "address", "postcode", "on_behalf",
               "resident_name", "consent", "adjustments", "adjustment_note", "attachments")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_PHONE = re.compile(r"\+?[0-9 ()\-]{7,30}")


@dataclass(frozen=True)
class FileKind:
    name: str  # as residents know it: "JPEG", "PDF" …
    content_type: str
    suffixes: tuple[str, ...]

    def matches(self, data: bytes) -> bool:
        return _MAGIC[self.name](data)


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_MAGIC = {
    "JPEG": lambda data: data.startswith(b"\xff\xd8\xff"),
    "PNG": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "HEIC": lambda data: data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS,
    "PDF": lambda data: data.startswith(b"%PDF-"),
}
KINDS = (FileKind("JPEG", "image/jpeg", (".jpg", ".jpeg")), FileKind("PNG", "image/png", (".png",)),
         FileKind("HEIC", "image/heic", (".heic", ".heif")), FileKind("PDF", "application/pdf", (".pdf",)))


def kind_of(data: bytes) -> FileKind | None:
    """The file's type from its bytes alone (never from its name or the browser's say-so)."""
    return next((kind for kind in KINDS if kind.matches(data)), None)


def claimed_kind(filename: str) -> FileKind | None:
    suffix = PurePath(filename).suffix.lower()
    return next((kind for kind in KINDS if suffix in kind.suffixes), None)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes  # at most max_file_bytes + 1 (one byte more says "too big")
    declared_type: str = ""  # what the browser said; recorded, never trusted


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field: a key of ``triage.public_words.WORDS`` and what fills it in."""

    field: str
    words: str
    values: dict = field(default_factory=dict)


@dataclass
class PostedForm:
    fields: dict[str, str | list[str]]  # every posted text field as received (lists for repeated names)
    uploads: list[Upload]
    language: str = Language.ENGLISH

    def text(self, name: str) -> str:
        """A field as stored: one value, control characters out, spaces trimmed."""
        value = self.fields.get(name, "")
        value = value[0] if isinstance(value, list) else value
        return (plain(value) or "").strip()

    @property
    def adjustments(self) -> list[str]:
        given = self.fields.get("adjustments", [])
        return [plain(value) or "" for value in ([given] if isinstance(given, str) else given) if value]

    @property
    def natural_key(self) -> str:
        """``form:<form_id>`` for a form page of ours, so pressing Send twice (or a browser resending
        after a timeout) stores one submission; a form from elsewhere, without the token, is always new."""
        given = self.text(FORM_ID)
        return f"form:{given}" if is_form_id(given) else f"post:{uuid.uuid4().hex}"

    @property
    def is_bot(self) -> bool:
        return bool(self.text(HONEYPOT))

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.text("address").splitlines() if line.strip()]

    @property
    def postcode(self) -> str | None:
        return normalise_postcode(self.text("postcode"))


def problems(form: PostedForm, limits: PublicSettings) -> list[Problem]:
    """Everything wrong with a posted form, in the page's order; empty when it can be stored."""
    found = [*_text_problems(form), *_contact_problems(form), *_behalf_problems(form), *_file_problems(form, limits)]
    if any(value not in set(Adjustment) for value in form.adjustments):
        found.append(Problem("adjustments", "bad_choice"))
    return sorted(found, key=lambda problem: FIELD_ORDER.index(problem.field))


def _text_problems(form: PostedForm) -> list[Problem]:
    found = [Problem(name, "too_long", {"max": limit}) for name, limit in MAX_LENGTH.items()
             if len(form.text(name)) > limit]
    if not form.text("description"):
        found.append(Problem("description", "need_description"))
    if not form.text("name"):
        found.append(Problem("name", "need_name"))
    return found


def _contact_problems(form: PostedForm) -> list[Problem]:
    email, phone, postcode = form.text("email"), form.text("phone"), form.text("postcode")
    found = []
    if email and not _EMAIL.fullmatch(email):
        found.append(Problem("email", "bad_email"))
    if phone and not (_PHONE.fullmatch(phone) and 7 <= sum(c.isdigit() for c in phone) <= 15):
        found.append(Problem("phone", "bad_phone"))
    if postcode and form.postcode is None:
        found.append(Problem("postcode", "bad_postcode"))
    if form.address_lines and not postcode:
        found.append(Problem("postcode", "need_postcode"))
    if not (email or phone or form.address_lines):
        found.append(Problem("contact", "need_contact"))
    return found


def _behalf_problems(form: PostedForm) -> list[Problem]:
    on_behalf = form.text("on_behalf")
    if not on_behalf:
        return []
    if on_behalf not in ON_BEHALF:
        return [Problem("on_behalf", "bad_choice")]
    found = [] if form.text("resident_name") else [Problem("resident_name", "need_resident_name")]
    return found + ([] if form.text("consent") else [Problem("consent", "need_consent")])


def _file_problems(form: PostedForm, limits: PublicSettings) -> list[Problem]:
    if len(form.uploads) > limits.max_files:
        return [Problem("attachments", "too_many_files", {"files": limits.max_files})]
    return [problem for upload in form.uploads if (problem := _file_problem(upload, limits)) is not None]


def _file_problem(upload: Upload, limits: PublicSettings) -> Problem | None:
    named = {"filename": upload.filename}
    if not upload.data:
        return Problem("attachments", "file_empty", named)
    if len(upload.data) > limits.max_file_bytes:
        return Problem("attachments", "file_too_big", {**named, "size": limits.max_file_bytes})
    claimed, actual = claimed_kind(upload.filename), kind_of(upload.data)
    if PurePath(upload.filename).suffix and claimed is None:
        return Problem("attachments", "file_wrong_kind", named)
    if claimed is not None and claimed != actual:
        return Problem("attachments", "file_mismatch", {**named, "claimed": claimed.name})
    return None if actual is not None else Problem("attachments", "file_wrong_kind", named)


# -- the Submission it becomes -------------------------------------------------------------------------------


def submission(form: PostedForm, received_at: dt.datetime) -> Submission:
    """A form with no problems, stored for the pipeline (kind web, source web-form, pending)."""
    raw = _raw(form, received_at)
    return Submission(
        source=SOURCE, kind=Channel.WEB, natural_key=form.natural_key, raw=raw, raw_sha256=_sha256(raw),
        received_at=received_at, disposition=Disposition.PENDING, details=_details(form),
        attachments=[_attachment(upload) for upload in form.uploads],
    )


def form_id(given: object = None) -> str:
    """The token a form page carries in ``form_id`` (see ``PostedForm.natural_key``): the one it was
    sent with when the page is shown again with problems, else a new one."""
    return given if is_form_id(given) else secrets.token_hex(16)


def is_form_id(value: object) -> bool:
    return isinstance(value, str) and _FORM_ID_SHAPE.fullmatch(value) is not None


def bot_submission(form: PostedForm, received_at: dt.datetime) -> Submission:
    """A form whose honeypot was filled in: kept (a person's browser may have autofilled it, and nothing a
    resident sends is thrown away), but discarded at once, never acknowledged and without its files."""
    raw = _raw(form, received_at, files=False)
    return Submission(
        source=SOURCE, kind=Channel.WEB, natural_key=uuid.uuid4().hex, raw=raw, raw_sha256=_sha256(raw),
        received_at=received_at, disposition=Disposition.DISCARDED, processed_at=received_at,
        reason="the complaints form's hidden field was filled in, as bots do: never acknowledged",
        details={"language": form.language, "honeypot": True},
    )


def _raw(form: PostedForm, received_at: dt.datetime, files: bool = True) -> bytes:
    data = {"form": "report", "language": form.language, "received_at": received_at.isoformat(),
            "fields": form.fields,
            "files": [{"filename": upload.filename, "declared_type": upload.declared_type,
                       "content_type": _content_type(upload), "size": len(upload.data), "sha256": _sha256(upload.data)}
                      for upload in form.uploads] if files else []}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _details(form: PostedForm) -> dict:
    on_behalf = form.text("on_behalf")
    postal = [*form.address_lines, form.postcode] if form.address_lines and form.postcode else None
    return {
        "language": form.language, "adjustments": form.adjustments,
        "adjustment_note": form.text("adjustment_note") or None,
        "representative": {"as": on_behalf, "resident_name": form.text("resident_name"),
                           "consent": bool(form.text("consent"))} if on_behalf else None,
        "name": form.text("name"), "email": form.text("email").lower() or None, "phone": form.text("phone") or None,
        "address": form.address_lines or None, "postcode": form.postcode, "postal_address": postal,
    }


def _attachment(upload: Upload) -> Attachment:
    return Attachment(filename=_safe_name(upload.filename), content_type=_content_type(upload),
                      size=len(upload.data), data=upload.data)


def _content_type(upload: Upload) -> str:
    kind = kind_of(upload.data)
    return kind.content_type if kind else "application/octet-stream"


def _safe_name(filename: str) -> str:
    """The name without any folder part or control characters, at most 200 characters."""
    name = PurePath((plain(filename) or "").replace("\\", "/")).name.strip()
    return name[-200:] or "attachment"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
