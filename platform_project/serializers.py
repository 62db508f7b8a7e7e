"""Serializer helpers shared by the apps."""

from collections.abc import Iterable

from rest_framework import serializers


def represent_many(serializer: serializers.Serializer, items: Iterable) -> list:
    """What `Serializer(items, many=True).data` answers, through one serializer: each item by
    its `to_representation`, as ListSerializer does, without building a ListSerializer and its
    child for every response (~3.5% of the CPU of a 20-channel list). For output only."""
    return [serializer.to_representation(item) for item in items]
