"""The benchmark's URLconf: the real API plus the framework floor — an authenticated endpoint
that returns a constant, so every endpoint's time can be read as a ratio to what Django, DRF,
token authentication and the middleware cost on their own."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from .urls import handler400, handler403, handler404, handler500  # noqa: F401 - the same JSON error pages
from .urls import urlpatterns as base_urlpatterns


class FloorApi(APIView):
    """The default authentication and permission classes of every API view, and nothing else."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("bench/floor/", FloorApi.as_view()), *base_urlpatterns]
