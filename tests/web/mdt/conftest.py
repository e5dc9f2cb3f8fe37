"""Fixtures of the MDT workspace's page tests: the MDT tests' teams and people (STAR: a Probation
coordinator, a DA member, a DMH case worker; DREAM: a DCFS coordinator and member), signed in
through a real session (tests/web/conftest.py's `web`)."""

from __future__ import annotations

from tests.mdt.conftest import dream, frozen, people, star, teams  # noqa: F401  (fixtures)
