"""Production: PostgreSQL, Redis, SMTP, TLS. Every secret comes from the environment."""

from .base import *  # noqa: F403
from .base import env

HARBOR_ENVIRONMENT = "production"
DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: refuse to start without one
HARBOR_FIELD_KEYS = env.list("HARBOR_FIELD_KEYS")  # no default: refuse to start without keys
HARBOR_BLIND_INDEX_KEY = env("HARBOR_BLIND_INDEX_KEY")
HARBOR_AUDIT_KEY = env("HARBOR_AUDIT_KEY")  # no default: the audit MAC key is never the public one
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
HARBOR_MFA_ENFORCED = True


def _refuse_blank_secrets() -> None:
    """`env()` refuses an unset variable; a set-but-empty one (`SECRET_KEY=` in a compose file)
    would pass it and fail much later, or never. Refuse those too, and malformed field keys."""
    from cryptography.fernet import Fernet
    from django.core.exceptions import ImproperlyConfigured

    for name, value in (
        ("SECRET_KEY", SECRET_KEY),
        ("HARBOR_BLIND_INDEX_KEY", HARBOR_BLIND_INDEX_KEY),
        ("HARBOR_AUDIT_KEY", HARBOR_AUDIT_KEY),
    ):
        if not value.strip():
            raise ImproperlyConfigured(f"Set the {name} environment variable (it is empty)")
    if not HARBOR_FIELD_KEYS:
        raise ImproperlyConfigured("Set the HARBOR_FIELD_KEYS environment variable (it is empty)")
    for position, key in enumerate(HARBOR_FIELD_KEYS, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # The key itself is never echoed.
            raise ImproperlyConfigured(f"HARBOR_FIELD_KEYS: key {position} is not a Fernet key") from None


_refuse_blank_secrets()

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}  # noqa: F405
