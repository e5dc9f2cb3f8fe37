"""The benchmark: production-shaped (PostgreSQL, Redis, DEBUG off) on loopback, with a
bench-only URLconf that adds the framework-floor endpoint. Never for real data.

BENCH_DB_POOL=1 serves connections from psycopg 3's pool (Django 5.2's `pool` option) instead of
one persistent connection per worker thread — what `make bench` compares with threaded workers."""

from .base import *  # noqa: F403
from .base import LOGGING, PG_SESSION_OPTIONS, REST_FRAMEWORK, env

HARBOR_ENVIRONMENT = "bench"
# The synthetic county-scale seed (bench only; the tests exercise it too). Not in the image.
INSTALLED_APPS = [*INSTALLED_APPS, "scale"]  # noqa: F405
DEBUG = False
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/safe_harbor_bench")}
DATABASES["default"]["OPTIONS"] = {"options": PG_SESSION_OPTIONS} if PG_SESSION_OPTIONS else {}
if env.bool("BENCH_DB_POOL", default=False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 2,
        "max_size": env.int("BENCH_DB_POOL_SIZE", default=4),
        "timeout": 10,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 600
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/5")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 6}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "harbor-bench",
    }
}
ROOT_URLCONF = "config.urls_bench"
HARBOR_FIELD_KEYS = env.list("HARBOR_FIELD_KEYS", default=["Jf0T2b1YQ2l0xGv7T4m8yGk0k2bJq3Zp9mX1cV5bN7s="])
HARBOR_BLIND_INDEX_KEY = env("HARBOR_BLIND_INDEX_KEY", default="bench-blind-index-key")
HARBOR_AUDIT_KEY = env("HARBOR_AUDIT_KEY", default="bench-audit-key")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"auth": "100000/min", "invitation": "100000/hour", "password_reset": "100000/hour"},
}
# The benchmark times the search endpoint hundreds of times as one worker: not the throttle's job.
HARBOR_DUPLICATE_SEARCH_RATES = ["1000000/hour", "1000000/day"]
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}
