"""Builders for cases tests. State is made through the services (never .save() on models), so
blind indexes, search keys, history, audit and deadlines are exactly what the product makes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from cases.models import Case, Referral, Youth
from cases.services import referrals as referral_services
from cases.services import youth as youth_services


def youth_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "first_name": "Jasmine",
        "last_name": "Carter",
        "date_of_birth": dt.date(2010, 3, 14),
        "aliases": ["Jazzy"],
    }
    data.update(overrides)
    return data


def create_youth(actor: Any, **overrides: Any) -> Youth:
    return youth_services.youth_create(actor=actor, **youth_data(**overrides))


def create_referral(
    actor: Any, *, youth: Youth | None = None, receiving_agency: Any = None, **overrides: Any
) -> Referral:
    kwargs: dict[str, Any] = {
        "received_at": timezone.now(),
        "source": Referral.Source.SCHOOL,
        "indicators": ["runaway_or_homeless"],
        "narrative": "Synthetic narrative for tests.",
    }
    youth_fields = overrides.pop("youth_data", None)
    kwargs.update(overrides)
    if youth is None:
        kwargs["youth_data"] = youth_data(**(youth_fields or {}))
    return referral_services.referral_create(actor=actor, youth=youth, receiving_agency=receiving_agency, **kwargs)


def accept_referral(referral: Referral, supervisor: Any, *, level: str = "clear_concern") -> Case:
    referral_services.referral_screen(
        referral=referral, actor=supervisor, level=level, instrument="CSE-IT", instrument_version="2.0"
    )
    referral = referral_services.referral_accept(referral=referral, actor=supervisor)
    return referral.case


def open_case(referrer: Any, supervisor: Any, **referral_overrides: Any) -> Case:
    """A referral by `referrer`, screened and accepted by `supervisor` (of the receiving agency)."""
    referral = create_referral(referrer, receiving_agency=supervisor.agency, **referral_overrides)
    return accept_referral(referral, supervisor)
