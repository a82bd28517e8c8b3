"""Import only what a command needs (issue 14: `intake run --once` on an empty mailbox starts in well under
two seconds and the worker stays small). The boundary is pinned as behaviour, not time: a fresh Python
runs the real command and reports which modules it imported.

What the worker leaves alone until it needs it:
- the classifier's libraries (scikit-learn, skops, SciPy, NumPy): at the first message to classify
  (``pipeline.process.LazyClassifier``);
- the letters' PDF and OCR libraries (PyMuPDF, pytesseract, Pillow): at the first letter read
  (``pipeline.read._read_letter``), or at start-up only where ``[letters]`` is a source;
- reportlab and pypdf: when a letter's PDF or the day's batch is drawn (``responders.post``);
- the staff web app (``triage``, Starlette, uvicorn): `intake serve` and the staff commands only;
- Welsh detection (lingua) and OAuth2 (MSAL, google-auth): a Welsh landlord's or an OAuth2 mailbox's.
- Alembic: only to change the schema (a worker on a database already at head reads the stamped revision
  and the code's head without it) or to walk the migrations (`intake migrate`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from core.db import Database, code_head, database_revision, migration_scripts
from tests.conftest import REPO
from tests.e2e import smtp_settings, write_config
from tests.mail import new_maildir

# Top-level packages, each matched with its submodules.
NOT_FOR_THE_WORKER = (
    "alembic",  # the schema is already at head
    "sklearn", "skops", "scipy", "numpy",  # the classifier's
    "pymupdf", "fitz", "pytesseract", "PIL",  # the letters'
    "reportlab", "pypdf",  # printed letters'
    "triage", "starlette", "uvicorn",  # the staff app's
    "lingua", "msal", "google.auth",  # Welsh detection's, OAuth2's
)
NOT_FOR_EVERY_COMMAND = (*NOT_FOR_THE_WORKER, "scheduler", "apscheduler")


def imported_by(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh Python in the repository; it prints one JSON object as its last line."""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**_environment(), **(env or {})})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _environment() -> dict:
    return {key: value for key, value in os.environ.items() if key != "INTAKE_CONFIG"}


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules for package in packages
                  if name == package or name.startswith(f"{package}."))


def test_the_worker_on_an_empty_mailbox_imports_none_of_the_heavy_libraries(tmp_path, smtp):
    maildir = new_maildir(tmp_path / "maildir")
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    config = write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": url, "log_level": "WARNING",
        "maildir": [{"name": "complaints", "path": maildir}], "smtp": smtp_settings(smtp),
    })
    Database(url).migrate()  # as `intake migrate` does before the workers start

    report = imported_by(
        "import json, sys\n"
        "from cli import main\n"
        "status = main(['run', '--once'])\n"
        "print(json.dumps({'status': status, 'modules': sorted(sys.modules)}))\n",
        env={"INTAKE_CONFIG": str(config)})

    assert report["status"] == 0
    # It did run the worker: built it, polled, processed and sent (nothing).
    assert {"scheduler", "pipeline.process", "pipeline.runner", "responders.post"} <= set(report["modules"])
    assert loaded(report["modules"], NOT_FOR_THE_WORKER) == []


def test_importing_the_command_imports_no_library_a_command_may_not_need():
    """What every command pays before it runs, `intake --help` included."""
    report = imported_by("import json, sys\nimport cli\nprint(json.dumps({'modules': sorted(sys.modules)}))\n")

    assert "cli.migrate" in report["modules"]  # every command's parser is there, for --help
    assert loaded(report["modules"], NOT_FOR_EVERY_COMMAND) == []


def test_the_worker_migrates_a_new_database_with_alembic(tmp_path):
    """The other side of the boundary: a database not at head (here a new one) is brought there by Alembic."""
    url = f"sqlite:///{tmp_path / 'intake.db'}"

    report = imported_by(
        "import json, sys\n"
        "from sqlalchemy import text\n"
        "from core.db import Database\n"
        f"db = Database({url!r})\n"
        "db.migrate()\n"
        "with db.engine.connect() as connection:\n"
        "    stamped = connection.execute(text('SELECT version_num FROM alembic_version')).scalar()\n"
        "print(json.dumps({'stamped': stamped, 'modules': sorted(sys.modules)}))\n")

    assert "alembic" in report["modules"]
    assert report["stamped"] == migration_scripts().get_current_head()


def test_the_code_head_read_without_alembic_is_alembics():
    assert code_head() == migration_scripts().get_current_head()
    assert code_head() == max(script.revision for script in migration_scripts().walk_revisions())  # "0001", "0002"...


def test_the_stamped_revision_read_without_alembic_is_alembics(tmp_path):
    from alembic.runtime.migration import MigrationContext

    db = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    with db.engine.connect() as connection:
        assert database_revision(connection) is None  # never migrated
    db.migrate()
    with db.engine.connect() as connection:
        assert database_revision(connection) == MigrationContext.configure(connection).get_current_revision()
        assert database_revision(connection) == code_head()


def test_the_letters_units_are_reportlabs():
    """responders.post writes out reportlab's millimetre and A4 so as not to import reportlab with it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    from responders import post

    assert post.mm == mm and post.A4 == A4
    assert post.A4 == (595.2755905511812, 841.8897637795277)  # 210 mm and 297 mm at 72 points an inch
