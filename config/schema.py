"""drf-spectacular glue: unique component names for nested Input/Output serializers, and the
token scheme."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.permissions import AllowAny


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication: "Token <token>" from POST /api/v1/auth/token/',
        }


#: What each error status means (SPEC §6). An operation lists only the ones it can give.
ERROR_RESPONSES = {
    "400": "Validation error: `errors` names each field to fix and what to send.",
    "401": "Not authenticated: send `Authorization: Token <token>`.",
    "403": "You may see this, but your role may not do that.",
    "404": "Not found, or not visible to you.",
    "409": "Not allowed in the current state (or it conflicts with a change saved at the same moment).",
    "412": "Stale If-Match: the object changed since you read it; read it again.",
    "413": "Request body too large or too deeply nested.",
    "429": "Too many attempts: wait, then try again.",
}
OPERATIONS_FILE = Path(__file__).with_name("api_operations.yaml")
#: One tag per resource. The key is the resource segment of the path (for a case part, the
#: part's segment; for MDT, the segment after `mdt/`).
TAGS = {
    "auth": "Sign-in",
    "me": "Sign-in",
    "agencies": "Agencies",
    "users": "Users",
    "youth": "Youth",
    "referrals": "Referrals",
    "cases": "Cases",
    "team": "Case team",
    "agencies-of-case": "Sharing",
    "share-requests": "Sharing",
    "notes": "Notes",
    "missing-episodes": "Missing episodes",
    "placements": "Placements",
    "services": "Services",
    "hearings": "Hearings",
    "alerts": "Safety alerts",
    "timeline": "Cases",
    "history": "Cases",
    "close": "Cases",
    "reopen": "Cases",
    "deadlines": "Deadlines",
    "notifications": "Notifications",
    "notification-preferences": "Notifications",
    "teams": "MDT teams",
    "meetings": "MDT meetings",
    "items": "MDT meetings",
    "calendar-feed": "Calendar",
    "feeds": "Calendar",
    "action-items": "Action items",
    "audit-events": "Audit",
    "indicator-codes": "Reference",
    "reports": "Reports",
}


@lru_cache(maxsize=1)
def operations() -> dict[str, dict[str, Any]]:
    """config/api_operations.yaml: "METHOD /path" -> summary, description, example."""
    return yaml.safe_load(OPERATIONS_FILE.read_text()) or {}


def resource_tag(path: str) -> str:
    segments = [s for s in path.removeprefix("/api/v1/").split("/") if s]
    key = segments[0] if segments else ""
    if key == "mdt" and len(segments) > 1:
        key = segments[1]
    elif key == "cases" and len(segments) > 2:
        key = "agencies-of-case" if segments[2] == "agencies" else segments[2]
    return TAGS.get(key, key.replace("-", " ").capitalize())


def error_statuses(*, method: str, path: str, public: bool, throttled: bool) -> list[str]:
    """The error statuses an operation can answer: every operation can be sent a bad query or
    an unsupported ?format= (400); the rest follow from what the operation is."""
    codes = {"400"}
    if not public:
        codes |= {"401", "403"}
    if "{" in path:
        codes.add("404")
    if method in {"POST", "PUT", "PATCH"}:
        codes.add("413")
    if method in {"POST", "PATCH", "DELETE"} and not public:
        codes.add("409")
    if method == "PATCH":
        codes.add("412")
    if throttled:
        codes.add("429")
    return sorted(codes)


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):
        # `UserDetailApi.InputSerializer` -> `UserDetailInput`: nested serializers of different
        # views never collide.
        parts = serializer.__class__.__qualname__.split(".")
        if len(parts) > 1:
            return parts[-2].removesuffix("Api") + parts[-1].removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def get_tags(self) -> list[str]:
        return [resource_tag(self.path)]

    def get_summary(self) -> str | None:
        return operations().get(f"{self.method} {self.path}", {}).get("summary")

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's AutoSchema takes no arguments here; DRF's inspector does
        # Only what the operations file says: view docstrings are written for the code's readers.
        return operations().get(f"{self.method} {self.path}", {}).get("description", "")

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        operation["tags"] = [resource_tag(path)]  # over any tag a view's extend_schema set
        entry = operations().get(f"{method} {path}", {})
        if "example" in entry:
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if "examples" not in content:  # a view's own named examples stand
                    content["example"] = entry["example"]
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        throttled = bool(getattr(self.view, "throttle_classes", None))
        responses = operation.setdefault("responses", {})
        for code in error_statuses(method=method, path=path, public=public, throttled=throttled):
            responses.setdefault(
                code,
                {
                    "description": ERROR_RESPONSES[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            )
        return operation


def add_error_schema(result, generator, request, public):
    """Postprocessing hook: the one error shape (SPEC §6), documented once for every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "Every error has this shape, whatever produced it.",
        "required": ["code", "detail"],
        "properties": {
            "code": {"type": "string", "description": "A machine code, e.g. `invalid`, `not_found`, `conflict`."},
            "detail": {"type": "string", "description": "A sentence for a person: what went wrong and what to send."},
            "errors": {
                "type": "object",
                "description": "Validation errors only: for each field, what to send instead.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    return result
