"""The audit writer keeps a protocol word (how an access happened) only when it is in its
vocabulary and drops anything else (SPEC §5). A word a service writes that the vocabulary lacks
would silently vanish from the trail: this test reads every literal `via` and `step` the
services write (the other words, HTTP methods and export formats, are fixed sets)."""

from __future__ import annotations

import re
from pathlib import Path

from audit.services.detail import _VOCABULARY

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "audit", "cases", "mdt", "notifications", "config"]
LITERAL = re.compile(r"""["']?(?P<key>via|step)["']?\s*[:=]\s*["'](?P<word>[A-Za-z_]+)["']""")


def test_every_protocol_word_a_service_writes_is_kept() -> None:
    # given every literal protocol word in the application's source
    written = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in LITERAL.finditer(path.read_text()):
                written.add((match["key"], match["word"]))
    # then each is in the writer's vocabulary
    assert ("step", "password_link_sent") in written  # the scan sees what the services write
    missing = sorted((key, word) for key, word in written if word not in _VOCABULARY[key])
    assert missing == []
