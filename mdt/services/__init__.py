"""Every write about court MDT teams, meetings, agendas, reviews and action items (SPEC §4),
one module per sub-domain: `teams`, `meetings`, `agenda`, `attendance`, `action_items`,
`calendar_feeds`; `guards` holds the row lock and the role and status checks they share.
Import each service from its module (`from mdt.services.meetings import meeting_publish`).

Visibility (404) is decided by the selectors before a service is called; the services decide
what a visible caller may do (403), what the current status allows (409) and what input is
valid (400), and write the audit event inside the same transaction as the change.
"""
