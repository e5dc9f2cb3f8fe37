"""A protected table has one writer (CONTRIBUTING "Rules as invariants"; SPEC §1 "Sharing has one
door"): participations (`CaseAgency` rows) are created and updated by cases/services/sharing.py only.

The scan parses every module of the source tree (not tests/, not migrations/) and flags the
ways Django code writes a row — an instance built (`CaseAgency(…)`), a manager or queryset write
(`CaseAgency.objects.create/update/bulk_create/get_or_create/update_or_create/delete`, also at the
end of a `.filter(…)` chain split over lines, or through `case.participations`), a save or
update of a participation-named object (`participation.save()`, `_save(participation, …)`,
`participations.update(…)`), a bulk loader given the model (`copy_rows(CaseAgency, …)`), raw
SQL on the table — and not the reads (`CaseAgency.objects.filter(…).exists()`, `select_related`,
type hints, `CaseAgency.LegalBasis`). Comments and docstrings never count. The scanner's own
tests below prove it catches each form and passes the reads."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The one writer.
WRITER = Path("cases/services/sharing.py")
#: Paths that may write participations without the sharing rules, and why.
ALLOWED = {
    # Benchmark seeding (`make bench`) COPYs synthetic participations straight into the table at
    # county scale (SPEC §8): it runs only against a throwaway benchmark database, never in a
    # product path, and no request can reach it.
    Path("scale"): "bench seeding bulk-loads synthetic rows",
}
NOT_SOURCE = {"tests", "migrations", ".venv", "node_modules", ".git"}

MODEL = "CaseAgency"
TABLE = "cases_caseagency"
#: A name that holds a participation (or a queryset of them) in this code base.
PART = re.compile(r"^_?(?:participation|part|case_agency|caseagency)\w*$", re.IGNORECASE)
#: Methods that write rows, on a manager, a queryset or an instance.
WRITE_METHODS = {
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "delete",
    "save",
}
#: Helpers that write what they are given (`_save(obj, actor=…)`, the bench's `copy_rows(Model, …)`).
SAVE_HELPER = re.compile(r"^_?(?:save|write)\w*$|^copy_rows$|^bulk_insert\w*$")
RAW_SQL = re.compile(rf"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE)\s+\"?{TABLE}\b", re.IGNORECASE)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _chain(node: ast.AST) -> list[ast.AST]:
    """The receivers of a call chain: for `CaseAgency.objects.filter(x).update()`, the nodes
    `CaseAgency.objects.filter(x)`, `CaseAgency.objects.filter`, `CaseAgency.objects`, `CaseAgency`."""
    out = []
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
        out.append(node)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(stmt.value)
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
    }


def _write_kind(node: ast.Call) -> str:
    func = node.func
    if _name(func) == MODEL:
        return "builds a row"
    if isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
        receivers = _chain(func)
        if any(_name(r) == MODEL for r in receivers):
            return "manager or queryset write"
        if any(isinstance(r, ast.Attribute) and r.attr == "participations" for r in receivers):
            return "related manager write"
        if isinstance(func.value, ast.Name) and PART.match(func.value.id):
            return "write on a participation"
    if SAVE_HELPER.match(_name(func)) and node.args:
        first = node.args[0]
        if (isinstance(first, ast.Name) and (PART.match(first.id) or first.id == MODEL)) or _name(first) == MODEL:
            return "saved through a helper"
    return ""


def writes_in(source: str) -> list[tuple[int, str, str]]:
    """(line, kind, source line) of every participation write in `source` (parsed, so comments
    and docstrings never count and a call split over lines still does)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        kind = ""
        if isinstance(node, ast.Call):
            kind = _write_kind(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            kind = "raw SQL" if RAW_SQL.search(node.value) else ""
        if kind:
            found.append((node.lineno, kind, lines[node.lineno - 1].strip()))
    return sorted(found)


def source_modules() -> list[Path]:
    modules = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if set(rel.parts) & NOT_SOURCE:
            continue
        modules.append(rel)
    return modules


def _allowed(rel: Path) -> bool:
    return rel == WRITER or any(rel.is_relative_to(prefix) for prefix in ALLOWED)


def test_only_the_sharing_module_writes_participations():  # type: ignore[no-untyped-def]
    # given
    modules = [m for m in source_modules() if not _allowed(m)]
    # the scan is real: it reads the other services and the APIs
    assert {Path("cases/services/cases.py"), Path("cases/services/referrals.py"), Path("cases/apis/sharing.py")} <= set(
        modules
    )
    # when
    offenders = [
        f"{rel}:{line}: {kind}: {text}"
        for rel in modules
        for line, kind, text in writes_in((ROOT / rel).read_text(encoding="utf-8"))
    ]
    # then
    assert not offenders, (
        "CaseAgency rows are written only by cases/services/sharing.py (SPEC §1 'Sharing has one door'); "
        "call its services instead:\n" + "\n".join(offenders)
    )


def test_the_sharing_module_is_the_writer():  # type: ignore[no-untyped-def]
    """The scan recognises the real writer's code — if it did not, it would not recognise a copy."""
    assert writes_in((ROOT / WRITER).read_text(encoding="utf-8"))


def test_scale_is_allow_listed_because_it_bulk_loads():  # type: ignore[no-untyped-def]
    seed = ROOT / "scale" / "seed.py"
    assert writes_in(seed.read_text(encoding="utf-8")), "scale/ no longer writes participations: drop it from ALLOWED"


@pytest.mark.parametrize(
    "snippet",
    [
        "CaseAgency(case=case, agency=agency, legal_basis='mdt_18961_7')",
        "obj = CaseAgency (case=case)",
        "CaseAgency.objects.create(case=case, agency=agency)",
        "CaseAgency.objects.filter(case=case).update(revoked_at=None)",
        "CaseAgency.objects.bulk_create(rows)",
        "CaseAgency.objects.update_or_create(case=case, agency=agency, defaults={})",
        "CaseAgency.objects.get_or_create(case=case, agency=agency)",
        "CaseAgency._default_manager.filter(pk=1).delete()",
        "case.participations.create(agency=agency, legal_basis='consent')",
        "case.participations.filter(agency=agency).update(expires_at=None)",
        "participation.save()",
        "participation.save(update_fields=['expires_at'])",
        "case_agency.delete()",
        "_save(participation, actor=actor)",
        "_save(part, actor=actor)",
        "participations.update(revoked_at=now)",
        "cursor.execute('UPDATE cases_caseagency SET revoked_at = NULL')",
        'cursor.execute("INSERT INTO cases_caseagency (case_id) VALUES (1)")',
        "copy_rows(CaseAgency, columns, rows)",
        "n += copy_rows(\n    CaseAgency,\n    ['id', 'legal_basis'],\n    rows,\n)",
        "CaseAgency.objects.filter(\n    case=case,\n).update(revoked_at=None)",
    ],
)
def test_the_scanner_catches_a_write(snippet):  # type: ignore[no-untyped-def]
    assert writes_in("def f():\n" + textwrap.indent(snippet, "    ") + "\n"), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "CaseAgency.objects.filter(participation_active_q(), case_id=case.pk).exists()",
        "CaseAgency.objects.select_for_update().filter(case=case).first()",
        "qs = CaseAgency.objects.filter(case_id=case.pk).select_related('agency').order_by('id')",
        "def case_agency_list(*, case: Case) -> QuerySet[CaseAgency]: ...",
        "try:\n    pass\nexcept CaseAgency.DoesNotExist as exc:\n    raise Http404 from exc",
        "class CaseAgencyOutputSerializer(serializers.Serializer): ...",
        "part_model = CaseAgency",
        "participation = services.case_agency_grant(case=case, actor=actor, **data)",
        "participation = selectors.case_agency_get(case=case, agency_code=code)",
        "for p in CaseAgency.objects.filter(case_id=case.pk).select_related('agency'):\n    print(p.pk)",
        "('case_agency', CaseAgency.history, Q(case_id=case.pk)),",
        "x = 1  # CaseAgency.objects.create(...) in a comment is not code",
        "legal_basis = serializers.ChoiceField(choices=CaseAgency.LegalBasis.choices)",
        "deadline.save(update_fields=['status'])",
        "case.save()",
        "class CaseAgency(models.Model): ...",
        "existing.delete()  # a YouthExternalId",
        "partial(_enqueue_sends, pending)",
    ],
)
def test_the_scanner_passes_a_read(snippet):  # type: ignore[no-untyped-def]
    assert not writes_in("def f():\n" + textwrap.indent(snippet, "    ") + "\n"), snippet


def test_the_scanner_ignores_docstrings():  # type: ignore[no-untyped-def]
    source = 'def f():\n    """Never call CaseAgency.objects.create(...) here."""\n    return 1\n'
    assert not writes_in(source)
