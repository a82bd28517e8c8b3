"""`intake check`: what `intake run` would reject, or run with against the Code, said before it runs.

Invariants: ``check`` never raises for a fault in the settings it is given (settings that fail to
load never get here: ``load_settings`` says why and the command exits 2). Every problem is one line
on ``err`` that names the setting, file or template at fault; the status is 1 when there is any
problem, else 0 after "settings ok" on ``out``. Nothing is written except what connecting to the
database writes (a SQLite file and its folder, as ``run`` would make them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from core.errors import ConfigurationError
from core.settings import Settings

if TYPE_CHECKING:
    from casework.references import References

CONNECT_TIMEOUT_SECONDS = 10  # a PostgreSQL host that drops packets must not hang the check for minutes


def check(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Print one line per problem to ``err``; 1 if there was any, else "settings ok" to ``out`` and 0."""
    problems = find_problems(settings)
    for problem in problems:
        print(problem, file=err)
    print(f"{len(problems)} problem(s)" if problems else "settings ok", file=out)
    return 1 if problems else 0


def find_problems(settings: Settings) -> list[str]:
    """Every problem, policy first, as one line each."""
    return [
        *policy_problems(settings),
        *template_problems(settings),
        *database_problems(settings),
        *folder_problems(settings),
        *landlord_problems(settings),
        *reference_problems(settings),
    ]


def policy_problems(settings: Settings) -> list[str]:
    """Each variation of the policy that breaches the Complaint Handling Code (or the SPSO model)."""
    from casework.policy import Policy

    breaches = Policy(settings.policy).code_breaches()
    return [f"policy breaches the Complaint Handling Code: {breach}" for breach in breaches]


def template_problems(settings: Settings) -> list[str]:
    """What is wrong with the email and letter templates, as shipped and with managers' saved versions in
    force (as the worker renders them); one line when the folder itself is missing."""
    from responders.render import TemplateSet

    if settings.templates_dir is not None and not Path(settings.templates_dir).is_dir():
        return [f"templates_dir {settings.templates_dir} does not exist or is not a folder"]
    shipped = _template_set_problems(TemplateSet(settings.templates_dir))
    saved = [problem for problem in saved_template_problems(settings) if problem not in shipped]
    return [f"template problem: {problem}" for problem in shipped] + [
        f"template problem with a manager's saved version in force: {problem}" for problem in saved]


def saved_template_problems(settings: Settings) -> list[str]:
    """The templates' problems with the saved versions in force; none when the database cannot be read
    (``database_problems`` says so) or has no versions."""
    from core.db import Database
    from responders.render import TemplateSet
    from responders.template_library import SavedTemplates

    engine = None
    try:
        db = Database(with_connect_timeout(settings.resolved_database_url))
        engine = db.engine
        loader = SavedTemplates(db, settings.templates_dir)
        if not loader.snapshot().in_force:
            return []
        return _template_set_problems(TemplateSet(settings.templates_dir, overrides=loader))
    except (SQLAlchemyError, ImportError, OSError, ValueError):
        return []
    finally:
        if engine is not None:
            engine.dispose()


def _template_set_problems(templates) -> list[str]:
    from responders.post import validate_letters

    return templates.validate() + validate_letters(templates)


def database_problems(settings: Settings) -> list[str]:
    """One line when the database cannot be connected to, giving its URL without the password."""
    from core.db import Database

    url = settings.resolved_database_url
    engine = None
    try:
        engine = Database(with_connect_timeout(url)).engine
        with engine.connect():
            pass
    except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
        return [f"database unreachable: {without_password(url)}: {short_reason(exc, url)}"]
    finally:
        if engine is not None:
            engine.dispose()
    return []


def with_connect_timeout(url: str) -> str:
    """A PostgreSQL URL with a connect timeout unless it sets one; any other URL as it is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # Database() will refuse it, and say so
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    timeout = {"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)}
    return parsed.update_query_dict(timeout).render_as_string(hide_password=False)


def without_password(url: str) -> str:
    """The URL as people may see it: the password left out, not masked."""
    try:
        return make_url(url)._replace(password=None).render_as_string(hide_password=False)
    except ArgumentError:
        return "database_url (not a database URL)"


def short_reason(exc: BaseException, url: str) -> str:
    """The first line of the driver's own message, never the password."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = reason[0] if reason else type(exc).__name__
    try:
        password = make_url(url).password
    except ArgumentError:
        password = None
    return text.replace(str(password), "***") if password else text


def folder_problems(settings: Settings) -> list[str]:
    """Each Maildir and the letters folder must already exist: ``run`` never makes them."""
    problems = [
        f"maildir {source.name}: path {source.path} does not exist or is not a folder"
        for source in settings.maildir
        if not Path(source.path).is_dir()
    ]
    letters = settings.letters
    if letters is not None and not Path(letters.path).is_dir():
        problems.append(f"letters {letters.name}: path {letters.path} does not exist or is not a folder")
    return problems


def landlord_problems(settings: Settings) -> list[str]:
    """With a letters source (and so a print folder) configured, letters are printed with the landlord's
    name and address in the letterhead, the return line and the signature: the shipped example's name,
    or its town or postcode in the address, would send residents' letters back to nobody. One line."""
    from core.settings import LandlordSettings

    if settings.letters is None:
        return []
    example, landlord = LandlordSettings(), settings.landlord
    example_lines = {" ".join(line.split()).casefold() for line in example.address[2:]}  # its town and postcode
    still = [field for field, example_too in (
        ("name", landlord.name.strip().casefold() == example.name.casefold()),
        ("address", any(" ".join(line.split()).casefold() in example_lines for line in landlord.address)),
    ) if example_too]
    if not still:
        return []
    return [f"landlord {' and '.join(still)} {'is' if len(still) == 1 else 'are'} the shipped example "
            f"({example.name}, {example.address[-1]}) and letters {settings.letters.name} would print them: "
            "set [landlord] name and address"]


def reference_problems(settings: Settings) -> list[str]:
    """The reference format must be one ``References`` accepts, write a reference, and read it back."""
    from casework.references import References

    try:
        references = References(settings.references)
    except ConfigurationError as exc:
        return [str(exc)]
    return _round_trip_problems(references)


def _round_trip_problems(references: References) -> list[str]:
    form = references.settings.format
    try:
        sample = form.format(prefix=references.prefix_for(None), year=2026, number=123)
    except (ValueError, KeyError, IndexError) as exc:
        return [f"references.format {form!r} cannot write a reference: {exc}"]
    if references.find(f"my reference is {sample}.") != [sample]:
        return [f"references.format {form!r} writes references like {sample} that would not be recognised in replies"]
    return []
