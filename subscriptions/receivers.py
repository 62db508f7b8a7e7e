"""Receivers of the subscriptions app's own models (connected in `SubscriptionsConfig.ready`).

Django's save and delete signals, not the services: the catalogue must follow every way a plan
or professional is written, the admin's change forms included.
"""

from subscriptions.catalogue import catalogue_changed


def plan_or_professional_written(sender, **kwargs) -> None:
    catalogue_changed()
