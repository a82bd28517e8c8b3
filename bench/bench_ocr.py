"""OCR throughput: pages per minute for scanned letters, as the folder source reads them.

Run: .venv/bin/python bench/bench_ocr.py [--pages 12] [--dpi 300]
Makes A4 pages of letter text (slightly rotated, light noise) as PNG images and as an image-only
PDF rendered at the OCR resolution, then reads them with intake.scans.ocr.read_document.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.scans.ocr import read_document  # noqa: E402
from tests.letters.scans import LETTER, image_pdf_bytes, page_image  # noqa: E402


def png_bytes(seed: int) -> bytes:
    out = io.BytesIO()
    page_image(LETTER, seed=seed).save(out, "PNG")
    return out.getvalue()


def pages_per_minute(documents: list[tuple[bytes, str]]) -> tuple[float, int]:
    start = time.perf_counter()
    pages = sum(read_document(data, suffix).pages for data, suffix in documents)
    return pages * 60 / (time.perf_counter() - start), pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    args = parser.parse_args()
    pngs = [(png_bytes(n), ".png") for n in range(args.pages)]
    pdf = [(image_pdf_bytes([LETTER] * args.pages), ".pdf")]
    for label, documents in (("PNG scans (150 dpi, upscaled for OCR)", pngs), ("image-only PDF (rendered at 300 dpi)", pdf)):
        rate, pages = pages_per_minute(documents)
        print(f"{label}: {pages} pages, {rate:.0f} pages/minute")


if __name__ == "__main__":
    main()
