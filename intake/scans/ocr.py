"""Reading a scanned letter's bytes: a PDF's text layer, or Tesseract OCR of each page image.

``read_document`` is the one entry point. It never raises for a bad file except with
UnreadableSubmission, whose message says why in words a person can act on (corrupt, encrypted,
empty, unsupported type, no readable text). A missing Tesseract or language is not the file's
fault: that raises OcrUnavailable, so the source leaves the file where it is and tries later.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Iterator

import pymupdf
import pytesseract
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from casework.guards import plain
from core.errors import SourceUnavailable, UnreadableSubmission

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
SUFFIXES = frozenset({".pdf", ".txt"}) | IMAGE_SUFFIXES
OCR_DPI = 300  # PDF pages are rendered at this resolution for Tesseract
PREVIEW_DPI = 120  # page images for staff
MIN_TEXT_LAYER_CHARS = 20  # fewer than this on a PDF page: treat it as a scan and OCR it
MAX_PAGES = 40
MIN_OCR_WIDTH = 1600  # smaller images are enlarged first: Tesseract reads small print badly

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


class OcrUnavailable(SourceUnavailable):
    """Tesseract, or a configured language for it, is not installed: no file is at fault."""


@dataclass(frozen=True)
class PageText:
    text: str
    confidence: float | None  # 0-100 for OCR, None for a text layer
    weight: int = 0  # characters the confidence was measured over


@dataclass(frozen=True)
class DocumentText:
    text: str
    confidence: float | None  # weighted mean over OCR'd pages; None when nothing was OCR'd
    pages: int


def read_document(data: bytes, suffix: str, languages: str = "eng") -> DocumentText:
    """The text of a letter file; raises UnreadableSubmission saying why it cannot be read."""
    suffix = suffix.lower()
    if not data:
        raise UnreadableSubmission("the file is empty (0 bytes)")
    if suffix not in SUFFIXES:
        raise UnreadableSubmission(f"unsupported file type {suffix or '(no extension)'}")
    if suffix == ".txt":
        return _combine([PageText(decode_text(data), None)])
    if suffix == ".pdf":
        return _combine(list(_pdf_pages(data, languages)))
    return _combine([ocr_image(image, languages) for image in _images(data)])


def decode_text(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _combine(pages: list[PageText]) -> DocumentText:
    text = plain("\n\n".join(page.text.strip() for page in pages if page.text.strip()))  # no NUL: PostgreSQL refuses it
    if not text.strip():
        raise UnreadableSubmission("no readable text was found on any page")
    measured = [page for page in pages if page.confidence is not None and page.weight]
    weight = sum(page.weight for page in measured)
    confidence = sum(page.confidence * page.weight for page in measured) / weight if weight else None
    if confidence is None and any(page.confidence is not None for page in pages):
        confidence = 0.0
    return DocumentText(text=text, confidence=None if confidence is None else round(confidence, 1), pages=len(pages))


# -- PDF -----------------------------------------------------------------------------------------


def open_pdf(data: bytes) -> pymupdf.Document:
    pymupdf.TOOLS.reset_mupdf_warnings()
    try:
        document = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # noqa: BLE001 - mupdf raises several types for a broken file
        raise UnreadableSubmission(f"corrupt PDF: {exc}") from exc
    if document.needs_pass:
        raise UnreadableSubmission("the PDF is encrypted (password protected)")
    if document.page_count == 0:
        raise UnreadableSubmission("the PDF has no pages")
    if document.page_count > MAX_PAGES:
        raise UnreadableSubmission(f"the PDF has {document.page_count} pages; more than {MAX_PAGES} needs a person")
    return document


def _pdf_pages(data: bytes, languages: str) -> Iterator[PageText]:
    with open_pdf(data) as document:
        for number, page in enumerate(document, start=1):
            result = _pdf_page(page, languages)
            if document.is_repaired and not result.text.strip():
                raise UnreadableSubmission(f"corrupt PDF (damaged; page {number} could not be read): {_mupdf_problem()}")
            yield result


def _pdf_page(page: pymupdf.Page, languages: str) -> PageText:
    text = page.get_text("text")
    if len(text.strip()) >= MIN_TEXT_LAYER_CHARS:
        return PageText(text, None)
    return ocr_image(render_page(page, OCR_DPI), languages)


def render_page(page: pymupdf.Page, dpi: int) -> Image.Image:
    pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)


def _mupdf_problem() -> str:
    lines = [line for line in pymupdf.TOOLS.mupdf_warnings().splitlines() if line.strip()]
    return lines[0] if lines else "structure broken"


# -- images --------------------------------------------------------------------------------------


def _images(data: bytes) -> Iterator[Image.Image]:
    try:
        image = Image.open(io.BytesIO(data))
        frames = [ImageOps.exif_transpose(frame.copy()) for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableSubmission(f"corrupt or unrecognised image: {exc}") from exc
    if len(frames) > MAX_PAGES:
        raise UnreadableSubmission(f"the image has {len(frames)} pages; more than {MAX_PAGES} needs a person")
    yield from frames


def page_images(data: bytes, suffix: str, dpi: int = PREVIEW_DPI) -> list[bytes]:
    """Each page as PNG bytes, for a person to read when OCR was poor; [] for text files."""
    suffix = suffix.lower()
    if suffix == ".pdf":
        with open_pdf(data) as document:
            return [_png(render_page(page, dpi)) for page in document]
    if suffix in IMAGE_SUFFIXES:
        return [_png(image.convert("L")) for image in _images(data)]
    return []


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


# -- Tesseract -----------------------------------------------------------------------------------


def ocr_image(image: Image.Image, languages: str = "eng") -> PageText:
    """OCR one page: its text in reading order and the mean word confidence, weighted by length."""
    prepared = _prepare(image)
    try:
        data = pytesseract.image_to_data(prepared, lang=languages, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("tesseract is not installed or not on PATH") from exc
    except pytesseract.TesseractError as exc:
        raise _tesseract_problem(exc, languages) from exc
    return _page_text(data)


def _prepare(image: Image.Image) -> Image.Image:
    gray = image.convert("L")
    if gray.width and gray.width < MIN_OCR_WIDTH:
        scale = MIN_OCR_WIDTH / gray.width
        gray = gray.resize((MIN_OCR_WIDTH, max(1, round(gray.height * scale))), Image.LANCZOS)
    return gray


def _tesseract_problem(exc: pytesseract.TesseractError, languages: str) -> Exception:
    message = str(exc)
    if "Failed loading language" in message or "Error opening data file" in message:
        return OcrUnavailable(f"a Tesseract language in {languages!r} is not installed: {message.strip()}")
    return UnreadableSubmission(f"OCR failed on a page: {message.strip()[:200]}")


def _page_text(data: dict) -> PageText:
    lines: dict[tuple[int, int, int], list[str]] = {}
    scored = []
    for i, word in enumerate(data["text"]):
        word = (word or "").strip()
        if not word or float(data["conf"][i]) < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(word)
        scored.append((float(data["conf"][i]), len(word)))
    weight = sum(length for _, length in scored)
    confidence = sum(conf * length for conf, length in scored) / weight if weight else 0.0
    return PageText(_layout(lines), confidence, weight)


def _layout(lines: dict[tuple[int, int, int], list[str]]) -> str:
    """Lines joined in order; a blank line between Tesseract's blocks and paragraphs."""
    out: list[str] = []
    previous = None
    for key in sorted(lines):
        if previous is not None and key[:2] != previous[:2]:
            out.append("")
        out.append(" ".join(lines[key]))
        previous = key
    return "\n".join(out)


def installed_languages() -> set[str]:
    try:
        return set(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("tesseract is not installed or not on PATH") from exc
