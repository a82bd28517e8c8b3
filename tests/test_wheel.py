"""The wheel alone carries the service: built as the Dockerfile builds it (from what .dockerignore lets
into the build context), installed into a fresh virtualenv outside the repository, then run from a folder
that is not the repository, as the container runs it. Templates, the model, the classifier's rules and the
migrations can only come from the wheel there: the repository is on no path the installed `intake` sees.

The virtualenv is made without pip or any package, and given the wheel's declared dependencies alone by a
.pth file naming a folder of links to their installed files in the project's virtualenv (read from the
wheel's Requires-Dist, transitively): nothing is downloaded, the wheel is installed with --no-deps, there is
no other copy of the project's code, and a dependency the code imports but pyproject.toml does not declare
is missing there as it would be in the image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email import message_from_bytes, policy
from importlib import metadata
from email.utils import parseaddr
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO
from tests.mail import deliver, make_mail, new_maildir

PACKAGES = ("cli", "core", "text", "intake", "pipeline", "classifier", "casework", "responders", "triage")
REFERENCE = re.compile(r"\b(?:CMP|SR|CPL|GEN)-\d{4}-\d{6}\b")


# -- the build context, as Docker sends it ----------------------------------------------------------------

def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    """(excludes, pattern) for each line of .dockerignore, in order; the last rule that matches a path
    decides (a `!` line lets a path back in). Docker's syntax as this file uses it: `*`, `?` and `**`."""
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        rules.append((excludes, re.compile(_glob_to_regex(pattern))))
    return rules


def _glob_to_regex(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out + r"\Z"


def ignored(relative: str, rules) -> bool:
    """Whether Docker leaves ``relative`` (a/b/c) out: a rule matching the path or any folder above it."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    verdict = False
    for excludes, pattern in rules:
        if any(pattern.match(prefix) for prefix in prefixes):
            verdict = excludes
    return verdict


def copy_build_context(destination: Path) -> list[str]:
    """Copy what `docker build .` would send; returns the copied files' relative paths."""
    rules, copied = dockerignore_rules(), []
    for folder, subfolders, files in os.walk(REPO):
        here = Path(folder).relative_to(REPO)
        subfolders[:] = [name for name in subfolders if not ignored((here / name).as_posix(), rules)]
        for name in files:
            relative = (here / name).as_posix()
            if not ignored(relative, rules):
                (destination / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / relative, destination / relative)
                copied.append(relative)
    return copied


# -- the wheel and its virtualenv -----------------------------------------------------------------------

class Installed:
    def __init__(self, root: Path, wheel: Path, context_files: list[str]) -> None:
        self.root, self.wheel, self.context_files = root, wheel, context_files
        self.bin = root / "venv" / "bin"
        self.site_packages = Path(subprocess.run(
            [self.bin / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True).stdout.strip())

    def environment(self, **settings: str) -> dict[str, str]:
        """The machine's environment less anything that could point at the repository or set a setting."""
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("INTAKE_") and name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env.update(settings)
        return env

    def intake(self, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run([self.bin / "intake", *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    context = root / "context"
    context_files = copy_build_context(context)
    # Built without isolation, so nothing is downloaded: the build backend is the test extra's setuptools (>=70.1 builds wheels without the wheel package).
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", root / "dist", context], check=True, timeout=300)
    (wheel,) = (root / "dist").glob("housing_intake-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root / "venv"], check=True, timeout=120)
    _lend_dependencies(root, wheel)
    # This virtualenv's pip installs into the new one (which has none): only the wheel goes in.
    subprocess.run([sys.executable, "-m", "pip", "--python", root / "venv" / "bin" / "python", "install", "--no-deps",
                    "--no-index", "--quiet", wheel], check=True, timeout=300, cwd=root)
    return Installed(root, wheel, context_files)


def declared_distributions(wheel: Path) -> list[metadata.Distribution]:
    """The distributions `pip install` of the wheel would bring, as installed here: its Requires-Dist
    without extras, then theirs (with the extras asked for, e.g. psycopg[binary]), transitively. A
    declared one missing here raises PackageNotFoundError."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        declared = message_from_bytes(archive.read(name)).get_all("Requires-Dist") or []
    queue = [requirement for requirement in map(Requirement, declared)
             if requirement.marker is None or requirement.marker.evaluate({"extra": ""})]
    seen: set[tuple[str, str]] = set()
    found: dict[str, metadata.Distribution] = {}
    while queue:
        requirement = queue.pop()
        distribution = metadata.distribution(requirement.name)
        key = canonicalize_name(requirement.name)
        found[key] = distribution
        for extra in ("", *sorted(requirement.extras)):
            if (key, extra) in seen:
                continue
            seen.add((key, extra))
            for needed in map(Requirement, distribution.requires or []):
                if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                    queue.append(needed)
    return list(found.values())


def _lend_dependencies(root: Path, wheel: Path) -> None:
    """A folder of links to the installed files of the wheel's declared dependencies alone (never the
    project's editable install, nor the test extras), named by a .pth file in the new virtualenv: a
    dependency the code needs but pyproject.toml does not declare is missing there, as in the image."""
    ours = Path(sysconfig.get_paths()["purelib"])
    lent = root / "dependencies"
    lent.mkdir()
    for distribution in declared_distributions(wheel):
        for file in distribution.files or []:
            parts = Path(file).parts
            if parts[0] == ".." or parts[0] == "__pycache__":
                continue  # scripts in bin/, and no one's
            top = ours / parts[0]
            if top.is_dir() and len(parts) > 2 and not (top / "__init__.py").exists():
                # A namespace package (google/ ...): lend this distribution's part of it only.
                (lent / parts[0]).mkdir(exist_ok=True)
                link, target = lent / parts[0] / parts[1], top / parts[1]
            else:
                link, target = lent / parts[0], top
            if not link.exists() and target.exists():
                link.symlink_to(target)
    venv_site = next((root / "venv" / "lib").glob("python3*/site-packages"))
    (venv_site / "project-dependencies.pth").write_text(f"{lent}\n")


# -- the tests ------------------------------------------------------------------------------------------

def test_the_wheel_carries_every_file_of_every_package(installed):
    """Every file under a package folder in the build context (code, templates, model, rules, migrations,
    static files, data) is in the wheel: a file left out is one the image would run without."""
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    package_files = [name for name in installed.context_files if name.split("/")[0] in PACKAGES]
    assert len(package_files) > 250  # the packages' files, not a context that lost them
    missing = sorted(name for name in package_files if name not in in_wheel)
    assert missing == []
    for needed in ("responders/templates/email/neutral/body.txt", "classifier/models/current.skops",
                   "casework/migrations/env.py", "casework/migrations/script.py.mako", "triage/static/htmx.min.js",
                   "scheduler.py"):
        assert needed in in_wheel


def test_the_installed_code_is_the_wheels_and_the_repository_is_on_no_path(installed, tmp_path):
    env = installed.environment()
    found = subprocess.run(
        [installed.bin / "python", "-c",
         "import sys, importlib\n"
         f"for name in {PACKAGES + ('scheduler',)!r}:\n"
         "    print(importlib.import_module(name).__file__)\n"
         "print('\\n'.join(sys.path))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    files, paths = lines[:len(PACKAGES) + 1], lines[len(PACKAGES) + 1:]
    for file in files:
        assert Path(file).is_relative_to(installed.site_packages), file
    for path in paths:
        assert not (tmp_path / path).resolve().is_relative_to(REPO), path  # '' is the folder it ran in


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_installed_intake_runs_a_maildir_once_from_outside_the_repository(installed, tmp_path, database, request):
    """`intake run --once` as the container's worker runs it, on two residents' emails: both stored,
    classified (the wheel's model and rules), put in a case (the wheel's migrations) and acknowledged
    (the wheel's templates) as .eml files by the file transport; then `intake check` and `intake migrate
    --check` pass on the same settings."""
    site = tmp_path / "site"
    site.mkdir()
    maildir = new_maildir(site / "maildir")
    residents = {"sam.resident@example.net", "alex.tenant@example.com"}
    deliver(maildir, make_mail(sender="Sam Resident <sam.resident@example.net>", subject="Complaint about my repair",
                               body="I reported a leak three weeks ago and nobody has come. I want to make a formal "
                                    "complaint about how this has been handled."))
    deliver(maildir, make_mail(sender="Alex Tenant <alex.tenant@example.com>", subject="Boiler",
                               body="My boiler has stopped working since yesterday, could someone come out please?"))
    settings = {"INTAKE_VAR_DIR": str(site / "var"),
                "INTAKE_MAILDIR": f'[{{"name": "complaints", "path": "{maildir}"}}]'}
    if database == "postgresql":
        settings["INTAKE_DATABASE_URL"] = request.getfixturevalue("postgresql_url")
    env = installed.environment(**settings)

    run = installed.intake("run", "--once", cwd=site, env=env)
    assert run.returncode == 0, run.stderr

    outbox = sorted((site / "var" / "outbox").glob("*.eml"))
    acknowledgements = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in outbox]
    assert sorted(parseaddr(message["To"])[1] for message in acknowledgements) == sorted(residents)  # one each
    for message in acknowledgements:
        body = message.get_body(("plain",)).get_content()
        assert REFERENCE.search(message["Subject"] + body), message["Subject"]
        assert "Example Homes" in body

    check = installed.intake("check", cwd=site, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    migrated = installed.intake("migrate", "--check", cwd=site, env=env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "at head" in migrated.stdout
