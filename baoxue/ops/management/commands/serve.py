"""`baoxue serve`: the production web server (gunicorn, threaded workers).

    baoxue serve [--bind 127.0.0.1:8000] [--workers N] [--threads N]

Why gunicorn with the gthread worker: a page of Baoxue is a few database queries and a template,
so a thread waits on PostgreSQL most of the time; a few processes with several threads each use
the CPUs and keep memory small (scripts/bench_serve.py measures the roll-call page; README).

Before it starts it copies the static files to STATIC_ROOT (`collectstatic`, only what changed),
which WhiteNoise then serves, and checks the database connection budget: on PostgreSQL each
process keeps a pool of at most DB_POOL_MAX_SIZE connections, so the server never holds more
than workers × DB_POOL_MAX_SIZE, which must not exceed DB_MAX_CONNECTIONS (default 40).
Then the process becomes gunicorn (exec): systemd and `make run` stop it with SIGTERM.
"""

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# Method, path without the query string (searches may hold ID numbers), status, bytes, time.
ACCESS_LOG_FORMAT = '%(h)s %({x-forwarded-for}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def connection_budget(workers: int, threads: int) -> tuple[int, str]:
    """The most connections the web server can hold on the default database, and how."""
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        return 0, "SQLite：无连接池"
    pool = (db.get("OPTIONS") or {}).get("pool")
    if pool:
        size = pool.get("max_size", 8) if isinstance(pool, dict) else 8
        return workers * size, f"{workers} 个进程 × 每进程连接池上限 {size}（DB_POOL_MAX_SIZE）"
    # Without a pool each thread keeps its own connection.
    return workers * threads, f"{workers} 个进程 × {threads} 个线程（未启用连接池）"


class Command(BaseCommand):
    help = "启动正式 Web 服务器（gunicorn 多线程），静态文件由 WhiteNoise 提供"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("WEB_BIND") or "127.0.0.1:8000",
                            help="监听地址（默认 127.0.0.1:8000，环境变量 WEB_BIND）")
        parser.add_argument("--workers", type=int, default=_env_int("WEB_WORKERS", 2),
                            help="进程数（默认 2，环境变量 WEB_WORKERS）")
        parser.add_argument("--threads", type=int, default=_env_int("WEB_THREADS", 8),
                            help="每个进程的线程数（默认 8，环境变量 WEB_THREADS）")
        parser.add_argument("--timeout", type=int, default=_env_int("WEB_TIMEOUT", 120),
                            help="一个请求最长秒数，超过则重启该进程（默认 120）")
        parser.add_argument("--no-collectstatic", action="store_true",
                            help="不在启动前运行 collectstatic（已由部署脚本完成时）")

    def handle(self, *args, bind, workers, threads, timeout, no_collectstatic, **opts):
        if workers < 1 or threads < 1:
            raise CommandError("--workers 和 --threads 至少为 1")
        if settings.DEBUG:
            self.stderr.write("注意：DEBUG 已开启。正式运行请在 .env 中设置 DEBUG=0。")

        most, how = connection_budget(workers, threads)
        budget = _env_int("DB_MAX_CONNECTIONS", 40)
        if most > budget:
            raise CommandError(
                f"数据库连接可能达到 {most} 个（{how}），超过上限 DB_MAX_CONNECTIONS={budget}。"
                "请减少 --workers 或 DB_POOL_MAX_SIZE，或在确认 PostgreSQL 的 max_connections 足够后提高 DB_MAX_CONNECTIONS。")
        self._check_server_limit(most)

        if not no_collectstatic:
            try:
                call_command("collectstatic", interactive=False, verbosity=0)
            except OSError as e:
                raise CommandError(
                    f"无法把静态文件复制到 {settings.STATIC_ROOT}（{e}）。请以有写权限的用户运行 "
                    "`baoxue collectstatic --noinput`，再用 `baoxue serve --no-collectstatic` 启动。") from e
        elif not (settings.STATIC_ROOT / "baoxue" / "baoxue.css").is_file():
            self.stderr.write(f"注意：{settings.STATIC_ROOT} 中没有静态文件，页面将没有样式。"
                              "请先运行 `baoxue collectstatic --noinput`。")

        argv = [
            sys.executable, "-m", "gunicorn", "baoxue.wsgi:application",
            "--bind", bind,
            "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
            "--timeout", str(timeout), "--graceful-timeout", "30",
            # A worker is replaced after a few thousand requests: memory stays flat over months.
            "--max-requests", "5000", "--max-requests-jitter", "500",
            "--access-logfile", "-", "--error-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
            "--name", "baoxue",
        ]
        if _has_gunicorn_setting("control_socket_disable"):
            argv.append("--no-control-socket")  # one fixed socket path per user: two servers would clash
        self.stdout.write(f"保学 Web 服务器：http://{bind}/ （gunicorn gthread，{workers} 进程 × {threads} 线程；"
                          f"数据库连接最多 {most or '—'}）")
        self.stdout.flush()
        sys.stderr.flush()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "baoxue.settings")}
        os.execve(sys.executable, argv, env)

    def _check_server_limit(self, most: int) -> None:
        """Warn when PostgreSQL's own max_connections leaves too little room for the server."""
        if not most:
            return
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW max_connections")
                server_max = int(cursor.fetchone()[0])
        except Exception as e:  # noqa: BLE001 - the server will report a dead database itself
            self.stderr.write(f"注意：无法连接数据库（{e}）。")
            return
        finally:
            connection.close()
            if hasattr(connection, "close_pool"):
                connection.close_pool()  # no pool's threads or sockets survive into gunicorn
        # The scheduler, cron jobs, backups and an administrator's psql need connections too.
        if most > server_max - 10:
            self.stderr.write(f"注意：Web 服务器最多用 {most} 个连接，PostgreSQL 的 max_connections 为 {server_max}，"
                              "给调度器、备份和管理留的余量不足 10 个。")


def _has_gunicorn_setting(name: str) -> bool:
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError as e:
        raise CommandError("没有安装 gunicorn：请运行 `pip install -e .`（或 make install）。") from e
    return any(s.name == name for s in KNOWN_SETTINGS)
