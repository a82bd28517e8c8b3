"""The Dockerfile, docker-compose.yml and their settings and secrets, checked as far as a machine with no
Docker daemon can: every command they run exists in the CLI, every path the image copies is in the build
context, Debian's docker-compose (whose `config` needs no daemon) accepts the compose file, the settings
they give load, the web service's health check passes against a real `intake serve`,
and the database password reaches PostgreSQL the way the compose file hands it over (a pgpass file made by
scripts/compose-secrets.sh), against a real server that asks for a password. Building the image and
`docker compose up` are not run here (README "Running in production" says so)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.test_wheel import dockerignore_rules, ignored

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
INTAKE_SERVICES = ("migrate", "worker", "web")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions


INSTRUCTIONS = dockerfile_instructions()


def exec_form(arguments: str) -> list[str]:
    return yaml.safe_load(arguments)  # a JSON array, which YAML reads


def the_cli(*args: str, env: dict | None = None, cwd=REPO, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env if env is not None else os.environ.copy())


def commands_run() -> list[list[str]]:
    """Every intake command line the image and the compose file run."""
    found = [exec_form(arguments) for keyword, arguments in INSTRUCTIONS if keyword == "CMD"]
    found += [SERVICES[name]["command"] for name in INTAKE_SERVICES]
    return found


# -- the Dockerfile ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("command_line", commands_run(), ids=" ".join)
def test_every_command_the_image_and_compose_run_exists(command_line):
    assert command_line[0] == "intake"
    subcommand = [word for word in command_line[1:] if not word.startswith("-")][:1]
    result = the_cli(*subcommand, "--help")
    assert result.returncode == 0, result.stderr
    options = [word.split("=")[0] for word in command_line[1:] if word.startswith("--")]
    for option in options:
        assert option in result.stdout, f"intake {subcommand[0]} has no {option}"


def test_what_the_dockerfile_copies_is_in_the_build_context():
    rules = dockerignore_rules()
    copies = [arguments.split() for keyword, arguments in INSTRUCTIONS if keyword == "COPY"]
    local = [words for words in copies if not any(word.startswith("--from=") for word in words)]
    assert local, "the image copies the source from the build context"
    for words in local:
        for source in words[:-1]:
            assert (REPO / source).exists(), source
            assert source == "." or not ignored(source, rules), f"{source} is left out by .dockerignore"
    # What the wheel is built from must reach the context.
    for needed in ("pyproject.toml", "README.md", "cli/__init__.py", "responders/templates/email/neutral/body.txt",
                   "classifier/models/current.skops", "casework/migrations/env.py", "scheduler.py"):
        assert not ignored(needed, rules), needed
    for left_out in (".venv/bin/python", ".git/HEAD", "var/intake.db", "tests/conftest.py"):
        assert ignored(left_out, rules), left_out


def test_the_image_runs_the_worker_as_a_user_of_its_own_with_tesseract_and_the_wheel():
    keywords = [keyword for keyword, _ in INSTRUCTIONS]
    final_stage = INSTRUCTIONS[len(keywords) - keywords[::-1].index("FROM") - 1:]
    users = [arguments for keyword, arguments in final_stage if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(arguments for keyword, arguments in final_stage if keyword == "RUN")
    for package in ("tesseract-ocr", "tesseract-ocr-eng", "tesseract-ocr-cym", "fonts-dejavu-core"):
        assert f" {package} " in f" {runs} ", package
    assert "pip install" in runs and ".whl" in runs
    assert exec_form(dict(final_stage)["CMD"]) == ["intake", "run"]


def test_the_ocr_languages_the_image_installs_are_those_tesseract_names():
    """The packages' languages (eng, cym) are Tesseract's codes that [letters] ocr_languages takes."""
    installed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=True).stdout
    assert "eng" in installed.split()
    runs = " ".join(arguments for keyword, arguments in INSTRUCTIONS if keyword == "RUN")
    languages = {word.removeprefix("tesseract-ocr-") for word in runs.split() if word.startswith("tesseract-ocr-")}
    assert languages == {"eng", "cym"}


# -- docker-compose.yml ----------------------------------------------------------------------------------

def test_compose_runs_postgres_a_one_shot_migration_two_workers_and_the_web_app():
    assert set(SERVICES) == {"db", "migrate", "worker", "web"}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in SERVICES["db"]["volumes"])
    assert SERVICES["migrate"]["command"] == ["intake", "migrate"]
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert SERVICES["worker"]["command"] == ["intake", "run"] and SERVICES["worker"]["deploy"]["replicas"] == 2
    assert SERVICES["web"]["command"][:4] == ["intake", "serve", "--host", "0.0.0.0"]
    for name in ("worker", "web"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in INTAKE_SERVICES:
        assert SERVICES[name]["build"] == "." and SERVICES[name]["image"] == SERVICES["worker"]["image"]


def compose_config(folder: Path) -> subprocess.CompletedProcess:
    """`docker-compose config` (a real Compose implementation; it needs no daemon) on folder's compose file."""
    return subprocess.run(["docker-compose", "--file", folder / "docker-compose.yml", "config"], cwd=folder,
                          capture_output=True, text=True, timeout=120)


def test_a_compose_implementation_accepts_the_file_and_resolves_it_as_intended():
    resolved = compose_config(REPO)
    assert resolved.returncode == 0, resolved.stderr
    services = yaml.safe_load(resolved.stdout)["services"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["web"]["command"] == ["intake", "serve", "--host", "0.0.0.0", "--port", "8000"]
    for name in INTAKE_SERVICES:  # the shared anchor reached every intake service
        assert services[name]["environment"]["INTAKE_DATABASE_URL"] == "postgresql+psycopg://intake@db:5432/intake"
        assert f"{REPO}/deploy/intake.toml:/etc/intake/intake.toml:ro" in services[name]["volumes"]
        assert [secret["source"] for secret in services[name]["secrets"]] == ["pgpass"]


def test_the_compose_implementation_refuses_a_misspelt_key(tmp_path):
    """The check above can fail: the same file with `replicas` misspelt is refused."""
    shutil.copytree(REPO / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("secrets"))
    text = (REPO / "docker-compose.yml").read_text()
    assert text.count("replicas: 2") == 1
    (tmp_path / "docker-compose.yml").write_text(text.replace("replicas: 2", "replica: 2"))
    refused = compose_config(tmp_path)
    assert refused.returncode != 0
    assert "replica" in refused.stderr


def test_compose_bind_mounts_and_secrets_name_files_the_repository_or_the_secrets_script_provides(tmp_path):
    for name in INTAKE_SERVICES:
        for volume in SERVICES[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./deploy/secrets"):
                continue  # made on the host by scripts/compose-secrets.sh: checked below
            if source.startswith("./"):
                assert (REPO / source).exists(), source
    made = tmp_path / "secrets"
    subprocess.run([REPO / "scripts" / "compose-secrets.sh", made], check=True, capture_output=True, timeout=60)
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("./deploy/secrets/")
        assert (made / secret["file"].removeprefix("./deploy/secrets/")).is_file(), secret["file"]
    mail_mount = next(volume for volume in SERVICES["worker"]["volumes"] if volume.startswith("./deploy/secrets/"))
    assert (made / mail_mount.split(":")[0].removeprefix("./deploy/secrets/")).is_dir()


def test_the_secrets_script_makes_private_files_for_the_images_user_and_never_overwrites(tmp_path):
    made = tmp_path / "secrets"
    first = subprocess.run([REPO / "scripts" / "compose-secrets.sh", made], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    password = (made / "postgres_password").read_text().strip()
    assert len(password) == 40 and password.isalnum()
    assert (made / "pgpass").read_text() == f"*:*:intake:intake:{password}\n"
    for name in ("postgres_password", "pgpass"):
        status = (made / name).stat()
        assert status.st_mode & 0o777 == 0o400
        assert status.st_uid == (10001 if os.geteuid() == 0 else os.geteuid())
    again = subprocess.run([REPO / "scripts" / "compose-secrets.sh", made], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "nothing changed" in again.stderr
    assert (made / "postgres_password").read_text().strip() == password


def compose_environment(**replace: str) -> dict[str, str]:
    """The intake services' environment from the compose file, the settings file at its place here."""
    environment = dict(SERVICES["worker"]["environment"])
    for name in INTAKE_SERVICES:
        assert SERVICES[name]["environment"] == environment  # one anchor: every intake service the same
    mounted = dict(volume.split(":")[:2][::-1] for volume in SERVICES["worker"]["volumes"])
    environment["INTAKE_CONFIG"] = str(REPO / mounted[environment["INTAKE_CONFIG"]])
    environment.update(replace)
    base = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    return {**base, **environment}


def test_the_compose_settings_and_the_mounted_settings_file_load(tmp_path):
    env = compose_environment(INTAKE_VAR_DIR=str(tmp_path / "var"))
    shown = subprocess.run(
        [sys.executable, "-c", "from core.settings import load_settings\n"
                               "s = load_settings()\n"
                               "print(s.resolved_database_url, s.log_format, s.web.behind_proxy, s.landlord.name)"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["postgresql+psycopg://intake@db:5432/intake", "json", "True", "Example", "Homes"]


def test_intake_check_passes_on_the_shipped_settings_file(postgresql_url, tmp_path):
    """deploy/intake.toml as shipped, with a database this machine has in place of the compose network's."""
    env = compose_environment(INTAKE_DATABASE_URL=postgresql_url, INTAKE_VAR_DIR=str(tmp_path / "var"))
    checked = the_cli("check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_web_services_health_check_passes_against_a_real_intake_serve(tmp_path):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}, "INTAKE_VAR_DIR": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check = SERVICES["web"]["healthcheck"]["test"]
        assert check[0] == "CMD" and check[1] == "python"
        command_line = [sys.executable] + [word.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for word in check[2:]]
        deadline = time.monotonic() + 60
        while (result := subprocess.run(command_line, capture_output=True, text=True, timeout=30)).returncode != 0:
            assert server.poll() is None, "intake serve stopped"
            assert time.monotonic() < deadline, result.stderr
            time.sleep(0.5)
        server.terminate()
        server.wait(timeout=30)
        assert subprocess.run(command_line, capture_output=True, timeout=30).returncode != 0  # fails when it is down
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


# -- the database password, as the compose file hands it over --------------------------------------------

class PasswordServer:
    """A private PostgreSQL cluster on a loopback port that accepts only scram-sha-256 passwords."""

    def __init__(self, password: str) -> None:
        (self.bin,) = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1:]
        self.root = Path(tempfile.mkdtemp(prefix="intake-pgpass-"))
        self.port = free_port()
        (self.root / "password").write_text(password + "\n")
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres")
            shutil.chown(self.root / "password", "postgres")
        self._as_owner(self.bin / "initdb", "--pgdata", self.root / "data", "--username", "intake",
                       "--pwfile", self.root / "password", "--auth", "scram-sha-256")
        self._as_owner(self.bin / "pg_ctl", "--pgdata", self.root / "data", "--wait", "--log", self.root / "log",
                       "--options", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}", "start")
        self._as_owner(self.bin / "createdb", "--host", "127.0.0.1", "--port", str(self.port), "--username",
                       "intake", "intake", env={"PGPASSWORD": password})

    def _as_owner(self, *command, env: dict | None = None) -> None:
        words = [str(word) for word in command]
        if os.geteuid() == 0:
            words = ["runuser", "-u", "postgres", "--", *words]
        subprocess.run(words, check=True, capture_output=True, timeout=120, env={**os.environ, **(env or {})})

    def stop(self) -> None:
        self._as_owner(self.bin / "pg_ctl", "--pgdata", self.root / "data", "--mode", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def password_server_and_secrets(tmp_path):
    made = tmp_path / "secrets"
    subprocess.run([REPO / "scripts" / "compose-secrets.sh", made], check=True, capture_output=True, timeout=60)
    server = PasswordServer((made / "postgres_password").read_text().strip())
    yield server, made
    server.stop()


def test_the_workers_reach_the_database_with_the_pgpass_secret_and_not_without(password_server_and_secrets, tmp_path):
    server, secrets = password_server_and_secrets
    url = f"postgresql+psycopg://intake@127.0.0.1:{server.port}/intake"  # the compose URL: no password in it
    with_secret = compose_environment(INTAKE_DATABASE_URL=url, PGPASSFILE=str(secrets / "pgpass"),
                                      INTAKE_VAR_DIR=str(tmp_path / "var"))
    migrated = the_cli("migrate", env=with_secret)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines()[0] == "database revision before: none (an empty database)"

    without = {**with_secret, "PGPASSFILE": str(tmp_path / "no-such-file")}
    refused = the_cli("migrate", "--check", env=without)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"intake: cannot use the database {url}:")
    assert "password" in refused.stderr
