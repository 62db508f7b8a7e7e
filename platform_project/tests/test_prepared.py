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


def test_constants_with_quotes_percents_and_unicode_give_the_reference_rows():
    # On MySQL/MariaDB the constants are escaped into the statement once (a template with `%s`
    # for the stand-ins); LIKE patterns carry `%`, names carry quotes and non-ASCII letters.
    names = ["50% off", "O'Brien \\ co", "Zoë 😀", "plain"]
    users = [UserFactory(first_name=name) for name in names]

    def build(user_id):
        return (
            User.objects.filter(pk__gte=user_id)
            .filter(first_name__contains="%")
            .union(User.objects.filter(first_name__in=["O'Brien \\ co", "Zoë 😀"]), all=True)
            .values("id", "first_name")
            .order_by("id")
        )

    query = PreparedQuery(build, user_id=STAND_IN)
    compiled = query.compiled("default")
    from django.db import connection

    if connection.vendor == "mysql":
        assert compiled.template is not None and compiled.template_slots == ("user_id",)
    for user_id in (users[0].pk, users[1].pk, users[3].pk + 1):
        assert query.rows("default", user_id=user_id) == list(build(user_id)), user_id
    assert [row["first_name"] for row in query.rows("default", user_id=users[0].pk)] == [
        "50% off",
        "O'Brien \\ co",
        "Zoë 😀",
    ]
