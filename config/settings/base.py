"""Settings shared by every environment. Values come from the environment through one `env`."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

from ops.logconfig import formatter as log_formatter
from ops.logconfig import structlog_configure

BASE_DIR = Path(__file__).resolve().parent.parent.parent
#: Each settings module names its environment. Guards relax only for the names in
#: core.environments.NON_PRODUCTION: anything else, this default included, counts as production.
HARBOR_ENVIRONMENT = "unknown"
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="local-dev-only-not-secret-7f2c9a1e")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
HARBOR_BASE_URL = env("HARBOR_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "accounts.apps.HarborAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "corsheaders",
    "simple_history",
    "core",
    "accounts",
    "audit",
    "cases",
    "mdt",
    "notifications",
    "reports",
    # The staff's web app (SPEC §7): pages on the same services and selectors as the API.
    "django_htmx",
    "web",
    "ops",
    "django_prometheus",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # outermost: times the whole request
    "core.middleware.RequestContextMiddleware",
    "ops.middleware.RequestLogMiddleware",  # one structured line per request, with its ids
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Admin sessions: 30 minutes idle, 12 hours at most (after authentication, before any view).
    "accounts.middleware.SessionLimitsMiddleware",
    # The web app (/app/): request.htmx, then sign-in, the MFA gate, its strict CSP and its own
    # 404/403 pages (after the session limits, so an ended session is seen as signed out).
    "django_htmx.middleware.HtmxMiddleware",
    "web.middleware.WebPagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# Default: a SQLite file under var/ (the embedded default needs no server).
#: Session settings for every PostgreSQL connection. random_page_cost 1.1 instead of the default 4
#: (which models spinning disks): the working set is in RAM or on SSD, and at 4 the planner
#: turns the visibility subqueries (a few hundred ids) into hash joins over whole tables —
#: at county scale the deadline list's query ran 47 ms instead of 18 ms (EXPLAIN ANALYZE).
#: Set DATABASE_RANDOM_PAGE_COST to an empty value to send no startup option (PgBouncer in
#: transaction mode refuses unknown startup parameters unless told to ignore them).
_RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
PG_SESSION_OPTIONS = f"-c random_page_cost={_RANDOM_PAGE_COST}" if _RANDOM_PAGE_COST else ""
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'safe_harbor.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers and one writer work together,
    # IMMEDIATE transactions avoid the "database is locked" upgrade deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # Added to any `options` DATABASE_URL already carries (search_path, statement_timeout…).
    _options = " ".join(filter(None, [DATABASES["default"]["OPTIONS"].get("options", ""), PG_SESSION_OPTIONS]))
    if _options:
        DATABASES["default"]["OPTIONS"]["options"] = _options
    if env.bool("DATABASE_POOL", default=False):
        DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 2, "max_size": 8, "timeout": 10}
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 72  # invitation links live three days

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- request limits -----------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("HARBOR_MAX_BODY_BYTES", default=1024 * 1024)
HARBOR_MAX_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
HARBOR_MAX_JSON_DEPTH = 20
# How many reverse proxies append to X-Forwarded-For in front of the app (0: none, the header is
# ignored). Throttles and the audit log's client address take the hop the nearest proxy saw; a
# client-sent header must never pick the address, or it dodges the login throttle.
HARBOR_NUM_PROXIES = env.int("HARBOR_NUM_PROXIES", default=0)
#: The PostgreSQL-only bulk statements of the sweep and the audit writer (core/db.py). false runs
#: their portable twins on PostgreSQL as well (CI runs both ways).
HARBOR_DB_FAST_PATHS = env.bool("HARBOR_DB_FAST_PATHS", default=True)
#: The Celery queue notification delivery goes to (None: Celery's default queue), and how often a
#: delivery task retries a database error before it gives up to the next sweep.
HARBOR_NOTIFICATIONS_QUEUE = env("HARBOR_NOTIFICATIONS_QUEUE", default=None)
HARBOR_NOTIFICATION_DB_RETRIES = env.int("HARBOR_NOTIFICATION_DB_RETRIES", default=8)
#: Lay a published agenda's PDF pages out in a worker after publishing and after each change,
#: so the members' first print only stamps its footer (mdt/exports.py).
HARBOR_AGENDA_PDF_PREPARE = env.bool("HARBOR_AGENDA_PDF_PREPARE", default=True)

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ExpiringTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.IsAuthenticatedWithMfa"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.DepthLimitedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.FormatNegotiation",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": "20/min", "invitation": "20/hour", "password_reset": "5/hour"},
    "UNAUTHENTICATED_USER": None,
    # OPTIONS answers 405: no self-description of views (and no crash on views without a serializer).
    "DEFAULT_METADATA_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": HARBOR_NUM_PROXIES,
}
# The duplicate search (SPEC §2): per user, every window at once (searches/period, comma-separated);
# beyond any of them, 429. The youth and referral creates' duplicate reports count against it too.
HARBOR_DUPLICATE_SEARCH_RATES = env.list("HARBOR_DUPLICATE_SEARCH_RATES", default=["20/hour", "100/day"])

SPECTACULAR_SETTINGS = {
    "TITLE": "Safe Harbor API",
    "DESCRIPTION": "Case coordination for Los Angeles County's CSEC multidisciplinary teams.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Choice sets whose field names ("kind", "status") other choice sets share: named here, so
    # the schema's enum names are stable instead of hash-suffixed.
    "ENUM_NAME_OVERRIDES": {
        "ServiceKindEnum": "cases.models.ServiceReferral.Kind",
        "ServiceReferralStatusEnum": "cases.models.ServiceReferral.Status",
        "CourtHearingStatusEnum": "cases.models.CourtHearing.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_schema",
    ],
}

# Tokens: stored hashed; 30 minutes idle, 12 hours at most (CJIS 5.5.5 session lock).
REST_KNOX = {
    "TOKEN_TTL": timedelta(minutes=30),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(hours=12),
    "MIN_REFRESH_INTERVAL": 60,
    "TOKEN_LIMIT_PER_USER": None,
}
# Admin sessions: 30 minutes idle and 12 hours at most, enforced by
# accounts.middleware.SessionLimitsMiddleware (which logs out and deletes the row). The store's own
# expiry is the 12-hour outer bound. Sessions live in the database so that every session of a
# user can be found and deleted when their access changes (accounts.services.user_sessions_end):
# a cache-only engine would make that impossible.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout: 5 failures for one username lock it for 10 minutes (CJIS 5.5.3).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=10)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "accounts.services.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# Never store what was typed: passwords are masked by axes itself; one-time codes too.
AXES_SENSITIVE_PARAMETERS = ["password", "otp", "otp_token"]

# MFA: required for the admin roles; for everyone when this is true.
HARBOR_MFA_REQUIRED_FOR_ALL = env.bool("HARBOR_MFA_REQUIRED_FOR_ALL", default=False)
HARBOR_MFA_ENFORCED = True
OTP_TOTP_ISSUER = "Safe Harbor"

# Agencies whose users hold mental-health information under WIC 5328 (SPEC §1): deployment
# configuration, never an editable field, so no admin screen can make another agency clinical.
HARBOR_CLINICAL_AGENCIES = env.list("HARBOR_CLINICAL_AGENCIES", default=["DMH"])

# CORS closed by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

# --- mail -----------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Safe Harbor <no-reply@safeharbor.invalid>")

# --- field encryption -----------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt. Unset: a key file under var/
# (local only; production refuses to start without keys).
HARBOR_FIELD_KEYS = env.list("HARBOR_FIELD_KEYS", default=[])
HARBOR_FIELD_KEY_FILE = VAR_DIR / "field_keys"
HARBOR_BLIND_INDEX_KEY = env("HARBOR_BLIND_INDEX_KEY", default="")

# --- audit log (SPEC §5) --------------------------------------------------------------------------
# The key of every audit event's MAC and of the chain's checkpoints. It is never stored in the
# database: someone with database access alone cannot write an event that verifies. A fixed,
# public default for local use; production has no default.
HARBOR_AUDIT_KEY = env("HARBOR_AUDIT_KEY", default="local-dev-only-audit-key-not-secret")
# Where the signed checkpoints of the chain's head are appended (one JSON line each), besides
# the log line and the audit_auditcheckpoint table. Ship this file off the host.
HARBOR_AUDIT_CHECKPOINT_FILE = env("HARBOR_AUDIT_CHECKPOINT_FILE", default=str(VAR_DIR / "audit_checkpoints.jsonl"))
# POST /api/v1/audit-events/verify/ answers at once up to this many events; above, a job to poll.
HARBOR_AUDIT_VERIFY_SYNC_LIMIT = env.int("HARBOR_AUDIT_VERIFY_SYNC_LIMIT", default=50_000)

# --- Celery ---------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than any countdown or retry back-off, so Redis never re-delivers a task that
    # is merely waiting for its ETA.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 6}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks are declared here, in code; the database scheduler syncs them at start.
CELERY_BEAT_SCHEDULE: dict = {
    "audit-seal": {"task": "audit.tasks.audit_seal_task", "schedule": 10.0},
    # SPEC §5: a signed checkpoint at least every 10 minutes (every 5, so one missed run is not a gap).
    "audit-checkpoint": {"task": "audit.tasks.audit_checkpoint_task", "schedule": 300.0},
    "deadlines-sweep": {"task": "notifications.tasks.sweep_deadlines_task", "schedule": 60.0},
    # SPEC §3: the supervisors' daily digest at 7:00 Pacific. Beat runs in UTC: the task runs every
    # 10 minutes and makes a day's digests on its first run at or after 7:00 in Los Angeles (once).
    "deadlines-daily-digest": {"task": "notifications.tasks.supervisor_digest_task", "schedule": 600.0},
    "tokens-purge-expired": {"task": "accounts.tasks.tokens_purge_expired_task", "schedule": 3600.0},
    # SPEC §9: access-oversight alerts from the audit log (a 10-minute window, looked at every 5).
    "access-alerts": {"task": "reports.tasks.access_alerts_task", "schedule": 300.0},
    # ops/watchdog.py: alerts while beat runs (each worker also runs it on its own timer, for when beat stops).
    "ops-watchdog": {"task": "ops.tasks.watchdog_task", "schedule": 60.0},
}
#: Seconds between two rounds of each worker's own watchdog timer (0: no timer).
HARBOR_WATCHDOG_INTERVAL = env.int("HARBOR_WATCHDOG_INTERVAL", default=60)

# Every line a request can put in a log passes through SecretPathFilter: the calendar-feed and
# set-password tokens in a path become ***, and so does a query string (core/logging_filters.py).
# The filter sits on the loggers that write paths (so the records they propagate are already
# masked) and on the handlers (so a record from anywhere else is masked before it is written).
# Lines are structured (ops/logconfig.py): JSON by default, key=value lines with
# HARBOR_LOG_FORMAT=console (`make run`); each carries the request or task ids.
HARBOR_LOG_FORMAT = env("HARBOR_LOG_FORMAT", default="json")
structlog_configure()
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"secrets": {"()": "core.logging_filters.SecretPathFilter"}},
    "formatters": {
        "structured": log_formatter(HARBOR_LOG_FORMAT),
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["secrets"]},
        # runserver's access log, as Django's default logging has it, plus the filter.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["secrets"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request logs would carry URLs with ids and query strings; keep them to warnings.
        "django.request": {"level": "ERROR", "filters": ["secrets"]},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["secrets"]},
        "axes": {"level": "WARNING"},
    },
}

LOGIN_URL = "/admin/login/"

# Lockout is per username (SPEC §8, CJIS 5.5.3). Per-address lockout would lock a whole agency
# office behind one NAT address; per-address abuse is slowed by the token endpoint's throttle.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- operations (SPEC §7, docs/operations.md) ------------------------------------------------------
#: The bearer token of GET /metrics/ (ops/metrics.py); unset (or shorter than 16): the path is a 404.
HARBOR_METRICS_TOKEN = env("HARBOR_METRICS_TOKEN", default="")
#: Error reports (ops/sentry.py scrubs every event before it leaves): off unless SENTRY_DSN is set.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from ops.sentry import sentry_init

    sentry_init(
        SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=None),
    )

# Throttle counters (and any cache use) are shared between web processes through Redis when
# there is one; the embedded default keeps them per process.
CACHES = (
    {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "harbor",
        }
    }
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)
