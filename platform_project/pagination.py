from django.core.paginator import Page, Paginator
from rest_framework import pagination

from platform_project.prepared import PreparedPage


class ListPage(Page):
    """Django's Page, iterated over its rows directly when they are a list (as the prepared
    pages' are): Page is a Sequence, so `list(page)` (DRF's paginate_queryset) otherwise walks
    it by `__getitem__`, one Python call a row (~1% of a 20-channel list's instructions)."""

    def __iter__(self):
        if isinstance(self.object_list, list):
            return iter(self.object_list)
        return super().__iter__()


def plain_page_number(number) -> int | None:
    """`number` as a page number that can be fetched at once: plain ASCII digits ("²" is a
    digit to str.isdigit, not to int()), at most nine of them (past nine, Django's validation
    answers without a query, and no OFFSET overflows), at least 1. None for anything else
    ("last", "abc", "0", …), which Django's own path decides."""
    if not isinstance(number, int | str):
        return None
    text = str(number)
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < 1:
        return None
    return int(text)


class CountingPaginator(Paginator):
    """Django's Paginator that takes a prepared page and its count from one statement.

    Django asks for the count first (to validate the page number), then for the slice: two
    round trips. With a `PreparedPage` and no orphans, a page number that can be valid is
    fetched at once with its count (`PreparedPage.slice_with_count`); a slice that comes back
    empty is an empty first page (count 0) or a page past the end, which Django's own path then
    reports with its usual errors. Anything else goes through Django's path unchanged.
    """

    def page(self, number):
        plain = plain_page_number(number)
        if (
            not isinstance(self.object_list, PreparedPage)
            or self.orphans
            or "count" in self.__dict__  # already counted (e.g. DRF's page=last)
            or plain is None
        ):
            return super().page(number)
        number = plain
        bottom = (number - 1) * self.per_page
        rows, total = self.object_list.slice_with_count(bottom, bottom + self.per_page)
        if total is None:
            if number > 1 or not self.allow_empty_first_page:
                return super().page(number)  # past the end: Django's EmptyPage
            total = 0
        self.__dict__["count"] = total  # Paginator.count is a cached_property
        return self._get_page(rows, number, self)

    def _get_page(self, *args, **kwargs):
        return ListPage(*args, **kwargs)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = CountingPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def requested_slice(self, request) -> tuple[int, int] | None:
        """The rows [start:stop] that `paginate_queryset` will ask a `PreparedPage` for, when
        the page is a plain number (None otherwise: "last", or what Django's path decides), so
        that a view can have them fetched ahead (see CountingPaginator.page)."""
        size = self.get_page_size(request)
        number = plain_page_number(request.query_params.get(self.page_query_param) or 1)
        if not size or number is None:
            return None
        start = (number - 1) * size
        return start, start + size
