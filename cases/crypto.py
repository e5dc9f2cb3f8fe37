"""Field encryption at rest (MultiFernet) and keyed-hash blind indexes for equality look-ups.

Keys: HARBOR_FIELD_KEYS (comma-separated Fernet keys, the first encrypts, all decrypt). The
embedded default generates a key file under var/ on first use; production settings refuse to
start without keys. The blind index uses a separate HMAC key (HARBOR_BLIND_INDEX_KEY, or one
derived from the key file locally) so the index cannot be recomputed from the data alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.expressions import Combinable

from core.environments import is_non_production

PREFIX = "fernet:"


def _local_keys() -> list[str]:
    path = settings.HARBOR_FIELD_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@lru_cache(maxsize=1)
def field_keys() -> tuple[str, ...]:
    keys = [k.strip() for k in settings.HARBOR_FIELD_KEYS if k.strip()]
    if not keys:
        if not is_non_production():
            # Never a key file outside local, test and bench: the keys come from the environment
            # or nothing runs.
            raise ImproperlyConfigured("HARBOR_FIELD_KEYS is required in production.")
        keys = _local_keys()
    return tuple(keys)


def check_field_keys() -> list[str]:
    """Problems with the configured keys (empty when they are usable)."""
    try:
        keys = field_keys()
    except ImproperlyConfigured as exc:
        return [str(exc)]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            problems.append(f"HARBOR_FIELD_KEYS entry {position} is not a valid Fernet key.")
    if not is_non_production() and not settings.HARBOR_BLIND_INDEX_KEY:
        problems.append("HARBOR_BLIND_INDEX_KEY is required in production.")
    return problems


@lru_cache(maxsize=1)
def fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in field_keys()])


@lru_cache(maxsize=1)
def blind_index_key() -> bytes:
    configured = settings.HARBOR_BLIND_INDEX_KEY
    if configured:
        return configured.encode()
    return hashlib.sha256(b"harbor-blind-index:" + field_keys()[-1].encode()).digest()


def reset_key_cache() -> None:
    """After changing keys in settings (rotation, tests)."""
    field_keys.cache_clear()
    fernet.cache_clear()
    blind_index_key.cache_clear()


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return fernet().decrypt(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("value cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (MultiFernet.rotate)."""
    return PREFIX + fernet().rotate(token[len(PREFIX) :].encode()).decode()


def normalize(value: str) -> str:
    """Case-, accent- and space-insensitive form used for blind indexes and matching."""
    value = unicodedata.normalize("NFKD", value)
    value = "".join(c for c in value if not unicodedata.combining(c))
    return " ".join(value.lower().split())


def blind_index(value: str | dt.date | None) -> str:
    if value is None or value == "":
        return ""
    raw = value.isoformat() if isinstance(value, dt.date) else normalize(str(value))
    return hmac.new(blind_index_key(), raw.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python sees plain text."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return self.decode(decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if value == "" and not isinstance(self, (EncryptedDateField, EncryptedJSONField)):
            return ""
        return encrypt(self.encode(value))

    def encode(self, value: Any) -> str:
        return str(value)

    def decode(self, value: str) -> Any:
        return value

    def get_internal_type(self) -> str:
        return "TextField"


class EncryptedDateField(EncryptedTextField):
    # What the model attribute accepts and gives, for django-stubs' plugin (which adds None when
    # null=True). The ignores: django-stubs' TextField stub pins these to str, and the typed
    # alternative it documents (TextField[ST, GT]) needs django_stubs_ext's runtime monkeypatch.
    _pyi_private_set_type: dt.date | str | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: dt.date  # type: ignore[assignment]

    def encode(self, value: Any) -> str:
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return value.isoformat()

    def decode(self, value: str) -> Any:
        return dt.date.fromisoformat(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value:
            return dt.date.fromisoformat(value)
        return value


class EncryptedJSONField(EncryptedTextField):
    # Any JSON value, as django-stubs types models.JSONField (see EncryptedDateField).
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def encode(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    def decode(self, value: str) -> Any:
        return json.loads(value)


def is_current(token: str) -> bool:
    """True when `token` is already encrypted under the newest (first) key."""
    if not token.startswith(PREFIX):
        return False
    try:
        Fernet(field_keys()[0].encode()).decrypt(token[len(PREFIX) :].encode())
    except InvalidToken:
        return False
    return True


def encrypted_columns(model: type[models.Model]) -> list[str]:
    """The database columns of `model` that hold Fernet tokens."""
    columns = []
    for f in model._meta.concrete_fields:  # noqa: SLF001 - Django's public Model._meta API
        if isinstance(f, EncryptedTextField):
            assert f.column is not None  # a concrete field always has its column
            columns.append(f.column)
    return columns
