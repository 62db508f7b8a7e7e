"""Admin helpers shared by every app's admin: large-table paging and counting, read-only
history, and actions that call a service once per selected row."""

import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Func, IntegerField, QuerySet, Subquery
from django.utils.functional import cached_property

from platform_project.errors import DomainError


class CachedCountPaginator(Paginator):
    """A paginator that counts a change list once every few minutes, not on every page.

    COUNT(*) of a table of a million messages reads the whole table; staff paging through it
    do not need the exact figure each time. The count of each distinct query (its SQL, filters
    included) is kept in Django's cache for `seconds`; a count a little out of date only moves
    the last page number.
    """

    seconds = 300

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        digest = hashlib.sha256(str(queryset.query).encode()).hexdigest()
        key = f"admin:count:{queryset.model._meta.label}:{digest}"
        counted = cache.get(key)
        if counted is None:
            counted = super().count
            cache.set(key, counted, self.seconds)
        return counted


def count_subquery(queryset: QuerySet) -> Subquery:
    """COUNT(*) of `queryset` (correlated through OuterRef) as a per-row subquery.

    Evaluated for the rows of the page only, on an index, where a JOIN + GROUP BY would count
    the related rows of every row in the table before the LIMIT.
    """
    # COUNT as a plain function (not an aggregate): no GROUP BY, always exactly one row.
    return Subquery(
        queryset.order_by().values(n=Func("pk", function="COUNT")), output_field=IntegerField()
    )


def run_per_object(modeladmin, request, queryset, call, done: str) -> None:
    """Call a service once per selected row; report how many worked and each refusal."""
    succeeded = 0
    for obj in queryset:
        try:
            call(obj)
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.WARNING)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)


class ReadOnlyMixin:
    """Rows written only by the services: staff look, never add, edit or delete here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
