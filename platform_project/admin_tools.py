"""Admin helpers shared by every app's admin: large-table paging and counting, read-only
history, and actions that call a service once per selected row."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Func, IntegerField, QuerySet, Subquery
from django.utils.functional import cached_property

from platform_project.errors import DomainError


class EstimatedCountPaginator(Paginator):
    """A paginator that does not COUNT(*) a whole large MySQL table on every page.

    Unfiltered change lists of InnoDB tables take the row estimate InnoDB keeps in
    information_schema (free to read, typically within a few percent) once the table is big
    enough for an exact count to hurt; filtered lists and small tables are counted exactly.
    Paging past the real end of an over-estimated table just shows an empty page.
    """

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            estimate = _table_rows_estimate(queryset.db, queryset.model._meta.db_table)
            if estimate is not None and estimate >= self.EXACT_BELOW:
                return estimate
        return super().count


def _table_rows_estimate(alias: str, table: str) -> int | None:
    connection = connections[alias]
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_rows FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = %s",
            [table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


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
