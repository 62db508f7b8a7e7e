"""The demo and benchmark dataset behind `manage.py seed_demo`, one module per responsibility.

- `dataset`: the demo dataset made through the services the API uses (sign-up, apply, verify,
  plan, subscribe with payment, cancel, post, content), so it obeys every rule and the signals
  open the course channels. Rows are found again by stable keys (usernames, plan names,
  transaction ids, content titles), so a re-run creates nothing new.
- `bulk`: benchmark volume written with bulk_create in numbered, committed batches (users,
  verified professionals with plans and course channels, subscriptions with payments and
  memberships), plus the two benchmark members subscribed through the services.
- `messages`: the benchmark channel's message fill, and the member who posted early in it.

Seeding lives here, in the project package, because it writes every app's rows; it is the one
place where raw bulk work is allowed (bulk_create outside the services), and it keeps the
invariants the services keep (see each module).
"""
