"""A small bounded load generator: N client threads with keep-alive connections to a server on
loopback, each request's latency recorded. Bounded by a request count and a time limit, so it
always stops by itself. (locust would add gevent and a web UI for what this needs.)"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: A request factory returns (method, path, body-or-None); it is called once per request so
#: write endpoints can create a fresh object each time.
RequestFactory = Callable[[int], tuple[str, str, Any]]


@dataclass
class Result:
    name: str
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        k = min(len(data) - 1, max(0, round(p / 100 * (len(data) - 1))))
        return data[k]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def throughput(self) -> float:
        return self.count / self.wall_s if self.wall_s else 0.0


def auth_headers(credential: str) -> dict[str, str]:
    """A knox token for the API, or a web session ("Cookie: sessionid=…", from a real sign-in)."""
    if credential.startswith("Cookie: "):
        return {"Cookie": credential.removeprefix("Cookie: ")}
    return {"Authorization": f"Token {credential}"}


def run(
    base_url: str,
    token: str,
    name: str,
    factory: RequestFactory,
    *,
    clients: int,
    requests: int,
    time_limit_s: float = 60.0,
    expect: tuple[int, ...] = (200, 201),
) -> Result:
    parts = urlsplit(base_url)
    result = Result(name=name, clients=clients)
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + time_limit_s

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {**auth_headers(token), "Content-Type": "application/json", "Connection": "keep-alive"}
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body = factory(i)
            payload = json.dumps(body) if body is not None else None
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status in expect:
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors += 1
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(time_limit_s + 35)
    result.wall_s = time.perf_counter() - t0
    return result
