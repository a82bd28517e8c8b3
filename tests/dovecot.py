"""A real, throwaway Dovecot IMAP server for tests (see /work/shared/notes/dovecot-for-tests.md).

    server = Dovecot()            # a temp dir, a free loopback port, one user
    server = Dovecot(oauth2_introspection_url="http://127.0.0.1:8080/introspect")
                                  # also XOAUTH2 and OAUTHBEARER, each token checked by that endpoint
    server.start()
    server.append("INBOX", b"Subject: hi\\r\\n\\r\\nbody\\r\\n", internaldate=some_aware_datetime)
    server.folder_uids("INBOX")   # -> [1]
    server.stop(); server.start() # down and back up on the same port
    server.cleanup()              # stop and remove the temp dir

It must run as root (Dovecot drops to the ``dovecot`` user for mail). A missing ``dovecot``
binary is an error, never a skip: these tests exist to prove the code against a real server.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/run
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
mail_location = maildir:{root}/mail/%u
{oauth2_passdb}
default_internal_user = dovecot
default_login_user = dovenull
default_internal_group = dovecot
first_valid_uid = 0
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
}}
"""

DEFAULT_USERS = {"complaints@example.org": "secret"}

# Dovecot 2.3's oauth2 passdb: an XOAUTH2/OAUTHBEARER login's token is POSTed (``token=...``) to the
# introspection endpoint, whose JSON must say {"active": true, "username": <the login name>}. It
# answers only those two mechanisms, so PLAIN and LOGIN still go to the passwd-file passdb.
OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}
"""
OAUTH2_CONFIG = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        raise RuntimeError(f"{name} not found: install it with `apt-get install -y dovecot-imapd`")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Dovecot:
    """One Dovecot master process serving IMAP on 127.0.0.1:port from its own temp dir."""

    host = "127.0.0.1"

    def __init__(self, users: dict[str, str] | None = None, port: int | None = None, *,
                 oauth2_introspection_url: str | None = None) -> None:
        self.dovecot = _binary("dovecot")
        self.doveadm = _binary("doveadm")
        self.oauth2_introspection_url = oauth2_introspection_url
        self.users = dict(users or DEFAULT_USERS)
        self.user, self.password = next(iter(self.users.items()))
        self.port = port or free_port()
        # Not pytest's tmp_path: its parents are 0700, and Dovecot's processes are not root.
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.config = self.root / "dovecot.conf"
        self._write_files()

    def _write_files(self) -> None:
        os.chmod(self.root, 0o755)
        (self.root / "mail").mkdir()
        oauth2 = self.oauth2_introspection_url is not None
        self.config.write_text(CONFIG.format(
            root=self.root, port=self.port, oauth2_mechanisms=" xoauth2 oauthbearer" if oauth2 else "",
            oauth2_passdb=OAUTH2_PASSDB.format(root=self.root) if oauth2 else ""))
        if oauth2:
            (self.root / "dovecot-oauth2.conf.ext").write_text(OAUTH2_CONFIG.format(url=self.oauth2_introspection_url))
        lines = [f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items()]
        (self.root / "users").write_text("".join(lines))
        shutil.chown(self.root / "mail", "dovecot", "dovecot")

    def maildir(self, user: str | None = None) -> Path:
        """The user's Maildir (its root is INBOX; other folders are ``.Name`` inside it)."""
        return self.root / "mail" / (user or self.user)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, wait_seconds: float = 10.0) -> None:
        # Dovecot daemonises and its children keep inherited pipes open: write to a file instead.
        with open(self.root / "start.err", "ab") as errors:
            result = subprocess.run([self.dovecot, "-c", str(self.config)], stdout=errors, stderr=errors)
        if result.returncode != 0:
            raise RuntimeError(f"dovecot failed to start:\n{(self.root / 'start.err').read_text()}")
        self._wait(lambda: _port_open(self.port), wait_seconds, "start listening")

    def stop(self, graceful: bool = False, wait_seconds: float = 10.0) -> None:
        """Take the server down, open connections included.

        By default every Dovecot process of this server is killed at once (like a crash or a
        pulled cable, and fast); ``graceful=True`` asks ``doveadm stop`` instead (about 2 s)."""
        pid = self._master_pid()
        if pid is None:
            return
        if graceful:
            subprocess.run([self.doveadm, "-c", str(self.config), "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            for each in [pid, *_descendants(pid)]:
                _kill(each)
            # The killed master may linger as a zombie until pid 1 reaps it, and Dovecot would
            # take that for a running server: the pid file goes now.
            (self.root / "run" / "master.pid").unlink(missing_ok=True)
        self._wait(lambda: not _alive(pid) and not _port_open(self.port), wait_seconds, "stop")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _master_pid(self) -> int | None:
        path = self.root / "run" / "master.pid"
        if not path.exists():
            return None
        pid = int(path.read_text().strip() or 0)
        return pid if pid and _alive(pid) else None

    def _wait(self, ready, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not {what} within {seconds}s:\n{self.log()[-2000:]}")
            time.sleep(0.02)

    # -- mailbox helpers ------------------------------------------------------------------

    def client(self, user: str | None = None) -> IMAPClient:
        """A logged-in plain-text imapclient connection (close it with ``logout()``)."""
        user = user or self.user
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def append(self, folder: str, raw: bytes, internaldate: dt.datetime | None = None) -> int:
        """Append one message (creating the folder if need be); return its UID."""
        return self.append_many(folder, [raw], internaldate)[0]

    def append_many(self, folder: str, raws: list[bytes], internaldate: dt.datetime | None = None) -> list[int]:
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            return [_appended_uid(client.append(folder, raw, msg_time=internaldate)) for raw in raws]
        finally:
            client.logout()

    def folder_uids(self, folder: str) -> list[int]:
        """The UIDs now in the folder, ascending ([] if the folder does not exist)."""
        client = self.client()
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))
        finally:
            client.logout()

    def uidvalidity(self, folder: str) -> int:
        client = self.client()
        try:
            return client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
        finally:
            client.logout()

    def recreate_folder(self, folder: str) -> None:
        """Delete and create the folder again: empty, with a new UIDVALIDITY."""
        client = self.client()
        try:
            client.delete_folder(folder)
            client.create_folder(folder)
        finally:
            client.logout()


def _descendants(pid: int) -> list[int]:
    """Every process below pid (found through /proc), so a stop also ends open IMAP sessions."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent_of(entry)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        below = children.get(queue.pop(), [])
        found.extend(below)
        queue.extend(below)
    return found


def _parent_of(proc_entry: Path) -> int | None:
    try:
        stat = (proc_entry / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Running, and not a zombie (a container's pid 1 may be slow to reap daemons)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _appended_uid(response: bytes) -> int:
    match = re.search(rb"APPENDUID \d+ (\d+)", response)
    if match is None:
        raise RuntimeError(f"server did not report APPENDUID: {response!r}")
    return int(match.group(1))
