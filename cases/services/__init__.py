"""Every write about youth, referrals, cases and their parts (SPEC §2), by module:

- `youth` — create and edit a youth record, merge a duplicate record and undo the merge.
- `referrals` — log, edit and screen a referral, and decide it: accept, decline, mark as a
  duplicate.
- `cases` — the case number, edit and close a case, its team, `case_for_write` (the check
  every write on a case's parts makes) and the `case_agency_*` services (handed to `sharing`).
- a case's parts, one module each: `notes` (append-only; clinical ones by DMH staff),
  `missing_episodes` (the reports' 24-hour clocks, the return and its debrief), `placements`,
  `service_referrals` (the services clock, the statuses), `court_hearings`, `safety_alerts`.
- `sharing` — participations and share requests: the ONLY writer of `CaseAgency` rows (SPEC §1
  "Sharing has one door"; `tests/security/test_single_writer.py`).
- `_common` — private helpers the modules share (refusal, save with the actor, audit, lock,
  fact times).

Each service is keyword-only, runs in one transaction, checks what the actor may do (403) on
an object the API already found visible (404 otherwise), writes the audit event with the youth
it concerns inside the same transaction, and opens / meets the legal clocks through the
notifications interface (SPEC §3) in that transaction too.

Import from the module (`from cases.services import referrals as referral_services`); this
package re-exports nothing.
"""
