import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from platform_project.prepared import PreparedQuery

pytestmark = pytest.mark.django_db

STAND_IN = -9_000_000_001


def test_rows_and_instances_answer_what_the_reference_queryset_answers():
    alice, bob = UserFactory.create_batch(2)
    as_rows = PreparedQuery(
        lambda user_id: User.objects.filter(pk=user_id).values("id", "username"), user_id=STAND_IN
    )
    as_models = PreparedQuery(lambda user_id: User.objects.filter(pk=user_id), user_id=STAND_IN)

    for user in (alice, bob):
        assert as_rows.rows("default", user_id=user.pk) == [
            {"id": user.pk, "username": user.username}
        ]
        (instance,) = as_models.instances("default", user_id=user.pk)
        assert instance == user
        assert instance.__dict__.keys() == User.objects.get(pk=user.pk).__dict__.keys()
        assert instance.date_joined == user.date_joined  # converted like the ORM converts
    assert as_rows.rows("default", user_id=0) == []


def test_a_stand_in_missing_from_the_sql_fails_loudly():
    # The reference ignores its input: there is nothing to swap, so nothing may run.
    ignores_input = PreparedQuery(lambda user_id: User.objects.all(), user_id=STAND_IN)

    with pytest.raises(RuntimeError, match="user_id"):
        ignores_input.rows("default", user_id=1)


def test_instances_need_a_model_queryset():
    as_rows = PreparedQuery(lambda user_id: User.objects.filter(pk=user_id).values("id"), user_id=1)

    with pytest.raises(TypeError):
        as_rows.instances("default", user_id=1)


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # other threads must see the rows
def test_a_query_compiled_in_one_thread_runs_in_another():
    import threading

    from django.db import connection

    user = UserFactory()
    query = PreparedQuery(
        lambda user_id: User.objects.filter(pk=user_id).values("id", "date_joined"),
        user_id=STAND_IN,
    )
    results = []

    def run():
        try:
            results.append(query.rows("default", user_id=user.pk))
        finally:
            connection.close()  # this thread's own connection

    first = threading.Thread(target=run)  # compiles, then its connection closes
    first.start()
    first.join()
    second = threading.Thread(target=run)
    second.start()
    second.join()

    expected = [{"id": user.pk, "date_joined": user.date_joined}]
    assert results == [expected, expected]
