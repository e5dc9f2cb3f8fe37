from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.permissions import Role, is_agency_admin, is_system_admin, role_of

from .models import Agency, User


def user_list_visible_to(*, user: Any) -> QuerySet[User]:
    """System admins see everyone; agency admins and supervisors their own agency; others no one."""
    qs = User.objects.select_related("agency").order_by("id")
    if is_system_admin(user):
        return qs
    if is_agency_admin(user) or role_of(user) == Role.SUPERVISOR:
        return qs.filter(agency_id=user.agency_id)
    return qs.none()


def agency_list() -> QuerySet[Agency]:
    return Agency.objects.order_by("code")
