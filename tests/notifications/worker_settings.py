"""Settings for the Celery worker processes the fault tests start: the test settings, with the
email backend and the retry timing taken from the environment (the test settings pin locmem,
which a separate process cannot report back through)."""

from config.settings.test import *  # noqa: F403
from config.settings.test import env

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default="/tmp/harbor-test-mail")  # noqa: S108
HARBOR_NOTIFICATIONS_QUEUE = env("HARBOR_NOTIFICATIONS_QUEUE", default=None)
HARBOR_NOTIFICATION_RETRY_BASE = env.float("HARBOR_NOTIFICATION_RETRY_BASE", default=30)
HARBOR_NOTIFICATION_RETRY_CAP = env.float("HARBOR_NOTIFICATION_RETRY_CAP", default=3600)
