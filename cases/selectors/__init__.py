"""Every read of youth, referrals, cases and their parts (CONTRIBUTING "Layers"), by module:

- `visibility` — who may see which case, referral, youth record, note and share request: the
  ONE place that decides it (SPEC §1). Every other read, here and in every app, starts from its
  querysets (`case_list_visible_to`, `case_get_visible`, `referral_list_visible_to`,
  `youth_ids_visible_to`, `note_list_visible_to`, …) and `case_access` (what the user may do).
- `duplicates` — the duplicate search: possible duplicates, holders of external ids, the
  agency to ask about a hidden candidate.
- `parts` — the lists of a visible case's parts (team, agencies, episodes, placements,
  services, hearings, alerts) and the active indicator codes.
- `history` — a case's timeline and its change history.

Import from the module (`from cases.selectors import visibility`); this package re-exports
nothing.
"""
