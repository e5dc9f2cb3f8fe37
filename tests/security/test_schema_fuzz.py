"""Schema fuzzing (SPEC §8): schemathesis drives every operation of the OpenAPI schema,
in-process against the WSGI app, once per role token. No answer may be a 5xx, and every
answer must conform to the schema (status code, content type, body).

Bounded: HARBOR_FUZZ_EXAMPLES examples per operation (default 8) keeps the whole run to a few
minutes on two cores."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis import checks

from config.wsgi import application
from tests.factories import AgencyFactory, UserFactory

#: Conformance of the answers. (The positive/negative data checks are left out: a schema cannot
#: say "this agency must exist" or "this name is taken", so business-rule 400s are expected.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
MAX_EXAMPLES = int(os.environ.get("HARBOR_FUZZ_EXAMPLES", "8"))
ROLES = ["case_worker", "supervisor", "mdt_member", "agency_admin", "system_admin", "auditor"]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    """Calling the WSGI app directly fires request_started/finished, whose handler closes the
    database connection — inside the test's transaction on PostgreSQL. Django's test Client
    disconnects the same handler; so does this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def role_tokens(db):  # type: ignore[no-untyped-def]
    """One live token per role (plus anonymous), users of DCFS."""
    dcfs = AgencyFactory(code="DCFS")
    for code in ("DMH", "PROBATION", "SHERIFF"):
        AgencyFactory(code=code)
    tokens: dict[str, str | None] = {"anonymous": None}
    for role in ROLES:
        user = UserFactory(username=f"fuzz_{role}", agency=dcfs, role=role, is_superuser=role == "system_admin")
        tokens[role] = AuthToken.objects.create(user=user)[1]
    return tokens


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_schema_conformance(case, role_tokens):  # type: ignore[no-untyped-def]
    for role, token in role_tokens.items():
        headers = {"Authorization": f"Token {token}"} if token else {}
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{role}: {case.method} {case.formatted_path} -> {response.status_code}"
        case.validate_response(response, checks=CHECKS, headers=headers)
