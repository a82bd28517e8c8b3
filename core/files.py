"""Files that hold residents' data are readable by the service's user only, whatever the umask.

Invariant: every folder this service creates for residents' data (var_dir, the SQLite database's
folder, the print folder, the file transport's outbox, the letters' processed/ and quarantine/) is
made 0700, and every file it writes or files there (the database and its -wal/-shm/-journal files,
printed PDFs, .eml files, filed scans and their notes) is 0600. Modes are set explicitly rather than
through the umask, which is one per process and not this module's to change. A folder that already
exists keeps the mode its administrator gave it (a print folder may be shared with the post room on
purpose); only the files in it are made private.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """The folder, created 0700 if missing (with any missing parents, also 0700)."""
    path = Path(path)
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue  # another process made it first; its mode is its maker's
        os.chmod(folder, DIRECTORY_MODE)  # mkdir's mode is masked by the umask
    return path


def make_private(path: Path) -> Path:
    """An existing file made 0600 (a file moved here keeps the mode it was scanned with)."""
    os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write atomically and privately: a hidden 0600 temporary file in the same folder, synced, then
    renamed into place, so a reader never sees half a file and nobody else can read it."""
    path = Path(path)
    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def private_database_file(path: Path) -> Path:
    """The SQLite file created empty and 0600 before SQLite opens it (SQLite creates its -wal, -shm and
    -journal files with the database file's mode); an existing one, and its companions, made 0600 when
    they are this user's (another account reading them is left to the error SQLite gives it)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if file.exists() and file.stat().st_uid == os.getuid():
            make_private(file)
    return path
