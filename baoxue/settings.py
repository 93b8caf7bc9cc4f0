"""Baoxue settings: one module, everything from the environment.

Every variable is listed in `.env.example`. A `.env` file in the project root (written by
`make run` on a fresh machine) is read first; real environment variables win over it.
"""

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


def _secret_key() -> str:
    if env("SECRET_KEY"):
        return env("SECRET_KEY")
    if env("SECRET_KEY_FILE"):
        return Path(env("SECRET_KEY_FILE")).read_text(encoding="utf-8").strip()
    if DEBUG:
        return "insecure-development-key-only-for-debug"
    raise ImproperlyConfigured("SECRET_KEY（或 SECRET_KEY_FILE）未设置：关闭 DEBUG 时必须提供。")


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
    "baoxue.audit",
    "baoxue.org",
    "baoxue.calendar",
    "baoxue.attendance",
    "baoxue.cases",
    "baoxue.registry",
    "baoxue.demo",
    "baoxue.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    # Several processes (web server, scheduler, cron) share the file: wait rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

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
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True
try:  # WhiteNoise warns on every start when the collected-files folder is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The office sees classes that have not taken the day's roll call by this time.
ROLL_CALL_DUE = env("ROLL_CALL_DUE", "09:30")

# Uploads: registry exports of a big school stay well under this.
# Papers of a 休学 application (scans, photos): PDF, JPG or PNG up to this size.
APPLICATION_FILE_MAX_MB = envint("APPLICATION_FILE_MAX_MB", "10")
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", str(20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", str(12 * 3600))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "0")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "0")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "0")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "0")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
