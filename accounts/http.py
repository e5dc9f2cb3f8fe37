"""Typing for views: the request of a view that requires authentication carries a User."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request

if TYPE_CHECKING:
    from .models import User


class AuthedRequest(Request):
    """The request of every view behind IsAuthenticated (the default permission class): DRF
    has authenticated it, so its user is a User, never AnonymousUser. For annotations only."""

    user: User
