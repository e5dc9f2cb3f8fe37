"""Abuse stories of the duplicate search (SPEC §2 "Possible duplicates", §8 "date-of-birth
search enumeration"): the search tells a caller that another agency holds a record, so it must
not become an oracle for names, dates of birth or agency numbers of children it hides."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cases import bootstrap
from cases.models import Case
from cases.services import cases as case_services
from cases.services import youth as youth_services
from tests.cases.factories import create_referral, create_youth, open_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# SPEC §2's defaults, set explicitly: the test settings raise them for every other test.
DEFAULT_RATES = ["20/hour", "100/day"]
BIRTH = dt.date(2010, 3, 4)  # its day and month can be transposed: 2010-04-03


@pytest.fixture(autouse=True)
def real_rates(settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_DUPLICATE_SEARCH_RATES = DEFAULT_RATES


@pytest.fixture
def users(agencies):  # type: ignore[no-untyped-def]
    bootstrap.run()  # indicator codes, for referrals
    return {
        key: UserFactory(username=key, agency=agencies[code], role=role)
        for key, code, role in [
            ("sheriff_worker", "SHERIFF", "case_worker"),
            ("sheriff_supervisor", "SHERIFF", "supervisor"),
            ("probation_worker", "PROBATION", "case_worker"),
            ("dcfs_supervisor", "DCFS", "supervisor"),
        ]
    }


def matches(client, first: str, last: str, dob: dt.date | None = None):  # type: ignore[no-untyped-def]
    query = {"first_name": first, "last_name": last, **({"date_of_birth": dob.isoformat()} if dob else {})}
    return client.get("/api/v1/youth/matches/?" + urlencode(query))


def test_date_of_birth_enumeration_meets_the_throttle(users, make_client):  # type: ignore[no-untyped-def]
    # given: a record another agency holds (the Sheriff's), whose name the caller knows
    create_youth(users["sheriff_worker"], date_of_birth=BIRTH, aliases=[])
    client = make_client(users["probation_worker"])
    near = [
        dt.date(2010, 4, 3),  # day and month transposed
        dt.date(2009, 3, 4),  # a typo in the year
        dt.date(2011, 3, 4),
        dt.date(2010, 3, 5),  # a day off
    ]
    others = [dt.date(2008, 1, 1) + dt.timedelta(days=37 * i) for i in range(200)]
    others = [d for d in others if d != BIRTH and d not in near]
    tries = [*near, *others[:6], BIRTH, *others[6:95]]
    assert len(tries) == 100 and tries.index(BIRTH) == 10
    # when: a hundred dates of birth for the known name, one search each
    answers = [matches(client, "Jasmine", "Carter", dob) for dob in tries]
    # then: twenty searches are answered, the 21st and every one after meet 429
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * 20 + [429] * 80, statuses
    refused = answers[20]
    assert refused.json()["code"] == "throttled" and set(refused.json()) == {"code", "detail"}
    assert int(refused["Retry-After"]) > 0
    # and before it, only the right date (with the name agreeing strongly) revealed the record
    for dob, answer in zip(tries[:20], answers[:20], strict=True):
        expected = [{"agency": "SHERIFF"}] if dob == BIRTH else []
        assert answer.json() == {"possible_duplicates": expected}, dob
    # and a create over the budget reports no hidden candidate either (it still succeeds)
    created = client.post(
        "/api/v1/youth/",
        {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": BIRTH.isoformat()},
        format="json",
    )
    assert created.status_code == 201 and created.json()["possible_duplicates"] == []


def test_hidden_candidate_needs_name_and_birth_date_to_agree(users, make_client):  # type: ignore[no-untyped-def]
    # given: the Sheriff's record of Jasmine Carter, "Jazzy" on the street
    original = create_youth(users["sheriff_worker"], date_of_birth=BIRTH, aliases=["Jazzy"])
    client = make_client(users["probation_worker"])
    hidden = {"possible_duplicates": [{"agency": "SHERIFF"}]}
    nothing = {"possible_duplicates": []}
    # then: name (aliases and phonetics included) and the exact date agree: the agency is named
    assert matches(client, "Jasmine", "Carter", BIRTH).json() == hidden
    assert matches(client, "Jazzy", "Carter", BIRTH).json() == hidden  # the alias
    assert matches(client, "Jasmine", "Karter", BIRTH).json() == hidden  # sounds the same
    # and a near date, no date or a weaker name answer exactly what no record answers
    assert matches(client, "Jasmine", "Carter").json() == nothing
    assert matches(client, "Jasmine", "Carter", dt.date(2010, 4, 3)).json() == nothing  # transposed
    assert matches(client, "Jasmine", "Carter", dt.date(2011, 3, 4)).json() == nothing  # year typo
    assert matches(client, "Jessica", "Carter", BIRTH).json() == nothing
    assert matches(client, "Jasmine", "Parker", BIRTH).json() == nothing
    # and the create responses follow the same rule
    created = client.post(
        "/api/v1/referrals/",
        {
            "youth": {"first_name": "Jessica", "last_name": "Carter", "date_of_birth": BIRTH.isoformat()},
            "received_at": timezone.now().isoformat(),
            "source": "probation",
            "indicators": [],
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["possible_duplicates"] == []
    # but a caller who may see the record keeps the usual scoring
    holder = make_client(users["sheriff_worker"])
    [seen] = [m for m in matches(holder, "Jessica", "Carter", BIRTH).json()["possible_duplicates"] if "youth" in m]
    assert seen["youth"] == original.pk and 0.7 <= seen["score"] < 1


def test_external_id_collision_answers_like_a_hidden_duplicate(users, make_client):  # type: ignore[no-untyped-def]
    # given: the Sheriff's record carries a DCFS hotline number
    youth_services.youth_create(
        actor=users["sheriff_worker"],
        first_name="Maria",
        last_name="Lopez",
        date_of_birth=dt.date(2009, 7, 21),
        external_ids=[{"agency": users["dcfs_supervisor"].agency, "kind": "hotline", "value": "HL-4417"}],
    )
    client = make_client(users["probation_worker"])
    number = [{"agency": "DCFS", "kind": "hotline", "value": "HL-4417"}]
    # when: another agency's worker creates a youth (and a referral) sending that number
    youth = client.post(
        "/api/v1/youth/",
        {"first_name": "Ana", "last_name": "Reyes", "date_of_birth": "2011-01-02", "external_ids": number},
        format="json",
    )
    referral = client.post(
        "/api/v1/referrals/",
        {
            "youth": {"first_name": "Rosa", "last_name": "Diaz", "external_ids": number},
            "received_at": timezone.now().isoformat(),
            "source": "probation",
            "indicators": [],
        },
        format="json",
    )
    # then: not a 409, not a field message: the agency to ask, as for a hidden duplicate
    for answer in (youth, referral):
        assert answer.status_code == 201, answer.json()
        body = answer.json()
        assert "errors" not in body and "code" not in body
        assert body["possible_duplicates"] == [{"agency": "SHERIFF"}]
        assert "Maria" not in json.dumps(body) and "Lopez" not in json.dumps(body)
    assert youth.json()["external_ids"] == []  # the number stays the Sheriff's record's
    # and the answer has the shape of a name-and-birth-date hidden duplicate
    same = matches(client, "Maria", "Lopez", dt.date(2009, 7, 21)).json()["possible_duplicates"]
    assert same == youth.json()["possible_duplicates"]


def test_the_agency_named_is_the_lead_of_the_open_case(users, make_client):  # type: ignore[no-untyped-def]
    # given: the Sheriff holds the record; DCFS received the referral and leads the open case
    case = open_case(users["sheriff_worker"], users["dcfs_supervisor"], youth_data={"date_of_birth": BIRTH})
    assert case.youth.holding_agency.code == "SHERIFF" and case.lead_agency.code == "DCFS"
    client = make_client(users["probation_worker"])
    # then: the agency to ask is the lead of the open case, not the holder of the record
    assert matches(client, "Jasmine", "Carter", BIRTH).json() == {"possible_duplicates": [{"agency": "DCFS"}]}
    # and once the case is closed, the record's holder again
    case_services.case_close(
        case=Case.objects.get(pk=case.pk), actor=users["dcfs_supervisor"], reason="Services completed."
    )
    assert matches(client, "Jasmine", "Carter", BIRTH).json() == {"possible_duplicates": [{"agency": "SHERIFF"}]}
    # and a record with no case at all names its holder
    create_youth(users["sheriff_worker"], first_name="Maria", last_name="Lopez", date_of_birth=BIRTH, aliases=[])
    assert matches(client, "Maria", "Lopez", BIRTH).json() == {"possible_duplicates": [{"agency": "SHERIFF"}]}


def test_search_is_audited_without_its_values(users, make_client, settings):  # type: ignore[no-untyped-def]
    # given
    create_referral(users["sheriff_worker"], youth_data={"date_of_birth": BIRTH})
    worker = users["probation_worker"]
    client = make_client(worker)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    # when: the same search twice (written differently), another date, and a create
    matches(client, "Jasmine", "Carter", BIRTH)
    matches(client, "  JASMINE ", "carter", BIRTH)
    matches(client, "Jasmine", "Carter", dt.date(2001, 2, 3))
    client.post(
        "/api/v1/youth/", {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": "2010-03-04"}, format="json"
    )
    # then: one `search` event per search, each with a keyed hash of its query
    events = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    searches = [e for e in events if e.action == "search"]
    assert [e.actor_id for e in searches] == [worker.pk] * 4
    hashes = [e.detail["query"] for e in searches]
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)
    assert hashes[0] == hashes[1] == hashes[3]  # the same values, normalised
    assert hashes[2] != hashes[0]
    # and no event of the whole run holds a value of the query, in any form
    text = json.dumps([[e.object_type, e.object_id, e.detail] for e in events]).lower()
    for value in ("jasmine", "carter", "2010-03-04", "2001-02-03"):
        assert value not in text, value
    # and the hash is keyed (HMAC with the blind-index key): another key, another hash
    from cases import crypto, matching

    query = matching.Person("Jasmine", "Carter", BIRTH)
    assert matching.query_fingerprint(query) == hashes[0]
    key = settings.HARBOR_BLIND_INDEX_KEY
    settings.HARBOR_BLIND_INDEX_KEY = key + "-another"
    crypto.reset_key_cache()
    try:
        assert matching.query_fingerprint(query) != hashes[0]
    finally:
        settings.HARBOR_BLIND_INDEX_KEY = key
        crypto.reset_key_cache()


def test_patching_external_ids_is_no_unthrottled_number_oracle(users, make_client, settings):  # type: ignore[no-untyped-def]
    # given: the Sheriff's record carries a DCFS hotline number; a Probation worker holds a
    # record of their own and the real budget of 20 searches an hour
    settings.HARBOR_DUPLICATE_SEARCH_RATES = ["20/hour", "100/day"]
    youth_services.youth_create(
        actor=users["sheriff_worker"],
        first_name="Maria",
        last_name="Lopez",
        date_of_birth=dt.date(2009, 7, 21),
        external_ids=[{"agency": users["dcfs_supervisor"].agency, "kind": "hotline", "value": "HL-4417"}],
    )
    client = make_client(users["probation_worker"])
    own = client.post("/api/v1/youth/", {"first_name": "Ana", "last_name": "Reyes"}, format="json").json()

    # when: they patch their own record with the Sheriff's number
    patched = client.patch(
        f"/api/v1/youth/{own['id']}/",
        {"external_ids": [{"agency": "DCFS", "kind": "hotline", "value": "HL-4417"}]},
        format="json",
    )

    # then: the answer of a hidden duplicate, not "that number is in use"; the number not taken
    assert patched.status_code == 200, patched.json()
    assert patched.json()["possible_duplicates"] == [{"agency": "SHERIFF"}]
    assert patched.json()["external_ids"] == []

    # and trying numbers by patching meets the throttle like any search
    statuses = [
        client.patch(
            f"/api/v1/youth/{own['id']}/",
            {"external_ids": [{"agency": "DCFS", "kind": "hotline", "value": f"HL-{n:04d}"}]},
            format="json",
        ).status_code
        for n in range(25)
    ]
    assert 429 in statuses and statuses.index(429) <= 19
