"""Domain events of the subscriptions app.

Sent explicitly by the services inside their transaction (not post_save, which bulk writes and
fixtures bypass), so a receiver's failure rolls the whole operation back. Receivers live in the
apps that depend on subscriptions (chat), never the other way round.
"""

from django.dispatch import Signal

# Sent when a subscription starts or is renewed.
# kwargs: subscription (Subscription, with .plan and .plan.professional loaded), renewed (bool)
subscription_activated = Signal()

# Sent when a subscription is cancelled or expires.
# kwargs: subscription (Subscription), reason ("cancelled" | "expired")
subscription_ended = Signal()
