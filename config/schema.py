"""drf-spectacular glue: unique component names for nested Input/Output serializers, and the
token scheme."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):  # type: ignore[no-untyped-def]
        # `UserDetailApi.InputSerializer` -> `UserDetailInput`: nested serializers of different
        # views never collide.
        parts = serializer.__class__.__qualname__.split(".")
        if len(parts) > 1:
            return parts[-2].removesuffix("Api") + parts[-1].removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication: "Token <token>" from POST /api/v1/auth/token/',
        }


#: The error answers every operation may give (SPEC §6), documented once for all of them.
ERROR_RESPONSES = {
    "400": "Validation error: field messages.",
    "401": "Not authenticated.",
    "403": "Visible, but this role may not do that.",
    "404": "Not found, or not visible to you.",
    "409": "Not allowed in the current state.",
    "412": "Stale If-Match: the object changed since you read it.",
    "413": "Request body too large or too deeply nested.",
    "429": "Too many attempts.",
}


def add_error_responses(result, generator, request, public):  # type: ignore[no-untyped-def]
    """Postprocessing hook: add the shared error responses (and their body shape) to every
    operation, so clients and the schema fuzzer know every status an operation can answer."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "`detail` and `code`, or (validation) a message list per field.",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "additionalProperties": True,
    }
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": {"application/json": {"schema": ref}}})
    return result
