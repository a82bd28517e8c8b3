"""The annual complaints performance and service improvement report: which figures it holds, which
year it is for, and the PDF (reportlab, drawn from the same figures and words as the HTML page, so the
two say the same). Text is drawn, never interpreted: a person's commentary is escaped before
reportlab's paragraph markup reads it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import replace
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from casework.figures import Figure, Figures
from casework.models import ReportCommentary
from responders.post import fonts

# The year's figures a governing body reads, in this order; the themes keep their TOP rows.
REPORT_FIGURES = ("ch01", "ch02", "acknowledgements", "extensions", "outcomes", "awaabs_law", "themes_by_category",
                  "themes_by_flag", "extension_reasons", "held_by_reason")
TOP = 10
YEARS_OFFERED = 6


def report_figures(found: Figures) -> list[Figure]:
    """The report's figures; a list of reasons keeps its ``TOP`` most frequent."""
    return [replace(found[name], rows=found[name].rows[:TOP]) for name in REPORT_FIGURES]


def last_year_ended(today: dt.date) -> int:
    """The most recent financial year (April to March) that has ended, by its first calendar year."""
    return today.year - 1 if today.month >= 4 else today.year - 2


def report_year(value: str | None, today: dt.date) -> int | None:
    """The year asked for; the last one ended when none is; None when it is not a year we could report."""
    if not value:
        return last_year_ended(today)
    current = last_year_ended(today) + 1
    if not (value.isdigit() and len(value) == 4 and 2000 <= int(value) <= current):
        return None
    return int(value)


def years_offered(today: dt.date) -> list[int]:
    """The year under way and the ones before it, newest first."""
    current = last_year_ended(today) + 1
    return list(range(current, current - YEARS_OFFERED, -1))


def year_words(year: int) -> str:
    return f"April {year} to March {year + 1}"


# -- the PDF ---------------------------------------------------------------------------------------------------


def annual_report_pdf(landlord: str, year: int, found: Figures, commentary: ReportCommentary | None,
                      words: Callable[[str], str], shown: Callable[[object, str], str]) -> bytes:
    """The report as an A4 PDF: title, the TSM, each figure as a table, then the commentary."""
    regular, bold = fonts()
    styles = _styles(regular, bold)
    out = io.BytesIO()
    title = f"Complaints performance and service improvement report {year}–{str(year + 1)[-2:]}"
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                                 bottomMargin=18 * mm, title=title, author=landlord)
    story = [Paragraph(escape(landlord), styles["small"]), Paragraph(escape(title), styles["title"]),
             Paragraph(escape(f"{year_words(year)}. Measured against the Housing Ombudsman's Complaint Handling "
                              "Code timescales; the Tenant Satisfaction Measures CH01 and CH02 as the Regulator of "
                              "Social Housing defines them."), styles["body"]),
             Spacer(1, 4 * mm)]
    for figure in report_figures(found):
        story.append(KeepTogether([Paragraph(escape(figure.title), styles["heading"]),
                                   Paragraph(escape(figure.meaning), styles["small"]), Spacer(1, 2 * mm),
                                   _table(figure, words, shown, regular, bold), Spacer(1, 4 * mm)]))
    story.append(Paragraph("The landlord's commentary and self-assessment", styles["heading"]))
    if commentary is None:
        story.append(Paragraph("No commentary has been written for this year.", styles["body"]))
    else:
        story += [Paragraph(escape(part).replace("\n", "<br/>"), styles["body"])
                  for part in commentary.text.split("\n\n") if part.strip()]
        story.append(Paragraph(escape(f"Written by {commentary.saved_by}, {commentary.saved_at:%d %B %Y}."),
                               styles["small"]))
    document.build(story)
    return out.getvalue()


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=17, leading=21, spaceAfter=6),
        "heading": ParagraphStyle("heading", fontName=bold, fontSize=12.5, leading=16, spaceBefore=4, spaceAfter=2),
        "body": ParagraphStyle("body", fontName=regular, fontSize=10.5, leading=14, spaceAfter=4),
        "small": ParagraphStyle("small", fontName=regular, fontSize=9, leading=12, textColor=colors.HexColor("#505a5f")),
    }


def _table(figure: Figure, words, shown, regular: str, bold: str) -> Table:
    cell = ParagraphStyle("cell", fontName=regular, fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11)
    data = [[Paragraph(escape(words(name)), head) for name in (figure.label, *figure.columns)]]
    data += [[Paragraph(escape(words(label)), cell), *(Paragraph(escape(shown(value, column)), cell)
                                                       for column, value in zip(figure.columns, values))]
             for label, values in figure.rows]
    if not figure.rows:
        data.append([Paragraph("None in this year.", cell), *([""] * len(figure.columns))])
    first = 62 * mm
    rest = (A4[0] - 36 * mm - first) / max(len(figure.columns), 1)
    table = Table(data, colWidths=[first, *([rest] * len(figure.columns))], repeatRows=1)
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black), ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table
