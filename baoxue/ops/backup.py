"""Backups and the way back after a bad day.

A backup is one .tar.gz file: the database (PostgreSQL: `pg_dump` custom format; SQLite: the
backup API, a consistent copy while others write), the uploaded files (MEDIA_ROOT: the papers of
applications, screenshots, photos), and a manifest with the row count of every table. The 14
newest are kept. A restore puts the database and the files back and checks every table's count
against the manifest.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

KEEP = 14
PREFIX = "baoxue-backup-"


class BackupError(Exception):
    pass


def backup_dir() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", "") or Path(settings.VAR_DIR) / "backups")


def table_counts() -> dict[str, int]:
    """Rows per table of every model (the manifest, and what a restore is checked against)."""
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        counts[model._meta.db_table] = model._base_manager.count()
    return dict(sorted(counts.items()))


def _pg_env() -> tuple[dict, list[str]]:
    db = settings.DATABASES["default"]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["-h", str(db.get("HOST") or "127.0.0.1"), "-p", str(db.get("PORT") or 5432),
            "-U", str(db.get("USER") or "postgres")]
    return env, args


def _run(cmd: list[str], env: dict) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} 失败：{done.stderr.strip()[-500:]}")


def backup(to: Path | None = None, *, keep: int = KEEP) -> Path:
    """Write one backup file into `to` and keep the `keep` newest there. Returns its path."""
    folder = Path(to) if to else backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{PREFIX}{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(dir=folder) as work:
        work = Path(work)
        vendor = connection.vendor
        if vendor == "postgresql":
            env, args = _pg_env()
            dump = work / "database.dump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), *args,
                  settings.DATABASES["default"]["NAME"]], env)
        elif vendor == "sqlite":
            dump = work / "database.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(dump) as out:
                connection.connection.backup(out)
            out.close()
        else:
            raise BackupError(f"不支持的数据库：{vendor}")
        manifest = {
            "made_at": timezone.localtime().isoformat(), "vendor": vendor, "database": dump.name,
            "counts": table_counts(),
            "migrations": _migrations(),
        }
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(work / "manifest.json", arcname="manifest.json")
            tar.add(dump, arcname=dump.name)
            media = Path(settings.MEDIA_ROOT)
            if media.exists():
                tar.add(media, arcname="media")
        # Only a complete file carries the final name: a killed backup leaves no half copy behind.
        os.replace(partial, target)
    for old in sorted(folder.glob(f"{PREFIX}*.tar.gz"))[:-keep]:
        old.unlink()
    return target


def _migrations() -> list[str]:
    with connection.cursor() as c:
        c.execute("SELECT app, name FROM django_migrations")
        return sorted(f"{a}.{n}" for a, n in c.fetchall())


def read_manifest(path: Path) -> dict:
    try:
        with tarfile.open(path, "r:gz") as tar:
            return json.load(tar.extractfile("manifest.json"))
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as e:
        raise BackupError(f"“{path}”不是保学的备份文件：{e}")


def database_is_empty() -> bool:
    tables = set(connection.introspection.table_names())
    return "org_student" not in tables or not apps.get_model("org", "Student").objects.exists()


def restore(path: Path) -> dict:
    """Put the database and the uploaded files of a backup back, then compare every table's
    count with the manifest. Returns {"counts": …, "mismatches": {table: (expected, found)}}."""
    path = Path(path)
    manifest = read_manifest(path)
    vendor = connection.vendor
    if manifest["vendor"] != vendor:
        raise BackupError(f"备份来自 {manifest['vendor']} 数据库，当前是 {vendor}：不能直接恢复")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        with tarfile.open(path, "r:gz") as tar:
            tar.extractall(work, filter="data")
        dump = work / manifest["database"]
        if vendor == "postgresql":
            env, args = _pg_env()
            connection.close()
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
                  "-d", settings.DATABASES["default"]["NAME"], str(dump)], env)
        else:
            connection.ensure_connection()
            with sqlite3.connect(dump) as src:
                src.backup(connection.connection)
            src.close()
        media = work / "media"
        if media.exists():
            target = Path(settings.MEDIA_ROOT)
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(media, target)
    connection.close()
    found = table_counts()
    mismatches = {t: (n, found.get(t)) for t, n in manifest["counts"].items() if found.get(t) != n}
    return {"counts": found, "mismatches": mismatches, "made_at": manifest["made_at"]}


__all__ = ["backup", "restore", "read_manifest", "table_counts", "database_is_empty", "BackupError", "KEEP"]
