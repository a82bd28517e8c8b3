"""What the logs may say about a failure: never what a resident wrote.

Invariant: no resident's text reaches a log at any level. An exception's message may quote it (a
parser's error naming a header value, a database error's DETAIL with the failing row, SQLAlchemy's
``[parameters: ...]``), so the worker never logs an exception's message or its traceback text:
``describe(exc)`` gives the exception's class, the classes of its causes, the database's own error
code and names (SQLSTATE, constraint, column) and where it was raised (file, line, function, the
line of code), which is enough to find the bug and holds no value. Libraries that log the data
they handle (SQLAlchemy's statements, parameters and rows; imapclient's protocol lines, which hold whole
messages) are kept at WARNING whatever the worker's log level (``quiet_data_loggers``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from pathlib import Path

# Loggers that print the data passing through them at INFO or DEBUG: SQLAlchemy's statements, parameters and
# rows; imapclient's protocol lines, which at DEBUG carry every fetched message whole (headers and body).
DATA_LOGGERS = ("sqlalchemy.engine", "imapclient")
MAX_FRAMES = 12  # the innermost ones: where it went wrong
PROJECT = Path(__file__).resolve().parents[1]  # the checkout or the installed packages' folder


def describe(exc: BaseException) -> str:
    """``DataError (sqlalchemy.exc) from StringDataRightTruncation (psycopg.errors) [SQLSTATE 22001]``,
    then the traceback's frames in this project and the innermost frame (where it was raised, perhaps
    in a library), innermost last, each with its line of code; never any exception's message."""
    lines = [" from ".join(_name(error) for error in _chain(exc))]
    lines += [f"  at {_where(frame.filename)}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()}"
              for frame in _frames(exc)]
    return "\n".join(lines)


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for index, frame in enumerate(frames) if _is_ours(frame.filename) or index == len(frames) - 1]
    return ours[-MAX_FRAMES:]


def _is_ours(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(PROJECT) and "site-packages" not in path.parts


def _where(filename: str) -> str:
    return Path(filename).relative_to(PROJECT).as_posix() if _is_ours(filename) else filename


def quiet_data_loggers() -> None:
    """Keep the loggers that print data at WARNING, so a DEBUG worker still logs no resident's text."""
    for name in DATA_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET (inherit the root's DEBUG or INFO) included
            logger.setLevel(logging.WARNING)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it (``raise ... from`` or raised while handling), outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 5:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__qualname__} ({kind.__module__}){_codes(exc)}"


def _codes(exc: BaseException) -> str:
    """The database's error code and the names it gives (never the values): psycopg's diagnostics,
    SQLite's extended error name."""
    codes = []
    if getattr(exc, "sqlstate", None):
        codes.append(f"SQLSTATE {exc.sqlstate}")
    diagnostics = getattr(exc, "diag", None)
    for field in ("table_name", "column_name", "constraint_name"):
        value = getattr(diagnostics, field, None)
        if value:
            codes.append(f"{field.removesuffix('_name')} {value}")
    if getattr(exc, "sqlite_errorname", None):
        codes.append(exc.sqlite_errorname)
    return f" [{', '.join(codes)}]" if codes else ""


# -- structured logs (``log_format = "json"``) --------------------------------------------------------

# The attributes every LogRecord has; anything else on a record came from ``extra=`` (ids, counts).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, any ids
    given with ``extra=`` (``submission_id``, ``outbox_id``...), and for a failure ``error``: ``describe``
    of the exception, never its message nor its traceback's text.

    Invariant: a record says no more in JSON than in text. The message is the same formatted line the
    text format shows (the logging calls log ids, never what a resident wrote), and the exception is
    reduced to ``describe(exc)`` where the text format would print the traceback with its message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {key: _plain(value) for key, value in vars(record).items()
                  if key not in _RECORD_ATTRIBUTES and not key.startswith("_")}
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)


def _plain(value):
    """A value JSON can carry as it is (ids, counts, names, flags), else its ``str``."""
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
