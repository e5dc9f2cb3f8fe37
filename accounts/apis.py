"""Thin API views for authentication, the current user, users and agencies."""

from __future__ import annotations

import re
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.etags import etag_for
from core.pagination import PageNumberPagination
from core.permissions import Role, has_role

from . import mfa, services
from .http import AuthedRequest
from .models import Agency, User
from .selectors import agency_list, user_list_visible_to


class AgencyField(serializers.SlugRelatedField):
    """An agency by its code. A value that cannot be a code is refused before any look-up (a NUL
    byte would otherwise reach PostgreSQL and fail there)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Agency.objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Agency:
        if not isinstance(data, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,31}", data):
            self.fail("does_not_exist", slug_name=self.slug_field, value="?")
        return super().to_internal_value(data)


# --- auth -----------------------------------------------------------------------------------------


class TokenCreateApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)
        otp = serializers.CharField(max_length=16, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, expiry = services.token_login(
            request=request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            otp=data.validated_data.get("otp"),
        )
        return Response(self.OutputSerializer({"token": token, "expires_at": expiry}).data)


class PasswordResetApi(APIView):
    """Ask for a set-password link by email. Always 202: it never tells whether the address is known."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()

    @extend_schema(request=InputSerializer, responses={202: None}, auth=[])
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class LogoutApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: AuthedRequest) -> Response:
        services.token_logout(user=request.user, token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        name = serializers.SerializerMethodField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        email = serializers.EmailField()
        agency = serializers.CharField(source="agency_code", allow_null=True)
        role = serializers.CharField(source="effective_role")
        mfa_enrolled = serializers.SerializerMethodField()

        def get_name(self, obj: User) -> str:
            return obj.get_full_name()

        def get_mfa_enrolled(self, obj: User) -> bool:
            return mfa.mfa_is_enrolled(obj)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: AuthedRequest) -> Response:
        return Response(self.OutputSerializer(request.user).data)


class MfaTotpBeginApi(APIView):
    class OutputSerializer(serializers.Serializer):
        otpauth_url = serializers.CharField()

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request: AuthedRequest) -> Response:
        device = mfa.mfa_totp_begin(actor=request.user)
        return Response({"otpauth_url": device.config_url}, status=status.HTTP_201_CREATED)


class MfaTotpConfirmApi(APIView):
    class InputSerializer(serializers.Serializer):
        otp = serializers.CharField(max_length=16)

    class OutputSerializer(serializers.Serializer):
        recovery_codes = serializers.ListField(child=serializers.CharField())

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: AuthedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        codes = mfa.mfa_totp_confirm(actor=request.user, otp=data.validated_data["otp"])
        return Response({"recovery_codes": codes})


# --- users ----------------------------------------------------------------------------------------


class UserOutputSerializer(serializers.ModelSerializer):
    agency = serializers.CharField(source="agency_code", allow_null=True)
    role = serializers.CharField(source="effective_role")

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "agency", "role", "is_active", "last_login"]


class UserListCreateApi(APIView):
    pagination_class = PageNumberPagination
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN, Role.SUPERVISOR)]
    throttle_scope = "invitation"

    def get_throttles(self):
        # Creating users sends invitation emails: that, not listing, is rate-limited.
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    class InputSerializer(serializers.Serializer):
        username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
        email = serializers.EmailField()
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        agency = AgencyField(required=False, allow_null=True)
        role = serializers.ChoiceField(choices=Role.choices)
        # Accepted only to be refused with a clear message (SPEC §1: admins never set passwords;
        # the invitation link is emailed). Dropping the field would ignore it silently instead.
        password = serializers.CharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=256,
            trim_whitespace=False,
            help_text="Refused when not empty: the new user is emailed an invitation link and chooses their own.",
        )

    @extend_schema(responses={200: UserOutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        qs = user_list_visible_to(user=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: AuthedRequest) -> Response:
        if request.user.effective_role == Role.SUPERVISOR:
            raise ApplicationError("Only admins manage users.", code="forbidden")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        agency = v.get("agency") if "agency" in v else request.user.agency
        user = services.user_create(
            actor=request.user,
            username=v["username"],
            email=v["email"],
            first_name=v.get("first_name", ""),
            last_name=v.get("last_name", ""),
            agency=agency,
            role=v["role"],
            password=v.get("password") or None,
        )
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN, Role.SUPERVISOR)]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(required=False)
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        agency = AgencyField(required=False, allow_null=True)
        role = serializers.ChoiceField(choices=Role.choices, required=False)
        is_active = serializers.BooleanField(required=False)
        password = serializers.CharField(
            write_only=True,
            required=False,
            max_length=256,
            trim_whitespace=False,
            help_text="Refused: send a set-password link instead (POST /api/v1/users/{id}/send-password-link/).",
        )

    def _get(self, request: AuthedRequest, pk: int) -> User:
        return get_object_or_404(user_list_visible_to(user=request.user), pk=pk)

    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        user = self._get(request, pk)
        return Response(UserOutputSerializer(user).data, headers={"ETag": etag_for(user)})

    @extend_schema(request=InputSerializer, responses={200: UserOutputSerializer})
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        user = self._get(request, pk)
        if request.user.effective_role == Role.SUPERVISOR:
            raise ApplicationError("Only admins manage users.", code="forbidden")
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(
            actor=request.user, user=user, data=dict(data.validated_data), if_match=request.headers.get("If-Match")
        )
        return Response(UserOutputSerializer(user).data, headers={"ETag": etag_for(user)})


class UserDeactivateApi(APIView):
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN)]

    @extend_schema(request=None, responses={200: UserOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        user = get_object_or_404(user_list_visible_to(user=request.user), pk=pk)
        user = services.user_deactivate(actor=request.user, user=user)
        return Response(UserOutputSerializer(user).data)


class UserSendPasswordLinkApi(APIView):
    """Email the user a one-time set-password link (an expired invitation, a forgotten password).
    Admins never choose or see the password; nothing changes until the user uses the link."""

    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN)]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "invitation"

    @extend_schema(request=None, responses={202: None})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        user = get_object_or_404(user_list_visible_to(user=request.user), pk=pk)
        services.user_send_password_link(actor=request.user, user=user)
        return Response(status=status.HTTP_202_ACCEPTED)


class UserMfaResetApi(APIView):
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN)]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        user = get_object_or_404(user_list_visible_to(user=request.user), pk=pk)
        mfa.mfa_reset(actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgencyListApi(APIView):
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Agency
            fields = ["id", "code", "name", "kind", "is_active"]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agency_list(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
