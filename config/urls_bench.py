"""The benchmark's URLconf: the real API plus the framework floor — an authenticated endpoint
that returns a constant, so every endpoint's time can be read as a ratio to what Django, DRF,
token authentication and the middleware cost on their own."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from .urls import urlpatterns as base_urlpatterns


class FloorApi(APIView):
    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True})


urlpatterns = [path("bench/floor/", FloorApi.as_view()), *base_urlpatterns]
