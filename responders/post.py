"""Acknowledgements by post: letter templates, outbox rows with channel "letter", and the printer.

The wording lives in ``responders/templates/letter/<kind>.txt`` (first line: the heading; the rest: the body),
rendered by the same sandboxed, StrictUndefined environment as the emails (``TemplateSet.env``)
with the same context (``acknowledgement_context``). ``enqueue_letter`` adds the row in the caller's
transaction. ``LetterPrinter`` claims queued letter rows exactly as the email sender claims email
rows, lays each out as an A4 PDF for a DL window envelope and writes it atomically into the
print-queue folder as ``<reference>-<kind>-<outbox id>.pdf``. A re-print after a crash rewrites
the same file name, so the post room never sees two copies of one letter.

A Welsh case's letter comes from ``responders/templates/cy/letter/<kind>.txt`` (bilingual, Welsh first) and its
reference and date lines are printed in Welsh and English. Large print is decided per letter when it
is printed (``layout_for``): every letter when the landlord sets ``letters.large_print``, else the
letters of a case whose resident asked for it (``Adjustment.LARGE_PRINT``). The printer reads the case
at print time rather than the row carrying a flag, so an adjustment recorded after a letter was queued
but before it was printed is still honoured.

The post room prints one batch file a day (``write_batch``): a cover sheet, then each letter's own PDF
unchanged, for the letters printed between the day before's cut (``[letters] print_batch_time``) and
this day's. Handing a letter to print is what meets its case's acknowledgement clock; being posted
(``casework.operations.record_posted``) is recorded, and moves no clock.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import ConfigurationError
from core.files import write_private
from core.logs import describe
from casework import lifecycle
from casework.policy import Policy
from casework.models import Case, OutboxMessage, utcnow
from core.settings import LandlordSettings, OutboxSettings, Settings
from casework.vocabulary import AckKind, Actor, Adjustment, EventAction, Language, OutboxStatus
from responders.acknowledge import letter_body, understood_excerpt
from responders.outbox import new_message_id
from responders.render import (
    DEFAULT_ZONE, OMBUDSMAN, RenderedMessage, TemplateSet, acknowledgement_context, check_extension,
    describe_template_error, long_date, names_a_category, one_line, sample_context,
)
from responders.sender import OutboxSender

if TYPE_CHECKING:
    from pypdf import PdfReader
    from reportlab.pdfgen.canvas import Canvas

log = logging.getLogger(__name__)
SENT_TO_PRINT = "sent to print"
FONT_FILES = {"Letter": "DejaVuSans.ttf", "Letter-Bold": "DejaVuSans-Bold.ttf"}
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
LARGE_PRINT_POINTS = 16
LARGE_PRINT_KEYWORD = "large print"
# reportlab's millimetre in points and its A4 page, as reportlab.lib.units and reportlab.lib.pagesizes
# define them (tests/test_imports.py checks they agree): reportlab and pypdf are
# imported only when a PDF is drawn or read, not by every process that imports this module.
mm = 72.0 / 2.54 * 0.1
A4 = (210 * mm, 297 * mm)


# -- wording -------------------------------------------------------------------------------------


def render_letter(templates: TemplateSet, kind: str, context: Mapping[str, Any]) -> RenderedMessage:
    """The letter for one AckKind, in the context's language: subject = its heading line, text = its body;
    no HTML."""
    rendered = templates.render_file(f"letter/{AckKind(kind).value}.txt", context)
    heading, _, body = rendered.lstrip("\n").partition("\n")
    return RenderedMessage(subject=one_line(heading), text=body.strip("\n") + "\n", html="")


# The one phrase of the email context that assumes email, rewritten for post, in each language.
BY_POST = {
    Language.ENGLISH: "write to us or call us on {phone}, quoting your reference {reference}, and tell us what we got wrong",
    Language.WELSH: ("ysgrifennwch atom neu ffoniwch ni ar {phone}, gan nodi eich cyfeirnod {reference}, a dywedwch"
                     " wrthym beth sy'n anghywir"),
}


def letter_context(case: Case, landlord: LandlordSettings, clocks: Mapping[str, dt.datetime], understood: str,
                   zone: dt.tzinfo = DEFAULT_ZONE) -> dict:
    """The email context, with the one phrase that assumes email rewritten for post (in the case's
    language, and in English for the English half of a bilingual letter). ``understood`` is what the
    resident wrote; the excerpt quoted back starts after their salutation (``letter_body``), so a letter
    never quotes a resident's own address block, phone number and date, or our address, back to them."""
    context = acknowledgement_context(case, landlord, clocks, understood_excerpt(letter_body(understood)), zone)
    words = {"phone": landlord.phone, "reference": case.reference}
    context["how_to_correct"] = BY_POST[Language(context["language"])].format(**words)
    context["english"] = {**context["english"], "how_to_correct": BY_POST[Language.ENGLISH].format(**words)}
    return context


def validate_letters(templates: TemplateSet) -> list[str]:
    """Render every letter with the sample context and say, in plain words, what is wrong; each Welsh
    letter that exists is checked too, with a Welsh sample context ("letter Welsh <kind>: ...")."""
    problems: list[str] = []
    for language in Language:
        for kind in AckKind:
            if language == Language.WELSH and not templates.has_welsh(f"letter/{kind.value}.txt"):
                continue
            name = f"Welsh {kind}" if language == Language.WELSH else str(kind)
            context = sample_context(stage=2 if kind == AckKind.COMPLAINT_STAGE2 else 1, language=language)
            try:
                rendered = render_letter(templates, kind, context)
            except Exception as exc:  # noqa: BLE001 - a manager's mistake, reported not raised
                problems.append(f"letter {name}: {describe_template_error(exc)}")
                continue
            problems.extend(f"letter {name}: {problem}" for problem in check_letter(kind, rendered, context))
    return problems


EMAIL_WORDS = ("this email", "e-bost hwn")  # "yr e-bost hwn": this email, in Welsh


def check_letter(kind: AckKind, rendered: RenderedMessage, context: Mapping[str, Any]) -> list[str]:
    text = f"{rendered.subject}\n{rendered.text}"
    problems = [] if context["reference"] in text else ["does not give the reference"]
    if any(words in text.lower() for words in EMAIL_WORDS):
        problems.append("talks about 'this email': it is a letter")
    if kind in (AckKind.COMPLAINT_STAGE1, AckKind.COMPLAINT_STAGE2):
        problems += [] if context["response_due"] in text else ["does not give the date the response is due"]
        problems += [] if OMBUDSMAN["website"] in text else ["does not give the Housing Ombudsman's website"]
    if kind == AckKind.EXTENSION:
        problems += check_extension(text, context)
    if kind == AckKind.NEUTRAL and (found := names_a_category(rendered, context["reference"], context.get("language"))):
        problems.append(f"the neutral letter names a category ({', '.join(found)})")
    return problems


# -- the outbox row ------------------------------------------------------------------------------


def enqueue_letter(
    session: Session, *, case: Case | None, submission_id: int | None, kind: str, postal_address: list[str],
    rendered: RenderedMessage, domain: str, now: dt.datetime | None = None,
) -> OutboxMessage:
    """Add a letter to the outbox in the caller's transaction (no commit)."""
    lines = [" ".join(line.split()) for line in postal_address if line and line.strip()]
    if not lines:
        raise ValueError("a letter needs a postal address")
    now = now or utcnow()
    if case is not None and case.id is None:
        session.flush()  # a case new in this transaction: give it its id
    row = OutboxMessage(
        case_id=case.id if case is not None else None, submission_id=submission_id, kind=AckKind(kind).value,
        channel="letter", to_address=None, postal_address=lines, subject=rendered.subject,
        text_body=rendered.text, html_body=None, message_id=new_message_id(domain),
        status=OutboxStatus.QUEUED, next_attempt_at=now, created_at=now,
    )
    session.add(row)
    return row


# -- printing ------------------------------------------------------------------------------------


class LetterPrinter(OutboxSender):
    """Claims queued letter rows (same claim states as the email sender) and writes their PDFs."""

    channel = "letter"

    def __init__(
        self, db: Database, templates: TemplateSet | Path | None, landlord: LandlordSettings, print_dir: Path,
        large_print: bool = False, settings: OutboxSettings | None = None, worker_id: str | None = None,
        policy: Policy | None = None,
    ) -> None:
        super().__init__(db, None, settings or OutboxSettings(), landlord.email, landlord.name, worker_id, policy=policy)
        self.templates = templates if isinstance(templates, TemplateSet) else TemplateSet(templates)
        self.landlord = landlord
        self.print_dir = Path(print_dir)
        self.large_print = large_print  # every letter in large print (letters.large_print)
        problems = validate_letters(self.templates)
        if problems:
            raise ConfigurationError("letter templates: " + "; ".join(problems))

    def attempt(self, outbox_id: int, now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        try:
            path = self.print_row(outbox_id, now)
        except Exception as exc:  # noqa: BLE001 - the row is kept and retried; staff see the reason
            log.error("could not print outbox row %s: %s", outbox_id, describe(exc))
            # Only the type in the reason, which is logged too: the message may quote the letter.
            self._retry_later(outbox_id, f"could not print: {type(exc).__name__} (the worker's log has the details)", now)
        else:
            self._mark_printed(outbox_id, path, now)

    def print_row(self, outbox_id: int, now: dt.datetime) -> Path:
        with self.db.sessions() as session:
            row = session.get_one(OutboxMessage, outbox_id)
            case = session.get_one(Case, row.case_id) if row.case_id else None
            reference = case.reference if case is not None else "no-reference"
            pdf = letter_pdf(row, reference, self.landlord, self.layout_for(case), now, self.policy.calendar.zone,
                             case.language if case is not None else None)
        return write_atomically(self.print_dir / letter_file_name(reference, row.kind, row.id), pdf)

    def layout_for(self, case: Case | None) -> Layout:
        """Large print for every letter (the landlord's setting) or for a resident who asked for it."""
        asked = case is not None and Adjustment.LARGE_PRINT in (case.adjustments or [])
        return Layout.large() if self.large_print or asked else Layout.standard()

    def _mark_printed(self, outbox_id: int, path: Path, now: dt.datetime) -> None:
        with self.db.transaction() as session:
            row = self._record_sent(session, outbox_id, now, reason=SENT_TO_PRINT)
            if row is not None and row.case_id is not None:
                lifecycle.record(session.get_one(Case, row.case_id), Actor.SYSTEM, EventAction.LETTER_SENT_TO_PRINT,
                                 at=now, submission_id=row.submission_id, file=str(path), outbox_id=row.id, kind=row.kind)
        log.info("outbox row %s sent to print as %s", outbox_id, path.name)


def letter_file_name(reference: str, kind: str, outbox_id: int) -> str:
    """The one spelling of a printed letter's file name in the print folder."""
    return f"{reference}-{kind}-{outbox_id}.pdf"


def write_atomically(path: Path, data: bytes) -> Path:
    """Write to a hidden temporary name, then rename: the print queue never sees half a PDF. The PDF
    is 0600 (it names a resident), in a folder created 0700 (``core.files``)."""
    return write_private(path, data)


# -- the PDF -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    body_size: float
    heading_size: float
    address_size: float = 11  # the window address stays small enough to fit a DL window
    left: float = 20 * mm
    right: float = 190 * mm
    address_top: float = 47 * mm  # from the top of the page: inside a DL window

    @classmethod
    def standard(cls) -> Layout:
        return cls(body_size=11, heading_size=13)

    @classmethod
    def large(cls) -> Layout:
        return cls(body_size=LARGE_PRINT_POINTS, heading_size=18)

    def leading(self, size: float) -> float:
        return size * 1.3

    @property
    def large_print(self) -> bool:
        return self.body_size >= LARGE_PRINT_POINTS


def fonts() -> tuple[str, str]:
    """DejaVu Sans (any resident's name prints) when installed; Helvetica otherwise."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "Letter" in pdfmetrics.getRegisteredFontNames():
        return "Letter", "Letter-Bold"
    for folder in FONT_DIRS:
        if all((folder / file).is_file() for file in FONT_FILES.values()):
            for name, file in FONT_FILES.items():
                pdfmetrics.registerFont(TTFont(name, str(folder / file)))
            return "Letter", "Letter-Bold"
    return "Helvetica", "Helvetica-Bold"


def letter_pdf(row: OutboxMessage, reference: str, landlord: LandlordSettings, layout: Layout, now: dt.datetime,
               zone: dt.tzinfo = DEFAULT_ZONE, language: str | None = None) -> bytes:
    """The letter as an A4 PDF: text is drawn, never interpreted, so a resident's words stay inert. A
    Welsh case's reference and date lines are in Welsh, then English."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(row.subject)
    pdf.setAuthor(landlord.name)
    if layout.large_print:
        pdf.setKeywords(LARGE_PRINT_KEYWORD)  # the batch's cover sheet counts large-print letters by it
    welsh = language == Language.WELSH
    page = Page(pdf, layout, reference, welsh)
    page.letterhead(landlord)
    page.window_address(row.postal_address or [], landlord)
    page.reference_and_date(reference, long_date(now, zone), long_date(now, zone, language) if welsh else None)
    page.heading(row.subject)
    page.body(row.text_body)
    page.finish()
    return out.getvalue()


def postal_lines(landlord: LandlordSettings) -> list[str]:
    """The landlord's postal address without its name: ``[landlord] address`` may or may not start with
    the name, and the letterhead and the return line both print the name from ``[landlord] name``."""
    lines = [line.strip() for line in landlord.address if line and line.strip()]
    if lines and " ".join(lines[0].split()).casefold() == " ".join(landlord.name.split()).casefold():
        lines = lines[1:]
    return lines


def return_line(landlord: LandlordSettings) -> str:
    """The small line above the window address: the configured name and postal address, the same ones
    the letterhead and the signature give (never a name the landlord did not set)."""
    return "If undelivered, return to: " + ", ".join([landlord.name, *postal_lines(landlord)])


class Page:
    """A cursor down the page that starts a new page when it reaches the bottom margin."""

    def __init__(self, pdf: Canvas, layout: Layout, reference: str, welsh: bool = False) -> None:
        self.pdf, self.layout, self.reference, self.welsh = pdf, layout, reference, welsh
        self.regular, self.bold = fonts()
        self.number = 1
        self.y = A4[1] - 20 * mm

    def line(self, text: str, size: float, *, bold: bool = False, x: float | None = None, right: bool = False) -> None:
        self.pdf.setFont(self.bold if bold else self.regular, size)
        if right:
            self.pdf.drawRightString(self.layout.right, self.y, text)
        else:
            self.pdf.drawString(self.layout.left if x is None else x, self.y, text)
        self.y -= self.layout.leading(size)

    def letterhead(self, landlord: LandlordSettings) -> None:
        size = self.layout.body_size - 1
        self.y = A4[1] - 15 * mm - size
        self.line(landlord.name, size + 1, bold=True, right=True)
        for text in [*postal_lines(landlord), landlord.phone, landlord.website]:
            self.line(text, size, right=True)

    def window_address(self, lines: list[str], landlord: LandlordSettings) -> None:
        self.pdf.setFont(self.regular, 6.5)
        self.pdf.drawString(self.layout.left, A4[1] - 43 * mm, return_line(landlord))
        size = self.layout.address_size
        self.y = A4[1] - self.layout.address_top - size
        for text in lines[:8]:
            self.line(text, size)

    def reference_and_date(self, reference: str, today: str | None, today_in_welsh: str | None = None) -> None:
        self.y = min(self.y, A4[1] - 92 * mm)
        if today_in_welsh:
            self.line(f"Ein cyfeirnod / Our reference: {reference}", self.layout.body_size, bold=True)
            self.line(f"Dyddiad: {today_in_welsh}", self.layout.body_size)
        else:
            self.line(f"Our reference: {reference}", self.layout.body_size, bold=True)
        self.line(f"Date: {today}", self.layout.body_size)
        self.y -= self.layout.leading(self.layout.body_size)

    def heading(self, text: str) -> None:
        from reportlab.lib.utils import simpleSplit

        for part in simpleSplit(text, self.bold, self.layout.heading_size, self.layout.right - self.layout.left):
            self.line(part, self.layout.heading_size, bold=True)
        self.y -= self.layout.leading(self.layout.body_size) / 2

    def body(self, text: str) -> None:
        from reportlab.lib.utils import simpleSplit

        size, width = self.layout.body_size, self.layout.right - self.layout.left
        for paragraph in text.splitlines():
            bold = paragraph.startswith("# ")
            paragraph = paragraph.removeprefix("# ")
            for part in simpleSplit(paragraph, self.bold if bold else self.regular, size, width) or [""]:
                self.room_for(size)
                self.line(part, size, bold=bold)

    def room_for(self, size: float) -> None:
        if self.y - self.layout.leading(size) < 22 * mm:
            self.footer()
            self.pdf.showPage()
            self.number += 1
            self.y = A4[1] - 20 * mm - size

    def footer(self) -> None:
        self.pdf.setFont(self.regular, 9)
        words = "Cyfeirnod / Reference {reference} · tudalen / page {number}" if self.welsh else "Reference {reference} · page {number}"
        self.pdf.drawString(self.layout.left, 12 * mm, words.format(reference=self.reference, number=self.number))

    def finish(self) -> None:
        self.footer()
        self.pdf.showPage()
        self.pdf.save()


# -- the day's batch for the post room --------------------------------------------------------------

BATCH_FOLDER = "batches"  # under the print folder; the letters' own PDFs stay beside it
COVER_ROWS_PER_PAGE = 40


@dataclass(frozen=True)
class BatchLetter:
    outbox_id: int
    reference: str
    kind: str
    first_page: int | None  # its first page in the batch file; None: its PDF is missing from the print folder
    pages: int
    large_print: bool


@dataclass(frozen=True)
class PrintBatch:
    """One day's letters in one PDF: the cover sheet, then each letter in the order it was printed."""

    day: dt.date
    path: Path
    letters: list[BatchLetter]
    cover_pages: int

    @property
    def large_print(self) -> int:
        return sum(letter.large_print for letter in self.letters)

    @property
    def missing(self) -> list[BatchLetter]:
        return [letter for letter in self.letters if letter.first_page is None]


def print_folder(settings: Settings) -> Path:
    """Where printed letters land: ``[letters] print_dir``, else ``var_dir/print``."""
    letters = settings.letters
    return Path(letters.print_dir) if letters is not None and letters.print_dir else Path(settings.var_dir) / "print"


def batch_cut(settings: Settings) -> dt.time | None:
    return settings.letters.print_batch_time if settings.letters is not None else None


def write_day_batch(settings: Settings, db: Database, day: dt.date) -> PrintBatch:
    """``write_batch`` with the folder, cut time and time zone from the settings."""
    from zoneinfo import ZoneInfo

    return write_batch(db, print_folder(settings), day, settings.landlord, cut=batch_cut(settings),
                       zone=ZoneInfo(settings.policy.timezone))


def batch_window(day: dt.date, cut: dt.time | None, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The moments (UTC, start included, end not) whose printed letters make up ``day``'s batch: from the
    day before's cut to this day's cut, in local time (``[letters] print_batch_time``); with no cut time,
    the local calendar day. A letter printed after the cut goes in the next day's batch, so a batch
    once cut never grows and re-writing it gives the same letters."""
    end_day = day if cut is not None else day + dt.timedelta(days=1)
    cut = cut or dt.time(0)
    start = dt.datetime.combine(end_day - dt.timedelta(days=1), cut, zone)
    end = dt.datetime.combine(end_day, cut, zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def batch_day(at: dt.datetime, cut: dt.time | None, zone: dt.tzinfo) -> dt.date:
    """The day whose batch a letter printed at ``at`` belongs to (the inverse of ``batch_window``)."""
    local = at.astimezone(zone)
    return local.date() + dt.timedelta(days=1) if cut is not None and local.time() >= cut else local.date()


def printed_letters(session: Session, start: dt.datetime, end: dt.datetime) -> list[tuple[int, str, str]]:
    """(outbox id, kind, reference) of the letters handed to print in [start, end), in the order printed."""
    query = (
        select(OutboxMessage.id, OutboxMessage.kind, Case.reference)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.channel == "letter", OutboxMessage.status == OutboxStatus.SENT,
               OutboxMessage.sent_at >= start, OutboxMessage.sent_at < end)
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    )
    return [(id, kind, reference or "no-reference") for id, kind, reference in session.execute(query)]


def batch_path(print_dir: Path, day: dt.date) -> Path:
    return Path(print_dir) / BATCH_FOLDER / f"print-batch-{day.isoformat()}.pdf"


def write_batch(db: Database, print_dir: Path, day: dt.date, landlord: LandlordSettings, *,
                cut: dt.time | None = None, zone: dt.tzinfo = DEFAULT_ZONE) -> PrintBatch:
    """Write (or re-write) ``day``'s batch file: a cover sheet (the date, how many letters, how many in
    large print, each reference and the page it starts on), then every letter's own PDF as printed,
    unchanged. A letter whose PDF is gone from the print folder is listed on the cover as missing, to
    be printed again, and is not counted as in the batch's pages."""
    from pypdf import PdfReader, PdfWriter

    start, end = batch_window(day, cut, zone)
    with db.sessions() as session:
        rows = printed_letters(session, start, end)
    readers = [_read_letter(Path(print_dir) / letter_file_name(reference, kind, id)) for id, kind, reference in rows]
    cover_pages = max(1, -(-len(rows) // COVER_ROWS_PER_PAGE))  # ceiling division
    letters, page = [], cover_pages + 1
    for (id, kind, reference), reader in zip(rows, readers):
        pages = len(reader.pages) if reader is not None else 0
        large = reader is not None and (reader.metadata or {}).get("/Keywords") == LARGE_PRINT_KEYWORD
        letters.append(BatchLetter(id, reference, kind, page if reader is not None else None, pages, large))
        page += pages
    path = batch_path(print_dir, day)
    batch = PrintBatch(day, path, letters, cover_pages)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover_pdf(batch, landlord))))
    for reader in readers:
        if reader is not None:
            writer.append(reader)
    out = io.BytesIO()
    writer.write(out)
    write_private(path, out.getvalue())
    return batch


def _read_letter(path: Path) -> PdfReader | None:
    from pypdf import PdfReader

    try:
        return PdfReader(io.BytesIO(path.read_bytes()))
    except OSError:
        return None


def cover_sheet_lines(batch: PrintBatch) -> list[str]:
    """The cover sheet's lines after its heading, one a letter: what the post room checks off."""
    rows = []
    for letter in batch.letters:
        where = f"page {letter.first_page}" if letter.first_page is not None else "MISSING: print it again"
        size = "  large print" if letter.large_print else ""
        rows.append(f"{letter.reference}  {letter.kind}  (outbox {letter.outbox_id})  {where}{size}")
    return rows


def cover_pdf(batch: PrintBatch, landlord: LandlordSettings) -> bytes:
    """The cover sheet, exactly ``batch.cover_pages`` pages long: the page numbers it lists depend on it."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Letters to post {batch.day.isoformat()}")
    pdf.setAuthor(landlord.name)
    regular, bold = fonts()
    left, top = 20 * mm, A4[1] - 20 * mm
    lines = cover_sheet_lines(batch)
    total = sum(letter.pages for letter in batch.letters)
    for number in range(batch.cover_pages):
        y = top
        pdf.setFont(bold, 16)
        pdf.drawString(left, y, f"Letters to post: {long_date(batch.day)}")
        y -= 9 * mm
        pdf.setFont(regular, 11)
        heading = [f"{landlord.name}. Letters: {len(batch.letters)}. Large print: {batch.large_print}.",
                   f"Pages after this cover sheet: {total}. Cover sheet: page {number + 1} of {batch.cover_pages}."]
        if batch.missing:
            heading.append(f"Missing from the print folder (print again): {len(batch.missing)}.")
        for text in heading:
            pdf.drawString(left, y, text)
            y -= 6 * mm
        y -= 4 * mm
        pdf.setFont(regular, 10)
        for text in lines[number * COVER_ROWS_PER_PAGE:(number + 1) * COVER_ROWS_PER_PAGE]:
            pdf.drawString(left, y, text)
            y -= 5 * mm
        pdf.showPage()
    pdf.save()
    return out.getvalue()
