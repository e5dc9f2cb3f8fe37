"""Writing, sealing, checkpointing and verifying the audit log (SPEC §5), one module per step:
`record` (an event written with its MAC: `audit_record`, `audit_record_many`, `AuditEntry`),
`detail` (what an event's detail may carry), `chain` (the sealer's hash chain), `checkpoints`
(the signed heads kept outside the table) and `verify` (the check, in a request or as a job).

Three layers of evidence, each catching what the one before cannot:
- every event carries a MAC (HMAC-SHA-256 with HARBOR_AUDIT_KEY, a key the database never
  holds) over the whole event, its id included, computed as the event is written: a row
  inserted, copied or edited with database access alone fails it;
- the sealer links events into a hash chain (seq, prev_hash, hash): a deleted or reordered
  event breaks the links;
- signed checkpoints of the chain's head go outside the table (the log stream, a file, a
  table of their own): a chain recomputed from some event onward, or a cut tail, no longer
  matches the last checkpoint.

Import from the module (`from audit.services.record import audit_record`); this package
re-exports nothing.
"""
