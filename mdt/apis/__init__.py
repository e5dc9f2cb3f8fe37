"""Thin API views for court MDT teams, meetings, agendas, exports and action items (SPEC §4, §6),
one module per sub-domain: `teams`, `meetings`, `agenda`, `attendance`, `action_items`,
`calendars`; `filters` holds the list filters, `fields` and `renderers` what the views share,
`reads` the paging and read auditing of every list.

Every view reads through mdt.selectors (visibility: 404) and writes through mdt.services (role,
status and input rules: 403, 409, 400). Every read of MDT data is audited here — one INSERT per
request, one event per object shown, with the youth id of every case involved.
"""
