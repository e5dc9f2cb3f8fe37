"""The embedded default: SQLite, filesystem broker, console or file email. Not for real data."""

from .base import *  # noqa: F403
from .base import env, log_formatter

DEBUG = env.bool("DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
HARBOR_ENVIRONMENT = "local"
# Readable log lines, and each email as readable text in var/mail/ (printed too): ops/mail.py.
HARBOR_LOG_FORMAT = env("HARBOR_LOG_FORMAT", default="console")
LOGGING["formatters"]["structured"] = log_formatter(HARBOR_LOG_FORMAT)  # noqa: F405
EMAIL_BACKEND = env("EMAIL_BACKEND", default="ops.mail.ReadableFileBackend")
