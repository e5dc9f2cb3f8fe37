"""The tiny world the model-based test plays in, and the in-process API driver it uses.

Three agencies (DMH is the clinical one), a case worker, a supervisor and an agency admin in each.
The people are made once per test (in the test's transaction); every example then runs inside a
savepoint that is rolled back, so examples cost no table truncation.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rest_framework.test import APIClient

from accounts.models import Agency, User
from tests.conftest import IN_CI
from tests.factories import AgencyFactory, UserFactory

AGENCIES = (
    ("DMH", Agency.Kind.MENTAL_HEALTH),
    ("DCFS", Agency.Kind.CHILD_WELFARE),
    ("PROBATION", Agency.Kind.PROBATION),
)
CLINICAL = frozenset({"DMH"})

#: What the product is being changed to do right now (SPEC "Changes in this revision"). Name one in
#: HARBOR_MODEL_OFF (comma-separated) to keep the sequences inside what today's code already does:
#: - share_requests: accepting for a youth whose open case another agency leads, share requests;
#: - report_expiry: an 18961.7 grant's default expiry counts from the report, not the grant;
#: - court_mdt: court_mdt grants, which end when the case's court changes.
FEATURES = frozenset({"share_requests", "report_expiry", "court_mdt"})
OFF = frozenset(f.strip() for f in os.environ.get("HARBOR_MODEL_OFF", "").split(",") if f.strip())
unknown = OFF - FEATURES
assert not unknown, f"HARBOR_MODEL_OFF names unknown features: {sorted(unknown)}"


def feature(name: str) -> bool:
    return name not in OFF


def _count(name: str, ci_minimum: int, local_default: int) -> int:
    value = int(os.environ.get(name, local_default))
    return max(value, ci_minimum) if IN_CI else value


def _shard() -> tuple[int, int]:
    """HARBOR_MODEL_SHARD=i/n: this process runs the i-th of n equal shares of the examples, with
    sequences of its own (bin/run_tests.py runs two shards beside the rest of the suite, one per
    core). Unset: one process runs them all."""
    raw = os.environ.get("HARBOR_MODEL_SHARD", "1/1")
    index, _, count = raw.partition("/")
    shard = (int(index), int(count or 1))
    assert 1 <= shard[0] <= shard[1], f"HARBOR_MODEL_SHARD must be i/n with 1 <= i <= n, not {raw!r}"
    return shard


SHARD, SHARDS = _shard()
#: CI runs at least 200 examples of 40 steps in all shards together; locally
#: HARBOR_MODEL_EXAMPLES / _STEPS choose (the total, shared out among the shards).
TOTAL_EXAMPLES = _count("HARBOR_MODEL_EXAMPLES", 200, 20)
MAX_EXAMPLES = -(-TOTAL_EXAMPLES // SHARDS)
MAX_STEPS = _count("HARBOR_MODEL_STEPS", 40, 40)
SHRINK = os.environ.get("HARBOR_MODEL_SHRINK", "1") != "0"

#: What ran, reported at the end of the session (conftest.py).
STATS = {"machines": 0, "examples": 0, "checks": 0, "requests": 0, "seconds": 0.0}
#: The writes the steps made through the API, by path: shows which rules actually ran.
WRITES: Counter[str] = Counter()


@dataclass
class People:
    users: dict[int, User]  # the case-role people the test moves around, by id
    admins: dict[str, User]  # one agency admin per agency (acts on people; never checked)
    agencies: dict[str, Agency]
    clients: dict[int, APIClient] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return sorted(self.users)


def build_people() -> People:
    agencies = {code: AgencyFactory(code=code, name=code.title(), kind=kind) for code, kind in AGENCIES}
    users: dict[int, User] = {}
    admins: dict[str, User] = {}
    for code, agency in agencies.items():
        for role in ("case_worker", "supervisor"):
            user = UserFactory(username=f"model-{code.lower()}-{role}", agency=agency, role=role)
            users[user.pk] = user
        admins[code] = UserFactory(username=f"model-{code.lower()}-admin", agency=agency, role="agency_admin")
    return People(users=users, admins=admins, agencies=agencies)


class Api:
    """Requests as a given person, in-process. Active people are force-authenticated (fast); the
    real token path is used to show an inactive person gets nothing (force_authenticate would skip
    the check that refuses them)."""

    def __init__(self, people: People):
        self.people = people
        self.clients: dict[int, APIClient] = {}
        #: Set by every write (and by the clock): a step that leaves it unset changed nothing.
        self.acted = True

    def refresh(self, uid: int) -> None:
        """After a change to a person (role, active state), as the next real request would see it."""
        self.people.users[uid] = User.objects.select_related("agency").get(pk=uid)
        self.clients.pop(uid, None)
        self.acted = True

    def wrote(self, what: str) -> None:
        """A step changed something outside the API (a service call, the clock)."""
        self.acted = True
        WRITES[what] += 1

    def client(self, uid: int) -> APIClient:
        client = self.clients.get(uid)
        if client is None:
            client = APIClient()
            client.force_authenticate(user=self.people.users[uid])
            self.clients[uid] = client
        return client

    def call(self, uid: int, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        STATS["requests"] += 1
        if method != "get":
            self.acted = True
            WRITES[re.sub(r"/\d+/", "/{id}/", f"{method.upper()} {path}")] += 1
        client = self.client(uid)
        response = client.get(path) if method == "get" else getattr(client, method)(path, body or {}, format="json")
        data = (
            response.json()
            if response.content and response.get("Content-Type", "").startswith("application/json")
            else None
        )
        return response.status_code, data

    def with_real_token(self, uid: int, path: str) -> int:
        from knox.models import AuthToken

        STATS["requests"] += 1
        _, token = AuthToken.objects.create(user=self.people.users[uid])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.get(path).status_code


def ids_of(data: Any) -> list[int]:
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return [row["id"] for row in rows or []]
