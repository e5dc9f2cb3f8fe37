"""County- and state-size synthetic data for the benchmark (`manage.py seed_scale`).

Every person, case and note here is invented (Faker's en_US and es_MX providers, a fixed seed).
The shapes follow the work, not a uniform draw: most youth have one referral and a few have
many; the Sheriff and DCFS refer most and DCFS receives most; street aliases; near-duplicate
records of the same child held by another agency; notes pile up on a few long cases; ~15% of
cases are on the STAR or DREAM court; expired WIC 18961.7 sharing grants.

Rows are written with PostgreSQL COPY (`bulk.copy_rows`) in stages. Each stage runs in one
transaction that also records it in `SeedStage`: an interrupted seed rolls back the stage it
was in and resumes there. Identifying fields are encrypted by the model fields themselves
(`get_prep_value`), blind indexes and duplicate-search keys come from the same helpers the
cases services use, and the audit events are inserted already sealed, their hash chain
computed with `audit.services.chain.chain_hash`, so `audit_verify` passes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services.chain import GENESIS, audit_seal, chain_hash
from audit.services.record import event_mac
from cases import matching
from cases.crypto import blind_index
from cases.models import (
    Case,
    CaseAgency,
    CaseNumberSequence,
    CaseTeamMember,
    CourtHearing,
    MissingEpisode,
    Note,
    Referral,
    SafetyAlert,
    Screening,
    Youth,
    YouthExternalId,
    YouthSearchKey,
)
from cases.services.referrals import suggested_level
from cases.services.youth import youth_index
from core.permissions import Role
from mdt.models import ActionItem, AgendaItem, MDTTeam, Meeting, TeamMembership
from notifications import messages
from notifications.models import Deadline, DeadlineRule, Notification

from .bulk import copy_rows, jtext, next_id, prep, reset_sequence
from .models import SeedStage

UTC = dt.UTC
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

#: One password for every synthetic user (hashed once, the hash shared: it is a benchmark).
BENCH_PASSWORD = "bench-scale-password-2026"  # noqa: S105 - synthetic users of a benchmark database
AGENCIES = ["DCFS", "SHERIFF", "PROBATION", "DMH"]
CASE_ROLE_NAMES = {"DCFS": "social_worker", "PROBATION": "probation_officer", "DMH": "clinician", "SHERIFF": "deputy"}


@dataclass(frozen=True)
class Size:
    youth: int
    referrals: int
    cases: int
    notes: int
    deadlines: int
    open_deadlines: int
    due_deadlines: int
    meetings: int
    action_items: int
    audit_events: int
    case_workers: int  # per agency
    supervisors: int  # per agency
    mdt_members: int  # per agency
    missing_episodes: int
    alerts: int


SIZES = {
    "county": Size(
        youth=10_000,
        referrals=30_000,
        cases=12_000,
        notes=100_000,
        deadlines=50_000,
        open_deadlines=10_000,
        due_deadlines=1_000,
        meetings=500,
        action_items=20_000,
        audit_events=1_000_000,
        case_workers=50,
        supervisors=10,
        mdt_members=10,
        missing_episodes=1_500,
        alerts=1_500,
    ),
}
#: For the tests: every stage, a few rows each.
SIZES["tiny"] = Size(
    youth=60,
    referrals=150,
    cases=60,
    notes=300,
    deadlines=200,
    open_deadlines=60,
    due_deadlines=10,
    meetings=8,
    action_items=60,
    audit_events=500,
    case_workers=3,
    supervisors=2,
    mdt_members=4,
    missing_episodes=10,
    alerts=10,
)
SIZES["state"] = Size(
    **{k: v * 10 for k, v in SIZES["county"].__dict__.items()},
)


def username(agency: str, role: str, i: int) -> str:
    return f"scale_{agency.lower()}_{role}_{i:03d}"


def auditor_totp_key() -> str:
    """The bench auditor's TOTP secret (hex), derived from SECRET_KEY so the benchmark can
    compute a code and log in through the real MFA check."""
    return hashlib.sha256(b"harbor-bench-auditor-totp:" + settings.SECRET_KEY.encode()).hexdigest()[:40]


# --- shared helpers ------------------------------------------------------------------------------------


class Ctx:
    """What every stage needs: the size, a clock, agencies and users by role."""

    def __init__(self, size_name: str, *, now: dt.datetime | None = None, quiet: bool = False):
        self.size_name = size_name
        self.size = SIZES[size_name]
        self.now = (now or timezone.now()).astimezone(UTC).replace(microsecond=0)
        self.quiet = quiet
        self.agency = {a.code: a.pk for a in Agency.objects.filter(code__in=AGENCIES)}
        self.agency_code = {v: k for k, v in self.agency.items()}
        self._users: dict[tuple[str, str], list[int]] | None = None
        self._user_agency: dict[int, int] | None = None

    def rng(self, stage: str) -> random.Random:
        return random.Random(f"safe-harbor-scale:{self.size_name}:{stage}")  # noqa: S311 - synthetic data

    def bar(self, desc: str, total: int) -> Any:
        return tqdm(total=total, desc=f"{desc:<18}", unit="row", unit_scale=True, disable=self.quiet, leave=True)

    def _load_users(self) -> None:
        users: dict[tuple[str, str], list[int]] = defaultdict(list)
        agency_of: dict[int, int] = {}
        for pk, agency_id, role in (
            User.objects.filter(username__startswith="scale_").order_by("id").values_list("id", "agency_id", "role")
        ):
            users[(self.agency_code[agency_id], role)].append(pk)
            agency_of[pk] = agency_id
        self._users, self._user_agency = users, agency_of

    def users(self, agency: str, role: str) -> list[int]:
        if self._users is None:
            self._load_users()
        assert self._users is not None
        return self._users[(agency, role)]

    def user_agency(self, user_id: int) -> int:
        if self._user_agency is None:
            self._load_users()
        assert self._user_agency is not None
        return self._user_agency[user_id]

    def past(self, rng: random.Random, years: float = 4.0) -> dt.datetime:
        """A time in the last `years`, more of them recent (the caseload grows)."""
        frac = rng.random() ** 0.7
        return self.now - dt.timedelta(seconds=int(frac * years * 365 * 86400))


def weighted(rng: random.Random, table: dict[Any, float]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


def pareto_weights(rng: random.Random, n: int, alpha: float = 1.3) -> list[float]:
    return [rng.paretovariate(alpha) for _ in range(n)]


def spread(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """`total` units spread over len(weights) slots in proportion to the weights (sums exactly)."""
    n = len(weights)
    s = sum(weights)
    counts = [int(total * w / s) for w in weights]
    rest = total - sum(counts)
    for i in rng.choices(range(n), weights=weights, k=rest):
        counts[i] += 1
    return counts


class Text:
    """Synthetic narrative text (Faker sentences; never a real case)."""

    def __init__(self, rng: random.Random):
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(rng.randrange(1 << 30))
        self.sentences = [fake.sentence(nb_words=rng.randint(8, 18)) for _ in range(400)]
        self.rng = rng

    def __call__(self, low: int = 1, high: int = 4) -> str:
        return "Synthetic. " + " ".join(self.rng.choice(self.sentences) for _ in range(self.rng.randint(low, high)))


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --- stages --------------------------------------------------------------------------------------------


def stage_users(ctx: Ctx) -> int:
    rng = ctx.rng("users")
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(7)
    password = make_password(BENCH_PASSWORD)
    plan = [
        (Role.CASE_WORKER, ctx.size.case_workers),
        (Role.SUPERVISOR, ctx.size.supervisors),
        (Role.MDT_MEMBER, ctx.size.mdt_members),
        (Role.AGENCY_ADMIN, 2),
        (Role.AUDITOR, 1),
    ]
    joined = ctx.now - dt.timedelta(days=4 * 365)
    pk = next_id(User)
    rows = []
    for code in AGENCIES:
        for role, count in plan:
            for i in range(count):
                name = username(code, role, i)
                rows.append(
                    (
                        pk,
                        password,
                        None,
                        False,
                        name,
                        fake.first_name(),
                        fake.last_name(),
                        f"{name}@example.invalid",
                        role in (Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN),
                        True,
                        joined,
                        role,
                        joined,
                        ctx.agency[code],
                    )
                )
                pk += 1
    cols = [
        "id",
        "password",
        "last_login",
        "is_superuser",
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "date_joined",
        "role",
        "updated_at",
        "agency_id",
    ]
    n = copy_rows(User, cols, rows)
    reset_sequence(User)
    ctx._users = None  # noqa: SLF001 - the seed context's own cache of users, read again after this stage

    # Court MDT teams: MDT members split over STAR and DREAM, two supervisors of every agency on
    # each, and two coordinators per team.
    teams = {t.code: t.pk for t in MDTTeam.objects.filter(code__in=["STAR", "DREAM"])}
    memberships = []
    for code in AGENCIES:
        for i, uid in enumerate(ctx.users(code, Role.MDT_MEMBER)):
            team = "STAR" if i % 2 == 0 else "DREAM"
            coordinator = i < 2 and code in ("PROBATION", "DCFS") and ((team == "STAR") == (code == "PROBATION"))
            memberships.append((teams[team], uid, coordinator))
        for i, uid in enumerate(ctx.users(code, Role.SUPERVISOR)[:4]):
            memberships.append((teams["STAR" if i % 2 == 0 else "DREAM"], uid, False))
    mid = next_id(TeamMembership)
    n += copy_rows(
        TeamMembership,
        ["id", "team_id", "user_id", "is_coordinator", "added_at", "added_by_id"],
        [(mid + i, t, u, c, joined, None) for i, (t, u, c) in enumerate(memberships)],
    )
    reset_sequence(TeamMembership)
    # The auditors enrol TOTP (MFA is required for auditors): the bench computes the code.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for code in AGENCIES:
        for uid in ctx.users(code, Role.AUDITOR):
            TOTPDevice.objects.create(user_id=uid, name="bench", confirmed=True, key=auditor_totp_key())
    del rng
    return n


FIRST_GIRL_WEIGHT = {
    "girl": 80,
    "boy": 10,
    "transgender_girl": 4,
    "non_binary": 3,
    "transgender_boy": 2,
    "not_stated": 1,
}
PRONOUNS = {
    "girl": "she/her",
    "transgender_girl": "she/her",
    "boy": "he/him",
    "transgender_boy": "he/him",
    "non_binary": "they/them",
    "not_stated": "",
}
STREET_NAMES = [
    "Candy",
    "Princess",
    "Diamond",
    "Baby",
    "Coco",
    "Jazzy",
    "Lady",
    "Sunshine",
    "Kitty",
    "Honey",
    "Star",
    "Angel",
    "Mimi",
    "Lulu",
    "Peaches",
    "Cherry",
    "Bunny",
    "Sugar",
    "Dolly",
    "Lexi",
    "Roxy",
    "Nikki",
    "Bella",
    "Skye",
    "Rain",
    "Misty",
    "Ginger",
    "Trixie",
    "Babygirl",
    "Goldie",
    "Lil Mama",
    "Cinnamon",
    "Snow",
    "Shorty",
]
REFERRING_MIX = {"SHERIFF": 32, "DCFS": 33, "PROBATION": 20, "DMH": 15}
RECEIVING_MIX = {"DCFS": 80, "PROBATION": 10, "DMH": 5, "SHERIFF": 5}
EXTERNAL_KIND = {
    "DCFS": "hotline_referral_number",
    "PROBATION": "probation_number",
    "DMH": "dmh_client_id",
    "SHERIFF": "booking_number",
}


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.random()
    if kind < 0.4:
        return name[:i] + name[i + 1 :]  # a dropped letter
    if kind < 0.7:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # swapped letters
    return name[:i] + rng.choice("aeiouy") + name[i + 1 :]  # a vowel heard differently


def stage_youth(ctx: Ctx) -> int:
    rng = ctx.rng("youth")
    from faker import Faker

    fake = Faker(["en_US", "es_MX"])
    fake.seed_instance(11)
    size = ctx.size
    creators = {code: ctx.users(code, Role.CASE_WORKER) + ctx.users(code, Role.SUPERVISOR)[:2] for code in AGENCIES}
    times = sorted(ctx.past(rng) for _ in range(size.youth))
    pk = next_id(Youth)
    key_pk = next_id(YouthSearchKey)
    ext_pk = next_id(YouthExternalId)
    people: list[tuple[str, str, dt.date, list[str]]] = []
    youth_rows, key_rows, ext_rows = [], [], []
    bar = ctx.bar("youth", size.youth)
    for i, created in enumerate(times):
        gender = weighted(rng, FIRST_GIRL_WEIGHT)
        if people and rng.random() < 0.08:
            # The same child known to another agency: a typo, a transposed date, an alias.
            first, last, dob, aliases = people[rng.randrange(len(people))]
            first = _typo(rng, first) if rng.random() < 0.6 else first
            last = _typo(rng, last) if rng.random() < 0.3 else last
            swapped = matching.transposed(dob) if rng.random() < 0.2 else None
            dob = swapped or dob
            aliases = list(aliases[:1]) + ([rng.choice(STREET_NAMES)] if rng.random() < 0.3 else [])
        else:
            first = (
                fake.first_name_male()
                if gender in ("boy", "transgender_boy") and rng.random() < 0.7
                else fake.first_name_female()
            )
            last = fake.last_name()
            age_days = rng.randint(11 * 365, 18 * 365 - 30)
            dob = created.date() - dt.timedelta(days=age_days)
            n_alias = weighted(rng, {0: 55, 1: 30, 2: 10, 3: 5})
            aliases = rng.sample(STREET_NAMES, n_alias)
        people.append((first, last, dob, aliases))
        code = weighted(rng, REFERRING_MIX)
        creator = rng.choice(creators[code])
        ns = SimpleNamespace(first_name=first, last_name=last, date_of_birth=dob)
        youth_index(ns)  # the services' own blind-index helper
        youth_rows.append(
            (
                pk,
                prep(Youth, "first_name", first),
                prep(Youth, "last_name", last),
                prep(Youth, "date_of_birth", dob),
                prep(Youth, "aliases", aliases),
                prep(Youth, "contact_details", []),
                gender,
                "",
                PRONOUNS[gender],
                weighted(rng, {"English": 68, "Spanish": 28, "Armenian": 2, "Korean": 1, "Tagalog": 1}),
                ns.first_name_bidx,
                ns.last_name_bidx,
                ns.date_of_birth_bidx,
                created,
                created,
                creator,
                ctx.agency[code],
                None,
            )
        )
        for kind, key in sorted(
            matching.search_keys(first_name=first, last_name=last, date_of_birth=dob, aliases=aliases)
        ):
            key_rows.append((key_pk, pk, kind, key))
            key_pk += 1
        if rng.random() < 0.4:
            value = f"{code[:1]}{2000000 + i:07d}"
            ext_rows.append(
                (
                    ext_pk,
                    pk,
                    ctx.agency[code],
                    EXTERNAL_KIND[code],
                    prep(YouthExternalId, "value", value),
                    blind_index(value),
                )
            )
            ext_pk += 1
        pk += 1
        if i % 1000 == 999:
            bar.update(1000)
    bar.update(size.youth % 1000)
    bar.close()
    cols = [
        "id",
        "first_name",
        "last_name",
        "date_of_birth",
        "aliases",
        "contact_details",
        "gender_identity",
        "gender_identity_detail",
        "pronouns",
        "preferred_language",
        "first_name_bidx",
        "last_name_bidx",
        "date_of_birth_bidx",
        "created_at",
        "updated_at",
        "created_by_id",
        "holding_agency_id",
        "merged_into_id",
    ]
    n = copy_rows(Youth, cols, youth_rows)
    n += copy_rows(YouthSearchKey, ["id", "youth_id", "kind", "key"], key_rows)
    n += copy_rows(YouthExternalId, ["id", "youth_id", "agency_id", "kind", "value", "value_bidx"], ext_rows)
    for model in (Youth, YouthSearchKey, YouthExternalId):
        reset_sequence(model)
    return n


SOURCE_MIX = {
    "hotline": 30,
    "law_enforcement_recovery": 14,
    "probation": 10,
    "school": 10,
    "medical": 8,
    "self": 4,
    "family": 8,
    "community": 11,
    "other": 5,
}
INDICATOR_CODES = [
    "runaway_or_homeless",
    "prior_sexual_abuse",
    "justice_or_truancy_history",
    "controlling_older_partner",
    "tattoos_or_branding",
    "signs_of_violence",
    "unexplained_money_or_gifts",
    "online_solicitation",
]
CSEC_MIX = {"identified": 35, "at_risk": 25, "in_care": 20, "before_care": 10, "while_missing": 10}
CLOSE_REASONS = [
    "Synthetic: services completed",
    "Synthetic: moved out of county",
    "Synthetic: aged out",
    "Synthetic: transferred",
]


# Positions in a referral row (see the COPY columns in stage_cases).
R_CASE, R_CREATED_BY, R_DUPLICATE_OF, R_RECEIVING, R_REFERRING = 14, 15, 16, 17, 18


def _referral_clocks(rng: random.Random, source: str, received: dt.datetime, now: dt.datetime) -> tuple:
    hotline = written = recovered = arrived = notified = None
    if source == "hotline" or rng.random() < 0.3:
        hotline = received - dt.timedelta(minutes=rng.randint(5, 180))
        if rng.random() < 0.92:
            written = hotline + dt.timedelta(hours=rng.uniform(2, 40))
            written = min(written, now)
    if source == "law_enforcement_recovery":
        recovered = received - dt.timedelta(minutes=rng.randint(10, 240))
        if rng.random() < 0.95:
            arrived = recovered + dt.timedelta(minutes=rng.randint(15, 120))
    if rng.random() < 0.35:
        notified = received + dt.timedelta(hours=rng.uniform(1, 30))
    return hotline, written, recovered, arrived, notified


def stage_cases(ctx: Ctx) -> int:
    """Referrals, their screenings, the cases they opened, participations and case teams."""
    rng = ctx.rng("cases")
    size = ctx.size
    text = Text(rng)
    now = ctx.now
    youth = list(Youth.objects.order_by("id").values_list("id", "created_at", "holding_agency_id", "created_by_id"))
    n_youth = len(youth)
    workers = {code: ctx.users(code, Role.CASE_WORKER) for code in AGENCIES}
    supervisors = {code: ctx.users(code, Role.SUPERVISOR) for code in AGENCIES}

    # How many cases and referrals each youth has: 85% have a case, the busiest get a second
    # one; every youth has a referral and the rest pile up on a long tail.
    with_case = min(n_youth, round(0.85 * n_youth))
    second = max(0, min(with_case, size.cases - with_case))
    order = list(range(n_youth))
    rng.shuffle(order)
    case_count = [0] * n_youth
    for j, idx in enumerate(order[:with_case]):
        case_count[idx] = 2 if j < second else 1
    ref_count = [max(1, c) for c in case_count]
    extra = size.referrals - sum(ref_count)
    if extra > 0:
        for idx, add in enumerate(spread(rng, extra, pareto_weights(rng, n_youth, 1.2))):
            ref_count[idx] += add

    ref_pk = next_id(Referral)
    scr_pk = next_id(Screening)
    referral_rows: list[list[Any]] = []
    screening_rows: list[tuple] = []
    cases: list[dict[str, Any]] = []

    def new_referral(yid: int, received: dt.datetime, referring: str, creator: int, status: str) -> list[Any]:
        nonlocal ref_pk, scr_pk
        source = (
            "law_enforcement_recovery" if referring == "SHERIFF" and rng.random() < 0.6 else weighted(rng, SOURCE_MIX)
        )
        receiving = weighted(rng, RECEIVING_MIX)
        indicators = rng.sample(INDICATOR_CODES, weighted(rng, {0: 10, 1: 30, 2: 30, 3: 20, 4: 10}))
        clocks = _referral_clocks(rng, source, received, now)
        created = received + dt.timedelta(minutes=rng.randint(1, 90))
        row = [
            ref_pk,
            received,
            source,
            jtext(indicators),
            prep(Referral, "narrative", text(1, 3)),
            *clocks,
            status,
            "Synthetic: does not meet criteria" if status == "declined" else "",
            created,
            created,
            None,
            creator,
            None,
            ctx.agency[receiving],
            ctx.agency[referring],
            yid,
        ]
        ref_pk += 1
        referral_rows.append(row)
        if status in ("screening", "accepted") or (status == "declined" and rng.random() < 0.6):
            level = (
                weighted(rng, {"clear_concern": 60, "possible_concern": 40})
                if status == "accepted"
                else weighted(rng, {"no_concern": 50, "possible_concern": 40, "clear_concern": 10})
            )
            screening_rows.append(
                (
                    scr_pk,
                    level,
                    suggested_level(indicators=indicators, source=source),
                    "CSE-IT",
                    "2.0",
                    received + dt.timedelta(hours=rng.uniform(1, 72)),
                    row[0],
                    rng.choice(supervisors[receiving]),
                )
            )
            scr_pk += 1
        return row

    bar = ctx.bar("referrals", size.referrals)
    for idx, (yid, y_created, holder_id, y_creator) in enumerate(youth):
        k = ref_count[idx]
        span = (now - y_created).total_seconds()
        times = [y_created] + sorted(y_created + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(k - 1))
        holder = ctx.agency_code[holder_id]
        periods: list[tuple[int, int]] = []
        if case_count[idx] == 2:
            m = max(1, k // 2)
            periods = [(0, m), (m, k)]
        elif case_count[idx] == 1:
            periods = [(0, k)]
        else:
            for j in range(k):
                referring = holder if j == 0 else weighted(rng, REFERRING_MIX)
                creator = y_creator if j == 0 else rng.choice(workers[referring])
                status = weighted(rng, {"received": 20, "screening": 20, "declined": 50, "duplicate": 10})
                new_referral(yid, times[j], referring, creator, status)
            bar.update(k)
            continue
        for p, (a, b) in enumerate(periods):
            opening = None
            case = {"youth": yid, "referrals": [], "agencies": {}}
            for j in range(a, b):
                referring = holder if j == 0 else weighted(rng, REFERRING_MIX)
                creator = y_creator if j == 0 else rng.choice(workers[referring])
                status = "accepted" if j == a else weighted(rng, {"accepted": 55, "declined": 25, "duplicate": 20})
                row = new_referral(yid, times[j], referring, creator, status)
                if status == "duplicate" and opening is not None:
                    row[R_DUPLICATE_OF] = opening[0]
                if status == "accepted":
                    case["referrals"].append(row)
                    if opening is None:
                        opening = row
            accepted_at = opening[1] + dt.timedelta(hours=rng.uniform(4, 96))
            case["created_at"] = min(accepted_at, now - HOUR)
            case["lead"] = ctx.agency_code[opening[R_RECEIVING]]
            last_activity = max(r[1] for r in case["referrals"])
            if p == 0 and len(periods) == 2:
                next_start = times[periods[1][0]]
                case["closed_at"] = last_activity + (next_start - last_activity) * rng.uniform(0.3, 0.9)
            elif rng.random() < 0.35:
                closed = last_activity + dt.timedelta(days=rng.uniform(30, 400))
                case["closed_at"] = closed if closed < now - DAY else None
            else:
                case["closed_at"] = None
            cases.append(case)
        bar.update(k)
    bar.close()

    # Case numbers count per year in opening order, as case_number_allocate does.
    cases.sort(key=lambda c: c["created_at"])
    case_pk = next_id(Case)
    per_year: dict[int, int] = defaultdict(int)
    case_rows, part_rows, team_rows = [], [], []
    part_pk, team_pk = next_id(CaseAgency), next_id(CaseTeamMember)
    for case in cases:
        created = case["created_at"]
        year = created.astimezone(timezone.get_default_timezone()).year
        per_year[year] += 1
        court = weighted(rng, {"": 85, "STAR": 7, "DREAM": 8})
        closed = case["closed_at"]
        status = "closed" if closed else "open"
        lead = case["lead"]
        case_rows.append(
            (
                case_pk,
                f"H-{year}-{per_year[year]:06d}",
                status,
                rng.choice(CLOSE_REASONS) if closed else "",
                closed,
                court,
                weighted(rng, CSEC_MIX),
                created,
                closed or created,
                ctx.agency[lead],
                case["youth"],
            )
        )
        lead_sup = rng.choice(supervisors[lead])
        agencies: dict[str, tuple] = {
            lead: ("lead", created, None, "", None, lead_sup),
        }
        for ref in case["referrals"]:
            ref[R_CASE] = case_pk
            referring = ctx.agency_code[ref[R_REFERRING]]
            if referring in agencies:
                continue
            granted = max(created, ref[1])
            expires = granted + 30 * DAY
            cause = ""
            if status == "open" and expires < now and rng.random() < 0.4:
                expires = now + dt.timedelta(days=rng.uniform(1, 29))
                granted = expires - 30 * DAY
                cause = "Synthetic: ongoing joint safety planning"
            revoked = granted + dt.timedelta(days=rng.uniform(1, 20)) if rng.random() < 0.02 else None
            agencies[referring] = ("mdt_18961_7", granted, expires, cause, revoked, lead_sup)
        if court:
            for code in ["PROBATION", "DMH"] if court == "STAR" else ["DCFS", "DMH"]:
                agencies.setdefault(code, ("court_mdt", created + DAY, None, "", None, lead_sup))
        if "DMH" not in agencies and rng.random() < 0.1:
            agencies["DMH"] = ("consent", created + 2 * DAY, created + 365 * DAY, "", None, lead_sup)
        for code, (basis, granted, expires, cause, revoked, by) in agencies.items():
            part_rows.append(
                (part_pk, basis, min(granted, now), expires, cause, revoked, ctx.agency[code], case_pk, by)
            )
            part_pk += 1
        # The team: the lead agency's worker, the referring worker(s), sometimes a clinician.
        team: dict[int, tuple[str, dt.datetime]] = {rng.choice(workers[lead]): (CASE_ROLE_NAMES[lead], created)}
        for ref in case["referrals"][:2]:
            team.setdefault(ref[R_CREATED_BY], ("referring_worker", max(created, ref[1])))
        if "DMH" in agencies and rng.random() < 0.4:
            team.setdefault(rng.choice(workers["DMH"]), ("clinician", created + DAY))
        if rng.random() < 0.25:
            team.setdefault(rng.choice(workers[lead]), (CASE_ROLE_NAMES[lead], created + 10 * DAY))
        for uid, (role, added) in team.items():
            removed = min(now, added + dt.timedelta(days=rng.uniform(10, 300))) if rng.random() < 0.03 else None
            team_rows.append((team_pk, role, min(added, now), removed, lead_sup, case_pk, uid))
            team_pk += 1
        case_pk += 1

    n = copy_rows(
        Case,
        [
            "id",
            "number",
            "status",
            "close_reason",
            "closed_at",
            "court",
            "csec_status",
            "created_at",
            "updated_at",
            "lead_agency_id",
            "youth_id",
        ],
        case_rows,
    )
    n += copy_rows(
        Referral,
        [
            "id",
            "received_at",
            "source",
            "indicators",
            "narrative",
            "hotline_reported_at",
            "written_report_submitted_at",
            "recovered_at",
            "responder_arrived_at",
            "law_enforcement_notified_at",
            "status",
            "decline_reason",
            "created_at",
            "updated_at",
            "case_id",
            "created_by_id",
            "duplicate_of_id",
            "receiving_agency_id",
            "referring_agency_id",
            "youth_id",
        ],
        referral_rows,
    )
    n += copy_rows(
        Screening,
        [
            "id",
            "level",
            "suggested_level",
            "instrument",
            "instrument_version",
            "screened_at",
            "referral_id",
            "screened_by_id",
        ],
        screening_rows,
    )
    n += copy_rows(
        CaseAgency,
        [
            "id",
            "legal_basis",
            "granted_at",
            "expires_at",
            "good_cause",
            "revoked_at",
            "agency_id",
            "case_id",
            "granted_by_id",
        ],
        part_rows,
    )
    n += copy_rows(
        CaseTeamMember, ["id", "case_role", "added_at", "removed_at", "added_by_id", "case_id", "user_id"], team_rows
    )
    for year, last in per_year.items():
        CaseNumberSequence.objects.update_or_create(year=year, defaults={"last": last})
    for model in (Case, Referral, Screening, CaseAgency, CaseTeamMember):
        reset_sequence(model)
    return n


def _case_frame() -> tuple[list[tuple], dict[int, list[tuple[int, int]]]]:
    cases = list(
        Case.objects.order_by("id").values_list(
            "id", "created_at", "closed_at", "lead_agency_id", "youth_id", "court", "status"
        )
    )
    team: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for case_id, user_id, agency_id in CaseTeamMember.objects.filter(removed_at__isnull=True).values_list(
        "case_id", "user_id", "user__agency_id"
    ):
        team[case_id].append((user_id, agency_id))
    return cases, team


def stage_notes(ctx: Ctx) -> int:
    rng = ctx.rng("notes")
    text = Text(rng)
    cases, team = _case_frame()
    dmh = ctx.agency["DMH"]
    counts = spread(rng, ctx.size.notes, pareto_weights(rng, len(cases), 1.1))
    bar = ctx.bar("notes", ctx.size.notes)
    first = next_id(Note)

    def rows() -> Iterator[tuple]:
        pk = first
        for (case_id, created, closed, lead, _youth, _court, _status), count in zip(cases, counts, strict=True):
            members = team.get(case_id) or [(rng.choice(ctx.users(ctx.agency_code[lead], Role.CASE_WORKER)), lead)]
            end = closed or ctx.now
            span = max(60.0, (end - created).total_seconds())
            for _ in range(count):
                author, agency = rng.choice(members)
                if agency == dmh and rng.random() < 0.6:
                    visibility = "clinical"
                else:
                    visibility = "team" if rng.random() < 0.75 else "agency"
                at = created + dt.timedelta(seconds=rng.uniform(0, span))
                yield (pk, visibility, prep(Note, "body", text(1, 5)), at, author, agency, case_id, None)
                pk += 1

    n = copy_rows(
        Note,
        ["id", "visibility", "body", "created_at", "author_id", "author_agency_id", "case_id", "corrects_id"],
        rows(),
        bar,
    )
    bar.close()
    reset_sequence(Note)
    return n


ALERTS = [
    ("known_exploiter", "Known exploiter: do not disclose placement or contact details"),
    ("do_not_disclose_placement", "Do not disclose placement"),
    ("safety_risk", "Safety risk: check with the lead worker before contact"),
]


def stage_parts(ctx: Ctx) -> int:
    """Missing episodes, safety alerts and court hearings."""
    rng = ctx.rng("parts")
    cases, team = _case_frame()
    now = ctx.now
    size = ctx.size

    def creator(case: tuple) -> int:
        members = team.get(case[0])
        return members[0][0] if members else ctx.users(ctx.agency_code[case[3]], Role.CASE_WORKER)[0]

    ep_rows = []
    pk = next_id(MissingEpisode)
    for case in rng.sample(cases, min(size.missing_episodes, len(cases))):
        end = case[2] or now
        since = case[1] + (end - case[1]) * rng.uniform(0.05, 0.95)
        learned = since + dt.timedelta(hours=rng.uniform(1, 30))
        reported = learned + dt.timedelta(hours=rng.uniform(0.5, 30)) if rng.random() < 0.9 else None
        ncmec = learned + dt.timedelta(hours=rng.uniform(1, 30)) if rng.random() < 0.85 else None
        attorney = learned + dt.timedelta(hours=rng.uniform(1, 30)) if rng.random() < 0.8 else None
        returned = learned + dt.timedelta(days=rng.uniform(1, 40)) if rng.random() < 0.8 else None
        if returned and returned > now:
            returned = None
        debrief = returned + dt.timedelta(hours=rng.uniform(4, 96)) if returned and rng.random() < 0.85 else None
        clip = [min(t, now) if t else None for t in (reported, ncmec, attorney, debrief)]
        ep_rows.append(
            (
                pk,
                since,
                learned,
                clip[0],
                f"NCIC-{rng.randrange(10**8):08d}" if clip[0] else "",
                clip[1],
                clip[2],
                returned,
                clip[3],
                learned,
                learned,
                case[0],
                creator(case),
            )
        )
        pk += 1
    n = copy_rows(
        MissingEpisode,
        [
            "id",
            "missing_since",
            "learned_at",
            "reported_to_law_enforcement_at",
            "ncic_number",
            "reported_to_ncmec_at",
            "attorney_notified_at",
            "returned_at",
            "return_debrief_at",
            "created_at",
            "updated_at",
            "case_id",
            "created_by_id",
        ],
        ep_rows,
    )
    alert_rows = []
    pk = next_id(SafetyAlert)
    for case in rng.sample(cases, min(size.alerts, len(cases))):
        kind, summary = rng.choice(ALERTS)
        at = case[1] + dt.timedelta(days=rng.uniform(0, 30))
        alert_rows.append(
            (
                pk,
                kind,
                summary,
                prep(SafetyAlert, "protected_detail", "Synthetic: person of concern (invented)."),
                case[6] == "open" or rng.random() < 0.3,
                min(at, now),
                min(at, now),
                case[0],
                creator(case),
            )
        )
        pk += 1
    n += copy_rows(
        SafetyAlert,
        [
            "id",
            "kind",
            "summary",
            "protected_detail",
            "is_active",
            "created_at",
            "updated_at",
            "case_id",
            "created_by_id",
        ],
        alert_rows,
    )
    hearing_rows = []
    pk = next_id(CourtHearing)
    for case in cases:
        if not case[5]:
            continue
        end = case[2] or now
        for _ in range(rng.randint(1, 4)):
            at = case[1] + (end - case[1]) * rng.random()
            hearing_rows.append(
                (pk, at, case[5], rng.choice(["progress review", "disposition", "review"]), at, case[0], creator(case))
            )
            pk += 1
        if case[6] == "open" and rng.random() < 0.3:  # some hearings in the next two weeks (agenda suggestions)
            at = now + dt.timedelta(days=rng.uniform(1, 14))
            hearing_rows.append((pk, at, case[5], "progress review", now, case[0], creator(case)))
            pk += 1
    n += copy_rows(
        CourtHearing,
        ["id", "starts_at", "court", "hearing_type", "updated_at", "case_id", "created_by_id"],
        hearing_rows,
    )
    for model in (MissingEpisode, SafetyAlert, CourtHearing):
        reset_sequence(model)
    return n


AGENDA_REASONS = {
    "progress_review": 60,
    "new_referral": 12,
    "missing_episode": 10,
    "placement_change": 8,
    "court_date": 8,
    "other": 2,
}


def stage_mdt(ctx: Ctx) -> int:
    """Weekly STAR and DREAM meetings with agendas, reviews and action items."""
    rng = ctx.rng("mdt")
    text = Text(rng)
    now = ctx.now
    size = ctx.size
    pacific = timezone.get_default_timezone()
    teams = {t.code: t for t in MDTTeam.objects.filter(code__in=["STAR", "DREAM"])}
    members: dict[int, list[int]] = defaultdict(list)
    coordinators: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id, coord in TeamMembership.objects.filter(user__username__startswith="scale_").values_list(
        "team_id", "user_id", "is_coordinator"
    ):
        members[team_id].append(user_id)
        if coord:
            coordinators[team_id].append(user_id)
    court_cases: dict[str, list[tuple]] = defaultdict(list)
    for row in (
        Case.objects.exclude(court="")
        .order_by("created_at")
        .values_list("id", "created_at", "closed_at", "lead_agency_id", "court")
    ):
        court_cases[row[4]].append(row)

    meeting_rows, item_rows, action_rows = [], [], []
    meeting_pk, item_pk, action_pk = next_id(Meeting), next_id(AgendaItem), next_id(ActionItem)
    reviewed_items: list[tuple] = []  # (case_id, team_id, meeting_id, starts_at, lead)
    per_team = size.meetings // 2
    for code, weekday, hour in (("STAR", 2, 9), ("DREAM", 3, 13)):
        team = teams[code]
        coords = coordinators[team.pk] or members[team.pk][:1]
        series = rand_uuid(rng)
        local_now = now.astimezone(pacific)
        base = (local_now + dt.timedelta(days=(weekday - local_now.weekday()) % 7 + 14)).replace(
            hour=hour, minute=0, second=0, microsecond=0
        )
        cc = court_cases[code]
        created_times = [c[1] for c in cc]
        for w in range(per_team):
            starts = (base - dt.timedelta(weeks=w)).astimezone(UTC)
            ends = starts + 2 * HOUR
            future = starts > now
            soon = future and starts - now < dt.timedelta(days=8)
            if future:
                status = "published" if soon else "scheduled"
            else:
                status = "cancelled" if rng.random() < 0.04 else "minutes_final"
            published = starts - 3 * DAY if status in ("published", "minutes_final") else None
            held = starts + 2 * HOUR if status == "minutes_final" else None
            final = starts + DAY if status == "minutes_final" else None
            cancelled = starts - 2 * DAY if status == "cancelled" else None
            meeting_rows.append(
                (
                    meeting_pk,
                    starts,
                    ends,
                    team.court_location,
                    status,
                    rand_uuid(rng),
                    0,
                    series,
                    prep(Meeting, "minutes", text(2, 6)) if final else "",
                    published,
                    held,
                    final,
                    cancelled,
                    "Synthetic: court closed" if cancelled else "",
                    starts - 21 * DAY,
                    final or starts - 21 * DAY,
                    coords[0],
                    team.pk,
                )
            )
            # The agenda: open cases of the team's court at that time.
            eligible = [c for c in cc[: bisect_right(created_times, starts)] if c[2] is None or c[2] > starts]
            picked = rng.sample(eligible, min(len(eligible), rng.randint(10, 18)))
            for position, case in enumerate(picked, start=1):
                reviewed = status == "minutes_final"
                item_rows.append(
                    (
                        item_pk,
                        position,
                        weighted(rng, AGENDA_REASONS),
                        rng.choice([5, 10, 10, 15]),
                        prep(AgendaItem, "review_summary", text(1, 3)) if reviewed else "",
                        prep(AgendaItem, "review_decisions", text(1, 2)) if reviewed else "",
                        starts + HOUR if reviewed else None,
                        starts - 7 * DAY,
                        (starts + HOUR) if reviewed else starts - 7 * DAY,
                        coords[0],
                        case[0],
                        case[3],
                        coords[0] if reviewed else None,
                        meeting_pk,
                    )
                )
                item_pk += 1
                if reviewed:
                    reviewed_items.append((case[0], team.pk, meeting_pk, starts, case[3]))
            meeting_pk += 1

    for _ in range(size.action_items if reviewed_items else 0):
        case_id, team_id, meeting_id, starts, _lead = rng.choice(reviewed_items)
        if rng.random() < 0.1:
            meeting_id = None
        assignee = rng.choice(members[team_id])
        due = starts + dt.timedelta(days=rng.uniform(7, 35))
        if due > now:
            status = "open" if rng.random() < 0.95 else "done"
        else:
            status = weighted(rng, {"done": 75, "cancelled": 8, "open": 17})
        done = min(now, due - dt.timedelta(days=rng.uniform(0, 6))) if status == "done" else None
        cancelled = min(now, starts + dt.timedelta(days=rng.uniform(1, 10))) if status == "cancelled" else None
        created = starts + HOUR
        action_rows.append(
            (
                action_pk,
                prep(ActionItem, "description", text(1, 2)),
                due,
                status,
                done,
                cancelled,
                created,
                done or cancelled or created,
                ctx.user_agency(assignee),
                assignee,
                case_id,
                (coordinators[team_id] or members[team_id])[0],
                team_id,
                meeting_id,
            )
        )
        action_pk += 1
    n = copy_rows(
        Meeting,
        [
            "id",
            "starts_at",
            "ends_at",
            "location",
            "status",
            "uid",
            "sequence",
            "series",
            "minutes",
            "published_at",
            "held_at",
            "minutes_finalized_at",
            "cancelled_at",
            "cancel_reason",
            "created_at",
            "updated_at",
            "created_by_id",
            "team_id",
        ],
        meeting_rows,
    )
    n += copy_rows(
        AgendaItem,
        [
            "id",
            "position",
            "reason",
            "minutes_allotted",
            "review_summary",
            "review_decisions",
            "reviewed_at",
            "created_at",
            "updated_at",
            "added_by_id",
            "case_id",
            "presenting_agency_id",
            "reviewed_by_id",
            "meeting_id",
        ],
        item_rows,
    )
    n += copy_rows(
        ActionItem,
        [
            "id",
            "description",
            "due_at",
            "status",
            "done_at",
            "cancelled_at",
            "created_at",
            "updated_at",
            "agency_id",
            "assignee_id",
            "case_id",
            "created_by_id",
            "team_id",
            "meeting_id",
        ],
        action_rows,
    )
    for model in (Meeting, AgendaItem, ActionItem):
        reset_sequence(model)
    return n


def stage_deadlines(ctx: Ctx) -> int:
    """Deadlines on referrals, missing episodes, sharing grants, meetings and action items —
    most closed, `open_deadlines` open of which `due_deadlines` have a reminder that has come —
    and the notifications their passed stages sent."""
    rng = ctx.rng("deadlines")
    now = ctx.now
    size = ctx.size
    rules = {r.code: r for r in DeadlineRule.objects.all()}
    ct = {
        m: ContentType.objects.get_for_model(m).pk for m in (Referral, MissingEpisode, CaseAgency, Meeting, ActionItem)
    }
    cases = {c[0]: c for c in Case.objects.values_list("id", "number", "lead_agency_id", "youth_id")}
    _, team = _case_frame()
    team_ids = {t.code: t.pk for t in MDTTeam.objects.all()}
    coordinators: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in TeamMembership.objects.filter(is_coordinator=True).values_list("team_id", "user_id"):
        coordinators[team_id].append(user_id)
    supervisors = {ctx.agency[c]: ctx.users(c, Role.SUPERVISOR) for c in AGENCIES}

    # Candidates: (rule, model, target id, time the clock started, hint: "active" targets first
    # when choosing which deadlines are still open).
    candidates: list[tuple[str, Any, int, dt.datetime, bool, dict[str, Any]]] = []
    screened_clear = set(Screening.objects.filter(level="clear_concern").values_list("referral_id", flat=True))
    for (
        rid,
        case_id,
        youth_id,
        referring,
        receiving,
        creator,
        received,
        hotline,
        recovered,
    ) in Referral.objects.values_list(
        "id",
        "case_id",
        "youth_id",
        "referring_agency_id",
        "receiving_agency_id",
        "created_by_id",
        "received_at",
        "hotline_reported_at",
        "recovered_at",
    ):
        base = {
            "referral": rid,
            "case": case_id,
            "youth": youth_id,
            "referring": referring,
            "receiving": receiving,
            "creator": creator,
        }
        recent = now - received < 45 * DAY
        if hotline:
            candidates.append(("written_report_36h", Referral, rid, hotline, recent, base))
        if recovered:
            candidates.append(("first_response_90m", Referral, rid, recovered, recent, base))
            candidates.append(("frp_services_72h", Referral, rid, recovered, recent, base))
        if rid in screened_clear:
            candidates.append(("law_enforcement_report_24h", Referral, rid, received, recent, base))
    for eid, case_id, learned, returned in MissingEpisode.objects.values_list(
        "id", "case_id", "learned_at", "returned_at"
    ):
        base = {"case": case_id}
        active = returned is None
        for rule in ("missing_law_enforcement_24h", "missing_ncmec_24h", "missing_attorney_24h"):
            candidates.append((rule, MissingEpisode, eid, learned, active, base))
        if returned:
            candidates.append(("return_debrief_72h", MissingEpisode, eid, returned, now - returned < 30 * DAY, base))
    for pid, case_id, granted, expires in CaseAgency.objects.filter(legal_basis="mdt_18961_7").values_list(
        "id", "case_id", "granted_at", "expires_at"
    ):
        candidates.append(
            ("sharing_renewal_30d", CaseAgency, pid, granted, bool(expires and expires > now), {"case": case_id})
        )
    for mid, team_id, starts, status in Meeting.objects.values_list("id", "team_id", "starts_at", "status"):
        candidates.append(
            ("agenda_publish_48h", Meeting, mid, starts - 21 * DAY, status == "scheduled", {"team": team_id})
        )
    for aid, case_id, agency_id, assignee, due, status, created in ActionItem.objects.values_list(
        "id", "case_id", "agency_id", "assignee_id", "due_at", "status", "created_at"
    ):
        candidates.append(
            (
                "action_item_due",
                ActionItem,
                aid,
                created,
                status == "open",
                {"case": case_id, "agency": agency_id, "assignee": assignee, "due": due},
            )
        )

    rng.shuffle(candidates)
    chosen = candidates[: size.deadlines]
    # The open ones: active targets first, then the most recent clocks.
    active = [i for i, c in enumerate(chosen) if c[4]]
    rest = sorted((i for i, c in enumerate(chosen) if not c[4]), key=lambda i: chosen[i][3], reverse=True)
    open_set = set((active + rest)[: size.open_deadlines])
    due_set = set(rng.sample(sorted(open_set), min(size.due_deadlines, len(open_set))))
    team_code = {v: k for k, v in team_ids.items()}

    dl_rows, nt_rows = [], []
    dl_pk, nt_pk = next_id(Deadline), next_id(Notification)
    link = messages.absolute_link
    for index, cand in enumerate(chosen):
        code, model, target_id, started, _hint, info = cand
        rule = rules[code]
        case_id = info.get("case")
        referral_id = info.get("referral")
        youth_id = info.get("youth")
        team_id = info.get("team")
        assignee = info.get("assignee")
        agency_id = None
        case = cases.get(case_id) if case_id else None
        if case:
            youth_id = youth_id or case[3]
        if model is Referral:
            agency_id = info["referring"] if rule.responsible_agency == "referring" else info["receiving"]
            reference, path = f"Referral R-{referral_id}", f"/api/v1/referrals/{referral_id}/"
        elif model is Meeting:
            reference, path = f"{team_code[team_id]} meeting M-{target_id}", f"/api/v1/mdt/meetings/{target_id}/"
        else:
            reference = f"Case {case[1]}"
            if model is ActionItem:
                agency_id = info["agency"]
                path = f"/api/v1/action-items/?case={case_id}"
            else:
                agency_id = case[2]
                path = f"/api/v1/cases/{case_id}/{'missing-episodes' if model is MissingEpisode else 'agencies'}/"
        duration = rule.offset if rule.offset > dt.timedelta(0) else 7 * DAY
        frac = rule.upcoming_fraction
        is_open = index in open_set
        status, next_stage, next_at = "open", "", None
        met = missed = waived = cancelled = None
        waived_by, reason, cancel_reason = None, "", ""
        if is_open:
            if index in due_set:
                next_at = now - dt.timedelta(seconds=rng.uniform(60, 2 * 86400))
            else:
                next_at = now + dt.timedelta(seconds=rng.uniform(3600, 30 * 86400))
            if frac and rng.random() < 0.5:
                next_stage = "upcoming"
                starts = next_at - duration * frac
            else:
                next_stage = "due"
                starts = next_at - duration
            due = starts + duration
        else:
            starts = min(started, now - duration - 2 * DAY)
            due = starts + duration
            status = weighted(rng, {"met": 75, "missed": 12, "waived": 5, "cancelled": 8})
            if rule.lapse_outcome == "met" and status == "missed":
                status = "met"
            if status == "met":
                met = starts + duration * rng.uniform(0.1, 1.15)
            elif status == "missed":
                missed = due
            elif status == "waived":
                waived = starts + duration * rng.uniform(0.2, 0.9)
                waived_by = rng.choice(supervisors.get(agency_id) or supervisors[ctx.agency["DCFS"]])
                reason = "Synthetic: not applicable after review"
            else:
                cancelled = starts + duration * rng.uniform(0.1, 0.9)
                cancel_reason = "clock start corrected"
        upcoming = starts + duration * frac if frac else None
        overdue = due + rule.overdue_after if rule.overdue_after is not None else None
        dl_rows.append(
            (
                dl_pk,
                target_id,
                youth_id,
                team_id,
                reference,
                path,
                rule.recipients,
                rule.escalate_overdue,
                rule.lapse_outcome,
                starts,
                upcoming,
                due,
                overdue,
                status,
                next_stage,
                next_at,
                met,
                missed,
                waived,
                reason,
                cancelled,
                cancel_reason,
                starts,
                met or missed or waived or cancelled or starts,
                agency_id,
                assignee,
                case_id,
                ct[model],
                referral_id,
                waived_by,
                rule.pk,
            )
        )
        # The reminders already sent: every stage that passed before the deadline closed.
        stages = [(s, at) for s, at in (("upcoming", upcoming), ("due", due), ("overdue", overdue)) if at]
        if next_stage:  # open: the stages before the next one went out
            sent_stages = stages[: [s for s, _ in stages].index(next_stage)]
        else:
            end = met or waived or cancelled or now
            sent_stages = [(s, at) for s, at in stages if at <= end and at <= now]
        people: list[int] = []
        if model is Referral:
            people = [info["creator"]]
        elif model is ActionItem and assignee:
            people = [assignee]
        elif model is Meeting:
            people = coordinators.get(team_id, [])[:2]
        if case_id and not people:
            people = [u for u, a in team.get(case_id, []) if a == agency_id][:2]
        if not people and agency_id:
            people = supervisors.get(agency_id, [])[:1]
        for stage, at in sent_stages:
            recipients = [(u, "responsible") for u in people]
            if stage == "overdue" and rule.escalate_overdue and agency_id:
                recipients += [(u, "escalation") for u in supervisors.get(agency_id, [])[:2] if u not in people]
            for user_id, why in recipients:
                delivery = weighted(rng, {"sent": 90, "inbox_only": 9, "failed": 1})
                read = at + dt.timedelta(hours=rng.uniform(0.2, 72)) if rng.random() < 0.6 else None
                nt_rows.append(
                    (
                        nt_pk,
                        code,
                        stage,
                        why,
                        messages.reminder_subject(stage=stage, rule_name=rule.name, reference=reference),
                        reference,
                        due,
                        link(path),
                        None,
                        at,
                        min(read, now) if read else None,
                        delivery,
                        6 if delivery == "failed" else int(delivery == "sent"),
                        at + dt.timedelta(seconds=5) if delivery == "sent" else None,
                        None,
                        case_id,
                        dl_pk,
                        user_id,
                        referral_id,
                    )
                )
                nt_pk += 1
        dl_pk += 1
    bar = ctx.bar("deadlines", len(dl_rows))
    n = copy_rows(
        Deadline,
        [
            "id",
            "object_id",
            "youth_id",
            "team_id",
            "reference",
            "link_path",
            "recipients",
            "escalate_overdue",
            "lapse_outcome",
            "starts_at",
            "upcoming_at",
            "due_at",
            "overdue_at",
            "status",
            "next_stage",
            "next_reminder_at",
            "met_at",
            "missed_at",
            "waived_at",
            "waive_reason",
            "cancelled_at",
            "cancel_reason",
            "created_at",
            "updated_at",
            "agency_id",
            "assignee_id",
            "case_id",
            "content_type_id",
            "referral_id",
            "waived_by_id",
            "rule_id",
        ],
        dl_rows,
        bar,
    )
    bar.close()
    bar = ctx.bar("notifications", len(nt_rows))
    n += copy_rows(
        Notification,
        [
            "id",
            "rule",
            "stage",
            "reason",
            "subject",
            "reference",
            "due_at",
            "link",
            "meeting_id",
            "created_at",
            "read_at",
            "delivery_status",
            "attempts",
            "sent_at",
            "redeliver_after",
            "case_id",
            "deadline_id",
            "recipient_id",
            "referral_id",
        ],
        nt_rows,
        bar,
    )
    bar.close()
    for model in (Deadline, Notification):
        reset_sequence(model)
    return n


AUDIT_MIX = {
    ("view", "case"): 20,
    ("list", "case"): 25,
    ("view", "referral"): 10,
    ("list", "referral"): 10,
    ("view", "youth"): 6,
    ("list", "note"): 12,
    ("create", "note"): 3,
    ("list", "deadline"): 6,
    ("create", "referral"): 2,
    ("update", "case"): 1,
    ("transition", "referral"): 2,
    ("view", "case_agenda_view"): 2,
    ("list", "youth_match"): 1,
}


class _Event:
    """Just what `audit.services.chain.canonical` reads — a model instance per row would triple the
    time of a million-row load."""

    __slots__ = (
        "pk",
        "seq",
        "occurred_at",
        "actor_id",
        "actor_agency",
        "action",
        "object_type",
        "object_id",
        "youth_id",
        "outcome",
        "request_id",
        "client_ip",
        "detail",
        "object_ids",
        "youth_ids",
    )


def stage_audit(ctx: Ctx) -> int:
    """`audit_events` events, inserted already signed and sealed: each MAC computed with
    `audit.services.record.event_mac` as the writer would, and the chain continues from the last
    sealed event, each hash computed with `audit.services.chain.chain_hash` exactly as `audit_seal`
    would."""
    rng = ctx.rng("audit")
    total = ctx.size.audit_events
    audit_seal()  # link whatever is pending first, so the seeded events continue a whole chain
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    first = next_id(AuditEvent)
    actors = []
    for code in AGENCIES:
        for role in (Role.CASE_WORKER, Role.SUPERVISOR):
            actors += [(uid, code) for uid in ctx.users(code, role)]
    youth_ids = list(Youth.objects.values_list("id", flat=True))
    youth_weights = pareto_weights(rng, len(youth_ids), 1.2)
    cum = []
    acc = 0.0
    for w in youth_weights:
        acc += w
        cum.append(acc)
    kinds = list(AUDIT_MIX)
    kind_w = list(AUDIT_MIX.values())
    start = ctx.now - dt.timedelta(days=730)
    step = (ctx.now - DAY - start) / total
    bar = ctx.bar("audit events", total)

    def rows() -> Iterator[tuple]:
        nonlocal seq, prev
        ev = _Event()
        ev.outcome = "success"
        ev.object_ids = ev.youth_ids = None
        batch = 4096
        pick_kind = rng.choices(kinds, weights=kind_w, k=batch)
        for i in range(total):
            if i % batch == 0 and i:
                pick_kind = rng.choices(kinds, weights=kind_w, k=batch)
            action, object_type = pick_kind[i % batch]
            actor, agency = actors[rng.randrange(len(actors))]
            youth = (
                youth_ids[bisect_right(cum, rng.random() * acc)]
                if object_type != "youth_match" or rng.random() < 0.5
                else None
            )
            seq += 1
            ev.pk = first + i
            ev.seq = seq
            ev.occurred_at = start + step * i
            ev.actor_id = actor
            ev.actor_agency = agency
            ev.action = action
            ev.object_type = object_type
            ev.object_id = str(rng.randrange(1, 200_000))
            ev.youth_id = youth
            ev.request_id = f"{rng.getrandbits(64):016x}"
            ev.client_ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            ev.detail = {}
            digest = chain_hash(prev, ev)
            mac = event_mac(ev)
            yield (
                ev.pk,
                ev.occurred_at,
                actor,
                agency,
                action,
                object_type,
                ev.object_id,
                youth,
                "success",
                ev.request_id,
                ev.client_ip,
                "{}",
                mac,
                seq,
                prev,
                digest,
            )
            prev = digest

    n = copy_rows(
        AuditEvent,
        [
            "id",
            "occurred_at",
            "actor_id",
            "actor_agency",
            "action",
            "object_type",
            "object_id",
            "youth_id",
            "outcome",
            "request_id",
            "client_ip",
            "detail",
            "mac",
            "seq",
            "prev_hash",
            "hash",
        ],
        rows(),
        bar,
    )
    bar.close()
    reset_sequence(AuditEvent)
    return n


#: How a case came to its current csec_status: the steps before it (at_risk first, at opening).
#: The three P.L. 113-183 §105 categories (before care, in care, while missing) are what the CSEC
#: identification report counts (SPEC §9); some youth are identified in one and later in another.
CSEC_EARLIER = {
    "in_care": [([], 45), (["identified"], 40), (["before_care"], 15)],
    "while_missing": [([], 40), (["identified"], 40), (["in_care"], 20)],
    "before_care": [([], 55), (["identified"], 45)],
    "identified": [([], 100)],
    "at_risk": [([], 100)],
}
#: The categories are identified within this long before now (the report's recent quarters).
CSEC_WINDOW = 730 * DAY


def stage_csec_history(ctx: Ctx) -> int:
    """The cases' history rows (django-simple-history's `cases_historicalcase`, as a save
    writes them): the opening, each csec_status change, the closing. The CSEC identification
    report counts changes into a category from this history, and the cases stage wrote none.

    Each case opens at_risk (as a new case does) and reaches its current csec_status through
    the steps of CSEC_EARLIER, at times spread over the last two years of its life (the whole
    of it when it closed before that), so the last row always holds the case's current status.
    A case that already has history (written through the app) is left as it is."""
    rng = ctx.rng("csec_history")
    now = ctx.now
    history = Case.history.model
    written = set(history.objects.values_list("id", flat=True).distinct())
    supervisors = {ctx.agency[code]: ctx.users(code, Role.SUPERVISOR) for code in AGENCIES}
    # Read first: no other query may run on the connection while the COPY is open.
    cases = list(
        Case.objects.order_by("id").values_list(
            "id",
            "number",
            "status",
            "close_reason",
            "closed_at",
            "court",
            "csec_status",
            "created_at",
            "lead_agency_id",
            "youth_id",
        )
    )
    bar = ctx.bar("csec history", ctx.size.cases)

    def rows() -> Iterator[tuple]:
        for case_id, number, status, reason, closed, court, csec, created, lead, youth in cases:
            bar.update(1)
            if case_id in written:
                continue
            users = supervisors.get(lead) or [None]
            paths = CSEC_EARLIER.get(csec, [([], 1)])
            before = paths[weighted(rng, {i: weight for i, (_steps, weight) in enumerate(paths)})][0]
            steps = [*before, csec] if csec != "at_risk" else []
            end = closed or now
            start = max(created, end - CSEC_WINDOW)
            times = sorted(start + (end - start) * rng.uniform(0.02, 0.98) for _ in steps)
            events = [
                (created, "+", "at_risk", False),
                *((at, "~", v, False) for at, v in zip(times, steps, strict=True)),
            ]
            if status == "closed" and closed:
                events.append((closed, "~", csec, True))
            for at, kind, value, closing in events:
                yield (
                    case_id,
                    number,
                    "closed" if closing else "open",
                    reason if closing else "",
                    closed if closing else None,
                    court,
                    value,
                    created,
                    at,
                    youth,
                    lead,
                    at,
                    kind,
                    rng.choice(users),
                )

    n = copy_rows(
        history,
        [
            "id",
            "number",
            "status",
            "close_reason",
            "closed_at",
            "court",
            "csec_status",
            "created_at",
            "updated_at",
            "youth_id",
            "lead_agency_id",
            "history_date",
            "history_type",
            "history_user_id",
        ],
        rows(),
    )
    bar.close()
    return n


STAGES: list[tuple[str, Callable[[Ctx], int]]] = [
    ("users", stage_users),
    ("youth", stage_youth),
    ("cases", stage_cases),
    ("notes", stage_notes),
    ("parts", stage_parts),
    ("mdt", stage_mdt),
    ("deadlines", stage_deadlines),
    ("audit", stage_audit),
    # Added after the first county seed: a later run adds it to an already-seeded database.
    ("csec_history", stage_csec_history),
]

ANALYZE_TABLES = [
    User,
    Youth,
    YouthSearchKey,
    YouthExternalId,
    Referral,
    Screening,
    Case,
    Case.history.model,
    CaseAgency,
    CaseTeamMember,
    Note,
    MissingEpisode,
    SafetyAlert,
    CourtHearing,
    Meeting,
    AgendaItem,
    ActionItem,
    TeamMembership,
    Deadline,
    Notification,
    AuditEvent,
]


def seeded_size() -> str | None:
    return SeedStage.objects.values_list("size", flat=True).first()


def run(size_name: str, *, out: Callable[[str], None] = print, quiet: bool = False) -> dict[str, int]:
    """Run every stage not yet done for `size_name`; returns {stage: rows written}."""
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_scale loads with PostgreSQL COPY; point DATABASE_URL at PostgreSQL.")
    existing = seeded_size()
    if existing and existing != size_name:
        raise RuntimeError(f"this database holds the {existing} seed; use another database for {size_name}.")
    done = set(SeedStage.objects.filter(size=size_name).values_list("name", flat=True))
    ctx = Ctx(size_name, quiet=quiet)
    if len(ctx.agency) < len(AGENCIES):
        raise RuntimeError("run `manage.py bootstrap` first (the partner agencies are missing).")
    written: dict[str, int] = {}
    for name, fn in STAGES:
        if name in done:
            out(f"  {name:<10} done already, skipped")
            continue
        started = time.perf_counter()
        with transaction.atomic():
            rows = fn(ctx)
            SeedStage.objects.create(name=name, size=size_name, rows=rows, seconds=time.perf_counter() - started)
        written[name] = rows
        out(f"  {name:<10} {rows:>10,} rows in {time.perf_counter() - started:6.1f} s")
    if written:
        started = time.perf_counter()
        # VACUUM (for index-only scans) cannot run inside a transaction (a test's); ANALYZE can.
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in ANALYZE_TABLES:
                cursor.execute(f"{verb} {connection.ops.quote_name(model._meta.db_table)}")
        out(f"  {'analyze':<10} vacuum + analyze in {time.perf_counter() - started:6.1f} s")
    return written
