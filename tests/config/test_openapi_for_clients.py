"""The OpenAPI schema is written for the people who build clients (SPEC §6): every operation has
a summary and a description from config/api_operations.yaml, one tag per resource, a request
example that the request schema accepts, and only the error statuses it can give."""

from __future__ import annotations

import re

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from config.schema import operations

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_summary_and_a_description(schema: dict) -> None:
    # then
    missing = [key for key, op in _operations(schema) if not op.get("summary") or not op.get("description")]
    assert missing == [], f"add these to config/api_operations.yaml: {missing}"


def test_the_operations_file_names_only_operations_that_exist(schema: dict) -> None:
    # given
    served = {key for key, _ in _operations(schema)}
    # then
    assert sorted(set(operations()) - served) == []


def test_descriptions_carry_no_internal_notes(schema: dict) -> None:
    internal = re.compile(r"CaseDataRole|selector|queryset|Base of every|TODO|app decision", re.IGNORECASE)
    for key, op in _operations(schema):
        assert not internal.search(op["description"]), key


def test_one_tag_per_operation_naming_its_resource(schema: dict) -> None:
    tags = {key: op["tags"] for key, op in _operations(schema)}
    assert all(len(t) == 1 for t in tags.values())
    assert tags["GET /api/v1/cases/{id}/notes/"] == ["Notes"]
    assert tags["POST /api/v1/cases/{id}/agencies/"] == ["Sharing"]
    assert tags["GET /api/v1/mdt/meetings/{id}/agenda/"] == ["MDT meetings"]
    assert "v1" not in {t[0] for t in tags.values()}


def test_every_request_example_is_valid_for_its_body(schema: dict) -> None:
    # given
    checked = 0
    for _key, op in _operations(schema):
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if not content or "example" not in content:
            continue
        body_schema = {**content["schema"], "components": schema["components"]}
        # when / then
        jsonschema.validate(content["example"], body_schema)
        checked += 1
    assert checked == sum("example" in entry for entry in operations().values())  # none is left unchecked


def test_every_write_with_a_required_body_has_an_example(schema: dict) -> None:
    missing = []
    for key, op in _operations(schema):
        body = op.get("requestBody", {})
        content = body.get("content", {}).get("application/json", {})
        ref = content.get("schema", {}).get("$ref", "")
        required = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get("required")
        if required and "example" not in content and "examples" not in content:
            missing.append(key)
    assert missing == []


def test_operations_list_only_the_errors_they_can_give(schema: dict) -> None:
    ops = dict(_operations(schema))
    # a public operation cannot answer 401; a collection path has no object to miss
    assert "401" not in ops["POST /api/v1/auth/token/"]["responses"]
    assert "429" in ops["POST /api/v1/auth/token/"]["responses"]
    assert "404" not in ops["GET /api/v1/cases/"]["responses"]
    assert "412" not in ops["GET /api/v1/cases/{id}/"]["responses"]
    assert {"400", "401", "403", "404", "409", "412", "413"} <= set(ops["PATCH /api/v1/cases/{id}/"]["responses"])
    for op in ops.values():
        for status in op["responses"]:
            if status[0] in "45":
                assert op["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }


def test_the_error_shape_is_documented_once(schema: dict) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "detail"]
    assert set(error["properties"]) == {"code", "detail", "errors"}


def test_enumerations_list_their_values(schema: dict) -> None:
    components = schema["components"]["schemas"]
    enums = {name: c["enum"] for name, c in components.items() if "enum" in c}
    assert any({"team", "agency", "clinical"} <= set(values) for values in enums.values())
    assert any({"lead", "court_mdt", "mdt_18961_7", "consent"} <= set(values) for values in enums.values())
