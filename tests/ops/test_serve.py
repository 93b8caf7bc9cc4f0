"""The production server (`baoxue serve`: gunicorn) really started, as systemd and `make run`
start it: the login page comes with the security headers and a script policy without inline
script, static files come from WhiteNoise out of the collected folder, each request is logged
with its time. And the deployment settings: the production env file passes `check --deploy`;
the placeholder secret key of .env.example is refused with DEBUG off."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "serve-test-" + "k" * 50


def clean_env(tmp_path, **extra):
    """The environment of a fresh server: no developer .env, SQLite under tmp_path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECURE_", "DB_", "WEB_")) and k not in (
               "DATABASE_URL", "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS",
               "DJANGO_ALLOW_ASYNC_UNSAFE", "BEHIND_HTTPS_PROXY", "STATIC_ROOT", "MEDIA_ROOT")}
    return {**env, "BAOXUE_ENV_FILE": "/nonexistent", "BAOXUE_VAR_DIR": str(tmp_path / "var"),
            "DEBUG": "0", "SECRET_KEY": SECRET, "DJANGO_SETTINGS_MODULE": "baoxue.settings", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers, r.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("serve")
    env = clean_env(tmp_path)
    subprocess.run([sys.executable, "-m", "baoxue", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT,
                   check=True, timeout=300)
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "baoxue", "serve", "--bind", f"127.0.0.1:{port}",
                                 "--workers", "1", "--threads", "2"],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                get(base + "/login/")
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("baoxue serve 没有启动：\n" + log.read_text())
                time.sleep(0.3)
        yield base, log, tmp_path
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)


def test_the_login_page_has_the_security_headers(server):
    base, log, _ = server
    status, headers, body = get(base + "/login/")
    assert status == 200 and "登录".encode() in body
    assert headers["Server"].startswith("gunicorn")  # the production server, not runserver
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    # The page's one script is a file.
    assert re.findall(rb"<script[^>]*>", body) == [b'<script src="/static/baoxue/baoxue.js" defer>']


def test_static_files_are_served_by_whitenoise_from_the_collected_folder(server):
    base, _, tmp_path = server
    # `serve` ran collectstatic: with DEBUG off WhiteNoise serves only STATIC_ROOT.
    assert (tmp_path / "var" / "static" / "baoxue" / "baoxue.css").is_file()
    status, headers, body = get(base + "/static/baoxue/baoxue.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and b".topbar" in body
    assert "max-age" in headers["Cache-Control"]  # WhiteNoise's caching header
    status, headers, _ = get(base + "/static/baoxue/baoxue.js")
    assert status == 200 and "javascript" in headers["Content-Type"]


def test_every_request_is_logged_with_its_time_and_without_the_query_string(server):
    base, log, _ = server
    get(base + "/login/?next=/students/%3Fq%3D110101")
    time.sleep(0.5)  # the access log is written after the response
    lines = [line for line in log.read_text().splitlines() if '"GET /login/ HTTP/1.1" 200' in line]
    assert lines and re.search(r" \d+ms$", lines[-1])
    assert "110101" not in log.read_text()  # searches (ID numbers) stay out of the log


def test_a_connection_budget_larger_than_allowed_is_refused(tmp_path):
    env = clean_env(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/none", DB_POOL_MAX_SIZE="10",
                    DB_MAX_CONNECTIONS="25")
    result = subprocess.run([sys.executable, "-m", "baoxue", "serve", "--workers", "3"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "30" in result.stderr and "DB_MAX_CONNECTIONS=25" in result.stderr


def test_the_production_env_file_passes_the_deploy_check(tmp_path):
    key = tmp_path / "secret_key"
    key.write_text("p" * 20 + "-production-secret-" + "q" * 30)
    text = (ROOT / "deploy" / "baoxue.env.example").read_text(encoding="utf-8")
    text = text.replace("SECRET_KEY_FILE=/etc/baoxue/secret_key", f"SECRET_KEY_FILE={key}")
    text = text.replace("BAOXUE_VAR_DIR=/var/lib/baoxue", f"BAOXUE_VAR_DIR={tmp_path / 'var'}")
    envfile = tmp_path / "baoxue.env"
    envfile.write_text(text, encoding="utf-8")
    env = {k: v for k, v in clean_env(tmp_path).items()
           if k not in ("DEBUG", "SECRET_KEY", "BAOXUE_VAR_DIR")}
    env["BAOXUE_ENV_FILE"] = str(envfile)
    result = subprocess.run([sys.executable, "-m", "baoxue", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s; "
                            "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, "
                            "s.DATABASES['default']['OPTIONS']['pool'])"],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.stdout.split("(")[0].split() == ["False", "True", "True"], shown.stderr
    assert "HTTP_X_FORWARDED_PROTO" in shown.stdout and "'max_size': 8" in shown.stdout


def test_the_placeholder_secret_key_is_refused_without_debug(tmp_path):
    placeholder = next(line.split("=", 1)[1] for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
                       if line.startswith("SECRET_KEY="))
    result = subprocess.run([sys.executable, "-m", "baoxue", "check"], env=clean_env(tmp_path, SECRET_KEY=placeholder),
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "示例值" in result.stderr
    # With DEBUG on (development) it is accepted.
    result = subprocess.run([sys.executable, "-m", "baoxue", "check"],
                            env=clean_env(tmp_path, SECRET_KEY=placeholder, DEBUG="1"),
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
