"""Making scans the way a post room would: letter text drawn with a real font, slightly rotated,
with light noise, saved as PNG, JPEG, multi-page TIFF, image-only PDF or PDF with a text layer."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PAGE = (1240, 1754)  # A4 at 150 dpi: small enough to be quick, big enough to read


def page_image(text: str, *, angle: float = 1.5, noise: float = 0.01, seed: int = 1, font_size: int = 30) -> Image.Image:
    """One scanned page: black text on white, rotated a little, with salt-and-pepper specks."""
    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_size)
    y = 110
    for line in text.splitlines():
        draw.text((110, y), line, font=font, fill=0)
        y += int(font_size * 1.45)
    image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=255, expand=False)
    return _specks(image, noise, seed)


def _specks(image: Image.Image, amount: float, seed: int) -> Image.Image:
    rng = random.Random(seed)
    pixels = image.load()
    width, height = image.size
    for _ in range(int(width * height * amount / 10)):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = rng.choice((0, 90, 200))
    return image


def save_png(path: Path, text: str, **options) -> Path:
    page_image(text, **options).save(path, "PNG")
    return path


def save_jpeg(path: Path, text: str, **options) -> Path:
    page_image(text, **options).save(path, "JPEG", quality=80)
    return path


def save_tiff(path: Path, pages: list[str]) -> Path:
    images = [page_image(text, seed=n) for n, text in enumerate(pages)]
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate")
    return path


def image_pdf_bytes(pages: list[str]) -> bytes:
    images = [page_image(text, seed=n).convert("RGB") for n, text in enumerate(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150.0)
    return out.getvalue()


def save_image_pdf(path: Path, pages: list[str]) -> Path:
    path.write_bytes(image_pdf_bytes(pages))
    return path


def text_pdf_bytes(text: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    y = A4[1] - 72
    for line in text.splitlines():
        pdf.drawString(72, y, line)
        y -= 16
    pdf.save()
    return out.getvalue()


def save_text_pdf(path: Path, text: str) -> Path:
    path.write_bytes(text_pdf_bytes(text))
    return path


def save_encrypted_pdf(path: Path, text: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf_bytes(text))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def save_corrupt_pdf(path: Path, text: str) -> Path:
    """An image-only PDF cut off part way through, as a failed transfer leaves it."""
    data = image_pdf_bytes([text])
    path.write_bytes(data[: len(data) // 3])
    return path


LETTER = """Mrs Jane Smith
12 Acacia Avenue
Exampletown
EX2 4QT

20 November 2026

Example Homes
1 High Street
Exampletown
EX1 1AA

Dear Sir or Madam,

I am writing to complain about the leak under my
kitchen sink. It has been dripping for three weeks
and nobody has come to repair it.

You can call me on 07700 900123.

Yours sincerely,

Mrs Jane Smith"""


def save_poor_scan(path: Path, text: str) -> Path:
    """A blurred, heavily compressed scan: Tesseract reads it, but not well (confidence about 50)."""
    from PIL import ImageFilter

    image = page_image(text, noise=0.02, font_size=24, angle=2).filter(ImageFilter.GaussianBlur(2.5))
    image.save(path, "JPEG", quality=10)
    return path


EMAIL_LETTER = """Mr Tom Brown
Flat 2, 5 Station Road
Exampletown
EX3 9ZZ

Dear Example Homes,

Thank you so much to the caretaker who cleaned
the stairs so well last week.

My email is tom.brown@example.net

Kind regards,
Tom Brown"""
