"""Production: PostgreSQL, Redis, SMTP, TLS. Every secret comes from the environment."""

from .base import *  # noqa: F403
from .base import env

HARBOR_ENVIRONMENT = "production"
DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: refuse to start without one
HARBOR_FIELD_KEYS = env.list("HARBOR_FIELD_KEYS")  # no default: refuse to start without keys
HARBOR_BLIND_INDEX_KEY = env("HARBOR_BLIND_INDEX_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
HARBOR_MFA_ENFORCED = True

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
