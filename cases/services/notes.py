"""Notes on a case (SPEC §2): append-only, a correction is a new note; clinical ones by DMH
staff (WIC 5328). The write starts with `case_for_write`: the actor still sees the case, and may
do this on it."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.errors import ApplicationError

from ..models import Case, Note
from ._common import Action, _audit, _forbidden
from .cases import case_for_write


@transaction.atomic
def case_note_add(
    *,
    case: Case,
    actor: User,
    body: str,
    visibility: str,
    corrects: Note | None = None,
) -> Note:
    """Append a note. Clinical notes only by DMH users on the case (WIC 5328). A correction is a
    new note referencing the original, with the same visibility. A closed case still takes
    notes (SPEC §2)."""
    case, access = case_for_write(case_id=case.pk, actor=actor, closed_ok=True)
    if visibility == Note.Visibility.CLINICAL and not access.can_write_clinical:
        raise _forbidden("Only mental-health (DMH) staff on the case write clinical notes.")
    if corrects is not None:
        if corrects.case_id != case.pk:
            raise ApplicationError("The corrected note is on another case.", fields={"corrects": ["Not on this case."]})
        if corrects.visibility != visibility:
            raise ApplicationError(
                "A correction keeps the visibility of the original.",
                fields={"visibility": [f"Must be {corrects.visibility}."]},
            )
    assert actor.agency_id is not None  # a user without an agency sees no case (case_for_write)
    note = Note(
        case=case, author=actor, author_agency_id=actor.agency_id, visibility=visibility, body=body, corrects=corrects
    )
    note.save()
    _audit(
        actor,
        Action.CREATE,
        "note",
        note,
        case.youth_id,
        case=case.pk,
        visibility=visibility,
        corrects=corrects.pk if corrects else None,
    )
    return note
