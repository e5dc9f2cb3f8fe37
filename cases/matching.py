"""Possible-duplicate matching of youth records: search keys and scores (SPEC §2).

Search keys are blind indexes (keyed hashes) of the normalised name tokens, their phonetic
codes (metaphone, NYSIIS) and the date of birth with its day/month transposition. Candidates
are found by key equality in SQL — no row is decrypted to find them — and only the few
candidates found are decrypted and scored: fuzzy name similarity (rapidfuzz) over names and
aliases, phonetic agreement (jellyfish) and the date of birth.

The search is not an oracle (SPEC §2): a candidate the caller may not see is reported only when
name and date of birth both agree strongly (`agrees_strongly`), and a search is audited by a keyed
hash of its normalised values (`query_fingerprint`), never the values.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz

from .crypto import blind_index, normalize

#: Candidates at or above this score are reported.
MATCH_THRESHOLD = 0.7
#: How many candidates (ranked by the number of keys they share) are decrypted and scored.
MAX_CANDIDATES = 100
#: A hidden candidate needs at least this name similarity (aliases and phonetics included) AND the
#: exact date of birth: near dates (a transposed day and month, a year typo) and near names are
#: what a caller scanning dates or spellings would learn from, so they answer nothing.
HIDDEN_NAME_SIMILARITY = 0.9
NAME_WEIGHT = 0.6
DOB_WEIGHT = 0.4


class KeyKind:
    NAME = "name"
    PHONETIC = "phonetic"
    DOB = "dob"


def _tokens(value: str) -> list[str]:
    cleaned = "".join(c if c.isalnum() else " " for c in normalize(value))
    return [t for t in cleaned.split() if t]


def _phonetic_codes(token: str) -> set[str]:
    codes = set()
    for name, fn in (("mp", jellyfish.metaphone), ("ny", jellyfish.nysiis)):
        code = fn(token)
        if code:
            codes.add(f"{name}:{code}")
    return codes


def transposed(value: dt.date) -> dt.date | None:
    """The date with day and month swapped, when that is a different valid date."""
    if value.day > 12 or value.day == value.month:
        return None
    try:
        return value.replace(month=value.day, day=value.month)
    except ValueError:
        return None


def search_keys(
    *, first_name: str, last_name: str, date_of_birth: dt.date | None, aliases: Iterable[str]
) -> set[tuple[str, str]]:
    """(kind, key) pairs for a youth or a query. Each key is a keyed hash: the table of keys
    holds no name, phonetic code or date in the clear."""
    keys: set[tuple[str, str]] = set()
    for text in [first_name, last_name, *aliases]:
        for token in _tokens(text or ""):
            keys.add((KeyKind.NAME, blind_index("n:" + token)))
            for code in _phonetic_codes(token):
                keys.add((KeyKind.PHONETIC, blind_index("p:" + code)))
    if date_of_birth:
        keys.add((KeyKind.DOB, blind_index("d:" + date_of_birth.isoformat())))
        swapped = transposed(date_of_birth)
        if swapped:
            keys.add((KeyKind.DOB, blind_index("d:" + swapped.isoformat())))
    return keys


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    date_of_birth: dt.date | None
    aliases: tuple[str, ...] = ()


def _variants(person: Person) -> set[str]:
    last = " ".join(_tokens(person.last_name))
    full = " ".join(_tokens(f"{person.first_name} {person.last_name}"))
    out = {full} if full else set()
    for alias in person.aliases:
        tokens = _tokens(alias)
        if not tokens:
            continue
        out.add(" ".join(tokens))
        if len(tokens) == 1 and last:
            # A street name stands for the first name: "Jazzy" of "Jasmine Carter".
            out.add(f"{tokens[0]} {last}")
    return out


def _phonetic_form(text: str) -> str:
    return " ".join(sorted(jellyfish.metaphone(t) or t for t in text.split()))


def name_score(a: Person, b: Person) -> float:
    best = 0.0
    for x in _variants(a):
        px = _phonetic_form(x)
        for y in _variants(b):
            score = fuzz.token_sort_ratio(x, y) / 100.0
            if len(x.split()) > 1 and px == _phonetic_form(y):
                score = max(score, 0.9)
            best = max(best, score)
    return best


def dob_score(a: dt.date | None, b: dt.date | None) -> float:
    if a is None or b is None:
        return 0.5  # unknown: neither for nor against
    if a == b:
        return 1.0
    if transposed(a) == b:
        return 0.85
    if (a.month, a.day) == (b.month, b.day):
        return 0.6  # a typo in the year
    return 0.0


def match_score(query: Person, candidate: Person) -> float:
    return round(
        NAME_WEIGHT * name_score(query, candidate)
        + DOB_WEIGHT * dob_score(query.date_of_birth, candidate.date_of_birth),
        2,
    )


def agrees_strongly(query: Person, candidate: Person) -> bool:
    """Both the name and the date of birth agree strongly: the only match reported for a
    candidate the caller may not see. No date of birth on either side is no agreement."""
    if query.date_of_birth is None or query.date_of_birth != candidate.date_of_birth:
        return False
    return name_score(query, candidate) >= HIDDEN_NAME_SIMILARITY


def query_fingerprint(query: Person) -> str:
    """A keyed hash (HMAC with the blind-index key) of the search's normalised values, for the
    audit log: equal searches give equal fingerprints (so an auditor sees a search repeated), and
    without the key nothing — not a name, not a date — can be recovered or tried against it."""
    canonical = json.dumps(
        [
            _tokens(query.first_name or ""),
            _tokens(query.last_name or ""),
            query.date_of_birth.isoformat() if query.date_of_birth else "",
            sorted(" ".join(_tokens(a)) for a in query.aliases if _tokens(a)),
        ],
        separators=(",", ":"),
    )
    return blind_index("q:" + canonical)
