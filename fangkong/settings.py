"""One settings file. Everything that differs between machines comes from the environment.

Defaults are for the demo and development: a SQLite file and generated keys under the data
directory. Outside demo/debug mode, startup refuses to run without an explicit secret key and
encryption keys (see `fangkong.core.crypto` and `_require_production_secrets`).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = BASE_DIR.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DATA_DIR = Path(env_str("FANGKONG_DATA_DIR", str(CHECKOUT_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
KEYS_DIR = DATA_DIR / "keys"
LAKE_DIR = DATA_DIR / "lake"
MEDIA_ROOT = DATA_DIR / "uploads"

# Demo mode: generated keys are acceptable, demo accounts may exist. Set by `fangkong demo`.
DEMO = env_bool("FANGKONG_DEMO")
DEBUG = env_bool("FANGKONG_DEBUG")
TESTING = env_bool("FANGKONG_TESTING")

SECRET_KEY = env_str("FANGKONG_SECRET_KEY")
if not SECRET_KEY:
    if not (DEMO or DEBUG or TESTING):
        raise ImproperlyConfigured(
            "FANGKONG_SECRET_KEY is required outside demo/debug mode "
            "(set FANGKONG_DEMO=1 or FANGKONG_DEBUG=1 for a local instance)."
        )
    SECRET_KEY = "insecure-local-only-" + "x" * 40

ALLOWED_HOSTS = env_list("FANGKONG_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("FANGKONG_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from local static files instead of a CDN
    "fangkong.core",
    "fangkong.audit",
    "fangkong.jobs",
    "fangkong.exports",
    "fangkong.jurisdictions",
    "fangkong.accounts",
    "fangkong.people",
    "fangkong.places",
    "fangkong.policy",
    "fangkong.notifications",
    "fangkong.assignments",
    "fangkong.control",
    "fangkong.lake",
    "fangkong.screening",
    "fangkong.tracing",
    "fangkong.mass_testing",
    "fangkong.key_populations",
    "fangkong.sentinel",
    "fangkong.simulation",
    "fangkong.command",
    "fangkong.maintenance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fangkong.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fangkong.core.locale.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fangkong.accounts.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.accounts.context.actor",
                "fangkong.core.csp.nonce",
            ],
        },
    }
]

DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'fangkong.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", DEFAULT_DATABASE_URL), conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a write transaction takes the write lock when it starts, so the audit
        # chain head read inside it cannot go stale (see fangkong.audit.services).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["fangkong.accounts.hashers.TestArgon2PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "command:home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_AGE = env_int("FANGKONG_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: every request pushes the expiry forward
# Sign-in throttling (fangkong.accounts.throttle): the failure after the limit, within the
# window, locks the username or the client address for a window.
FANGKONG_LOGIN_FAILURE_LIMIT = env_int("FANGKONG_LOGIN_FAILURE_LIMIT", 5)
FANGKONG_LOGIN_WINDOW_SECONDS = env_int("FANGKONG_LOGIN_WINDOW_SECONDS", 15 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("FANGKONG_SECURE_COOKIES")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # display zone; storage is UTC (USE_TZ)
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("FANGKONG_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Encryption keys for personal data (see fangkong.core.crypto). Either in the environment
# (base64 of 32 bytes each) or in files under KEYS_DIR. Demo/debug/test generate files.
FANGKONG_ENCRYPTION_KEYS = env_str(
    "FANGKONG_ENCRYPTION_KEYS"
)  # "kid:base64,kid:base64"; first is current
FANGKONG_BLIND_INDEX_KEY = env_str("FANGKONG_BLIND_INDEX_KEY")
FANGKONG_GENERATE_KEYS = DEMO or DEBUG or TESTING

# Uploaded files: each file is kept up to this size and counted beyond it (see
# fangkong.core.upload_handlers); views refuse with their own, smaller, limits.
FANGKONG_UPLOAD_MAX_BYTES = env_int("FANGKONG_UPLOAD_MAX_BYTES", 100 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = ["fangkong.core.upload_handlers.BoundedUploadHandler"]

# Background jobs (fangkong.jobs) and notifications (fangkong.notifications).
FANGKONG_JOB_STALE_SECONDS = env_int("FANGKONG_JOB_STALE_SECONDS", 900)
FANGKONG_JOB_RETENTION_DAYS = env_int("FANGKONG_JOB_RETENTION_DAYS", 30)
FANGKONG_SMS_GATEWAY = env_str(
    "FANGKONG_SMS_GATEWAY", "fangkong.notifications.channels.LocalSmsGateway"
)
FANGKONG_BASE_URL = env_str("FANGKONG_BASE_URL", "")  # prefix for links sent by SMS and e-mail
DEFAULT_FROM_EMAIL = env_str("FANGKONG_FROM_EMAIL", "fangkong@localhost")
# The intranet has no mail relay by default: messages go to files under the data directory.
EMAIL_BACKEND = env_str(
    "FANGKONG_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "outbox"
EMAIL_HOST = env_str("FANGKONG_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("FANGKONG_EMAIL_PORT", 25)

# Retention (fangkong.maintenance, docs/security.md): days a record is kept after its purpose
# ended. `fangkong retention run` applies them; done jobs use FANGKONG_JOB_RETENTION_DAYS.
FANGKONG_RETENTION_PERSON_DAYS = env_int("FANGKONG_RETENTION_PERSON_DAYS", 90)
FANGKONG_RETENTION_ORDER_NOTE_DAYS = env_int("FANGKONG_RETENTION_ORDER_NOTE_DAYS", 180)
FANGKONG_RETENTION_NOTE_DAYS = env_int("FANGKONG_RETENTION_NOTE_DAYS", 180)
FANGKONG_RETENTION_NOTIFICATION_DAYS = env_int("FANGKONG_RETENTION_NOTIFICATION_DAYS", 90)
FANGKONG_RETENTION_OUTBOUND_DAYS = env_int("FANGKONG_RETENTION_OUTBOUND_DAYS", 30)
FANGKONG_RETENTION_ARRIVAL_DAYS = env_int("FANGKONG_RETENTION_ARRIVAL_DAYS", 90)
FANGKONG_RETENTION_SENTINEL_DAYS = env_int("FANGKONG_RETENTION_SENTINEL_DAYS", 60)
