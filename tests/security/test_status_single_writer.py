"""A case's and a deadline's status change only through their state machines (issue #12; SPEC
§2 "Closing and reopening", §3): the `@transition` methods on `Case` and `Deadline`, called by the
services of the model's own app (cases/services/, notifications/services/), and the few
registered bulk paths, whose moves tests/notifications/test_deadline_transitions.py checks
against the machine. django-fsm's `protected=True` would refuse other assignments at run time,
but it breaks `refresh_from_db` and deferred loads, and its work-around (FSMModelMixin flips the
shared field's flag for the duration) races under threads — so, as for participations
(test_single_writer.py), a scan of the source tree keeps a second door from opening.

The scan parses every module (not tests/, not migrations/) and flags: an assignment to
`<x>.status` (also in a tuple, also `setattr(x, "status", …)`), a queryset `update(status=…)`,
a `bulk_update` of cases or deadlines (or of any `"status"` field), a case or deadline built or
created with a status, a bulk load of either model (`copy_rows(Case, …)`, `bulk_create`), raw SQL
that sets `status` on their tables (or writes them with a formatted SET list), and a call of one
of their transition methods outside the model's service package. Other models' status fields
(share requests, audit jobs) are named below with their owner. Comments and docstrings never
count; the scanner's own tests prove it catches each form and passes the reads."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from cases.models import Case
from notifications.models import Deadline

ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCE = {"tests", "migrations", ".venv", "node_modules", ".git"}

#: The models whose status is a state machine, their tables, the names that hold one of them in
#: this code base, and the package whose services alone call their transitions.
MACHINES = {
    "Case": ("cases_case", re.compile(r"^_?case\w*$"), Path("cases/services")),
    "Deadline": ("notifications_deadline", re.compile(r"^_?(?:deadline|dl)\w*$"), Path("notifications/services")),
}
TABLES = "|".join(table for table, _, _ in MACHINES.values())

#: The set-based paths that may write a status without calling a transition per row, and what
#: they may do. Each is checked against the machine's allowed moves by the test named here.
BULK_WRITERS: dict[Path, tuple[frozenset[str], str]] = {
    Path("notifications/services/sweep.py"): (
        frozenset({"bulk_update", "raw SQL"}),
        "the sweep's write-back of a claimed batch (UPDATE … FROM unnest, and its ORM twin) stores "
        "what each row's transition decided in memory; tests/notifications/test_deadline_transitions.py"
        "::test_the_sweep_moves_rows_only_as_the_machine_allows",
    ),
}
#: Other paths allowed a kind of write, and why.
ALLOWED: dict[Path, tuple[frozenset[str], str]] = {
    **BULK_WRITERS,
    # Benchmark seeding (`make bench`) COPYs synthetic rows straight into the tables at county
    # scale (SPEC §8): a throwaway benchmark database, never a product path.
    Path("scale"): (frozenset({"bulk load"}), "bench seeding bulk-loads synthetic rows"),
    # The benchmark's sweep timing clones open deadlines inside a transaction it rolls back.
    Path("bench/inproc.py"): (frozenset({"bulk load"}), "scratch open deadlines, rolled back"),
}
#: `.status` assignments on other models, by (path, name of the object): not a case or deadline.
OTHER_STATUS_OWNERS = {
    (Path("cases/services/sharing.py"), "request"): "ShareRequest (the sharing service's own machine)",
    (Path("audit/services/verify.py"), "job"): "AuditVerifyJob",
    (Path("audit/services/verify.py"), "AuditVerifyJob"): "AuditVerifyJob",
}

BULK_LOADERS = re.compile(r"^(?:copy_rows|bulk_insert\w*)$")
CREATE_METHODS = {"create", "get_or_create", "update_or_create"}
RAW_WRITE = re.compile(rf"\b(?:INSERT\s+INTO|COPY)\s+\"?(?:{TABLES})\b", re.IGNORECASE)
RAW_UPDATE = re.compile(
    rf"\bUPDATE\s+\"?(?:{TABLES})\b\"?(?:\s+(?:AS\s+)?\w+)?\s+SET\s+(?P<set>.*?)(?:\bFROM\b|\bWHERE\b|$)",
    re.IGNORECASE | re.DOTALL,
)


def transition_names(model: type) -> set[str]:
    field = model._meta.get_field("status")  # type: ignore[attr-defined]
    return {t.name for t in field.get_all_transitions(model)}


TRANSITIONS = {name: transition_names(model) for name, model in (("Case", Case), ("Deadline", Deadline))}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _root(node: ast.AST) -> str:
    """The name a chain starts from: `Deadline` for `Deadline.objects.filter(x).update`."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _chain_names(node: ast.AST) -> set[str]:
    names = set()
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
        names.add(_name(node))
    return names


def _mentions_status(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and n.value == "status" for n in ast.walk(node))


def _has_status_kwarg(call: ast.Call) -> bool:
    for kw in call.keywords:
        if kw.arg == "status":
            return True
        if kw.arg in (None, "defaults") and _mentions_status(kw.value):
            return True
    return False


def _sql_text(node: ast.AST) -> str:
    """A string constant, or an f-string with `{}` where its values go."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return ""


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(stmt.value)
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
    }


def _assigned_status(target: ast.AST) -> list[ast.Attribute]:
    if isinstance(target, ast.Tuple | ast.List):
        return [a for element in target.elts for a in _assigned_status(element)]
    if isinstance(target, ast.Attribute) and target.attr == "status":
        return [target]
    return []


def _call_kind(call: ast.Call, rel: Path) -> tuple[str, str]:
    """(kind, receiver name) of a status write by this call, or ("", "")."""
    func = call.func
    if _name(func) == "setattr" and len(call.args) >= 2:
        second = call.args[1]
        if isinstance(second, ast.Constant) and second.value == "status":
            return "assigns status", _root(call.args[0])
    if isinstance(func, ast.Name) and func.id in MACHINES and _has_status_kwarg(call):
        return "built with a status", func.id
    if BULK_LOADERS.match(_name(func)) and call.args and _name(call.args[0]) in MACHINES:
        return "bulk load", _name(call.args[0])
    if not isinstance(func, ast.Attribute):
        return "", ""
    root, names = _root(func), _chain_names(func)
    on_machine = bool(names & set(MACHINES))
    if func.attr == "update" and _has_status_kwarg(call):
        return "queryset update", root
    if func.attr == "bulk_update" and (on_machine or any(_mentions_status(a) for a in call.args[1:])):
        return "bulk_update", root
    if func.attr == "bulk_create" and on_machine:
        return "bulk load", root
    if func.attr in CREATE_METHODS and on_machine and _has_status_kwarg(call):
        return "built with a status", root
    for model, (_, holder, package) in MACHINES.items():
        if func.attr in TRANSITIONS[model] and holder.match(root) and not rel.is_relative_to(package):
            return f"calls a {model} transition outside {package}", root
    return "", ""


def writes_in(source: str, rel: Path = Path("x.py")) -> list[tuple[int, str, str]]:
    """(line, kind, source line) of every status write in `source` (parsed: comments and
    docstrings never count, and a call split over lines still does)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        hits: list[tuple[int, str, str]] = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            hits = [(a.lineno, "assigns status", _root(a)) for t in targets for a in _assigned_status(t)]
        elif isinstance(node, ast.Call):
            kind, receiver = _call_kind(node, rel)
            hits = [(node.lineno, kind, receiver)] if kind else []
        elif isinstance(node, ast.Constant | ast.JoinedStr) and id(node) not in docstrings:
            sql = _sql_text(node)
            update = RAW_UPDATE.search(sql)
            if RAW_WRITE.search(sql) or (update and re.search(r"\bstatus\b|\{\}", update.group("set"))):
                hits = [(node.lineno, "raw SQL", "")]
        for line, kind, receiver in hits:
            if (rel, receiver) not in OTHER_STATUS_OWNERS:
                found.append((line, kind, lines[line - 1].strip()))
    return sorted(set(found))


def source_modules() -> list[Path]:
    return [
        path.relative_to(ROOT)
        for path in sorted(ROOT.rglob("*.py"))
        if not set(path.relative_to(ROOT).parts) & NOT_SOURCE
    ]


def _allowed(rel: Path, kind: str) -> bool:
    return any(rel.is_relative_to(prefix) and kind in kinds for prefix, (kinds, _) in ALLOWED.items())


def test_statuses_change_only_through_the_machines():  # type: ignore[no-untyped-def]
    # given every module of the tree — the scan is real: it reads the services and the APIs
    modules = source_modules()
    assert {
        Path("cases/services/cases.py"),
        Path("notifications/services/deadlines.py"),
        Path("cases/apis/cases.py"),
        Path("web/views/cases.py"),
    } <= set(modules)
    # when
    offenders = [
        f"{rel}:{line}: {kind}: {text}"
        for rel in modules
        for line, kind, text in writes_in((ROOT / rel).read_text(encoding="utf-8"), rel)
        if not _allowed(rel, kind)
    ]
    # then
    assert not offenders, (
        "A case's or a deadline's status changes only through its @transition methods, called by "
        "its app's services (cases/services/cases.py: case_close, case_reopen; "
        "notifications/services/deadlines.py: deadline_meet, _cancel, _settle, _waive), or a "
        "bulk path registered in BULK_WRITERS with a test of its moves:\n" + "\n".join(offenders)
    )


def test_the_machines_have_the_transitions_the_scan_looks_for():  # type: ignore[no-untyped-def]
    expected = {
        "Case": {"close", "reopen"},
        "Deadline": {"meet", "miss", "waive", "cancel", "mark_not_applicable", "supersede"},
    }
    assert expected == TRANSITIONS


@pytest.mark.parametrize(
    ("rel", "kind"),
    [(rel, kind) for rel, (kinds, _) in ALLOWED.items() for kind in sorted(kinds)],
)
def test_every_allowance_is_still_needed(rel, kind):  # type: ignore[no-untyped-def]
    paths = [rel] if rel.suffix else [p for p in source_modules() if p.is_relative_to(rel)]
    found = {k for p in paths for _, k, _ in writes_in((ROOT / p).read_text(encoding="utf-8"), p)}
    assert kind in found, f"{rel} no longer does '{kind}': drop it from ALLOWED"


def test_the_services_move_the_status_through_the_transitions():  # type: ignore[no-untyped-def]
    """The services' transition calls are what the scan would flag anywhere else."""
    for rel, calls in {
        Path("cases/services/cases.py"): {"case.close()", "case.reopen()"},
        Path("notifications/services/deadlines.py"): {
            "deadline.meet()",
            "deadline.cancel()",
            "deadline.waive()",
            "deadline.supersede()",
            "deadline.mark_not_applicable()",
        },
        Path("notifications/services/sweep.py"): {"deadline.meet()", "deadline.miss()"},
    }.items():
        source = (ROOT / rel).read_text(encoding="utf-8")
        for call in calls:
            assert call in source, (rel, call)
            assert writes_in(f"def f():\n    {call}\n", Path("web/views/x.py")), call


@pytest.mark.parametrize(
    "snippet",
    [
        "case.status = Case.Status.CLOSED",
        "case.status = 'closed'",
        "deadline.status = Deadline.Status.MET",
        "d.status, d.met_at = 'met', now",
        "for d in batch:\n    d.status = 'missed'",
        "obj.status: str = 'closed'",
        "setattr(case, 'status', 'closed')",
        "Case.objects.filter(pk=1).update(status='closed')",
        "Deadline.objects.filter(\n    case=case,\n).update(status='cancelled', cancelled_at=now)",
        "qs.update(**{'status': 'cancelled'})",
        "Deadline.objects.bulk_update(batch, ['status'])",
        "Deadline.objects.bulk_update(batch, FIELDS)",
        "Model.objects.bulk_update(batch, ['status', 'met_at'])",
        "Case(youth=youth, number='H-1', status='closed')",
        "Deadline.objects.create(rule=rule, status='met')",
        "Case.objects.update_or_create(pk=1, defaults={'status': 'closed'})",
        "Deadline.objects.bulk_create(rows)",
        "copy_rows(Case, ['id', 'status'], rows)",
        "cursor.execute(\"UPDATE notifications_deadline SET status = 'missed' WHERE due_at < now()\")",
        "cursor.execute('UPDATE cases_case AS c SET status = %s WHERE c.id = %s', ['closed', 1])",
        'cursor.execute(f"UPDATE notifications_deadline AS d SET {assignments} FROM unnest(x) WHERE d.id = v.id")',
        "cursor.execute('INSERT INTO notifications_deadline (status) VALUES (%s)', ['open'])",
        "case.close()",
        "case.reopen()",
        "deadline.meet()",
        "deadline.waive()",
        "dl.miss()",
    ],
)
def test_the_scanner_catches_a_write(snippet):  # type: ignore[no-untyped-def]
    assert writes_in("def f():\n" + textwrap.indent(snippet, "    ") + "\n", Path("web/views/x.py")), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "Case.objects.filter(status=Case.Status.OPEN).exists()",
        "Deadline.objects.filter(status__in=Deadline.ACTIVE).select_related('rule')",
        "if case.status != Case.Status.OPEN:\n    raise error",
        "status = data.get('status')",
        "body = {'status': deadline.status}",
        "Deadline.objects.filter(pk=1).update(next_reminder_at=None)",
        "cursor.execute('UPDATE notifications_deadline SET next_reminder_at = %s WHERE status = %s', [now, 'open'])",
        "cursor.execute('SELECT count(*) FROM notifications_deadline WHERE status = %s', ['open'])",
        "cursor.execute('UPDATE cases_caseagency SET revoked_at = NULL')",
        "meeting.cancel()",
        "item.cancel()",
        "referral.accept()",
        "fh.close()",
        "cursor.close()",
        "case_services.case_close(case=case, actor=actor, reason=reason)",
        "deadlines.deadline_cancel(rule_code=RULE, target=p, reason='case closed', actor=actor)",
        "Case(youth=youth, number=number, lead_agency=agency)",
        "x = 1  # case.status = 'closed' in a comment is not code",
        "status = FSMField(max_length=10, choices=Status.choices, default=Status.OPEN)",
    ],
)
def test_the_scanner_passes_a_read(snippet):  # type: ignore[no-untyped-def]
    assert not writes_in("def f():\n" + textwrap.indent(snippet, "    ") + "\n", Path("web/views/x.py")), snippet


def test_transitions_are_the_services_own_calls():  # type: ignore[no-untyped-def]
    source = "def f():\n    case.close()\n    deadline.meet()\n"
    assert writes_in(source, Path("cases/services/cases.py")) == [(3, *_outside("Deadline", "deadline.meet()"))]
    assert writes_in(source, Path("notifications/services/deadlines.py")) == [(2, *_outside("Case", "case.close()"))]


def _outside(model: str, text: str) -> tuple[str, str]:
    return f"calls a {model} transition outside {MACHINES[model][2]}", text


def test_the_scanner_ignores_docstrings():  # type: ignore[no-untyped-def]
    source = (
        'def f():\n    """Never write case.status = \'closed\' or UPDATE cases_case SET status here."""\n    return 1\n'
    )
    assert not writes_in(source)
