"""The templates managers edit: which there are and where each is used, their saved versions, the check
a candidate must pass before it is saved, and the loader that puts the saved versions in force.

The shipped files in ``templates/`` are the defaults. A manager's save is a new ``TemplateVersion`` row;
the newest row of a path is the version in force, unless it is a "back to default" row
(``restored_from == BACK_TO_DEFAULT``), which keeps the text it replaced for the record but puts the
shipped file back in force, so a later upgrade of that file reaches residents.

Invariants:
* Versions are only ever added: never changed, never deleted. A restore is a new row naming the one it
  copied (``restored_from``); the history of a path is its rows in id order.
* Nothing is saved that fails ``TemplateLibrary.check``: it must parse; use only the documented context
  (``sample_context``'s keys, plus names the template binds itself); reach no attribute or key starting
  with ``_``, no ``self``, no ``**`` or ``*`` and no number above ``MAX_NUMBER`` (the sandbox stops
  Python internals; these stop a template that would make a huge string); never turn escaping off;
  include only templates that exist, never itself; keep the blocks the rest depends on; and every
  message it is part of, rendered in full with the candidate in place on the sample data, must still
  pass the Code's content checks (``check_rendered``, ``check_letter``). Restores and "back to default"
  pass the same check, so the version in force always passed it on the day it was put in force.
* ``SavedTemplates`` (the worker's, the printer's and the staff app's loader) sees a new version at
  most ``REFRESH_SECONDS`` after it is committed, and between checks never touches the database.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, DictLoader, FileSystemLoader, TemplateSyntaxError, meta, nodes
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from casework.models import Case, TemplateVersion, utcnow
from casework.vocabulary import AckKind, Channel, Language
from core.db import Database
from core.errors import IntakeError
from responders.correspondence import Correspondence
from responders.post import check_letter, render_letter
from responders.render import (
    TEMPLATES_DIR, RenderedMessage, TemplateSet, check_rendered, describe_template_error, english_context,
    sample_context,
)

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0  # how stale a worker's templates may be; also how often it may ask the database
BACK_TO_DEFAULT = 0  # ``restored_from`` of a version that puts the shipped file back in force (no row has id 0)
MAX_SOURCE_CHARS = 64_000
MAX_NUMBER = 10_000  # a template needs small numbers at most; a big one could make a huge string
CONTEXT_HELPERS = frozenset({"loop", "super", "caller", "varargs", "kwargs"})  # Jinja's own, safe
NO_ESCAPING = frozenset({"safe"})  # filters that let text through unescaped

PATH = re.compile(
    r"^(?:(?P<language>cy)/)?(?:email/(?:(?P<kind>[a-z0-9][a-z0-9_]*)/(?P<part>subject\.txt|body\.txt|body\.html)"
    r"|(?P<email_partial>_[a-z0-9_]+\.(?:txt|html)))"
    r"|letter/(?:(?P<letter_partial>_[a-z0-9_]+)|(?P<letter>[a-z0-9][a-z0-9_]*))\.txt)$")

KIND_NAMES = {
    AckKind.COMPLAINT_STAGE1: "complaint stage 1 acknowledgement",
    AckKind.COMPLAINT_STAGE2: "complaint stage 2 acknowledgement",
    AckKind.SERVICE_REQUEST: "service request acknowledgement",
    AckKind.COMPLIMENT: "compliment acknowledgement",
    AckKind.OUT_OF_SCOPE: "general enquiry acknowledgement",
    AckKind.NEUTRAL: "neutral acknowledgement (names no category)",
    AckKind.EXTENSION: "extension notice",
    AckKind.REPLY: "a person's reply",
}
PART_NAMES = {"subject.txt": "email subject", "body.txt": "email body (plain text)",
              "body.html": "email body (HTML)"}


def kind_name(kind: AckKind) -> str:
    """What a person calls a message kind; a kind added later without a name here is still listed."""
    return KIND_NAMES.get(kind, kind.value.replace("_", " "))


class TemplateRefused(IntakeError):
    """A save, restore or back-to-default that would put a bad template in force; ``problems`` say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# -- which templates there are, and where each is used -----------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message a template can be part of: an AckKind, by email or letter, in English or Welsh."""

    medium: str  # "email" or "letter"
    kind: AckKind
    language: str = Language.ENGLISH.value

    @property
    def name(self) -> str:
        welsh = " (Welsh)" if self.language == Language.WELSH else ""
        return f"{kind_name(self.kind)}, {'email' if self.medium == 'email' else 'printed letter'}{welsh}"

    @property
    def value(self) -> str:
        """A form value naming this message."""
        return f"{self.medium}:{self.kind.value}:{self.language}"


@dataclass(frozen=True)
class TemplatePath:
    """What a path under ``templates/`` is: a part of one message, or a partial others include."""

    path: str
    language: str
    medium: str
    kind: AckKind | None  # None: a partial
    part: str  # "subject.txt", "body.txt", "body.html", "letter" or "partial"

    @property
    def is_partial(self) -> bool:
        return self.kind is None

    @property
    def makes_html(self) -> bool:
        return self.path.endswith(".html")

    @property
    def message(self) -> Message | None:
        return None if self.kind is None else Message(self.medium, self.kind, self.language)

    def describe(self) -> str:
        """'complaint stage 1 acknowledgement, email body (plain text)'; a partial's own kind of file."""
        welsh = " (Welsh)" if self.language == Language.WELSH else ""
        if self.kind is None:
            return f"shared part of {'emails' if self.medium == 'email' else 'letters'}{welsh}"
        if self.medium == "letter":
            return f"{kind_name(self.kind)}, printed letter{welsh}"
        return f"{kind_name(self.kind)}, {PART_NAMES[self.part]}{welsh}"


def parse_path(path: str) -> TemplatePath | None:
    """The template a path names, or None when it is not one a manager may edit."""
    match = PATH.match(path)
    if match is None:
        return None
    language = match["language"] or Language.ENGLISH.value
    named = match["kind"] or match["letter"]
    try:
        kind = AckKind(named) if named else None
    except ValueError:
        return None
    medium = "email" if path.removeprefix("cy/").startswith("email/") else "letter"
    part = match["part"] or ("letter" if match["letter"] else "partial")
    return TemplatePath(path, language, medium, kind, part)


@dataclass(frozen=True)
class Saved:
    """A version in force, as the loader holds it."""

    id: int
    source: str


@dataclass
class Entry:
    """One editable template, as the list shows it."""

    template: TemplatePath
    messages: list[Message]  # every message it is part of, itself or through others
    included_by: list[str]  # templates that include, extend or import it
    newest: TemplateVersion | None  # its newest saved version, if any

    @property
    def path(self) -> str:
        return self.template.path

    @property
    def in_force(self) -> str:
        """'default' (the shipped file) or 'saved' (a manager's version)."""
        if self.newest is None or self.newest.restored_from == BACK_TO_DEFAULT:
            return "default"
        return "saved"


# -- the loader that puts saved versions in force -----------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    fingerprint: tuple[int, int]  # (number of rows, newest id): changes exactly when a version is added
    in_force: Mapping[str, Saved]


class SavedTemplates(BaseLoader):
    """``TemplateSet(overrides=SavedTemplates(db, templates_dir))``: managers' versions win over the files.

    It serves every template, the saved version in force or else the shipped file, so that every
    compiled template's freshness check comes here: a template is up to date while the table's
    fingerprint (row count, newest id) is the one it was compiled under and, for a file, while the file
    is unchanged. The fingerprint is read at most once every ``refresh_seconds`` (one small query); only
    when it changed are the versions in force read again. Versions are only ever added, so the count
    catches even a smaller id committed after a larger one (PostgreSQL hands out ids before commit).
    If the database cannot be read, the last versions read stay in force and it asks again next time;
    with none read yet, rendering fails (the item is retried) rather than send a superseded default.
    """

    def __init__(self, db: Database, templates_dir: Path | None = None, refresh_seconds: float = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.files = FileSystemLoader(Path(templates_dir) if templates_dir else TEMPLATES_DIR)
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._checked_at: float | None = None

    def get_source(self, environment, template: str):
        snapshot = self.snapshot()
        saved = snapshot.in_force.get(template)
        if saved is not None:
            return saved.source, f"{template} (saved version {saved.id})", lambda: self.snapshot() is snapshot
        source, filename, file_unchanged = self.files.get_source(environment, template)
        return source, filename, lambda: self.snapshot() is snapshot and file_unchanged()

    def expire(self) -> None:
        """Check the database on the next render (the staff app calls this after a manager's save)."""
        with self._lock:
            self._checked_at = None

    def snapshot(self) -> _Snapshot:
        """The versions in force, re-read only when due and only when the table changed."""
        with self._lock:
            now = self.clock()
            due = self._checked_at is None or now - self._checked_at >= self.refresh_seconds
            if self._snapshot is not None and not due:
                return self._snapshot
            try:
                self._snapshot = self._read(self._snapshot)
            except SQLAlchemyError:
                if self._snapshot is None:
                    raise
                log.warning("could not read the saved template versions; keeping the ones read before")
            self._checked_at = now
            return self._snapshot

    def _read(self, previous: _Snapshot | None) -> _Snapshot:
        with self.db.sessions() as session:
            fingerprint = tuple(session.execute(
                select(func.count(TemplateVersion.id), func.coalesce(func.max(TemplateVersion.id), 0))).one())
            if previous is not None and previous.fingerprint == fingerprint:
                return previous
            return _Snapshot(fingerprint, versions_in_force(session))


def versions_in_force(session: Session) -> dict[str, Saved]:
    """Path → the saved version in force (the newest row, unless it puts the default back)."""
    newest = select(func.max(TemplateVersion.id)).group_by(TemplateVersion.path)
    rows = session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(newest)))
    return {row.path: Saved(row.id, row.source) for row in rows if row.restored_from != BACK_TO_DEFAULT}


def expire_saved(templates: TemplateSet) -> None:
    """Make a TemplateSet's saved-version loader look at the database on its next render."""
    for loader in getattr(templates.env.loader, "loaders", [templates.env.loader]):
        if isinstance(loader, SavedTemplates):
            loader.expire()


# -- the library: listing, versions, diff, the check, preview ------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    sign: str  # "+" added, "-" removed, " " unchanged, "@" where a hunk starts
    text: str


@dataclass
class Preview:
    """A candidate rendered as one message, and what would stop it being saved."""

    message: Message | None
    rendered: RenderedMessage | None
    problems: list[str] = field(default_factory=list)
    sample_parts: list[str] = field(default_factory=list)  # context values taken from the sample, not the case


@dataclass
class TemplateLibrary:
    """Managers' templates over one templates folder and one database session at a time."""

    templates_dir: Path | None = None

    def __post_init__(self) -> None:
        self.templates_dir = Path(self.templates_dir) if self.templates_dir else TEMPLATES_DIR

    # listing

    def paths(self, session: Session) -> list[str]:
        """Every editable template: the shipped files (walked, never listed by hand) and any saved path."""
        shipped = {p.relative_to(self.templates_dir).as_posix() for p in self.templates_dir.rglob("*") if p.is_file()}
        saved = set(session.scalars(select(TemplateVersion.path).distinct()))
        return sorted(path for path in shipped | saved if parse_path(path) is not None)

    def entries(self, session: Session) -> list[Entry]:
        paths = self.paths(session)
        sources = self.sources_in_force(session, paths)
        references = {path: _referenced(source) for path, source in sources.items()}
        newest = self._newest(session)
        return [Entry(parse_path(path), _messages_using(path, references), _included_by(path, references),
                      newest.get(path)) for path in paths]

    def entry(self, session: Session, path: str) -> Entry:
        found = next((entry for entry in self.entries(session) if entry.path == path), None)
        if found is None:
            raise TemplateRefused([f"there is no template {path!r}"])
        return found

    def _newest(self, session: Session) -> dict[str, TemplateVersion]:
        newest = select(func.max(TemplateVersion.id)).group_by(TemplateVersion.path)
        return {row.path: row for row in session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(newest)))}

    # sources and versions

    def default_source(self, path: str) -> str | None:
        """The shipped file's text, or None when there is none."""
        file = self.templates_dir / path
        return file.read_text(encoding="utf-8") if parse_path(path) and file.is_file() else None

    def sources_in_force(self, session: Session, paths: Iterable[str] | None = None) -> dict[str, str]:
        saved = versions_in_force(session)
        wanted = self.paths(session) if paths is None else paths
        sources = {path: saved[path].source if path in saved else self.default_source(path) for path in wanted}
        return {path: source for path, source in sources.items() if source is not None}

    def source_in_force(self, session: Session, path: str) -> str:
        source = self.sources_in_force(session, [path]).get(path)
        if source is None:
            raise TemplateRefused([f"there is no template {path!r}"])
        return source

    def versions(self, session: Session, path: str) -> list[TemplateVersion]:
        """A path's saved versions, newest first."""
        return list(session.scalars(select(TemplateVersion).where(TemplateVersion.path == path)
                                    .order_by(TemplateVersion.id.desc())))

    def version(self, session: Session, path: str, version_id: int) -> TemplateVersion:
        row = session.get(TemplateVersion, version_id)
        if row is None or row.path != path:
            raise TemplateRefused([f"{path} has no version {version_id}"])
        return row

    def text_of(self, session: Session, path: str, which: str) -> tuple[str, str]:
        """('version 3' or 'the shipped default', its text) for ``which``: a version id or 'default'."""
        if which == "default":
            source = self.default_source(path)
            if source is None:
                raise TemplateRefused([f"{path} has no shipped default"])
            return "the shipped default", source
        try:
            version_id = int(which)
        except ValueError:
            raise TemplateRefused([f"{which!r} is not a version"]) from None
        return f"version {version_id}", self.version(session, path, version_id).source

    def diff(self, session: Session, path: str, old: str, new: str) -> list[DiffLine]:
        """What changed from ``old`` to ``new`` (each a version id or 'default'), line by line."""
        (old_name, old_text), (new_name, new_text) = self.text_of(session, path, old), self.text_of(session, path, new)
        lines = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), old_name, new_name, lineterm="", n=3)
        return [_diff_line(line) for index, line in enumerate(lines) if index >= 2]  # the two file-name lines go

    # saving

    def save(self, session: Session, path: str, source: str, by: str, based_on: int | None,
             now: dt.datetime | None = None) -> TemplateVersion:
        """A new version after the check; refused (nothing written) when it fails, when nothing changed,
        or when someone saved a newer version since ``based_on`` (the newest id the editor showed)."""
        source = normalise(source)
        newest = self._newest(session).get(path)
        if (newest.id if newest else None) != based_on:
            raise TemplateRefused([f"{newest.saved_by} saved version {newest.id} of this template after you opened "
                                   "it: compare it with yours, then save again" if newest else
                                   "the version you opened is no longer the one in force: reload and save again"])
        if source == self.source_in_force(session, path):
            raise TemplateRefused(["nothing changed: this is the version in force"])
        return self._add(session, path, source, by, None, now)

    def restore(self, session: Session, path: str, version_id: int, by: str,
                now: dt.datetime | None = None) -> TemplateVersion:
        """A new version copying ``version_id``, after the same check as a save."""
        old = self.version(session, path, version_id)
        return self._add(session, path, old.source, by, old.id, now)

    def back_to_default(self, session: Session, path: str, by: str, now: dt.datetime | None = None) -> TemplateVersion:
        """Put the shipped file back in force: a new version that records the file's text and says so."""
        source = self.default_source(path)
        if source is None:
            raise TemplateRefused([f"{path} has no shipped default"])
        return self._add(session, path, source, by, BACK_TO_DEFAULT, now)

    def _add(self, session, path, source, by, restored_from, now) -> TemplateVersion:
        problems = self.check(session, path, source)
        if problems:
            raise TemplateRefused(problems)
        row = TemplateVersion(path=path, source=source, saved_by=by, saved_at=now or utcnow(),
                              restored_from=restored_from)
        session.add(row)
        session.flush()
        log.info("%s saved version %s of template %s", by, row.id, path)
        return row

    # the check

    def check(self, session: Session, path: str, source: str) -> list[str]:
        """Every reason ``source`` may not be put in force at ``path``; empty when it may."""
        problems = self.static_problems(session, path, source)
        if problems:
            return problems  # never render what the sandbox check refused
        templates = self._candidate_set(session, path, source)
        for message in self.messages_for(session, path, source):
            problems += [f"{message.name}: {problem}" for problem in content_problems(templates, message)]
        return problems

    def static_problems(self, session: Session, path: str, source: str) -> list[str]:
        """What is wrong before rendering: the path, the size, the syntax, the sandbox, the structure."""
        if parse_path(path) is None or path not in self.paths(session):
            return [f"there is no template {path!r}"]
        source = normalise(source)
        if len(source) > MAX_SOURCE_CHARS:
            return [f"the template is longer than {MAX_SOURCE_CHARS:,} characters"]
        if not source.strip():
            return ["the template is empty"]
        try:
            tree = _environment().parse(source, name=path)
        except TemplateSyntaxError as exc:
            return [f"line {exc.lineno}: {exc.message}"]
        allowed = documented_names() | self._names_given_by_includers(session, path)
        return sandbox_problems(tree, allowed) + self._structure_problems(session, path, tree)

    def _names_given_by_includers(self, session: Session, path: str) -> frozenset[str]:
        """Names the templates that include a partial set around it (``{% with team = ... %}``): it may use
        them; a message whose includer does not set one then fails the render in the content check."""
        sources = self.sources_in_force(session)
        references = {p: _referenced(s) for p, s in sources.items()}
        includers = {p for p in sources if path in _reachable(p, references, start_with_self=False)}
        return frozenset(name for p in includers if (tree := _parse(sources[p])) is not None
                         for name in _bound_names(tree))

    def _structure_problems(self, session: Session, path: str, tree: nodes.Template) -> list[str]:
        """Includes name templates that exist, never the candidate itself; blocks the others need are kept."""
        known = set(self.paths(session))
        references = {p: _referenced(s) for p, s in self.sources_in_force(session).items()}
        mine = list(meta.find_referenced_templates(tree))
        problems = ["it includes a template chosen at run time: name it in quotes" for name in mine if name is None]
        problems += [f"it includes {name!r}, which is not a template here" for name in mine
                     if name is not None and name not in known]
        references[path] = {name for name in mine if name}
        if path in _reachable(path, references, start_with_self=False):
            problems.append("it includes itself (directly or through another template)")
        problems += self._block_problems(session, path, tree)
        return problems

    def _block_problems(self, session: Session, path: str, tree: nodes.Template) -> list[str]:
        """A layout must keep every block a template extending it fills; a template extending a layout must
        fill every block the layout leaves empty (else the message would say nothing there)."""
        sources = self.sources_in_force(session)
        parsed = {p: _parse(s) for p, s in sources.items()}
        parsed[path] = tree
        mine = {block.name for block in tree.find_all(nodes.Block)}
        problems = []
        for other, other_tree in parsed.items():
            if other != path and other_tree is not None and _extends(other_tree) == path:
                problems += [f"{other} fills the block '{name}', which this template no longer has"
                             for name in sorted(_block_names(other_tree) - mine)]
        layout = _extends(tree)
        if layout is not None and parsed.get(layout) is not None:
            empty = {block.name for block in parsed[layout].find_all(nodes.Block) if _is_empty(block)}
            problems += [f"it does not fill the block '{name}' that {layout} leaves for it"
                         for name in sorted(empty - mine)]
        return problems

    def messages_for(self, session: Session, path: str, source: str) -> list[Message]:
        references = {p: _referenced(s) for p, s in self.sources_in_force(session).items()}
        references[path] = _referenced(source)
        return _messages_using(path, references)

    def _candidate_set(self, session: Session, path: str, source: str) -> TemplateSet:
        """The templates as they would be with ``source`` saved at ``path``."""
        in_force = {p: saved.source for p, saved in versions_in_force(session).items()}
        return TemplateSet(self.templates_dir, overrides=DictLoader({**in_force, path: normalise(source)}))

    # the preview

    def preview(self, session: Session, path: str, source: str, context: Mapping[str, Any] | None = None,
                message: str | None = None, sample_parts: Iterable[str] = ()) -> Preview:
        """The message ``message`` (a ``Message.value``; the first that uses ``path`` when not given) rendered
        with ``source`` in place, on ``context`` (the sample when None), and every problem ``check`` finds."""
        static = self.static_problems(session, path, source)
        messages = self.messages_for(session, path, source) if not static else []
        chosen = next((m for m in messages if m.value == message), messages[0] if messages else None)
        if static or chosen is None:
            return Preview(chosen, None, static, list(sample_parts))
        templates = self._candidate_set(session, path, source)
        problems = [f"{m.name}: {problem}" for m in messages for problem in content_problems(templates, m)]
        values = dict(context) if context is not None else sample_for(chosen)
        if chosen.language == Language.ENGLISH:
            values = english_context(values)  # a Welsh case's dates in English, for an English template
        else:
            values["language"] = chosen.language  # an English case's Welsh message: its dates stay in English
        try:
            rendered = render_message(templates, chosen, values)
        except Exception as exc:  # noqa: BLE001 - a manager's mistake, shown rather than raised
            rendered = None
            problems = problems or [describe_template_error(exc)]
        return Preview(chosen, rendered, problems, list(sample_parts))

    def case_context(self, session: Session, correspondence: Correspondence, reference: str,
                     message: Message, now: dt.datetime | None = None) -> tuple[dict[str, Any], list[str]]:
        """The context a message about the case ``reference`` would be rendered with now (as correspondence
        builds it), and the names of the values filled from the sample because the case has none (an
        extension's dates and reason, a reply's words)."""
        case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
        if case is None:
            raise TemplateRefused([f"no case has the reference {reference.strip()!r}"])
        channel = Channel.EMAIL if message.medium == "email" else Channel.LETTER
        resident_text = next((s.extracted_text for s in case.submissions if s.extracted_text), "") or ""
        context = correspondence.preview_context(case, channel, resident_text, now)
        sample = sample_for(message)
        filled = [name for name in ("previous_due", "new_due", "extension_reason", "reply_text")
                  if context.get(name) is None]
        return {**context, **{name: sample[name] for name in filled}}, filled


# -- checks that need no database ---------------------------------------------------------------------------


def normalise(source: str) -> str:
    """A browser sends a textarea's lines ending CR LF: templates are stored with LF."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def documented_names() -> frozenset[str]:
    """The variables a template may use: exactly the keys of the documented context."""
    return frozenset(sample_context())


def sandbox_problems(tree: nodes.Template, allowed: frozenset[str]) -> list[str]:
    """What in a parsed template reaches outside its context, or could make a huge value."""
    problems = [f"it uses '{name}', which is not one of the case's variables"
                for name in sorted(meta.find_undeclared_variables(tree) - allowed - CONTEXT_HELPERS)]
    if any(name.name == "self" for name in tree.find_all(nodes.Name)):
        problems.append("it uses 'self', which is not one of the case's variables")
    hidden = sorted({node.attr for node in tree.find_all(nodes.Getattr) if node.attr.startswith("_")}
                    | {node.value for node in tree.find_all(nodes.Const)
                       if isinstance(node.value, str) and node.value.startswith("_")})
    problems += [f"it reaches '{name}': names starting with _ are Python's internals" for name in hidden]
    if any(tree.find_all((nodes.Pow, nodes.Mul))):
        problems.append("it uses ** or *, which could make a huge value: templates do no arithmetic")
    big = sorted({node.value for node in tree.find_all(nodes.Const)
                  if isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
                  and abs(node.value) > MAX_NUMBER})
    problems += [f"it uses the number {value}: numbers in a template are at most {MAX_NUMBER:,}" for value in big]
    if any(node.name in NO_ESCAPING for node in tree.find_all(nodes.Filter)) or any(
            not (isinstance(option.value, nodes.Const) and option.value.value is True)
            for node in tree.find_all(nodes.EvalContextModifier) for option in node.options):
        problems.append("it turns escaping off (|safe or autoescape): a resident's words must stay text")
    return problems


def content_problems(templates: TemplateSet, message: Message) -> list[str]:
    """Render one message in full on the sample data (with and without a resident's name) and run the
    Code's content checks for its kind."""
    problems: list[str] = []
    for context in (sample_for(message), {**sample_for(message), "resident_name": None}):
        try:
            rendered = render_message(templates, message, context)
        except Exception as exc:  # noqa: BLE001 - a manager's mistake, reported not raised
            return [describe_template_error(exc)]
        check = check_rendered if message.medium == "email" else check_letter
        problems += [problem for problem in check(message.kind, rendered, context) if problem not in problems]
    return problems


def render_message(templates: TemplateSet, message: Message, context: Mapping[str, Any]) -> RenderedMessage:
    if message.medium == "email":
        return templates.render(message.kind, context)
    return render_letter(templates, message.kind, context)


def sample_for(message: Message) -> dict[str, Any]:
    """The sample context for one message: stage 2 for a stage 2 acknowledgement, in its language."""
    return sample_context(stage=2 if message.kind == AckKind.COMPLAINT_STAGE2 else 1, language=message.language)


# -- the include graph --------------------------------------------------------------------------------------


@functools.cache
def _environment():
    """An environment like the one templates render in, only to parse them."""
    return TemplateSet().env


@functools.lru_cache(maxsize=1024)
def _parse(source: str) -> nodes.Template | None:
    """A template's syntax tree (cached by its text; never changed by its callers), None when it does not parse."""
    try:
        return _environment().parse(source)
    except TemplateSyntaxError:
        return None


@functools.lru_cache(maxsize=1024)
def _referenced(source: str) -> frozenset[str]:
    tree = _parse(source)
    return frozenset() if tree is None else frozenset(name for name in meta.find_referenced_templates(tree) if name)


def _reachable(start: str, references: Mapping[str, set[str]], start_with_self: bool = True) -> set[str]:
    """Every template ``start`` uses, through includes, extends and imports (and itself when asked)."""
    seen: set[str] = {start} if start_with_self else set()
    todo = list(references.get(start, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(references.get(name, ()))
    return seen


def _messages_using(path: str, references: Mapping[str, set[str]]) -> list[Message]:
    """Every message whose templates reach ``path``."""
    found = set()
    for top in references:
        template = parse_path(top)
        if template is not None and template.message is not None and path in _reachable(top, references):
            found.add(template.message)
    kinds = list(AckKind)
    return sorted(found, key=lambda m: (m.language != Language.ENGLISH, m.medium, kinds.index(m.kind)))


def _included_by(path: str, references: Mapping[str, set[str]]) -> list[str]:
    return sorted(other for other, names in references.items() if path in names)


def _bound_names(tree: nodes.Template) -> set[str]:
    return {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}


def _extends(tree: nodes.Template) -> str | None:
    found = next(iter(tree.find_all(nodes.Extends)), None)
    return found.template.value if found is not None and isinstance(found.template, nodes.Const) else None


def _block_names(tree: nodes.Template) -> set[str]:
    return {block.name for block in tree.find_all(nodes.Block)}


def _is_empty(block: nodes.Block) -> bool:
    return all(isinstance(node, nodes.Output) and all(
        isinstance(part, nodes.TemplateData) and not part.data.strip() for part in node.nodes) for node in block.body)


def _diff_line(line: str) -> DiffLine:
    sign = "@" if line.startswith("@@") else line[:1] or " "
    return DiffLine(sign, line if sign == "@" else line[1:])
