"""Settings for the test suite: fast hashing, locmem email, PostgreSQL/Redis when pointed at."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = False
HARBOR_ENVIRONMENT = "test"
# The synthetic county-scale seed (bench only; the tests exercise it too). Not in the image.
INSTALLED_APPS = [*INSTALLED_APPS, "scale"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests that are not about MFA get a user without a device; the MFA tests turn this on.
HARBOR_MFA_ENFORCED = env.bool("HARBOR_MFA_ENFORCED", default=False)
HARBOR_FIELD_KEYS = env.list("HARBOR_FIELD_KEYS", default=["q8Zl3l0kF2u1Jm7c3o9cB6mX4b2v8n0pR5t7y9w1e3Q="])
HARBOR_BLIND_INDEX_KEY = env("HARBOR_BLIND_INDEX_KEY", default="test-blind-index-key")
HARBOR_AUDIT_KEY = env("HARBOR_AUDIT_KEY", default="test-audit-key")
HARBOR_AUDIT_CHECKPOINT_FILE = str(VAR_DIR / "test_audit_checkpoints.jsonl")
HARBOR_FIELD_KEY_FILE = VAR_DIR / "test_field_keys"
CELERY_TASK_ALWAYS_EAGER = False
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"auth": "1000/min", "invitation": "1000/hour", "password_reset": "1000/hour"},
}
# Other tests search and create freely; the duplicate-search tests set the real rates themselves.
HARBOR_DUPLICATE_SEARCH_RATES = ["100000/hour", "1000000/day"]
# Publishing does not lay the agenda PDF out ahead in the suite (each publish would render one);
# tests/mdt/test_pdf_content.py turns it on where it is the subject.
HARBOR_AGENDA_PDF_PREPARE = False
# Per-process cache in tests: throttle counters must not leak between tests through Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
