"""Settings come from the environment; production settings pass Django's deploy check."""

import os
import subprocess
import sys

PRODUCTION = {
    "DEBUG": "0", "SECRET_KEY": "x" * 60 + "-a-long-random-production-secret", "ALLOWED_HOSTS": "baoxue.example",
    "SECURE_COOKIES": "1", "SECURE_SSL_REDIRECT": "1", "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1",
}


def run(env, *args):
    clean = {k: v for k, v in os.environ.items()
             if k not in PRODUCTION and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([sys.executable, "-m", "baoxue", *args], capture_output=True, text=True,
                          env={**clean, "BAOXUE_ENV_FILE": "/nonexistent", **env})


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run({**PRODUCTION, "BAOXUE_VAR_DIR": str(tmp_path)}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_secret_key_is_required_without_debug(tmp_path):
    result = run({"DEBUG": "0", "SECRET_KEY": "", "BAOXUE_VAR_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    key = tmp_path / "secret"
    key.write_text(PRODUCTION["SECRET_KEY"])
    env = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(key), "BAOXUE_VAR_DIR": str(tmp_path)}
    assert run(env, "check", "--deploy", "--fail-level", "WARNING").returncode == 0
