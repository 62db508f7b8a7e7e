"""Domain events of the accounts app.

Sent explicitly by the accounts services and admin inside their transaction. Receivers live in
the apps that depend on accounts (chat), never the other way round.
"""

from django.dispatch import Signal

# Sent when every token the users held stops working: a password change or reset revokes the
# tokens issued before it, and a closed account refuses them all.
# kwargs: user_ids (list[int])
sessions_ended = Signal()
