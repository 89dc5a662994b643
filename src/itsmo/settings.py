"""Django settings for Itsmo.

Configuration comes only from environment variables (see docs/configuration.md).
The embedded default is a SQLite database under ``var/``; production points
``ITSMO_DATABASE_URL`` at PostgreSQL.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    """Read a string setting; ``NAME_FILE`` points at a file holding the value (secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name, "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env_str(name, "")
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


VAR_DIR = Path(env_str("ITSMO_VAR_DIR", str(Path.cwd() / "var"))).resolve()


def _secret_key() -> str:
    configured = env_str("ITSMO_SECRET_KEY")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("ITSMO_DEBUG", False)
ALLOWED_HOSTS = env_list("ITSMO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("ITSMO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves Swagger UI from local static files (no CDN)
    "django_tasks",
    "django_tasks_db",
    "itsmo.core",
    "itsmo.organization",
    "itsmo.accounts",
    "itsmo.catalog",
    "itsmo.cmdb",
    "itsmo.slm",
    "itsmo.incidents",
    "itsmo.problems",
    "itsmo.knowledge",
    "itsmo.changes",
    "itsmo.communications",
    "itsmo.surveys",
    "itsmo.portal",
    "itsmo.imports",
    "itsmo.search",
    "itsmo.api",
    "itsmo.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "itsmo.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "itsmo.urls"
WSGI_APPLICATION = "itsmo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "itsmo.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("ITSMO_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'itsmo.sqlite3'}",
        # A web worker keeps its connection between requests (a PostgreSQL connection costs
        # a few milliseconds to open); a broken one is replaced before the next request.
        conn_max_age=env_int("ITSMO_DATABASE_CONN_MAX_AGE", 300),
        conn_health_checks=True,
    )
}
#: The test run this process belongs to: its own process id, or the controlling pytest's
#: for a pytest-xdist worker (which adds ``_gw0``, ``_gw1``... to the database name).
_TEST_RUN = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not shared-cache memory, so that concurrency tests see real locking.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-itsmo-{_TEST_RUN}.sqlite3")}
else:
    # Server-side prepared statements: a query a connection runs again skips parsing (and,
    # once PostgreSQL settles on a generic plan, planning). Empty turns them off, as a pooler
    # in transaction mode (PgBouncer before 1.21) needs.
    _prepare = env_str("ITSMO_DATABASE_PREPARE_THRESHOLD", "5")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(_prepare) if _prepare else None
    )
    # Parameters travel apart from the statement (no quoting in Python, and what makes the
    # prepared statements above possible): intake went from ~240 to ~330 incidents/s.
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = env_bool(
        "ITSMO_DATABASE_SERVER_SIDE_BINDING", True
    )
    # One test database per test run, so that runs in parallel never share one.
    DATABASES["default"]["TEST"] = {"NAME": f"test_itsmo_{_TEST_RUN}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("pt", _("Portuguese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("ITSMO_TIME_ZONE", "UTC")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = True

EMAIL_HOST = env_str("ITSMO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("ITSMO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("ITSMO_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("ITSMO_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("ITSMO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("ITSMO_EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("ITSMO_EMAIL_FROM", "itsmo@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str("ITSMO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# E-mail intake (IMAP polling by the worker) and notifications; see docs/configuration.md.
ITSMO_IMAP_HOST = env_str("ITSMO_IMAP_HOST")
ITSMO_IMAP_PORT = env_int("ITSMO_IMAP_PORT", 0)
ITSMO_IMAP_USER = env_str("ITSMO_IMAP_USER")
ITSMO_IMAP_PASSWORD = env_str("ITSMO_IMAP_PASSWORD")
ITSMO_IMAP_FOLDER = env_str("ITSMO_IMAP_FOLDER", "INBOX")
ITSMO_IMAP_PROCESSED_FOLDER = env_str("ITSMO_IMAP_PROCESSED_FOLDER")
ITSMO_IMAP_USE_SSL = env_bool("ITSMO_IMAP_USE_SSL", False)
ITSMO_IMAP_STARTTLS = env_bool("ITSMO_IMAP_STARTTLS", False)
ITSMO_MAIL_CREATE_USERS_FOR = env_list("ITSMO_MAIL_CREATE_USERS_FOR")
ITSMO_MAIL_REPLY_TO = env_str("ITSMO_MAIL_REPLY_TO")
ITSMO_NOTIFICATION_MAX_ATTEMPTS = env_int("ITSMO_NOTIFICATION_MAX_ATTEMPTS", 6)
ITSMO_NOTIFICATION_RETRY_SECONDS = env_int("ITSMO_NOTIFICATION_RETRY_SECONDS", 60)

TASKS = {"default": {"BACKEND": "itsmo.core.task_backend.DatabaseBackend"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("ITSMO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# API: the largest page a client may ask for.
ITSMO_API_MAX_PAGE_SIZE = 500
ITSMO_API_DEFAULT_PAGE_SIZE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ITSMO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
