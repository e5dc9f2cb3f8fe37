"""Content negotiation: an unsupported `?format=` is the client's mistake (400, naming the
formats that path answers), not a missing page. DRF answers 404 for it, which reads as "no such
object" — a wrong hint on paths whose 404 means exactly that (SPEC §1)."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

from core.errors import ApplicationError


class FormatNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:  # noqa: A002 - DRF's name
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            formats = ", ".join(sorted({renderer.format for renderer in renderers}))
            raise ApplicationError(
                f"This path answers only these formats: {formats}. Send ?format= with one of them, or leave it out.",
                fields={"format": [f"One of: {formats}."]},
            )
        return matching
