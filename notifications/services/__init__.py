"""Every write of deadlines and notifications (SPEC §3), by sub-domain; import the module you need:

- `deadlines` — open, meet, cancel and waive a deadline (the interface cases/ and mdt/ call
  inside their own transactions: `deadline_open`, `deadline_meet`, `deadline_cancel`);
- `sweep` — the sweep that claims due deadlines and creates their reminders;
- `delivery` — sending a notification's email at most once, retries and redelivery;
- `notices` — notices that are not deadlines (`meeting_members_notify`, `users_notify`);
- `inbox` — a person's own inbox and email preferences.
"""
