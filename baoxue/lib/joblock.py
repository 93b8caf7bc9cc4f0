"""One run of a job at a time (two escalations from cron and the scheduler, or two servers).

On PostgreSQL a session-level advisory lock: it holds across the job's many transactions and
the server releases it when the process dies. On SQLite (one machine) an OS file lock beside
the database, which the kernel releases when the process dies. Never a stale lock to clear by
hand.
"""

import contextlib
import fcntl
import zlib
from pathlib import Path

from django.conf import settings
from django.db import connection


@contextlib.contextmanager
def exclusive(name: str):
    """Yields True when this process holds the lock `name`, False when another one does (the
    caller then skips the work: the other run is doing it)."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"baoxue:{name}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = cursor.fetchone()[0]
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
