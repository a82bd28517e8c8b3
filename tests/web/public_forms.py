"""Helpers for the residents' public pages' tests: a real small JPEG, the form's token, posting the form
as a landlord's website or a script would (Playwright's HTTP client, no browser), and reading answers."""

from __future__ import annotations

import html
import io
import re
import sqlite3
from pathlib import Path

from playwright.sync_api import FormData
from PIL import Image

REFERENCE = re.compile(r'class="reference">([A-Z]+-\d{4}-\d{6})<')
TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def jpeg(width: int = 64, height: int = 48, colour=(90, 110, 70)) -> bytes:
    """A real JPEG made with Pillow: a photo of a (very plain) damp wall."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def token_of(page_html: str) -> str:
    found = TOKEN.search(page_html)
    assert found, page_html[:2000]
    return html.unescape(found.group(1))


def reference_of(page_html: str) -> str | None:
    found = REFERENCE.search(page_html)
    return found.group(1) if found else None


def post_report(request, url: str, fields: dict, files: list[tuple[str, bytes, str]] = (), *,
                headers: dict | None = None, query: str = ""):
    """GET the form (its cookie and token), then POST it as multipart; the response."""
    page = request.get(f"{url}/report{query}", headers=headers or {})
    assert page.status == 200, page.status
    form = FormData()
    form.append("csrf_token", token_of(page.text()))
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            form.append(name, one)
    for filename, data, mime in files:
        form.append("attachments", {"name": filename, "mimeType": mime, "buffer": data})
    return request.post(f"{url}/report{query}", multipart=form, headers=headers or {}, max_redirects=0)


def rows(var_dir: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(Path(var_dir) / "intake.db") as db:
        return db.execute(sql, args).fetchall()


def main_text(page_html: str) -> str:
    """The visible words of a page's <main>, roughly (tags out, entities decoded, spaces squeezed)."""
    main = page_html.split("<main", 1)[-1].split("</main>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main.split(">", 1)[-1])).split())
