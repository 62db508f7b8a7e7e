from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """The API's default page-number pagination, with a client-chosen page size up to 100."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
