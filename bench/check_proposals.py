"""Do the proposals of bench/proposals.py give the same answers as the code they would replace?

For a sample of users of every role: the cases, referrals, youth and deadlines each may see;
visibility of random youth ids; duplicate-search results for real people; the agenda's open
deadlines; and the notifications a sweep creates (scratch data, rolled back). Prints one line
per user and exits non-zero on any difference. Run against the bench database:

    DJANGO_SETTINGS_MODULE=config.settings.bench .venv/bin/python bench/check_proposals.py
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]


def main() -> int:
    import django

    django.setup()
    import inproc
    import proposals as p
    from django.db import transaction
    from django.utils import timezone

    import cases.selectors as cs
    import notifications.selectors as ns
    import notifications.services as nsv
    from accounts.models import User
    from cases.matching import Person
    from cases.models import Case, Youth
    from notifications.models import Notification

    rng = random.Random(7)  # noqa: S311
    roles = ["case_worker", "supervisor", "mdt_member"]
    users = list(User.objects.filter(username__startswith="scale_", role__in=roles).order_by("id"))
    users = rng.sample(users, min(25, len(users))) + list(
        User.objects.filter(username__in=["scale_dcfs_supervisor_000", "scale_probation_supervisor_000"])
    )
    old = {
        name: getattr(cs, name) for name in ("case_ids_visible_to", "referral_list_visible_to", "youth_ids_visible_to")
    }
    old_among, old_deadlines = cs.youth_ids_visible_among, ns.deadline_list_visible_to

    def ids(qs: Any) -> set[int]:
        return set(qs.values_list("id", flat=True))

    differences = 0
    for user in users:
        cases_now = ids(Case.objects.filter(id__in=old["case_ids_visible_to"](user=user)))
        referrals_now = ids(old["referral_list_visible_to"](user=user))
        youth_now = ids(Youth.objects.filter(id__in=old["youth_ids_visible_to"](user=user)))
        deadlines_now = ids(old_deadlines(user=user))
        cs.case_ids_visible_to = p.case_ids_visible_to_lead_row  # what the other proposals build on
        try:
            same = {
                "cases (OR kept)": cases_now == ids(Case.objects.filter(id__in=p.case_ids_visible_to(user=user))),
                "cases (lead row)": cases_now
                == ids(Case.objects.filter(id__in=p.case_ids_visible_to_lead_row(user=user))),
                "referrals": referrals_now == ids(p.referral_list_visible_to(user=user)),
                "youth": youth_now == ids(Youth.objects.filter(id__in=p.youth_ids_visible_to(user=user))),
                "deadlines": deadlines_now == ids(p.deadline_list_visible_to(user=user)),
            }
            sample = rng.sample(range(1, Youth.objects.order_by("-id").values_list("id", flat=True).first() + 1), 60)
            same["youth among"] = p.youth_visible_among(user=user, ids=sample) == set(sample) & youth_now
        finally:
            cs.case_ids_visible_to = old["case_ids_visible_to"]
        differences += not all(same.values())
        print(
            f"{user.username:34} {user.role:12} cases {len(cases_now):6} referrals {len(referrals_now):6} "
            f"youth {len(youth_now):6} deadlines {len(deadlines_now):6}  "
            + ("same" if all(same.values()) else f"DIFFERENT {same}")
        )

    people = [
        Person(y.first_name, y.last_name, y.date_of_birth, tuple(y.aliases or ()))
        for y in Youth.objects.order_by("?")[:30]
    ]
    searches = [(u, x) for u in users[:6] for x in people]
    before = [cs.youth_possible_duplicates(user=u, person=x) for u, x in searches]
    cs.youth_ids_visible_among = p.youth_visible_among
    try:
        after = [cs.youth_possible_duplicates(user=u, person=x) for u, x in searches]
    finally:
        cs.youth_ids_visible_among = old_among
    dup_diff = sum(b != a for b, a in zip(before, after, strict=True))
    print(f"duplicate search, {6 * len(people)} searches: {'same' if not dup_diff else f'{dup_diff} DIFFERENT'}")
    court = list(Case.objects.exclude(court="").values_list("id", flat=True)[:18])
    agenda_same = ns.open_deadlines_for_cases(case_ids=court) == p.open_deadlines_for_cases(case_ids=court)
    print(f"agenda open deadlines: {'same' if agenda_same else 'DIFFERENT'}")

    def sweep(batch_fn: Any) -> set[tuple]:
        first_new = (Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        now = timezone.now()
        with transaction.atomic():
            inproc._scratch_open_deadlines(10_000, 300, now)
            saved, nsv._sweep_batch = nsv._sweep_batch, batch_fn
            try:
                nsv.deadlines_sweep(now=now, redeliver=False)
            finally:
                nsv._sweep_batch = saved
            made = set(
                Notification.objects.filter(id__gte=first_new).values_list(
                    "deadline_id", "stage", "recipient_id", "reason", "delivery_status"
                )
            )
            transaction.set_rollback(True)
        return made

    sweep_same = sweep(nsv._sweep_batch) == sweep(p.sweep_batch)
    print(f"sweep notifications: {'same' if sweep_same else 'DIFFERENT'}")
    return 1 if differences or dup_diff or not agenda_same or not sweep_same else 0


if __name__ == "__main__":
    sys.exit(main())
