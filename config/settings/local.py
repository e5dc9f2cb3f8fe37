"""The embedded default: SQLite, filesystem broker, console or file email. Not for real data."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
HARBOR_ENVIRONMENT = "local"
