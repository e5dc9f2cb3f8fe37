"""SPEC §1 written again, from the spec alone: who sees which case, referral and note.

The model is a record of what happened (small dataclasses); the oracle is a handful of plain
functions of it. Nothing here imports the application (a test parses this module's imports), so a
bug in the product's selectors cannot leak into the answer the product is checked against.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CASE_ROLES = frozenset({"case_worker", "supervisor"})


@dataclass
class Person:
    agency: str
    role: str
    active: bool = True


@dataclass
class Share:
    """An agency's participation in a case (`lead`, `court_mdt`, `mdt_18961_7`, `consent`)."""

    basis: str
    expires_at: dt.datetime | None = None
    revoked: bool = False
    ended: bool = False  # a court_mdt share ends when the case's court changes or is cleared


@dataclass
class Case:
    youth: int
    lead: str
    report_at: dt.datetime  # received_at of the referral whose acceptance opened the case
    court: str = ""
    team: set[int] = field(default_factory=set)
    shares: dict[str, Share] = field(default_factory=dict)


@dataclass
class Referral:
    youth: int
    referring: str
    receiving: str
    creator: int
    received_at: dt.datetime
    status: str = "received"
    case: int | None = None


@dataclass
class Note:
    case: int
    author_agency: str
    visibility: str  # team, agency, clinical


@dataclass
class Youth:
    holder: str  # the agency holding the record (its creator's)
    merged_into: int | None = None


@dataclass
class ShareRequest:
    case: int
    agency: str
    referral: int
    status: str = "pending"


@dataclass
class Model:
    now: dt.datetime
    clinical: frozenset[str]
    people: dict[int, Person] = field(default_factory=dict)
    youth: dict[int, Youth] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)
    referrals: dict[int, Referral] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    share_requests: list[ShareRequest] = field(default_factory=list)


# --- the oracle ------------------------------------------------------------------------------------


def share_active(m: Model, share: Share | None) -> bool:
    """Unexpired and unrevoked (and, for court_mdt, not ended by a change of court)."""
    if share is None or share.revoked or share.ended:
        return False
    return share.expires_at is None or share.expires_at > m.now


def participates(m: Model, case: Case, agency: str) -> bool:
    return agency == case.lead or share_active(m, case.shares.get(agency))


def sees_case(m: Model, uid: int, cid: int) -> bool:
    """Supervisor: their agency leads or actively participates. Case worker: that, AND on the case
    team. Inactive people and every other role: nothing."""
    person, case = m.people[uid], m.cases[cid]
    if not person.active or not participates(m, case, person.agency):
        return False
    if person.role == "supervisor":
        return True
    return person.role == "case_worker" and uid in case.team


def cases_seen(m: Model, uid: int) -> set[int]:
    return {cid for cid in m.cases if sees_case(m, uid, cid)}


def referrals_seen(m: Model, uid: int) -> set[int]:
    """The creator; supervisors of the referring or receiving agency; the referrals of a case seen."""
    person = m.people[uid]
    if not person.active or person.role not in CASE_ROLES:
        return set()
    seen = set()
    for rid, r in m.referrals.items():
        if (
            r.creator == uid
            or (person.role == "supervisor" and person.agency in (r.referring, r.receiving))
            or (r.case is not None and sees_case(m, uid, r.case))
        ):
            seen.add(rid)
    return seen


def notes_seen(m: Model, uid: int, cid: int) -> set[int]:
    """team: all who see the case (MDT members never do); agency: the author's agency's people
    who see it; clinical: people of a clinical agency who see it."""
    if not sees_case(m, uid, cid):
        return set()
    agency = m.people[uid].agency
    return {
        nid
        for nid, n in m.notes.items()
        if n.case == cid
        and (
            n.visibility == "team"
            or (n.visibility == "agency" and n.author_agency == agency)
            or (n.visibility == "clinical" and agency in m.clinical)
        )
    }


def share_requests_awaiting(m: Model, uid: int) -> list[ShareRequest]:
    """Pending share requests wait for the active supervisors of the case's lead agency."""
    person = m.people[uid]
    if not person.active or person.role != "supervisor":
        return []
    return [s for s in m.share_requests if s.status == "pending" and m.cases[s.case].lead == person.agency]
