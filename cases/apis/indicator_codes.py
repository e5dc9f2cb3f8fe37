"""`GET /api/v1/indicator-codes/` (SPEC §2, §6 "reference"): the CSEC indicator codes a
referral names, with their labels and descriptions. Reference data, not case data: every
signed-in user may read it (like the agencies), nothing identifying is in it, and reading it
writes no audit event. A system admin manages the codes in the Django admin (cases/admin.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import PageNumberPagination

from ..models import IndicatorCode
from ..selectors.parts import indicator_code_list


class IndicatorCodeListApi(APIView):
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer):
        is_active = serializers.BooleanField(
            help_text="Only active codes are accepted on a new or edited referral; inactive ones "
            "still label the referrals that carry them."
        )

        class Meta:
            model = IndicatorCode
            fields = ["id", "code", "label", "description", "is_active"]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(indicator_code_list(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
