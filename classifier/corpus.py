"""The labelled corpus (classifier/data/corpus-*.jsonl), the holdout slice, and staff corrections.

Each line: {"id", "subject", "body", "category", "flags": [...], "channel": "email|letter", "voice"}.
holdout.jsonl is never used to choose thresholds, hyper-parameters or rules: only to report on. Nor is
unseen/*.jsonl: files by writers who read only the categories' definitions, measured and never trained on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from casework.vocabulary import Category, Flag

DATA_DIR = Path(__file__).parent / "data"
HOLDOUT_NAME = "holdout.jsonl"
UNSEEN_DIR = "unseen"

log = logging.getLogger(__name__)

_CATEGORIES = {c.value for c in Category}
_FLAGS = {f.value for f in Flag}


@dataclass(frozen=True)
class Example:
    id: str
    subject: str
    body: str
    category: str
    flags: frozenset[str]
    channel: str = "email"
    source: str = "corpus"  # "corpus" or "correction"


def load_corpus(data_dir: Path | None = None) -> list[Example]:
    """Every example in corpus-*.jsonl (never the holdout), in file then line order."""
    directory = Path(data_dir or DATA_DIR)
    examples: list[Example] = []
    for path in sorted(directory.glob("corpus-*.jsonl")):
        examples.extend(read_jsonl(path))
    return examples


def load_holdout(data_dir: Path | None = None) -> list[Example]:
    return read_jsonl(Path(data_dir or DATA_DIR) / HOLDOUT_NAME)


def load_unseen(data_dir: Path | None = None) -> dict[str, list[Example]]:
    """unseen/*.jsonl by file name (no extension): measured only, never trained or tuned on."""
    directory = Path(data_dir or DATA_DIR) / UNSEEN_DIR
    return {path.stem: read_jsonl(path) for path in sorted(directory.glob("*.jsonl"))}


def read_jsonl(path: Path) -> list[Example]:
    """The valid examples of one file; a malformed line (e.g. one still being written) is skipped."""
    examples = []
    if not path.is_file():
        return examples
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(_example(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("skipping %s line %d: %s", path.name, number, exc)
    return examples


def _example(row: dict) -> Example:
    category = row["category"]
    if category not in _CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    flags = frozenset(row.get("flags") or ())
    if not flags <= _FLAGS:
        raise ValueError(f"unknown flags {sorted(flags - _FLAGS)}")
    return Example(
        id=str(row["id"]),
        subject=str(row.get("subject") or ""),
        body=str(row["body"]),
        category=category,
        flags=flags,
        channel=str(row.get("channel") or "email"),
    )


def load_corrections(session) -> list[Example]:
    """Staff corrections as examples: the subject and the new text, prepared by training as live mail is."""
    from casework.models import LabelCorrection

    rows = session.scalars(select(LabelCorrection).order_by(LabelCorrection.id)).all()
    latest: dict[tuple, LabelCorrection] = {}  # a later correction of the same message wins
    for row in rows:
        key = (row.submission_id, row.case_id) if row.submission_id or row.case_id else ("row", row.id)
        latest[key] = row
    return [
        Example(
            id=f"correction-{row.id}",
            subject=row.subject or "",
            body=row.text,
            category=row.category,
            flags=frozenset(row.flags or ()),
            channel="email",
            source="correction",
        )
        for row in sorted(latest.values(), key=lambda r: r.id)
    ]
