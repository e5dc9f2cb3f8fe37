"""The duplicate search's budget (SPEC §2 "Possible duplicates"): per user, by default 20
searches an hour and 100 a day (`HARBOR_DUPLICATE_SEARCH_RATES`), shared by every door that
searches — `GET /api/v1/youth/matches/` and the possible duplicates reported by the youth and
referral creates — so no door enumerates faster than the others.

Counted in the cache (Redis in production: one count for every web process) per user and window,
in sixty buckets per window. A search adds to its bucket with the cache's atomic `incr` and then
reads the window; over the rate, it takes its count back and is refused. Concurrent searches can
therefore be refused a little early, never let through beyond the rate (a read-then-write log,
as DRF's own throttles keep, lets a burst of parallel requests all pass). The window read
includes the bucket the window's start falls in, so a search is remembered for at least the
whole window (up to one bucket — a minute of an hour — longer).

When the cache cannot be reached (Redis restarting), the budget cannot be counted, so it is
spent: the search endpoint answers 429 with a short Retry-After, and the creates succeed
without the hidden candidates, exactly as over the rate. Intake keeps working through the
outage and the search is no oracle during it (found by `make soak`: a 500 on every referral
create while Redis was down).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.throttling import BaseThrottle

BUCKETS_PER_WINDOW = 60
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Budget:
    """One search's answer from the budget: `allowed`, or refused with the seconds to `wait`."""

    allowed: bool
    wait: float | None = None


ALLOWED = Budget(True)
#: The cache could not count the search: spent, try again shortly.
CACHE_DOWN = Budget(False, 30.0)
CACHE_ERRORS = (RedisError, OSError)
logger = logging.getLogger(__name__)


def parse_rate(rate: str) -> tuple[int, int]:
    """`"20/hour"` → (20, 3600), as DRF reads its rates (`s`, `m`, `h`, `d` by first letter)."""
    number, period = rate.strip().split("/")
    return int(number), _PERIODS[period.strip()[0].lower()]


def duplicate_search_rates() -> list[tuple[int, int]]:
    """(searches, seconds) for each configured window; read at each search so settings (and
    tests) can change them."""
    return [parse_rate(rate) for rate in settings.HARBOR_DUPLICATE_SEARCH_RATES]


def _bucket_key(user_id: Any, window: int, bucket: int) -> str:
    return f"dupsearch:{user_id}:{window}:{bucket}"


def _incr(key: str, timeout: int) -> None:
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: start it again
        cache.add(key, 1, timeout=timeout)


def _give_back(keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # already expired: nothing to give back
            cache.decr(key)


def duplicate_search_take(*, user: Any, now: float | None = None) -> Budget:
    """Count one duplicate search of `user` against every window, or refuse it (counting
    nothing) when any window is full — or when the cache cannot count it (`CACHE_DOWN`)."""
    try:
        return _take(user=user, now=now)
    except CACHE_ERRORS:
        logger.warning("duplicate-search budget: the cache is unreachable; the search is refused")
        return CACHE_DOWN


def _take(*, user: Any, now: float | None) -> Budget:
    now = time.time() if now is None else now
    taken: list[str] = []
    for limit, window in duplicate_search_rates():
        size = max(window // BUCKETS_PER_WINDOW, 1)
        current = int(now // size)
        key = _bucket_key(user.pk, window, current)
        _incr(key, timeout=window + 2 * size)
        taken.append(key)
        first = int((now - window) // size)
        buckets = list(range(first, current + 1))
        counts = cache.get_many([_bucket_key(user.pk, window, b) for b in buckets])
        used = [(b, counts.get(_bucket_key(user.pk, window, b)) or 0) for b in buckets]
        if sum(n for _, n in used) > limit:
            _give_back(taken)
            oldest = next(b for b, n in used if n > 0)
            # When the oldest counted bucket leaves the window, a search is free again.
            return Budget(False, max((oldest + 1) * size + window - now, 1.0))
    return ALLOWED


def duplicate_search_take_once(*, user: Any, key: str, now: float | None = None) -> Budget:
    """One search of the budget for a search of stored values (a referral's youth, read on its
    detail): `key` names the record and a keyed hash of the values searched. The same search
    repeated by the same user within the shortest window is not counted again — it can teach
    nothing new — while a search of other values (the record edited) is counted as any other."""
    seen = f"dupsearch-seen:{user.pk}:{key}"
    try:
        if cache.get(seen):
            return ALLOWED
        budget = duplicate_search_take(user=user, now=now)
        if budget.allowed:
            cache.set(seen, 1, timeout=min((window for _, window in duplicate_search_rates()), default=3600))
    except CACHE_ERRORS:
        logger.warning("duplicate-search budget: the cache is unreachable; the search is refused")
        return CACHE_DOWN
    return budget


class DuplicateSearchThrottled(exceptions.Throttled):
    """429 in the project's one error shape (`detail`, `code`), with Retry-After."""

    default_code = "throttled"

    def __init__(self, wait: float | None = None, *, detail: str | None = None):
        message = detail or "Too many duplicate searches for now; try again later."
        super().__init__(wait=None, detail=message, code="throttled")
        self.wait = math.ceil(wait) if wait else None
        # DRF's handler sends a dict detail as it is: the body is exactly this.
        self.detail = {"detail": ErrorDetail(message, "throttled"), "code": ErrorDetail("throttled", "throttled")}


class DuplicateSearchThrottle(BaseThrottle):
    """The budget as a DRF throttle, for the search endpoint (the creates ask the budget
    directly: they still succeed over it, without the hidden candidates)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return True  # refused by the permission check before it gets here
        self.budget = duplicate_search_take(user=user)
        return self.budget.allowed

    def wait(self) -> float | None:
        return getattr(self, "budget", ALLOWED).wait
