"""Production settings (SPEC §8): `check --deploy` is clean, and a missing secret stops the start.

These run `manage.py` in a subprocess: production settings must be imported fresh, with their own
environment, not layered over the test settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARBOR_", "DJANGO_", "SECRET_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        HARBOR_FIELD_KEYS=Fernet.generate_key().decode(),
        HARBOR_BLIND_INDEX_KEY=secrets.token_urlsafe(32),
        HARBOR_AUDIT_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="harbor.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # when
    result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "blank"),
    [
        ("SECRET_KEY", False),
        ("SECRET_KEY", True),
        ("HARBOR_FIELD_KEYS", False),
        ("HARBOR_FIELD_KEYS", True),
        ("HARBOR_BLIND_INDEX_KEY", False),
        ("HARBOR_BLIND_INDEX_KEY", True),
        ("HARBOR_AUDIT_KEY", False),
        ("HARBOR_AUDIT_KEY", True),
        ("ALLOWED_HOSTS", False),
    ],
)
def test_production_refuses_to_start_without_a_secret(tmp_path, missing, blank):
    # given
    env = _production_env(tmp_path, **{missing: "" if blank else None})

    # when
    result = _manage(env, "check")

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_refuses_a_malformed_field_key(tmp_path):
    # given
    env = _production_env(tmp_path, HARBOR_FIELD_KEYS="not-a-fernet-key")

    # when
    result = _manage(env, "check")

    # then
    assert result.returncode != 0
    assert "HARBOR_FIELD_KEYS" in result.stderr
