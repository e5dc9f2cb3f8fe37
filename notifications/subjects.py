"""The deadline subjects: how the engine learns about the apps above it (CONTRIBUTING "Layers").

notifications/ imports neither cases/ nor mdt/. Each of them registers, in its
`AppConfig.ready()` (through its own `deadline_subjects` module), what the engine must know
about the objects that carry its deadlines:

- its **subjects**: a target kind (`TargetKind`), the model behind it (`app_label.model_name`)
  and `describe(rule, target)`, the denormalised columns of a deadline on such an object (what
  lists, visibility, recipients and the non-identifying reminder text need);
- **who may see** a deadline: `visible(user=, deadlines=)` returns id subqueries of the
  deadlines the user may see through that app (its own visibility selectors decide); the engine
  unions them with the deadlines assigned to the user;
- optionally, **who sees alike**: `visibility_keys(users) -> {user id: key}`, in one query for
  all of them: two people with the same key see the same deadlines through that app (a
  supervisor: their agency's), None where it is decided person by person. The sweep then asks
  once per key, not once per supervisor. An app that registers none is asked per person;
- **who is responsible**, per recipients strategy (`Recipients`): a batch loader,
  `loader(deadlines) -> responsible(deadline) -> [users]`, called once per batch (a loader
  registered for several strategies is called once), so the sweep's queries do not grow with
  the batch;
- two look-ups the engine needs by name: `referral_cases(case_ids)` ({referral id: case id}
  for the referrals of those cases: a referral's deadlines count for its case) and
  `team_members(team_id)` (the active members of an MDT team: who an agenda notice goes to).

A look-up nobody registered is a configuration error, not a silent empty answer.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import FilteredRelation, Q

#: (rule, target) -> {"case_id", "referral_id", "youth_id", "agency_id", "team_id",
#: "assignee_id", "reference", "link_path"} (the keys it leaves out are None).
Describe = Callable[[Any, Any], dict[str, Any]]
#: (*, user, deadlines) -> id subqueries (`.values("id")`) of the deadlines the user may see, or,
#: where the user sees most of them, `RowCondition`s on a deadline row (the engine ORs them).
Visible = Callable[..., Iterable[Any]]
#: (users) -> {user id: a hashable key, or None}: the same key, the same deadlines seen through
#: the app that registered it.
VisibilityKeys = Callable[[list[Any]], Mapping[int, Hashable | None]]
#: (deadlines of one batch) -> (deadline -> the people responsible for it).
ResponsibleLoader = Callable[[list[Any]], Callable[[Any], list[Any]]]


@dataclass(frozen=True)
class RowCondition:
    """Who may see a deadline, as a condition on its row (and the filtered joins it reads), for
    a reader who sees most deadlines: a list then walks its due-date index and stops after a
    page, where a UNION of id sets would first gather every id the reader may see."""

    condition: Q
    joins: Mapping[str, FilteredRelation] = field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    """One kind of object a deadline may be opened on."""

    kind: str
    model: str
    describe: Describe


_subjects: dict[str, Subject] = {}
_visible: list[Visible] = []
_visibility_keys: dict[Visible, VisibilityKeys] = {}
_responsible: dict[str, ResponsibleLoader] = {}
_lookups: dict[str, Callable[..., Any]] = {}


def register(
    *,
    subjects: Iterable[Subject] = (),
    visible: Visible | None = None,
    visibility_keys: VisibilityKeys | None = None,
    responsible: Mapping[str, ResponsibleLoader] | None = None,
    referral_cases: Callable[[list[int]], dict[int, int]] | None = None,
    team_members: Callable[[int], list[Any]] | None = None,
) -> None:
    """Called by an app's `AppConfig.ready()`. Registering the same kind, strategy or look-up
    twice is an error (two apps would decide one thing); the same callable again is a no-op."""
    for subject in subjects:
        _put(_subjects, subject.kind, subject, "subject")
    if visible is not None and visible not in _visible:
        _visible.append(visible)
    if visible is not None and visibility_keys is not None:
        _visibility_keys[visible] = visibility_keys
    for strategy, loader in (responsible or {}).items():
        _put(_responsible, str(strategy), loader, "recipients strategy")
    if referral_cases is not None:
        _put(_lookups, "referral_cases", referral_cases, "look-up")
    if team_members is not None:
        _put(_lookups, "team_members", team_members, "look-up")


def _put(registry: dict[str, Any], key: str, value: Any, what: str) -> None:
    if registry.get(key, value) != value:
        raise ImproperlyConfigured(f"deadline {what} {key!r} is registered twice")
    registry[key] = value


def _lookup(name: str) -> Callable[..., Any]:
    try:
        return _lookups[name]
    except KeyError:
        raise ImproperlyConfigured(f"no app registered the deadline look-up {name!r}") from None


# --- what the engine asks ------------------------------------------------------------------------


def target_models() -> dict[str, str]:
    """{target kind: "app_label.model_name"} of every registered subject."""
    return {kind: subject.model for kind, subject in _subjects.items()}


def subject_for(target: Any) -> Subject:
    """The subject whose model `target` is an instance of (ValueError for any other model)."""
    label = target._meta.label_lower  # noqa: SLF001 - Django's public Model._meta API
    for subject in _subjects.values():
        if subject.model == label:
            return subject
    raise ValueError(f"{label} cannot carry a deadline")


def visible_deadline_ids(*, user: Any, deadlines: Any) -> list[Any]:
    """The id subqueries, one or more per registered app, of the deadlines `user` may see."""
    parts: list[Any] = []
    for visible in _visible:
        parts.extend(visible(user=user, deadlines=deadlines))
    return parts


def visibility_keys(*, users: list[Any]) -> dict[int, tuple[Hashable, ...] | None]:
    """{user id: key}: people with the same key see the same deadlines through every registered
    app (what is assigned to each person apart); None for a person any app decides alone."""
    per_app = [_visibility_keys[visible](users) if visible in _visibility_keys else {} for visible in _visible]
    keys: dict[int, tuple[Hashable, ...] | None] = {}
    for user in users:
        parts = [answer.get(user.pk) for answer in per_app]
        keys[user.pk] = None if any(part is None for part in parts) else tuple(parts)
    return keys


def responsible_loaders() -> dict[str, ResponsibleLoader]:
    """{recipients strategy: batch loader}."""
    return dict(_responsible)


def referral_cases(*, case_ids: list[int]) -> dict[int, int]:
    return _lookup("referral_cases")(case_ids)


def team_members(*, team_id: int) -> list[Any]:
    return list(_lookup("team_members")(team_id))
