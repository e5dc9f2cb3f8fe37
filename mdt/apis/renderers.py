"""Renderers and negotiation for the PDF and calendar exports; their errors still answer JSON."""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class PDFRenderer(BaseRenderer):
    """`?format=pdf` (DRF's format override) or `Accept: application/pdf` picks this; the view
    hands it the finished PDF bytes."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ICSRenderer(BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class FirstRendererNegotiation(BaseContentNegotiation):
    """A calendar is a calendar whatever the client's Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ErrorsAsJsonMixin:
    """Errors of an export view answer JSON (never a PDF or calendar body)."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and (response.exception or response.status_code >= 400):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
