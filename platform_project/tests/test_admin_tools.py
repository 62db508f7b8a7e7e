import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from platform_project.admin_tools import CachedCountPaginator

pytestmark = pytest.mark.django_db


def test_a_change_list_is_counted_once_per_query_within_the_cache_time(
    django_assert_num_queries,
):
    UserFactory.create_batch(3)
    everyone = User.objects.order_by("id")
    staff = User.objects.filter(is_staff=True).order_by("id")

    with django_assert_num_queries(1):
        assert CachedCountPaginator(everyone, 2).count == 3
    UserFactory()  # the cached figure stays until it expires
    with django_assert_num_queries(0):
        assert CachedCountPaginator(everyone, 2).count == 3
    with django_assert_num_queries(1):  # another filter is another count
        assert CachedCountPaginator(staff, 2).count == 0
