"""What the staff app works with, wired by ``scheduler.build_staff``: the settings, the database, the
casework verbs, the correspondence (to preview a reply exactly as it would be queued), and a way to
run one submission through the pipeline now (re-run, logged contacts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from casework.actions import Casework
from core.db import Database
from core.settings import Settings
from responders.correspondence import Correspondence
from responders.render import TemplateSet


@dataclass
class Staff:
    settings: Settings
    db: Database
    casework: Casework
    templates: TemplateSet
    correspondence: Correspondence
    process: Callable[[int], str | None]  # pipeline.runner.Runner.process
