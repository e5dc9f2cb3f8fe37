"""The soak (`make soak`, bench/soak.py): the benchmark's settings made production-shaped where a
fault shows the difference, and countable. Never for real data.

- Database connections as production has them (CONN_MAX_AGE 60 with health checks): a
  connection the soak drops is noticed and replaced at the next request, not kept for ten
  minutes as the benchmark's persistent connections are.
- Email into files (EMAIL_FILE_PATH, one directory per run) so every process's sends can be
  counted afterwards; each email carries its notification's id (X-Harbor-Notification).
- The sweep every SOAK_SWEEP_SECONDS (10 s) instead of every minute, and a pending notification
  re-enqueued after SOAK_REDELIVER_SECONDS (20 s) instead of 5 minutes, so that a run of a
  minute or two sees many sweeps and a message lost with Redis is recovered within the run.
  Only the intervals change; the code that runs is production's.
"""

from .base import CELERY_BEAT_SCHEDULE, VAR_DIR, env
from .bench import *  # noqa: F403
from .bench import DATABASES

HARBOR_ENVIRONMENT = "bench"  # a non-production environment (core/environments.py)
DATABASES["default"]["NAME"] = DATABASES["default"].get("NAME") or "safe_harbor_soak"
if not DATABASES["default"].get("OPTIONS", {}).get("pool"):
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "soak" / "mail"))
HARBOR_AUDIT_CHECKPOINT_FILE = env(
    "HARBOR_AUDIT_CHECKPOINT_FILE", default=str(VAR_DIR / "soak" / "audit_checkpoints.jsonl")
)
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "deadlines-sweep": {
        **CELERY_BEAT_SCHEDULE["deadlines-sweep"],
        "schedule": env.float("SOAK_SWEEP_SECONDS", default=10.0),
    },
}
HARBOR_NOTIFICATION_REDELIVER_AFTER = env.float("SOAK_REDELIVER_SECONDS", default=20.0)
