"""Backup → restore into an empty database gives the same rows in every table and the same
uploaded papers; only the 14 newest backups are kept; a file that is not a backup is refused."""

import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest


def _databases(tmp_path):
    """Two fresh databases (source, target) for the child processes, and how to drop them."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}", lambda: None
    import psycopg

    base = url.rsplit("/", 1)[0]
    names = [f"baoxue_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"{base}/{names[0]}", f"{base}/{names[1]}", drop


def baoxue(env, *args, input_text=None):
    return subprocess.run([sys.executable, "-m", "baoxue", *args], env=env, capture_output=True, text=True,
                          input=input_text, timeout=900)


COUNTS = ("import django, json; django.setup(); from baoxue.ops.backup import table_counts; "
          "print(json.dumps(table_counts()))")


def test_backup_then_restore_into_an_empty_database_gives_the_same_counts(tmp_path):
    source, target, drop = _databases(tmp_path)
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "baoxue.settings", "SECRET_KEY": "x", "DEBUG": "1"}
    a = {**base, "DATABASE_URL": source, "BAOXUE_VAR_DIR": str(tmp_path / "a"), "MEDIA_ROOT": str(tmp_path / "a-media")}
    b = {**base, "DATABASE_URL": target, "BAOXUE_VAR_DIR": str(tmp_path / "b"), "MEDIA_ROOT": str(tmp_path / "b-media")}
    try:
        assert baoxue(a, "migrate", "-v0").returncode == 0
        made = baoxue(a, "demo")
        assert made.returncode == 0, made.stderr[-2000:]
        done = baoxue(a, "backup", "--to", str(tmp_path / "backups"))
        assert done.returncode == 0, done.stderr[-2000:]
        files = list((tmp_path / "backups").glob("baoxue-backup-*.tar.gz"))
        assert len(files) == 1 and "已备份" in done.stdout

        # Refused without the confirmation; nothing written.
        refused = baoxue(b, "restore", str(files[0]), input_text="no\n")
        assert refused.returncode != 0 and "已取消" in refused.stderr
        restored = baoxue(b, "restore", str(files[0]), input_text="yes\n")
        assert restored.returncode == 0, restored.stderr[-2000:]
        assert "行数与备份清单一致" in restored.stdout

        counts_a = json.loads(subprocess.run([sys.executable, "-c", COUNTS], env=a, capture_output=True,
                                             text=True).stdout)
        counts_b = json.loads(subprocess.run([sys.executable, "-c", COUNTS], env=b, capture_output=True,
                                             text=True).stdout)
        assert counts_a == counts_b
        assert counts_b["org_student"] > 1000 and counts_b["registry_applicationfile"] > 0
        papers_a = sorted(p.relative_to(tmp_path / "a-media") for p in (tmp_path / "a-media").rglob("*") if p.is_file())
        papers_b = sorted(p.relative_to(tmp_path / "b-media") for p in (tmp_path / "b-media").rglob("*") if p.is_file())
        assert papers_a and papers_a == papers_b
    finally:
        drop()


def test_only_the_newest_backups_are_kept_and_a_stranger_file_is_refused(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "baoxue.settings", "SECRET_KEY": "x", "DEBUG": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "BAOXUE_VAR_DIR": str(tmp_path)}
    assert baoxue(env, "migrate", "-v0").returncode == 0
    folder = tmp_path / "backups"
    folder.mkdir()
    for n in range(15):
        (folder / f"baoxue-backup-20260101-0000{n:02d}.tar.gz").write_bytes(b"old")
    assert baoxue(env, "backup", "--to", str(folder)).returncode == 0
    kept = sorted(folder.glob("baoxue-backup-*.tar.gz"))
    assert len(kept) == 14 and not (folder / "baoxue-backup-20260101-000000.tar.gz").exists()
    stranger = tmp_path / "x.tar.gz"
    with tarfile.open(stranger, "w:gz") as tar:
        tar.add(Path(__file__), arcname="a.py")
    done = baoxue(env, "restore", str(stranger), "--yes")
    assert done.returncode != 0 and "不是保学的备份文件" in done.stderr
