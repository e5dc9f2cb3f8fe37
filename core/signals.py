"""Signals core sends and the apps above it receive, so core imports none of them."""

from __future__ import annotations

from django.dispatch import Signal

#: An authenticated caller was refused (403) or shown nothing (404). Arguments: user, method,
#: status_code, object_type, ids (the integer ids of the path). audit/signals.py records it.
access_denied = Signal()
