"""Thin API views for youth, referrals, cases and their parts (SPEC §2, §6), by module:

- `youth` — youth records: list, create, read, edit, merge and unmerge.
- `duplicates` — the duplicate search (`youth/matches/`) and the possible duplicates a create
  answers.
- `referrals` — referrals: list, log, read, edit, and screen / accept / decline / mark
  duplicate.
- `cases` — cases: list, read, edit, close, the case team, the timeline and the history.
- `parts` — a case's notes, missing episodes, placements, services, hearings and alerts.
- `sharing` — a case's participating agencies (grant, renew, revoke) and share requests.
- `base`, `fields` — the base views and serializer fields they share.

Every view reads through cases/selectors/ (404 for what the user may not see), writes through
cases/services/ (403 for what the user may not do, 409 / 412 for state), and records every
read — list rows and details — in the audit log with the youth it concerns.

`cases/urls.py` imports each view from its module; this package re-exports nothing.
"""
