"""Load test of the roll-call page: N head teachers at once, each opening their class's roll call
(/attendance/classes/<pk>/) again and again, optionally submitting it. Prints p50/p95/max, requests
per second and errors.

By default it builds a demo database in a temporary BAOXUE_VAR_DIR (or in the DATABASE_URL you
give: use a scratch database), starts the server itself on a free port, and stops it at the end:

    .venv/bin/python scripts/bench_serve.py                        # baoxue serve, SQLite
    .venv/bin/python scripts/bench_serve.py --server runserver     # Django's development server
    .venv/bin/python scripts/bench_serve.py --workers 4 --threads 8 --teachers 50 --rounds 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_serve .venv/bin/python scripts/bench_serve.py
    .venv/bin/python scripts/bench_serve.py --url http://127.0.0.1:8000   # a running server

Sign-in goes over plain http, so the server must not mark cookies Secure (SECURE_COOKIES=0,
which this script sets for the server it starts). Standard library only.
"""

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BAOXUE = [sys.executable, "-m", "baoxue"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class FormFields(HTMLParser):
    """The fields a browser would send for the form with the given id (checked radios only)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif self.inside and tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


class Teacher:
    def __init__(self, base: str, username: str, password: str):
        self.base, self.username, self.password = base, username, password
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.url = ""

    def request(self, path: str, data: dict | list | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        try:
            with self.opener.open(req, timeout=120) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def login(self) -> None:
        self.request("/login/")
        status, _ = self.request("/login/", {"username": self.username, "password": self.password,
                                             "csrfmiddlewaretoken": self.csrf()})
        if status != 302:
            raise SystemExit(f"{self.username} 登录失败（HTTP {status}）：服务器是否设置了 SECURE_COOKIES=0？")
        status, html = self.request("/")
        found = re.search(r'href="(/attendance/classes/\d+/)"', html)
        if not found:
            raise SystemExit(f"{self.username} 的首页没有点名链接")
        self.url = found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_teachers(env: dict) -> list[str]:
    out = subprocess.run([*BAOXUE, "demo", "--logins", "--all"], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if "班主任" in line and line.startswith("  ")]


def start_server(args, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    bind = f"127.0.0.1:{port}"
    if args.server == "serve":
        cmd = [*BAOXUE, "serve", "--bind", bind, "--workers", str(args.workers), "--threads", str(args.threads)]
    else:
        cmd = [*BAOXUE, "runserver", "--noreload", bind]
    log = open(Path(env["BAOXUE_VAR_DIR"]) / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://{bind}/login/", timeout=2).read()
            return proc, f"http://{bind}"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"服务器没有启动：见 {log.name}")
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("服务器 60 秒内没有应答")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run_load(base: str, usernames: list[str], args) -> None:
    teachers = [Teacher(base, usernames[i % len(usernames)], args.password) for i in range(args.teachers)]
    t0 = time.time()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:  # sign-in hashes passwords: slow on purpose
        list(pool.map(Teacher.login, teachers))
    print(f"{len(teachers)} 位班主任（{len(set(usernames[:args.teachers]))} 个账号）已登录，用时 {time.time() - t0:.1f} s")
    times: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(teachers) + 1)

    def work(t: Teacher):
        t.request(t.url)  # warm-up, not counted
        start.wait()
        for _ in range(args.rounds):
            began = time.perf_counter()
            status, html = t.request(t.url)
            spent = time.perf_counter() - began
            ok = status == 200
            if ok and args.submit:
                parser = FormFields("rollcall")
                parser.feed(html)
                began = time.perf_counter()
                status, _ = t.request(t.url, parser.fields)
                spent = time.perf_counter() - began
                ok = status == 302
            with lock:
                times.append(spent)
                if not ok:
                    errors[str(status)] = errors.get(str(status), 0) + 1

    threads = [threading.Thread(target=work, args=(t,)) for t in teachers]
    for th in threads:
        th.start()
    done = threading.Event()
    peak = [0]
    watcher = threading.Thread(target=watch_connections, args=(done, peak))
    watcher.start()
    start.wait()
    began = time.time()
    for th in threads:
        th.join()
    wall = time.time() - began
    done.set()
    watcher.join()
    what = "提交点名（POST）" if args.submit else "打开点名页（GET）"
    print(f"{what}：{len(times)} 次请求，{args.teachers} 个并发，用时 {wall:.1f} s")
    print(f"  p50 {statistics.median(times) * 1000:.0f} ms   p95 {percentile(times, 95) * 1000:.0f} ms   "
          f"max {max(times) * 1000:.0f} ms   {len(times) / wall:.1f} 请求/秒   错误 {sum(errors.values())} {errors or ''}")
    if peak[0]:
        print(f"  PostgreSQL 上本数据库的连接数最多 {peak[0]} 个")


def watch_connections(done: threading.Event, peak: list) -> None:
    """On PostgreSQL: the most connections to the database seen during the load (this one included)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not done.is_set():
            n = conn.execute("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()").fetchone()[0]
            peak[0] = max(peak[0], n)
            done.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="压测一个已在运行的服务器（不自建数据）")
    parser.add_argument("--server", choices=["serve", "runserver"], default="serve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--teachers", type=int, default=50, help="同时操作的班主任人数")
    parser.add_argument("--rounds", type=int, default=10, help="每人请求次数")
    parser.add_argument("--submit", action="store_true", help="每轮打开后再提交点名（测写入）")
    parser.add_argument("--users", help="账号，逗号分隔（默认：演示数据的全部班主任）")
    parser.add_argument("--password", default="baoxue2025")
    args = parser.parse_args()

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "baoxue.settings"}
    if args.url:
        usernames = args.users.split(",") if args.users else demo_teachers(env)
        run_load(args.url.rstrip("/"), usernames, args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_serve_") as var:
        env.update({"BAOXUE_VAR_DIR": var, "BAOXUE_ENV_FILE": "/nonexistent", "DEBUG": "0",
                    "SECURE_COOKIES": "0", "SECRET_KEY": env.get("SECRET_KEY") or "bench-" + "x" * 50,
                    "LOG_LEVEL": "ERROR"})
        subprocess.run([*BAOXUE, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        subprocess.run([*BAOXUE, "demo", "--if-empty"], env=env, cwd=ROOT, check=True, capture_output=True)
        usernames = args.users.split(",") if args.users else demo_teachers(env)
        proc, base = start_server(args, env)
        try:
            how = (f"baoxue serve（{args.workers} 进程 × {args.threads} 线程）" if args.server == "serve"
                   else "runserver（开发服务器）")
            db = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
            print(f"{how}，{db}，{base}")
            run_load(base, usernames, args)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
