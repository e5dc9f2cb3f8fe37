"""The duplicate search (SPEC §2): `GET /api/v1/youth/matches/` (throttled per user), and the
`possible_duplicates` a youth or referral create answers — candidates the caller may see with
their score, only the agency to ask about one they may not see — each search audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry, audit_record, audit_record_many
from core.times import BoundedDateField

from .. import matching
from ..matching import Person
from ..models import Youth
from ..selectors import duplicates as duplicate_selectors
from ..selectors import visibility
from ..throttles import ALLOWED, Budget, DuplicateSearchThrottle, DuplicateSearchThrottled
from .base import CaseDataApi

Action = AuditEvent.Action


class PossibleDuplicateSerializer(serializers.Serializer):
    youth = serializers.IntegerField(required=False, help_text="A candidate you may see.")
    score = serializers.FloatField(required=False, min_value=0, max_value=1)
    agency = serializers.CharField(required=False, help_text="An agency holding a candidate you may not see.")


def _duplicates(
    request: Request,
    person: Person,
    *,
    via: str,
    budget: Budget,
    exclude: Iterable[int] = (),
    hidden_also: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """Possible duplicates in the caller's form (SPEC §2), the search audited as a `search`
    event with a keyed hash of its values (never the values) and each candidate reported as a
    `list` event with the youth it concerns. Hidden candidates are reported only within the
    caller's search budget (`budget`, taken by the caller: the search endpoint's throttle, or a
    create); over it, a create still answers the candidates the caller may see."""
    return _public(_search(request, person, via=via, budget=budget, exclude=exclude, hidden_also=hidden_also))


def _public(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The selector's candidates in the caller's form: `{"youth", "score"}` or `{"agency"}`."""
    return [
        {"youth": item["youth"], "score": item["score"]} if "youth" in item else {"agency": item["agency"]}
        for item in found
    ]


def _search(
    request: Request,
    person: Person,
    *,
    via: str,
    budget: Budget,
    exclude: Iterable[int] = (),
    hidden_also: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """The search of `_duplicates`, audited the same way, answering the selector's candidates
    with their internal keys (for a caller that needs more than the public form, such as the
    accept's warning)."""
    found = duplicate_selectors.youth_possible_duplicates(
        user=request.user, person=person, exclude_ids=exclude, report_hidden=budget.allowed, hidden_also=hidden_also
    )
    shown = [item for item in found if "youth" in item]
    search = AuditEntry(
        Action.SEARCH,
        "youth_match",
        "",
        None,
        detail={
            "query": matching.query_fingerprint(person),
            "via": via,
            "within_budget": budget.allowed,
            "candidates": len(shown),
            "agencies": len(found) - len(shown),
        },
    )
    entries = [search]
    for item in found:
        if "youth" in item:
            entries.append(
                AuditEntry(Action.LIST, "youth_match", item["youth"], item["youth"], detail={"hidden": False})
            )
        else:
            for youth_id in item["_youth_ids"]:
                entries.append(AuditEntry(Action.LIST, "youth_match", youth_id, youth_id, detail={"hidden": True}))
    audit_record_many(actor=request.user, entries=entries)
    return found


def _open_case_warnings(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SPEC §2: the candidates among `found` (a `_search` answer) that are surely the same child
    (score 1.0) and have an open case — what an accept without choosing a youth has just made a
    second case beside. In the caller's form: a candidate it may see by id, one it may not by
    the agency to ask only (the lead of that open case)."""
    visible = [item["youth"] for item in found if "youth" in item and item["score"] >= duplicate_selectors.EXACT_SCORE]
    hidden = [yid for item in found if "agency" in item for yid in item["_exact_ids"]]
    # One query whatever was found: an exact hidden match costs what no match costs.
    open_ids = duplicate_selectors.youth_ids_with_open_case(youth_ids=[*visible, *hidden])
    warnings: list[dict[str, Any]] = []
    for yid in visible:
        if yid in open_ids:
            warnings.append(
                {
                    "code": "possible_duplicate_with_open_case",
                    "youth": yid,
                    "score": 1.0,
                    "detail": "This youth record matches exactly and has an open case: the referral now has a "
                    "case of its own. If it is the same child, merge the records.",
                }
            )
    for item in found:
        if "agency" in item and any(yid in open_ids for yid in item["_exact_ids"]):
            warnings.append(
                {
                    "code": "possible_duplicate_with_open_case",
                    "agency": item["agency"],
                    "detail": "A record you may not see matches exactly and has an open case led by this "
                    "agency: ask it whether this is the same child, and to share its case.",
                }
            )
    return warnings


def _youth_duplicates(
    request: Request, youth: Youth, *, via: str, budget: Budget, held_elsewhere: Iterable[int]
) -> list[dict[str, Any]]:
    """The possible duplicates of a youth record just written (created or its numbers edited):
    the record itself left out, the holders of numbers it was sent reported as hidden matches."""
    return _duplicates(
        request, _person_of(youth), via=via, budget=budget, exclude=[youth.pk], hidden_also=held_elsewhere
    )


# The youth data as sent: a dict (a youth's create or edit), or maybe none (a referral's new youth).
_YouthData = TypeVar("_YouthData", dict[str, Any], dict[str, Any] | None)


def _external_ids_held_elsewhere(
    request: Request, youth_data: _YouthData, budget: Budget
) -> tuple[_YouthData, list[int]]:
    """SPEC §2: a create that sends an external id another youth record already holds answers,
    when the caller may not see that record, in the same shape as a hidden duplicate — its
    agency in `possible_duplicates`, the number left off the new record (the number stays the
    other record's; a merge after sharing brings them together) — never "that number is in use".
    A number the caller may see in use still answers the service's field message.

    The look-up is a search like any other: over the budget a create that sends external ids
    answers 429 before anything is looked up or written (a create without them still succeeds),
    so numbers cannot be tried faster than names and dates."""
    sent = list((youth_data or {}).get("external_ids") or ())
    if not sent:
        return youth_data, []
    if not budget.allowed:
        raise DuplicateSearchThrottled(
            budget.wait,
            detail="Too many duplicate searches for now: send the youth without external ids "
            "(add them later) or try again later.",
        )
    held = duplicate_selectors.youth_ids_holding_external_ids(
        external_ids=[(item["agency"].pk, item["value"]) for item in sent]
    )
    # Asked even when no number is held: a clash and no clash cost the same queries.
    visible = visibility.youth_ids_visible_among(user=request.user, ids=sorted({h for h in held if h is not None}))
    hidden = sorted({h for h in held if h is not None and h not in visible})
    if not hidden:
        return youth_data, []
    kept = [item for item, holder in zip(sent, held, strict=True) if holder is None or holder in visible]
    return {**(youth_data or {}), "external_ids": kept}, hidden


def _person_of(youth: Youth) -> Person:
    return Person(youth.first_name, youth.last_name, youth.date_of_birth, tuple(youth.aliases or ()))


class YouthMatchesApi(CaseDataApi):
    """Possible duplicates of a name and date of birth: candidates you may see with their score,
    and only the agency to ask about a candidate you may not see — reported only when its name
    and date of birth both agree strongly. Throttled per user (SPEC §2: by default 20 searches an
    hour and 100 a day, the creates' duplicate reports included), then 429."""

    audit_object_type = "youth_match"
    throttle_classes = [DuplicateSearchThrottle]

    class QuerySerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        date_of_birth = BoundedDateField(required=False, allow_null=True, default=None)
        alias = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

        def validate(self, attrs: dict) -> dict:
            if not (attrs["first_name"].strip() or attrs["last_name"].strip() or attrs["alias"].strip()):
                raise serializers.ValidationError({"first_name": ["Give a name (first, last or alias)."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        possible_duplicates = PossibleDuplicateSerializer(many=True)

    @extend_schema(parameters=[QuerySerializer], responses={200: OutputSerializer})
    def get(self, request: AuthedRequest) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        person = Person(q["first_name"], q["last_name"], q["date_of_birth"], (q["alias"],) if q["alias"] else ())
        # The throttle already took this search from the budget.
        return Response({"possible_duplicates": _duplicates(request, person, via="matches", budget=ALLOWED)})

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        # A refused search is recorded too (the auditor's "bursts of duplicate searches", SPEC
        # §9), without its query: nothing of it was looked up.
        audit_record(
            actor=request.user,
            action=Action.SEARCH,
            object_type="youth_match",
            outcome=AuditEvent.Outcome.DENIED,
            detail={"via": "matches", "within_budget": False},
        )
        raise DuplicateSearchThrottled(wait)
