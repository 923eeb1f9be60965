"""SQLite files readable by their owner only: they hold clients' data and raw webhook bodies.

SQLite creates a database file with 0644 less the umask, and its `-wal` and `-shm` files
with the database file's own mode. So the database file is made first, 0600, before SQLite
opens it; the WAL and shared-memory files then inherit 0600. Files an older version left
wider are narrowed on every connect. Changing the process umask instead would reach every
thread's files, not just these.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def private_sqlite_files(url: str) -> None:
    path = sqlite_path(url)
    if path is None:
        return
    try:
        # O_EXCL: create it 0600 if it is not there; an existing file is left to the loop below.
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE))
    except FileExistsError:
        pass
    except OSError as exc:
        # A missing directory or the like: SQLite itself gives the clear error next.
        log.debug("cannot pre-create %s: %s", path, exc)
        return
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & ~PRIVATE_MODE:
                file.chmod(mode & PRIVATE_MODE)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by others and not ours to chmod; make it 0600", file)
