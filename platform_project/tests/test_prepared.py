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


def test_datetimes_come_converted_as_the_orm_converts_them_nulls_included():
    # On MySQL/MariaDB the datetime converter takes a shorter path (prepared._apply_converters):
    # same values, same time zone object, None kept.
    from django.utils import timezone

    seen, _ = UserFactory.create_batch(2)  # the second one never logged in
    seen.last_login = timezone.now()
    seen.save()
    query = PreparedQuery(
        lambda low: (
            User.objects.filter(pk__gte=low).order_by("pk").values("last_login", "date_joined")
        ),
        low=STAND_IN,
    )

    rows = query.rows("default", low=seen.pk)
    expected = list(
        User.objects.filter(pk__gte=seen.pk).order_by("pk").values("last_login", "date_joined")
    )

    assert rows == expected
    assert rows[1]["last_login"] is None
    for row, reference in zip(rows, expected, strict=True):
        for name in ("last_login", "date_joined"):
            if reference[name] is not None:
                assert row[name].tzinfo is reference[name].tzinfo


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
    # On MySQL/MariaDB the constants are escaped into the statement once (a template with
    # `%(user_id)s` for the stand-in); LIKE patterns carry `%`, names carry quotes and non-ASCII
    # letters, and one constant spells a template placeholder.
    names = ["50% off", "O'Brien \\ co", "Zoë 😀", "plain", "%(user_id)s"]
    users = [UserFactory(first_name=name) for name in names]

    def build(user_id):
        return (
            User.objects.filter(pk__gte=user_id)
            .filter(first_name__contains="%")
            .union(
                User.objects.filter(first_name__in=["O'Brien \\ co", "Zoë 😀", "%(user_id)s"]),
                all=True,
            )
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
        "%(user_id)s",  # it contains "%" and is in the list: both halves of the union
        "%(user_id)s",
    ]


def test_a_stand_in_used_several_times_takes_each_calls_value_everywhere():
    alice, bob, carol = UserFactory.create_batch(3)

    def build(low, high):
        return (
            User.objects.filter(pk__gte=low, pk__lte=high)
            .exclude(pk=low)
            .union(User.objects.filter(pk=high), all=True)
            .values("id")
            .order_by("id")
        )

    query = PreparedQuery(build, low=STAND_IN, high=STAND_IN - 2)
    for low, high in ((alice.pk, carol.pk), (bob.pk, carol.pk), (alice.pk, alice.pk)):
        assert query.rows("default", low=low, high=high) == list(build(low, high))


def _users_by_join_date(connection, columns):
    q = connection.ops.quote_name
    answered = ", ".join(f"{q('page')}.{q(name)}" for name in columns)
    return (
        f"SELECT {answered}, {q('u')}.{q('last_login')} "
        f"FROM ({{inner}}) {q('page')} "
        f"INNER JOIN {q('users')} {q('u')} ON ({q('u')}.{q('id')} = {q('page')}.{q('id')}) "
        f"ORDER BY {q('page')}.{q('date_joined')} DESC, {q('page')}.{q('id')} DESC"
    )


def test_a_wrapped_query_answers_all_but_its_hidden_columns_converted_as_the_orm_does():
    from datetime import timedelta

    from django.db.models import F
    from django.utils import timezone

    from platform_project.prepared import WrappedQuery

    now = timezone.now().replace(microsecond=0)
    users = UserFactory.create_batch(3)
    for i, user in enumerate(users):  # joined in the reverse order of their ids
        user.date_joined = now - timedelta(days=i)
        user.last_login = now - timedelta(hours=i)
        user.save()
    inner = PreparedQuery(
        lambda low: (
            User.objects.filter(pk__gte=low)
            .values("id", "date_joined", "username")
            .order_by("-date_joined", "-id")
        ),
        low=STAND_IN,
    )
    wrapped = WrappedQuery(
        inner,
        _users_by_join_date,
        lambda: User.objects.values(seen_at=F("last_login")),
        hidden=("date_joined",),
    )

    rows = wrapped.rows_slice("default", slice(0, 2), low=users[0].pk)

    assert rows == [
        {"id": user.pk, "username": user.username, "seen_at": user.last_login} for user in users[:2]
    ]
    assert rows[0]["seen_at"].tzinfo is not None  # the extra column's converter, shifted


def test_a_wrapped_query_refuses_a_hidden_column_the_inner_query_lacks():
    from django.db.models import F

    from platform_project.prepared import WrappedQuery

    inner = PreparedQuery(lambda low: User.objects.filter(pk__gte=low).values("id"), low=STAND_IN)
    wrapped = WrappedQuery(
        inner,
        _users_by_join_date,
        lambda: User.objects.values(seen_at=F("last_login")),
        hidden=("sort_key",),
    )

    with pytest.raises(RuntimeError, match="sort_key"):
        wrapped.rows("default", low=1)


def _names_wrapped_by_join_date(pattern="%?"):
    """A server-prepared wrapped query: a stand-in repeated, a `%` and a `?` in constants (each
    pattern makes statements of its own)."""
    from django.db.models import F

    from platform_project.prepared import WrappedQuery

    inner = PreparedQuery(
        lambda low: (
            User.objects.filter(pk__gte=low)
            .exclude(first_name__contains=pattern)
            .exclude(pk=low)
            .values("id", "date_joined", "first_name")
            .order_by("-date_joined", "-id")
        ),
        low=STAND_IN,
        server_prepared=True,
    )
    return WrappedQuery(
        inner,
        _users_by_join_date,
        lambda: User.objects.values(seen_at=F("last_login")),
        hidden=("date_joined",),
    )


@pytest.mark.mysql
def test_a_server_prepared_query_answers_what_the_text_statement_answers():
    # Arrange
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users = [UserFactory(first_name=name) for name in ["50% off?", "O'Brien ?", "Zoë 😀", "a%?b"]]
    prepared = _names_wrapped_by_join_date()
    as_text = _names_wrapped_by_join_date()
    as_text.server_prepared = False

    for low in (users[0].pk, users[1].pk):
        for page in (slice(0, 2), slice(1, 3), slice(0, None)):
            # Act
            with CaptureQueriesContext(connection) as queries:
                rows = prepared.rows_slice("default", page, low=low)

            # Assert: the same rows (converted), one statement in the log: the EXECUTE.
            assert rows == as_text.rows_slice("default", page, low=low), (low, page)
            assert [q["sql"].split(" ")[0] for q in queries.captured_queries] == ["EXECUTE"]
    assert [row["first_name"] for row in prepared.rows_slice("default", slice(0, 9), low=0)] == [
        "Zoë 😀",
        "O'Brien ?",
        "50% off?",
    ]  # newest first; "a%?b" excluded by the constant pattern


@pytest.fixture
def fresh_server_statements():
    """The connection's record of prepared statements emptied before and after the test (the
    server's statements of the same names are replaced when prepared again), so what one test
    prepares never decides what another sees."""
    from django.db import connection

    from platform_project import prepared as module

    def clear():
        if connection.connection is not None:
            for name in (module._HELD, module._REFUSED):
                connection.connection.__dict__.pop(name, None)

    connection.ensure_connection()
    clear()
    yield connection
    clear()


@pytest.mark.mysql
def test_every_page_of_a_query_is_one_server_statement(fresh_server_statements):
    from django.test.utils import CaptureQueriesContext

    connection = fresh_server_statements
    users = UserFactory.create_batch(3)
    newest_first = [user.pk for user in reversed(users)]
    query = _names_wrapped_by_join_date()
    executed = []
    for page in (slice(0, 1), slice(1, 3), slice(2, None), slice(0, 2)):
        with CaptureQueriesContext(connection) as queries:
            rows = query.rows_slice("default", page, low=users[0].pk - 1)
        assert [row["id"] for row in rows] == newest_first[page]
        executed.append(queries.captured_queries[0]["sql"].split(" USING ")[0])

    assert len(set(executed)) == 1 and executed[0].startswith("EXECUTE ")


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # it closes the connection
def test_a_server_prepared_statement_is_prepared_again_when_the_server_forgot_it(
    fresh_server_statements,
):
    connection = fresh_server_statements
    user = UserFactory()
    query = _names_wrapped_by_join_date()
    expected = [{"id": user.pk, "first_name": user.first_name, "seen_at": user.last_login}]
    assert query.rows_slice("default", slice(0, 5), low=user.pk - 1) == expected
    name, _, _ = query.server_statement("default", connection.ops.limit_offset_sql(0, 5))

    # Act: the session loses it (as after a reset), though the connection object stays.
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE PREPARE {name}")

    assert query.rows_slice("default", slice(0, 5), low=user.pk - 1) == expected
    # And a new connection starts with none: prepared again on first use.
    connection.close()
    assert query.rows_slice("default", slice(0, 5), low=user.pk - 1) == expected


@pytest.mark.mysql
def test_a_connection_holds_a_bounded_number_of_server_statements(fresh_server_statements):
    # Past the bound, further queries run as text statements, with the same rows.
    from django.test.utils import CaptureQueriesContext

    from platform_project import prepared as module

    connection = fresh_server_statements
    users = UserFactory.create_batch(2)
    firsts = []
    for n in range(module._SERVER_STATEMENTS_MAX + 2):
        query = _names_wrapped_by_join_date(pattern=f"bounded {n}%?")  # a statement each
        with CaptureQueriesContext(connection) as queries:
            rows = query.rows_slice("default", slice(0, 5), low=users[0].pk - 1)
        firsts.append(queries.captured_queries[0]["sql"].split(" ")[0])
        assert [row["id"] for row in rows] == [users[1].pk, users[0].pk]

    assert firsts == ["EXECUTE"] * module._SERVER_STATEMENTS_MAX + ["SELECT", "SELECT"]


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # it changes a server-wide variable
def test_a_statement_the_server_refuses_to_prepare_runs_as_text(fresh_server_statements):
    from django.test.utils import CaptureQueriesContext

    connection = fresh_server_statements
    user = UserFactory()
    query = _names_wrapped_by_join_date(pattern="refused%?")
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.max_prepared_stmt_count")
        (limit,) = cursor.fetchone()
        cursor.execute("SET GLOBAL max_prepared_stmt_count = 0")  # every PREPARE fails (1461)
    try:
        for _ in range(2):  # refused once, then not asked again on this connection
            with CaptureQueriesContext(connection) as queries:
                rows = query.rows_slice("default", slice(0, 5), low=user.pk - 1)
            assert [row["id"] for row in rows] == [user.pk]
            assert queries.captured_queries[0]["sql"].startswith("SELECT ")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET GLOBAL max_prepared_stmt_count = {int(limit)}")
