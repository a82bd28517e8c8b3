"""Safety flags in two tiers, held reasons and acknowledgements, measured end to end through the worker.

Run: .venv/bin/python bench/measure_flags.py [FILE.jsonl ...] [--json OUT.json] [--keep DIR]
(default files: classifier/data/holdout.jsonl and classifier/data/unseen/*.jsonl, each reported alone
and all together).

Every labelled item (``id``, ``subject``, ``body``, ``category``, ``flags``, ``channel``) becomes what the
landlord would receive: an email (``channel`` "email", or anything but "letter") is an .eml delivered
into a Maildir from its own sender, with its mtime (the receipt) on Monday 16 November 2026, 10:00 UTC;
an item labelled ``auto_reply`` carries ``Auto-Submitted: auto-replied``, as real machine mail does; a
letter (``channel`` "letter") is a .txt file in the letters folder (the letters source: its text as
the post room's scanner would give it, no OCR), with the same mtime and a made-up sender's address
block on top (so it can be answered by post, as an email can by its From). Then the real worker runs: the
``intake`` command, ``run --once`` on SQLite with the file transport, until nothing new is taken (a
letter is taken once its size is stable: the second poll). The figures come from what it stored:

* held share, and each hold reason's count (a case held for two reasons counts in both);
* the acknowledgement each item got: by category, neutral, or none (nothing queued);
* wrong category among the by-category acknowledgements (against the item's label);
* for safeguarding, emergency hazard and damp and mould: recall and precision of the urgent tier
  (``cases.flags``), of the check tier (``cases.checks``) and of either.

Nothing here is a test: it prints figures. The worker runs with whatever classifier/models/ holds.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, inspect, text  # noqa: E402

RECEIVED = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)  # a Monday morning
SAFETY = ("safeguarding", "emergency_hazard", "damp_mould")
ACK_CATEGORY = {"complaint_stage1": "complaint", "complaint_stage2": "complaint", "service_request": "service_request",
                "compliment": "compliment", "out_of_scope": "out_of_scope"}
ACK_KINDS = {*ACK_CATEGORY, "neutral"}
CONFIG = """\
var_dir = "{var}"
database_url = "sqlite:///{var}/intake.db"
log_level = "ERROR"

[[maildir]]
name = "measure"
path = "{maildir}"

[letters]
path = "{letters}"
receipt_date_from = "mtime"

[landlord]
name = "Example Homes"
email = "complaints@example.org"
"""


def items_of(paths: list[Path]) -> list[dict]:
    items = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                item = json.loads(line)
                item["_file"] = path.stem
                item["_key"] = re.sub(r"[^A-Za-z0-9_-]", "_", f"{path.stem}-{item.get('id') or number}")
                items.append(item)
    return items


def is_letter(item: dict) -> bool:
    return item.get("channel") == "letter"


def write_inputs(items: list[dict], maildir: Path, letters: Path) -> None:
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    letters.mkdir(parents=True, exist_ok=True)
    stamp = RECEIVED.timestamp()
    for n, item in enumerate(items):
        if is_letter(item):
            path = letters / f"{item['_key']}.txt"
            path.write_text(letter_of(item, n), encoding="utf-8")
        else:
            path = maildir / "new" / f"{int(stamp)}.{item['_key']}.measure"
            path.write_bytes(email_of(item, n))
        os.utime(path, (stamp, stamp))


def letter_of(item: dict, n: int) -> str:
    """The letter as typed: the sender's address block at the top (every email has a From; every letter
    here has an address to answer by post), its subject line if any, then the writer's text."""
    block = f"{n + 1} Example Road\nNortham\nNM{1 + n % 9} {n % 10}AB\n\n"
    subject = (item.get("subject") or "").strip()
    return block + (f"{subject}\n\n" if subject else "") + (item.get("body") or "")


def email_of(item: dict, n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Resident {n} <resident{n}@example.net>"
    message["To"] = "Example Homes <complaints@example.org>"
    message["Subject"] = item.get("subject") or ""
    message["Date"] = format_datetime(RECEIVED)
    message["Message-ID"] = f"<{item['_key']}@measure.example>"
    if "auto_reply" in (item.get("flags") or []):
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(item.get("body") or "")
    return message.as_bytes()


def run_worker(config: Path, expected: int, database: Path, code: Path) -> int:
    """``intake run --once`` until every item is stored and nothing is pending (at most 6 runs). The
    command is the ``intake`` console script's ``cli.main``, imported from ``code`` (this checkout, or an
    exported older commit to measure "before")."""
    env = {**os.environ, "INTAKE_CONFIG": str(config)}
    command = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())", "run", "--once"]
    runs = 0
    for runs in range(1, 7):
        subprocess.run(command, env=env, check=True, cwd=code)
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as connection:
            stored = connection.scalar(text("select count(*) from submissions"))
            pending = connection.scalar(text("select count(*) from submissions where disposition = 'pending'"))
        engine.dispose()
        if stored >= expected and not pending:
            break
    return runs


def outcomes(database: Path, items: list[dict]) -> dict[str, dict]:
    """What the worker did with each item, by item key."""
    engine = create_engine(f"sqlite:///{database}")
    has_checks = "checks" in {column["name"] for column in inspect(engine).get_columns("cases")}
    checks = "c.checks" if has_checks else "'[]'"
    found: dict[str, dict] = {}
    with engine.connect() as connection:
        rows = connection.execute(text(
            f"select s.id, s.message_id, s.filename, s.disposition, s.reason, c.id, c.category, c.flags, {checks}, "
            "c.held_reason, c.status from submissions s left join cases c on c.id = s.case_id")).all()
        acks = collections.defaultdict(list)
        for submission_id, kind in connection.execute(text("select submission_id, kind from outbox order by id")):
            acks[submission_id].append(kind)
    engine.dispose()
    by_mid = {f"{item['_key']}@measure.example": item["_key"] for item in items}
    by_file = {f"{item['_key']}.txt": item["_key"] for item in items}
    for sid, mid, filename, disposition, reason, case_id, category, flags, case_checks, held, status in rows:
        key = by_mid.get((mid or "").strip("<>")) or by_file.get(Path(filename or "").name)
        if key is None:
            continue
        kinds = [kind for kind in acks.get(sid, []) if kind in ACK_KINDS]
        found[key] = {
            "disposition": disposition, "category": category, "held": status == "held",
            "held_reasons": [_reason(part) for part in (held or "").split("; ") if part],
            "flags": set(_json(flags)), "checks": set(_json(case_checks)),
            "ack": kinds[0] if kinds else None,
        }
    return found


def _json(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else json.loads(value)


def _reason(part: str) -> str:
    """A hold reason without its particulars: "classifier not confident (complaint, 0.81)" counts as one."""
    return re.sub(r"\s*\(.*?\)", "", part).split(":")[0].strip()


def figures(items: list[dict], found: dict[str, dict]) -> dict:
    n = len(items)
    done = [(item, found.get(item["_key"])) for item in items]
    missing = sum(1 for _, got in done if got is None)
    got = [(item, result) for item, result in done if result is not None]
    held = [result for _, result in got if result["held"]]
    reasons = collections.Counter(reason for result in held for reason in result["held_reasons"])
    kinds = collections.Counter(_ack_label(result["ack"]) for _, result in got)
    by_category = [(item, result) for item, result in got if result["ack"] in ACK_CATEGORY]
    wrong = [(item["_key"], item["category"], ACK_CATEGORY[result["ack"]]) for item, result in by_category
             if ACK_CATEGORY[result["ack"]] != item["category"]]
    flags = {}
    for flag in SAFETY:
        truth = [flag in (item.get("flags") or []) for item, _ in got]
        tiers = {"urgent": [flag in result["flags"] for _, result in got],
                 "check": [flag in result["checks"] for _, result in got]}
        tiers["either"] = [u or c for u, c in zip(tiers["urgent"], tiers["check"])]
        flags[flag] = {"true": sum(truth), **{tier: _pr(truth, raised) for tier, raised in tiers.items()}}
    return {
        "items": n, "missing": missing, "held": len(held), "held_share": len(held) / n if n else 0.0,
        "held_reasons": dict(reasons.most_common()), "acknowledgements": dict(kinds),
        "by_category": len(by_category), "wrong_category": len(wrong), "wrong": wrong, "flags": flags,
    }


def _ack_label(kind: str | None) -> str:
    if kind is None:
        return "none"
    return "neutral" if kind == "neutral" else "category"


def _pr(truth: list[bool], raised: list[bool]) -> dict:
    hit = sum(1 for t, r in zip(truth, raised) if t and r)
    return {"raised": sum(raised), "hit": hit, "recall": hit / sum(truth) if sum(truth) else None,
            "precision": hit / sum(raised) if sum(raised) else None}


def report(name: str, result: dict) -> str:
    n = result["items"]
    acks = result["acknowledgements"]
    lines = [f"### {name} (n={n}{', ' + str(result['missing']) + ' not found' if result['missing'] else ''})", "",
             f"- held for a person: {result['held']} ({_pct(result['held'], n)})"]
    for reason, count in result["held_reasons"].items():
        lines.append(f"  - {count}: {reason}")
    lines.append(f"- acknowledged by category {acks.get('category', 0)} ({_pct(acks.get('category', 0), n)}), "
                 f"neutral {acks.get('neutral', 0)} ({_pct(acks.get('neutral', 0), n)}), "
                 f"none {acks.get('none', 0)} ({_pct(acks.get('none', 0), n)})")
    lines.append(f"- wrong category among the by-category acknowledgements: {result['wrong_category']} of "
                 f"{result['by_category']} ({_pct(result['wrong_category'], result['by_category'], 1)})")
    lines += ["", "| flag (true) | urgent: recall / precision (raised) | check: recall / precision (raised) "
              "| either: recall / precision (raised) |", "|---|---|---|---|"]
    for flag, row in result["flags"].items():
        cells = [f"{_f(row[tier]['recall'])} / {_f(row[tier]['precision'])} ({row[tier]['raised']})"
                 for tier in ("urgent", "check", "either")]
        lines.append(f"| {flag} ({row['true']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pct(part: int, whole: int, places: int = 0) -> str:
    return f"{100 * part / whole:.{places}f}%" if whole else "–"


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def default_files() -> list[Path]:
    data = REPO / "classifier" / "data"
    return [data / "holdout.jsonl", *sorted((data / "unseen").glob("*.jsonl"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="run the worker from this source tree (default: this checkout), "
                             "e.g. a `git archive` of an older commit")
    args = parser.parse_args()
    files = args.files or default_files()
    items = items_of(files)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        var, maildir, letters = work / "var", work / "maildir", work / "letters"
        var.mkdir(parents=True, exist_ok=True)
        write_inputs(items, maildir, letters)
        config = work / "intake.toml"
        config.write_text(CONFIG.format(var=var, maildir=maildir, letters=letters))
        runs = run_worker(config, len(items), var / "intake.db", args.code.resolve())
        found = outcomes(var / "intake.db", items)
    model = json.loads((args.code / "classifier/models/current.json").read_text()).get("model_version", "?")
    letters_count = sum(1 for item in items if is_letter(item))
    print(f"model {model}; {len(items)} items ({len(items) - letters_count} emails, {letters_count} letters as .txt); "
          f"worker runs: {runs}\n")
    results = {}
    groups = {path.stem: [item for item in items if item["_file"] == path.stem] for path in files}
    if len(groups) > 1:
        groups["all"] = items
    for name, group in groups.items():
        results[name] = figures(group, found)
        print(report(name, results[name]) + "\n")
    if args.json:
        args.json.write_text(json.dumps({"model": model, "figures": results}, indent=1, default=list))


if __name__ == "__main__":
    main()
