"""The duplicate search (SPEC §2): possible duplicates of a person, the records that already
hold an external id, and the agency to ask about a candidate the user may not see. What the
user may see of the candidates is asked of `visibility`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q

from .. import matching
from ..crypto import blind_index
from ..models import Case, Youth, YouthExternalId, YouthSearchKey
from .visibility import youth_ids_visible_among


def youth_ids_holding_external_ids(*, external_ids: Iterable[tuple[int, str]]) -> list[int | None]:
    """For each (agency id, number) pair, the youth record that already holds it, or None —
    looked up by the number's blind index, as the uniqueness rule is (one query). The caller
    shapes the answer: a record it may not see is a hidden duplicate (its agency only), never
    "that number is in use"."""
    pairs = [(agency_id, blind_index(str(value).strip())) for agency_id, value in external_ids]
    wanted = Q(pk__in=[])
    for agency_id, bidx in pairs:
        wanted |= Q(agency_id=agency_id, value_bidx=bidx)
    held = {
        (agency_id, bidx): youth_id
        for agency_id, bidx, youth_id in YouthExternalId.objects.filter(wanted).values_list(
            "agency_id", "value_bidx", "youth_id"
        )
    }
    return [held.get(pair) for pair in pairs]


def youth_agencies_to_ask(*, youth_ids: Iterable[int]) -> dict[int, list[str]]:
    """SPEC §2: the agency named for a hidden candidate is the one to ask — the lead agency of
    the youth's open case (each, if several), else the agency holding the record. Two queries
    whatever the ids (none included), so a hidden match costs what no match costs."""
    ids = sorted(set(youth_ids))
    leads: dict[int, set[str]] = {}
    for youth_id, code in Case.objects.filter(youth_id__in=ids or [-1], status=Case.Status.OPEN).values_list(
        "youth_id", "lead_agency__code"
    ):
        leads.setdefault(youth_id, set()).add(code)
    holders = dict(Youth.objects.filter(id__in=ids or [-1]).values_list("id", "holding_agency__code"))
    return {yid: sorted(leads.get(yid) or {holders[yid]}) for yid in ids if yid in holders or yid in leads}


def youth_possible_duplicates(
    *,
    user: Any,
    person: matching.Person,
    exclude_ids: Iterable[int] = (),
    report_hidden: bool = True,
    hidden_also: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """Ranked possible duplicates of `person`: `{"youth": id, "score": s}` for candidates the
    user may see (scored as ever), `{"agency": code}` (distinct, sorted) for the agencies to ask
    about candidates the user may not see. Each dict also carries `_youth_id` / `_youth_ids`
    (for the audit log; the API strips them).

    The search is not an oracle (SPEC §2): a hidden candidate is reported only when name and
    date of birth both agree strongly (`matching.agrees_strongly`), or when it holds an external
    id the caller sent (`hidden_also`: the records found by `youth_ids_holding_external_ids`),
    and only while the caller's search budget lasts (`report_hidden`). The agency named is the
    lead of its open case, else its holder (`youth_agencies_to_ask`).

    Candidates are narrowed by blind-indexed search keys in SQL; only those few rows are
    decrypted. The same queries run whether a candidate is visible, hidden or absent, and a
    hidden candidate adds nothing but its agency line.
    """
    keys = [
        key
        for _, key in matching.search_keys(
            first_name=person.first_name,
            last_name=person.last_name,
            date_of_birth=person.date_of_birth,
            aliases=person.aliases,
        )
    ]
    exclude = list(exclude_ids)
    ranked = (
        YouthSearchKey.objects.filter(key__in=keys or [""])
        .exclude(youth_id__in=exclude)
        .values("youth_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "youth_id")[: matching.MAX_CANDIDATES]
    )
    candidate_ids = [row["youth_id"] for row in ranked]
    also = [yid for yid in hidden_also if yid not in exclude]
    candidates = list(
        Youth.objects.filter(id__in=sorted({*candidate_ids, *also}) or [-1])
        .select_related("merged_into")
        .only(
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "aliases",
            "merged_into_id",
            "merged_into__id",
        )
    )
    # holder id -> (best score, agrees strongly or holds a number sent)
    best: dict[int, tuple[float, bool]] = {}
    for youth in candidates:
        found = matching.Person(youth.first_name, youth.last_name, youth.date_of_birth, tuple(youth.aliases or ()))
        score = matching.match_score(person, found)
        strong = youth.pk in also or matching.agrees_strongly(person, found)
        if score < matching.MATCH_THRESHOLD and not strong:
            continue
        # A record merged into another stands for the record it was merged into.
        holder = youth.merged_into if youth.merged_into_id else youth
        if holder.pk in exclude:
            continue
        was_score, was_strong = best.get(holder.pk, (0.0, False))
        best[holder.pk] = (max(was_score, score), was_strong or strong)
    visible = youth_ids_visible_among(user=user, ids=list(best))
    shown = sorted(
        (
            {"youth": yid, "score": score, "_youth_id": yid}
            for yid, (score, _) in best.items()
            if yid in visible and score >= matching.MATCH_THRESHOLD
        ),
        key=lambda c: (-c["score"], c["youth"]),
    )
    hidden_ids = [yid for yid, (_, strong) in best.items() if yid not in visible and strong and report_hidden]
    # Asked even with nothing hidden (or nothing to report): the same queries either way.
    to_ask = youth_agencies_to_ask(youth_ids=hidden_ids)
    hidden_agencies: dict[str, list[int]] = {}
    for yid in hidden_ids:
        for code in to_ask.get(yid, ()):
            hidden_agencies.setdefault(code, []).append(yid)
    hidden = [
        {
            "agency": code,
            "_youth_ids": sorted(ids),
            # the exact matches among them (for the accept's warning; never shown as such)
            "_exact_ids": sorted(yid for yid in ids if best[yid][0] >= EXACT_SCORE),
        }
        for code, ids in sorted(hidden_agencies.items())
    ]
    return shown + hidden


#: A candidate this sure is the same child (name and date of birth agree exactly).
EXACT_SCORE = 1.0


def youth_ids_with_open_case(*, youth_ids: Iterable[int]) -> set[int]:
    """Which of these youth have an open case (one query): the candidates that would make an
    accept without choosing a second case for the same child (SPEC §2). Ids only — what the
    caller may see of them is decided by whoever shapes the answer."""
    ids = sorted(set(youth_ids))
    return set(
        Case.objects.filter(youth_id__in=ids or [-1], status=Case.Status.OPEN).values_list("youth_id", flat=True)
    )
