"""The image's build step (`collectstatic`, `check --deploy`): production's settings, with
throwaway secrets made here.

The real secrets are not known when the image is built and must never be baked into it; the
production module refuses to load without them, which is right at run time and wrong at build
time. Whatever the build environment holds is overridden, so no real secret reaches a layer."""

import os
import secrets

from cryptography.fernet import Fernet

os.environ.update(
    {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HARBOR_FIELD_KEYS": Fernet.generate_key().decode(),
        "HARBOR_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "HARBOR_AUDIT_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "build.invalid",
        "DATABASE_URL": "sqlite:////tmp/harbor-build.sqlite3",
    }
)

from .production import *  # noqa: E402, F403

HARBOR_ENVIRONMENT = "build"
