"""No serializer exposes every model field (SPEC §8): explicit `fields`, never `"__all__"`."""

from __future__ import annotations

import re
from pathlib import Path

from rest_framework import serializers

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "audit", "cases", "mdt", "notifications"]
ALL_FIELDS = re.compile(r"""\bfields\s*[:=][^\n]*["']__all__["']""")


def _sources() -> list[Path]:
    return [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def test_no_source_file_uses_fields_all():
    # given
    sources = _sources()

    # when
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ALL_FIELDS.search(line) or "'__all__'" in line or '"__all__"' in line
    ]

    # then
    assert sources
    assert offenders == []


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_no_loaded_model_serializer_lists_all_fields_or_excludes(client):
    # given: every API module is imported (the URL conf pulls them in)
    client.get("/api/schema/")

    # when
    ours = [s for s in _subclasses(serializers.ModelSerializer) if s.__module__.split(".")[0] in APPS]
    offenders = [
        f"{s.__module__}.{s.__qualname__}"
        for s in ours
        if getattr(getattr(s, "Meta", None), "fields", None) == serializers.ALL_FIELDS
        or getattr(getattr(s, "Meta", None), "exclude", None) is not None
    ]

    # then
    assert ours
    assert offenders == []
