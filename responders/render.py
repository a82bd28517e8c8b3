"""Acknowledgement templates: the context they get, rendering, and a check of every template.

Templates live in ``responders/templates/email/<kind>/`` as ``subject.txt``, ``body.txt`` and ``body.html``,
one folder per AckKind. Managers edit them, so they run in Jinja2's sandbox, a missing variable is
an error (StrictUndefined) rather than a silent blank, and HTML is autoescaped: what a resident
wrote (their name, the excerpt of their message, their subject) can never become markup.

Context variables (built by ``acknowledgement_context``):
    reference, stage, is_final_stage, category, category_label, resident_name (or None),
    resident_subject (or None), understood, received_on, acknowledgement_due (or None),
    response_due (or None), how_to_correct, landlord (name, address, email, phone, website,
    complaints_policy_url), ombudsman (name, address, phone, website); for the extension notice also
    previous_due, new_due and extension_reason (None in every other message); for a person's reply
    (``reply``) also reply_text, the words they wrote (None in every other message); language, the
    case's Language ("en" or "cy"); english, the same dates and how_to_correct in English (for the
    English half of a bilingual Welsh message; equal to the plain ones for an English case).
A template's Welsh version lives at the same path under ``cy/`` (``cy/email/neutral/body.txt``) and is
used for a case whose language is Welsh; the shipped Welsh templates are bilingual, Welsh first then
English. Where a Welsh version is missing the English one is used, rendered with the English context
(``english_context``), so an English template never shows a Welsh date.
Dates are written like "Friday 4 December 2026" ("Dydd Gwener 4 Rhagfyr 2026" for a Welsh case), on the
calendar of the policy's time zone (``ZoneInfo(settings.policy.timezone)``, passed in as ``zone``;
Europe/London when not given).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader, ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from casework.models import Case
from core.settings import LandlordSettings, PolicySettings
from casework.vocabulary import AckKind, Category, ClockKind, Language

TEMPLATES_DIR = Path(__file__).parent / "templates"  # shipped in the package (a wheel has no top-level folders)
PARTS = ("subject.txt", "body.txt", "body.html")
DEFAULT_ZONE = ZoneInfo(PolicySettings().timezone)  # for callers that cannot reach the policy

# Since 13 January 2026 the Ombudsman takes new complaints by online form, not email:
# there is deliberately no email address here.
OMBUDSMAN: dict[str, Any] = {
    "name": "Housing Ombudsman Service",
    "address": ["PO Box 1484", "Unit D", "Preston", "PR2 0ET"],
    "phone": "0300 111 3000",
    "website": "www.housing-ombudsman.org.uk",
}

CATEGORY_LABELS = {
    Category.COMPLAINT: "complaint",
    Category.SERVICE_REQUEST: "service request",
    Category.COMPLIMENT: "compliment",
    Category.OUT_OF_SCOPE: "general enquiry",
}

# Words a neutral acknowledgement must never contain: it must not name a category.
CATEGORY_WORDS = ("complain", "service request", "compliment", "out of scope", "enquiry", "stage")
# The same in Welsh, with the mutated forms a sentence gives them (cwyn: complaint, "gweithdrefn gwyno",
# "a chwyn", "fy nghwyn"; cam: stage, "yng ngham 1"; cais am wasanaeth: service request; canmoliaeth:
# compliment; ymholiad: enquiry). A bilingual Welsh message is checked against both lists.
WELSH_CATEGORY_WORDS = ("cwyn", "gwyno", "chwyn", "nghwyn", "gŵyn", "cŵyn", "cais am wasanaeth", "canmoliaeth", "ymholiad",
                        "cam 1", "cam 2", "gam 1", "gam 2", "ngham")

WELSH_DAYS = ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener", "Dydd Sadwrn", "Dydd Sul")
WELSH_MONTHS = ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
                "Tachwedd", "Rhagfyr")
DATE_FIELDS = ("received_on", "acknowledgement_due", "response_due", "previous_due", "new_due")
HOW_TO_CORRECT = {
    Language.ENGLISH: "reply to this email, quoting your reference {reference}, and tell us what we got wrong",
    Language.WELSH: "atebwch yr e-bost hwn gan nodi eich cyfeirnod {reference}, a dywedwch wrthym beth sy'n anghywir",
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


class TemplateSet:
    """The acknowledgement templates in one folder, rendered safely."""

    def __init__(self, templates_dir: Path | None = None, overrides: BaseLoader | None = None) -> None:
        """``overrides`` (managers' saved versions) win over the files in ``templates_dir``, the defaults.

        Invariant: a template sees only its context. The sandbox blocks attributes that start with ``_``
        and unsafe methods; the environment's globals (``range``, ``dict``, ``lipsum``, ``cycler``,
        ``joiner``, ``namespace``) are removed so a template has nothing but the documented variables.
        """
        self.templates_dir = Path(templates_dir) if templates_dir else TEMPLATES_DIR
        files = FileSystemLoader(self.templates_dir)
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader([overrides, files]) if overrides is not None else files,
            autoescape=select_autoescape(["html"], default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.globals.clear()

    def render(self, kind: str, context: Mapping[str, Any]) -> RenderedMessage:
        """Render one kind; raises ValueError for an unknown kind, jinja2 errors for bad templates."""
        folder = AckKind(kind).value
        subject, text, html = (self._render_part(folder, part, context) for part in PARTS)
        return RenderedMessage(subject=one_line(subject), text=text, html=html)

    def _render_part(self, folder: str, part: str, context: Mapping[str, Any]) -> str:
        return self.render_file(f"email/{folder}/{part}", context)

    def render_file(self, path: str, context: Mapping[str, Any]) -> str:
        """One template file in the context's language; an English file standing in for a missing Welsh
        one gets the English context, so it never mixes Welsh dates into English sentences."""
        language = context.get("language")
        template = self.template(path, language)
        stand_in = language == Language.WELSH and not (template.name or "").startswith(f"{Language.WELSH.value}/")
        return template.render(english_context(context) if stand_in else context)

    def template(self, path: str, language: str | None = None):
        """The compiled template at ``path`` (relative to the templates folder), in the case's language."""
        return self.env.select_template(localised(path, language))

    def has_welsh(self, path: str) -> bool:
        """True when a Welsh version of ``path`` exists (even a broken one: rendering will say what is wrong)."""
        try:
            self.env.get_template(f"{Language.WELSH.value}/{path}")
        except TemplateNotFound:
            return False
        except TemplateError:
            return True
        return True

    def validate(self) -> list[str]:
        """Render every kind with a sample context and say, in plain words, what is wrong; the Welsh
        version of each kind that has one is checked too, with a Welsh sample context (its problems are
        named "Welsh <kind>")."""
        problems: list[str] = []
        for language in Language:
            context = sample_context(language=language)
            for kind in AckKind:
                if language == Language.WELSH and not any(self.has_welsh(f"email/{kind.value}/{p}") for p in PARTS):
                    continue
                name = f"Welsh {kind}" if language == Language.WELSH else str(kind)
                problems.extend(f"{name}: {problem}" for problem in self._check(kind, context))
        return problems

    def _check(self, kind: AckKind, context: Mapping[str, Any]) -> list[str]:
        try:
            rendered = self.render(kind, context)
        except (TemplateError, OSError) as exc:
            return [describe_template_error(exc)]
        return check_rendered(kind, rendered, context)


def localised(path: str, language: str | None) -> list[str]:
    """Where to look for a template, best first: the Welsh version of a Welsh case's template, then the path."""
    return [f"{Language.WELSH.value}/{path}", path] if language == Language.WELSH else [path]


def english_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context with its dates and how_to_correct in English (what an English template needs)."""
    return {**context, **(context.get("english") or {}), "language": Language.ENGLISH.value}


def one_line(subject: str) -> str:
    """A subject is one line: newlines would let a template (or a resident) inject headers."""
    return " ".join(subject.split())


def describe_template_error(exc: Exception) -> str:
    where = getattr(exc, "name", None) or getattr(exc, "filename", None) or ""
    line = getattr(exc, "lineno", None)
    place = f"{where} line {line}" if where and line else where
    return f"{place}: {type(exc).__name__}: {exc}" if place else f"{type(exc).__name__}: {exc}"


def check_rendered(kind: AckKind, rendered: RenderedMessage, context: Mapping[str, Any]) -> list[str]:
    problems = _check_reference(rendered, context["reference"])
    if "<script" in rendered.html.lower():
        problems.append("body.html lets a resident's text through unescaped")
    if kind in (AckKind.COMPLAINT_STAGE1, AckKind.COMPLAINT_STAGE2):
        problems.extend(_check_complaint(rendered, context))
    if kind == AckKind.NEUTRAL:
        problems.extend(_check_neutral(rendered, context["reference"], context.get("language")))
    if kind == AckKind.EXTENSION:
        problems.extend(check_extension(rendered.text, context))
    if kind == AckKind.REPLY:
        problems.extend(check_reply(rendered.text, context))
    return problems


def check_reply(text: str, context: Mapping[str, Any]) -> list[str]:
    """A person's reply must reach the resident as they wrote it."""
    wanted = context.get("reply_text")
    return [] if not wanted or wanted.strip() in text else ["the reply does not give the staff member's text"]


def check_extension(text: str, context: Mapping[str, Any]) -> list[str]:
    """The Code: an extension notice gives the new date, the reason and the Ombudsman's details."""
    wanted = {"the new date": context["new_due"], "the reason": context["extension_reason"],
              "the Housing Ombudsman's website": OMBUDSMAN["website"]}
    return [f"the extension notice does not give {what}" for what, value in wanted.items() if value not in text]


def extension_context(context: dict[str, Any], previous_due: dt.datetime, new_due: dt.datetime,
                      reason: str, zone: ZoneInfo = DEFAULT_ZONE) -> dict[str, Any]:
    """An acknowledgement context with the extension notice's new date, old date and reason (the dates in
    the context's language, and in English under ``english``)."""
    language = context.get("language")
    english = {**(context.get("english") or {}), "previous_due": long_date(previous_due, zone),
               "new_due": long_date(new_due, zone)}
    return {**context, "previous_due": long_date(previous_due, zone, language),
            "new_due": long_date(new_due, zone, language), "extension_reason": reason, "english": english}


def _check_reference(rendered: RenderedMessage, reference: str) -> list[str]:
    parts = {"subject.txt": rendered.subject, "body.txt": rendered.text, "body.html": rendered.html}
    return [f"{name} does not give the reference" for name, body in parts.items() if reference not in body]


def _check_complaint(rendered: RenderedMessage, context: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, body in (("body.txt", rendered.text), ("body.html", rendered.html)):
        if context["response_due"] not in body:
            problems.append(f"{name} does not give the date the response is due")
        if OMBUDSMAN["website"] not in body:
            problems.append(f"{name} does not give the Housing Ombudsman's website")
        if "@housing-ombudsman" in body:
            problems.append(f"{name} gives an Ombudsman email address (they take complaints by web form)")
    return problems


def _check_neutral(rendered: RenderedMessage, reference: str, language: str | None = None) -> list[str]:
    found = names_a_category(rendered, reference, language)
    return [f"the neutral acknowledgement names a category ({', '.join(found)})"] if found else []


def names_a_category(rendered: RenderedMessage, reference: str, language: str | None = None) -> list[str]:
    """Category words in the message, ignoring the reference (whose prefix is not ours to choose); a Welsh
    message is checked for the Welsh words as well as the English ones."""
    text = " ".join((rendered.subject, rendered.text, rendered.html)).replace(reference, "").lower()
    words = CATEGORY_WORDS + (WELSH_CATEGORY_WORDS if language == Language.WELSH else ())
    return [word for word in words if word in text]


def long_date(when: dt.datetime | dt.date | None, zone: ZoneInfo = DEFAULT_ZONE,
              language: str | None = None) -> str | None:
    """'Friday 4 December 2026' ('Dydd Gwener 4 Rhagfyr 2026' when ``language`` is Welsh): a moment's date
    on the calendar of ``zone`` (a date is taken as it is). The one function for dates in what we write."""
    if when is None:
        return None
    day = when.astimezone(zone).date() if isinstance(when, dt.datetime) else when
    if language == Language.WELSH:
        return f"{WELSH_DAYS[day.weekday()]} {day.day} {WELSH_MONTHS[day.month - 1]} {day.year}"
    return f"{day:%A} {day.day} {day:%B %Y}"


def acknowledgement_context(
    case: Case, landlord: LandlordSettings, clocks: Mapping[str, dt.datetime], understood: str,
    zone: ZoneInfo = DEFAULT_ZONE,
) -> dict[str, Any]:
    """Everything an acknowledgement template may use. ``clocks`` maps ClockKind to due times; every
    date is written on the calendar of ``zone``, the policy's time zone, in the case's language (and in
    English under ``english``)."""
    stage = case.stage or 1
    language = case.language or Language.ENGLISH.value
    ack_clock, response_clock = _clock_kinds(stage)
    moments = {"received_on": case.received_at, "acknowledgement_due": clocks.get(ack_clock),
               "response_due": clocks.get(response_clock)}
    return {
        "reference": case.reference,
        "stage": stage,
        "is_final_stage": stage >= 2,
        "category": case.category,
        "category_label": CATEGORY_LABELS.get(case.category, "message"),
        "resident_name": case.resident_name or None,
        "resident_subject": case.subject or None,
        "understood": understood,
        **{field: long_date(moment, zone, language) for field, moment in moments.items()},
        "how_to_correct": how_to_correct(case.reference, language),
        "previous_due": None,  # the extension notice's three: set by extension_context
        "new_due": None,
        "extension_reason": None,
        "reply_text": None,  # a person's reply: set for the reply template set only
        "landlord": landlord.model_dump(),
        "ombudsman": dict(OMBUDSMAN),
        "language": language,
        "english": {**{field: long_date(moment, zone) for field, moment in moments.items()},
                    "previous_due": None, "new_due": None, "how_to_correct": how_to_correct(case.reference)},
    }


def _clock_kinds(stage: int) -> tuple[str, str]:
    if stage >= 2:
        return ClockKind.ACK_STAGE2.value, ClockKind.RESPONSE_STAGE2.value
    return ClockKind.ACK_STAGE1.value, ClockKind.RESPONSE_STAGE1.value


def how_to_correct(reference: str, language: str | None = None) -> str:
    """How to put us right, by email, in the case's language."""
    return HOW_TO_CORRECT[Language(language or Language.ENGLISH)].format(reference=reference)


def sample_context(stage: int = 1, resident_name: str | None = "Alex <script>alert(1)</script>",
                   language: str | None = None) -> dict[str, Any]:
    """A realistic context for previews and checks; the resident's text carries <script> to test escaping.
    ``language`` "cy": a Welsh case's context (Welsh dates, English ones under ``english``)."""
    received = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    case = Case(
        reference="CMP-2026-000123", category=Category.COMPLAINT, stage=stage, received_at=received,
        resident_name=resident_name, subject="Leak <script>still</script> not fixed", language=language,
    )
    clocks = {
        ClockKind.ACK_STAGE1.value: received + dt.timedelta(days=7),
        ClockKind.RESPONSE_STAGE1.value: dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC),
        ClockKind.ACK_STAGE2.value: received + dt.timedelta(days=7),
        ClockKind.RESPONSE_STAGE2.value: dt.datetime(2026, 12, 18, 17, 0, tzinfo=dt.UTC),
    }
    understood = "The leak under my kitchen sink has been dripping for three weeks & nobody came <script>x</script>"
    context = acknowledgement_context(case, LandlordSettings(), clocks, understood)
    context = extension_context(context, clocks[ClockKind.RESPONSE_STAGE1.value],
                                dt.datetime(2026, 12, 18, 17, 0, tzinfo=dt.UTC),
                                "We are waiting for a surveyor's report on the <script>roof</script>.")
    context["reply_text"] = "Our surveyor will visit on Tuesday.\nPlease keep the <script>loft</script> hatch clear."
    return context
