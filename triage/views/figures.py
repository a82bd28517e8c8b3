"""Managers' figures (/figures): CH01, CH02, timeliness and the rest, each as a chart with its table and
a CSV download; the TSM as CSV (the same values as `intake report tsm`); and the annual complaints
performance and service improvement report (/figures/annual-report, as HTML and PDF) with the
landlord's own commentary, which managers write on that page.

Every route needs the manager role. The figures are ``casework.figures``'s; this module only reads
the range from the query, and draws and formats what it is given.
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from casework.commentary import latest_commentary, save_commentary
from casework.figures import FIGURE_NAMES, Figure, Figures, Period, compute
from casework.vocabulary import Role
from core.errors import IntakeError
from triage.access import requires
from triage.annual_report import annual_report_pdf, report_figures, report_year, year_words, years_offered
from triage.charts import horizontal_bars, vertical_bars
from triage.render import page
from triage.words import CATEGORY_WORDS, CHANNEL_WORDS, CLOCK_WORDS, OUTCOME_WORDS

WEEKLY = ("received_by_category", "received_by_channel")
COLUMN_WORDS = {
    "received": "received", "homes": "homes", "per_1000": "per 1,000 homes", "responded": "responded",
    "within": "within the Code's time", "late": "late", "within_by_extension": "within thanks to an extension",
    "extension_past_limit": "extended past the Code's limit", "within_pct": "% within", "waiting": "waiting, not yet due",
    "extensions": "extensions", "working_days_added": "working days added", "cases_extended": "cases extended",
    "past_code_limit": "cases past the Code's limit", "stage_1": "stage 1", "stage_2": "stage 2",
    "complaint_stage_1": "complaints at stage 1", "complaint_stage_2": "complaints at stage 2", "other": "other",
    "cases": "cases", "held": "items held", "met": "met", "missed": "missed", "running": "still running",
    "classified": "classified", "category_changed": "category changed", "flags_changed": "a flag changed",
    "either_changed": "either changed", "agreement_pct": "% agreed", "stage": "stage", "week": "week starting",
    "reason": "reason", "category": "category", "flag": "flag", "outcome": "outcome", "clock": "clock",
    "working_days": "working days open",
}
VALUE_WORDS = {**{str(k): v for k, v in {**CATEGORY_WORDS, **CHANNEL_WORDS, **CLOCK_WORDS}.items()}, **OUTCOME_WORDS,
               "web": "web form", "damp_mould": "damp and mould", "emergency_hazard": "emergency hazard",
               "escalation_request": "asks to escalate", "auto_reply": "automatic reply", "late": "outside the time limit"}


def words(value: str) -> str:
    """The app's words for a row label or column name from ``casework.figures``."""
    return COLUMN_WORDS.get(value) or VALUE_WORDS.get(value) or value.replace("_", " ")


def shown(value, column: str) -> str:
    if value is None:
        return "–"
    return f"{value:g}%" if column.endswith("_pct") else f"{value:g}" if isinstance(value, float) else str(value)


def chart(figure: Figure):
    """The figure's chart: columns for weeks, bars for everything else."""
    labels = [label if figure.name in WEEKLY else words(label) for label, _ in figure.rows]
    series = [words(column) for column in figure.charted]
    values = [[values[figure.columns.index(column)] for column in figure.charted] for _, values in figure.rows]
    description = f"{figure.meaning} The table below gives every number."
    if figure.name in WEEKLY:
        return vertical_bars(figure.title, description, labels, series, values, label_every=4)
    return horizontal_bars(figure.title, description, labels, series, values)


# -- the range -------------------------------------------------------------------------------------------------


def today(request: Request) -> dt.date:
    staff = request.app.state.staff
    return staff.casework.policy.calendar.local(dt.datetime.now(dt.UTC)).date()


def current_financial_year(day: dt.date) -> Period:
    return Period.financial_year(day.year if day.month >= 4 else day.year - 1)


def period_from(request: Request) -> tuple[Period, dict[str, str], str | None]:
    """The range asked for (default: the financial year we are in), the form's values, and an error."""
    default = current_financial_year(today(request))
    given = {"from": request.query_params.get("from") or default.start.isoformat(),
             "to": request.query_params.get("to") or default.end.isoformat()}
    try:
        return Period(dt.date.fromisoformat(given["from"]), dt.date.fromisoformat(given["to"])), given, None
    except ValueError as exc:
        message = str(exc) if "before it starts" in str(exc) else "give the dates as YYYY-MM-DD, e.g. 2025-04-01"
        return default, given, f"Those dates cannot be used: {message}."


def figures_for(request: Request, period: Period) -> Figures:
    staff = request.app.state.staff
    with staff.db.sessions() as session:
        return compute(session, period, staff.casework.policy, staff.settings.figures.homes)


# -- the pages ---------------------------------------------------------------------------------------------------


@requires(Role.MANAGER)
def figures_page(request: Request) -> Response:
    period, given, error = period_from(request)
    if error:
        return page(request, "figures/index.html", status_code=400, error=error, given=given, figures=None,
                    query="", homes=request.app.state.staff.settings.figures.homes)
    found = figures_for(request, period)
    return page(request, "figures/index.html", error=None, given=given, figures=found, chart=chart, words=words,
                shown=shown, query=f"from={period.start.isoformat()}&to={period.end.isoformat()}",
                homes=request.app.state.staff.settings.figures.homes)


def _csv(text: str, name: str, period: Period) -> Response:
    filename = f"{name}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


def _bad_range(error: str) -> Response:
    return PlainTextResponse(error, status_code=400)


@requires(Role.MANAGER)
def tsm_csv(request: Request) -> Response:
    """CH01 and CH02 with the counts behind them: the fields and values of `intake report tsm --format csv`."""
    period, _, error = period_from(request)
    if error:
        return _bad_range(error)
    return _csv(figures_for(request, period).tsm.csv(), "tsm", period)


def figure_csv(name: str):
    @requires(Role.MANAGER)
    def download(request: Request) -> Response:
        period, _, error = period_from(request)
        if error:
            return _bad_range(error)
        return _csv(figures_for(request, period)[name].csv(), name, period)

    download.__name__ = f"{name}_csv"
    return download


# -- the annual report ---------------------------------------------------------------------------------------------


def _year(request: Request, value: str | None) -> int | None:
    """The financial year asked for (by its first calendar year), the last one ended if none; None if wrong."""
    return report_year(value, today(request))


def _bad_year(value: str | None) -> Response:
    return PlainTextResponse(f"No such financial year: {value!r}. Give the year it starts in, e.g. 2025 for "
                             "April 2025 to March 2026.", status_code=400)


def _report(request: Request, year: int) -> tuple[Figures, object]:
    staff = request.app.state.staff
    found = figures_for(request, Period.financial_year(year))
    with staff.db.sessions() as session:
        commentary = latest_commentary(session, year)
    return found, commentary


@requires(Role.MANAGER)
def annual_report(request: Request) -> Response:
    year = _year(request, request.query_params.get("year"))
    if year is None:
        return _bad_year(request.query_params.get("year"))
    return _annual_report_page(request, year)


def _annual_report_page(request: Request, year: int, error: str | None = None, draft: str | None = None,
                        status: int = 200) -> Response:
    found, commentary = _report(request, year)
    return page(request, "figures/annual_report.html", status_code=status, year=year, figures=found,
                report_figures=report_figures(found), commentary=commentary, error=error, year_words=year_words(year),
                draft=draft if draft is not None else (commentary.text if commentary else ""),
                years=years_offered(today(request)), words=words, shown=shown, chart=chart,
                saved=request.query_params.get("saved") == "1")


@requires(Role.MANAGER)
def annual_report_pdf_download(request: Request) -> Response:
    staff = request.app.state.staff
    year = _year(request, request.query_params.get("year"))
    if year is None:
        return _bad_year(request.query_params.get("year"))
    found, commentary = _report(request, year)
    pdf = annual_report_pdf(staff.settings.landlord.name, year, found, commentary, words, shown)
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="complaints-annual-report-{year}.pdf"'})


@requires(Role.MANAGER)
async def save_annual_commentary(request: Request) -> Response:
    """A new version of the year's commentary; refused (kept in the form, nothing saved) if empty or too long."""
    staff = request.app.state.staff
    form = await request.form()
    year = _year(request, str(form.get("year") or ""))
    if year is None:
        return _bad_year(str(form.get("year")))
    text = str(form.get("commentary") or "")
    try:
        with staff.db.transaction() as session:
            save_commentary(session, year, text, by=request.state.user.email)
    except IntakeError as exc:
        return _annual_report_page(request, year, error=str(exc), draft=text, status=400)
    return RedirectResponse(f"/figures/annual-report?year={year}&saved=1#commentary", status_code=303)


routes = [
    Route("/figures", figures_page, methods=["GET"]),
    Route("/figures/tsm.csv", tsm_csv, methods=["GET"]),
    *(Route(f"/figures/{name}.csv", figure_csv(name), methods=["GET"]) for name in FIGURE_NAMES),
    Route("/figures/annual-report", annual_report, methods=["GET"]),
    Route("/figures/annual-report.pdf", annual_report_pdf_download, methods=["GET"]),
    Route("/figures/annual-report/commentary", save_annual_commentary, methods=["POST"]),
]
