"""Baoxue settings: one module, everything from the environment.

Every variable is listed in `.env.example`. A `.env` file in the project root (written by
`make run` on a fresh machine) is read first; real environment variables win over it.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _read_dotenv(path: Path) -> None:
    """Load KEY=VALUE lines without overriding the real environment."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


_read_dotenv(Path(os.environ.get("BAOXUE_ENV_FILE") or PROJECT_DIR / ".env"))


def env(name: str, default: str = "") -> str:
    """A variable's value; an empty one (as in a copied .env.example) counts as unset."""
    return os.environ.get(name, "").strip() or default


def envbool(name: str, default: str) -> bool:
    return env(name, default).lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(env(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "0")
VAR_DIR = Path(env("BAOXUE_VAR_DIR", str(PROJECT_DIR / "var")))


# The example value of `.env.example`: anyone can read it, so it signs nothing in production.
PLACEHOLDER_SECRET_KEYS = {"change-me-to-a-long-random-string"}


def _secret_key() -> str:
    if env("SECRET_KEY"):
        key = env("SECRET_KEY")
    elif env("SECRET_KEY_FILE"):
        key = Path(env("SECRET_KEY_FILE")).read_text(encoding="utf-8").strip()
    elif DEBUG:
        return "insecure-development-key-only-for-debug"
    else:
        raise ImproperlyConfigured("SECRET_KEY（或 SECRET_KEY_FILE）未设置：关闭 DEBUG 时必须提供。")
    if not DEBUG and key in PLACEHOLDER_SECRET_KEYS:
        raise ImproperlyConfigured(
            "SECRET_KEY 仍是 .env.example 中的示例值，任何人都能看到，不能用于正式运行。"
            "请生成一个新的密钥：python3 -c 'import secrets; print(secrets.token_urlsafe(50))'，"
            "写入 .env 的 SECRET_KEY（或 SECRET_KEY_FILE 指向的文件）。")
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "baoxue.audit",
    "baoxue.org",
    "baoxue.calendar",
    "baoxue.attendance",
    "baoxue.cases",
    "baoxue.registry",
    "baoxue.legal",
    "baoxue.special",
    "baoxue.care",
    "baoxue.reports",
    "baoxue.notify",
    "baoxue.demo",
    "baoxue.ops",
]

MIDDLEWARE = [
    # First: it sees every response, and gives DEBUG mode the Chinese 404/403/500 pages too.
    "baoxue.web.ChineseErrorPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "baoxue.web.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "baoxue.org.signin.SessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "baoxue.org.signin.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lockout found during sign-in into the login page saying when to try again.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "baoxue.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "baoxue" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "baoxue.org.context.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "baoxue.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'baoxue.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", "60"),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # SQLite as a real embedded database. Several processes (web server threads, scheduler, cron)
    # share the file: WAL lets readers go on while one writes; every transaction takes the write
    # lock when it begins (IMMEDIATE), so two writers queue on the busy timeout instead of one
    # failing with "database is locked" when a read turns into a write halfway.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": envint("SQLITE_BUSY_SECONDS", "30"),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"].endswith("postgresql") and envint("DB_POOL_MAX_SIZE", "8") > 0:
    # A bounded pool per process (Django 5.2 + psycopg_pool): a thread borrows a connection for
    # one request and gives it back. A process never holds more than DB_POOL_MAX_SIZE connections;
    # a thread that finds none free waits up to DB_POOL_TIMEOUT seconds. PostgreSQL therefore sees
    # at most workers × DB_POOL_MAX_SIZE connections from `baoxue serve` (README「连接数」).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": envint("DB_POOL_MIN_SIZE", "1"),
        "max_size": envint("DB_POOL_MAX_SIZE", "8"),
        "timeout": envint("DB_POOL_TIMEOUT", "20"),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # required by the pool: a request returns its connection

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every password set in the product (password change page, import-staff, admin) passes these;
# the messages are Chinese (Django's zh-hans translation; the minimum length's our own).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "baoxue.org.signin.MinimumLengthValidator",
     "OPTIONS": {"min_length": envint("PASSWORD_MIN_LENGTH", "10")}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in protection (django-axes): LOGIN_FAILURE_LIMIT wrong passwords lock the account for
# LOGIN_LOCKOUT_MINUTES whatever address they come from, and lock the address whatever usernames
# it tries. While locked even the right password is refused; the login page says until when.
# Every failure and every lockout is a row of the audit log (baoxue.org.signin.SigninHandler).
AUTHENTICATION_BACKENDS = [
    "baoxue.org.signin.SigninBackend",  # refuses a locked account or address before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = True
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
# A right password forgives only that account's own typos (SigninHandler.user_logged_in), never
# the address's failures against other accounts: axes' AXES_RESET_ON_SUCCESS would wipe both.
AXES_RESET_ON_SUCCESS = False
# A lockout lasts LOGIN_LOCKOUT_MINUTES from the last counted failure: attempts refused while
# locked do not push the end further, so the time the page shows holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "baoxue.org.signin.SigninHandler"
AXES_LOCKOUT_CALLABLE = "baoxue.org.signin.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit log already
AXES_VERBOSE = False
# The client's address is REMOTE_ADDR. Only behind reverse proxies that set X-Forwarded-For, say
# how many stand in front (1 for deploy/nginx-baoxue.conf): the address is then the N-th from the
# right of that header, the one our own proxy wrote (baoxue.org.signin.client_address). Without
# the setting the header is ignored, or a client could pick its address and dodge the lockout.
AXES_IPWARE_PROXY_COUNT = envint("AXES_IPWARE_PROXY_COUNT", "0")
AXES_CLIENT_IP_CALLABLE = "baoxue.org.signin.client_address"

LANGUAGE_CODE = env("LANGUAGE_CODE", "zh-hans")
# The UI speaks Chinese whatever the browser asks for.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PROJECT_DIR / "baoxue" / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Backups (`baoxue backup`, nightly by the scheduler at BACKUP_AT) and the audit log's online
# retention (at least 6 months; older rows may be moved to an archive file).
BACKUP_DIR = env("BACKUP_DIR", str(VAR_DIR / "backups"))
AUDIT_KEEP_MONTHS = envint("AUDIT_KEEP_MONTHS", "6")
MEDIA_URL = "/media/"
# In production WhiteNoise serves what `collectstatic` put in STATIC_ROOT (`baoxue serve` runs it);
# the development server finds files in the source folders.
WHITENOISE_USE_FINDERS = DEBUG
try:  # WhiteNoise warns on every start when the collected-files folder is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The office sees classes that have not taken the day's roll call by this time.
ROLL_CALL_DUE = env("ROLL_CALL_DUE", "09:30")
# The address people open the system at: links in notifications (企业微信, 钉钉, webhook) start with it.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
# Channels set to a morning digest get the day's notifications together at this time.
NOTIFY_DIGEST_AT = env("NOTIFY_DIGEST_AT", "07:30")
# A notification still failing this many hours after it was written is given up (listed on /notify/).
NOTIFY_GIVE_UP_HOURS = envint("NOTIFY_GIVE_UP_HOURS", "48")

# Uploads: registry exports of a big school stay well under this.
# Papers of a 休学 application (scans, photos): PDF, JPG or PNG up to this size.
APPLICATION_FILE_MAX_MB = envint("APPLICATION_FILE_MAX_MB", "10")
# Spreadsheet imports (baoxue.lib.sheets): a county's 国网 export of 100,000 students × 62
# columns is 21-30 MB and 280-400 MB unzipped. Parsed in a child process with a memory limit
# (address space) and a time limit, so a hostile file cannot take the web worker down.
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", str(40 * 1024 * 1024))
IMPORT_MAX_ROWS = envint("IMPORT_MAX_ROWS", "150000")
IMPORT_MAX_COLUMNS = envint("IMPORT_MAX_COLUMNS", "200")
IMPORT_MAX_UNCOMPRESSED_MB = envint("IMPORT_MAX_UNCOMPRESSED_MB", "1024")
IMPORT_MAX_ZIP_RATIO = envint("IMPORT_MAX_ZIP_RATIO", "100")
IMPORT_MAX_MEMORY_MB = envint("IMPORT_MAX_MEMORY_MB", "2048")
IMPORT_MAX_SECONDS = envint("IMPORT_MAX_SECONDS", "120")
IMPORT_ISOLATED = envbool("IMPORT_ISOLATED", "1")
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# A session ends after SESSION_IDLE_MINUTES without a request (baoxue.org.signin.SessionIdleMiddleware
# slides the end forward while the person works), and at browser close when "公用电脑" was ticked.
SESSION_IDLE_MINUTES = envint("SESSION_IDLE_MINUTES", "120")
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
# Secure cookies (sent over HTTPS only) whenever DEBUG is off. `make run` serves plain http on
# 127.0.0.1 and writes SECURE_COOKIES=0 into its .env, or the browser could not sign in.
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "0" if DEBUG else "1")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind nginx (deploy/nginx-baoxue.conf), which sets X-Forwarded-Proto: trust it for "is HTTPS".
# (The client's address behind the proxy: AXES_IPWARE_PROXY_COUNT above.)
if envbool("BEHIND_HTTPS_PROXY", "0"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "0")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "0")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "0")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent by baoxue.web.ContentSecurityPolicyMiddleware. Scripts only from our own files (no inline
# script or on...= handlers: baoxue/static/baoxue/baoxue.js does that work). Styles allow inline
# `style=`/<style> (a few templates use them; injected CSS cannot run code).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
