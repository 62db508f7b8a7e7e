"""Reads of the chat app for the API.

Everything a list shows is computed in SQL (annotations and correlated subqueries), so a page
costs the same number of queries whatever the number of channels and messages.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage
from platform_project.errors import NotFound
from subscriptions.entitlements import entitled_expression, plan_subscription_annotations


def _count_after_mark(messages: QuerySet[ChatMessage]) -> Coalesce:
    counted = messages.order_by().values("channel_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _unread_count_expression() -> ExpressionWrapper:
    """Visible messages newer than the membership's read mark, sent by someone else.

    Counting those rows directly scans every message after the mark: ~50 ms for a member who
    never opened a 1,000,000-message channel. Seqs are gap-free, so the same number is
    `channel.last_seq - last_read_seq` minus the few rows after the mark that do not count: the
    member's own messages (index sender/channel/seq) and hidden messages of others (index
    hidden_in_channel/seq). Both are small ranges, so the cost no longer grows with the backlog.
    Correlated on the membership row (`channel_id`, `last_read_seq`, `user_id`).
    """
    after_mark = ChatMessage.objects.filter(
        channel_id=OuterRef("channel_id"), seq__gt=OuterRef("last_read_seq")
    )
    own = _count_after_mark(after_mark.filter(sender_id=OuterRef("user_id")))
    hidden_others = _count_after_mark(
        ChatMessage.objects.filter(
            hidden_in_channel=OuterRef("channel_id"), seq__gt=OuterRef("last_read_seq")
        ).exclude(sender_id=OuterRef("user_id"))
    )
    return ExpressionWrapper(
        Greatest(F("channel__last_seq") - F("last_read_seq") - own - hidden_others, Value(0)),
        output_field=IntegerField(),
    )


def channel_list_for_user(
    *, user: User, now: datetime | None = None
) -> QuerySet[ChannelMembership]:
    """`user`'s channels as dict rows (`CHANNEL_ROW_FIELDS`), most recent activity first.

    The reference for the channel list: the API runs this query's SQL through `ChannelListRows`,
    compiled once per process. Each row has the channel's columns, `can_post`, `unread_count`
    and `last_message_id` (newest visible message, or None); `channel_rows_attach_last_message`
    turns the ids of one page into message rows with one more query.

    `can_post` is the SQL twin of the entitlement rule (`entitled_expression`): for a course
    channel the plan's owner or an active subscriber; other channel types are open to members.
    It answers for `user`, also when staff look at someone else's list.
    """
    course_can_post = ExpressionWrapper(
        entitled_expression(
            user,
            owner_user_ref="channel__professional__user_id",
            professional_ref="channel__professional_id",
            plan_ref="channel__related_id",
            now=now,
        ),
        output_field=BooleanField(),
    )
    newest_visible = (
        ChatMessage.objects.filter(channel_id=OuterRef("channel_id"), hidden_at__isnull=True)
        .order_by("-seq")
        .values("pk")[:1]
    )
    return (
        ChannelMembership.objects.filter(user=user)
        .values(
            "channel_id",
            channel_type=F("channel__channel_type"),
            related_id=F("channel__related_id"),
            professional_id=F("channel__professional_id"),
            name=F("channel__name"),
            can_post=Case(
                When(channel__channel_type=ChannelType.COURSE, then=course_can_post),
                default=Value(True),
                output_field=BooleanField(),
            ),
            unread_count=_unread_count_expression(),
            last_message_id=Subquery(newest_visible),
        )
        .order_by("-channel__last_activity_at", "-channel_id")
    )


CHANNEL_ROW_FIELDS = (
    "channel_id",
    "channel_type",
    "related_id",
    "professional_id",
    "name",
    "can_post",
    "unread_count",
    "last_message_id",
)

# Stand-ins compiled into the prepared channel-list SQL, then swapped for the request's values.
# No user has a negative id, and nothing is stamped in 1901.
_USER_ID_STAND_IN = -7_301_246_589
_NOW_STAND_IN = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)


@dataclass(frozen=True)
class _PreparedChannelList:
    page_sql: str
    params: tuple
    user_id_at: tuple[int, ...]
    now_at: tuple[int, ...]
    count_sql: str


_prepared_channel_lists: dict[tuple[str, str], _PreparedChannelList] = {}


def _prepared_channel_list(alias: str) -> _PreparedChannelList:
    """`channel_list_for_user`'s SQL for the database at `alias`, compiled once per process.

    Building and compiling that annotated queryset cost ~3 ms of CPU per request (its SQL runs
    in ~0.9 ms). It is compiled once with stand-in values for the only two inputs, the user's id
    and the current time, whose positions in the parameter list are recorded; each request
    passes the same SQL with its own values. The query's shape depends on nothing else.
    """
    connection = connections[alias]
    key = (alias, connection.vendor)
    prepared = _prepared_channel_lists.get(key)
    if prepared is not None:
        return prepared
    queryset = channel_list_for_user(user=User(pk=_USER_ID_STAND_IN), now=_NOW_STAND_IN)
    sql, params = queryset.query.get_compiler(using=alias).as_sql()
    now_param = connection.ops.adapt_datetimefield_value(_NOW_STAND_IN)
    user_id_at = tuple(i for i, p in enumerate(params) if p == _USER_ID_STAND_IN)
    now_at = tuple(i for i, p in enumerate(params) if p == now_param)
    if not user_id_at or not now_at:  # the reference changed shape: fail loudly, never guess
        raise RuntimeError("channel list: stand-in parameters not found in the compiled SQL")
    # The paginator's count: grouped by the user, so no member yields no row (count 0).
    counted = (
        ChannelMembership.objects.filter(user_id=_USER_ID_STAND_IN)
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    count_sql, count_params = counted.query.get_compiler(using=alias).as_sql()
    if list(count_params) != [_USER_ID_STAND_IN]:
        raise RuntimeError("channel list: unexpected parameters of the count query")
    prepared = _PreparedChannelList(sql, tuple(params), user_id_at, now_at, count_sql)
    _prepared_channel_lists[key] = prepared
    return prepared


class ChannelListRows:
    """`channel_list_for_user` for a paginator: `count()` and slicing run the prepared SQL.

    Slices answer lists of the same dict rows the reference queryset yields (tests compare the
    two on a matrix of members, subscriptions and messages, on SQLite and MariaDB).
    """

    def __init__(self, *, user: User, now: datetime | None = None, using: str = DEFAULT_DB_ALIAS):
        self.user_id = user.pk
        self.now = now
        self.using = using

    def count(self) -> int:
        prepared = _prepared_channel_list(self.using)
        with connections[self.using].cursor() as cursor:
            cursor.execute(prepared.count_sql, [self.user_id])
            row = cursor.fetchone()
        return 0 if row is None else row[0]

    def __getitem__(self, page: slice) -> list[dict]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("ChannelListRows supports plain slices only")
        connection = connections[self.using]
        prepared = _prepared_channel_list(self.using)
        params = list(prepared.params)
        now_param = connection.ops.adapt_datetimefield_value(self.now or timezone.now())
        for i in prepared.user_id_at:
            params[i] = self.user_id
        for i in prepared.now_at:
            params[i] = now_param
        low = page.start or 0
        limit = connection.ops.limit_offset_sql(low, page.stop)
        with connection.cursor() as cursor:
            cursor.execute(f"{prepared.page_sql} {limit}" if limit else prepared.page_sql, params)
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
        for row in rows:
            # What the reference's BooleanField converter does (0/1 from both backends).
            if row["can_post"] is not None:
                row["can_post"] = bool(row["can_post"])
        return rows


def channel_rows_attach_last_message(*, rows: Iterable[dict]) -> None:
    """Set `row["last_message"]` (a message row with `sender_username`, or None) on one page of
    channel rows. One query for the whole page, by primary key.
    """
    rows = list(rows)
    ids = {row["last_message_id"] for row in rows if row["last_message_id"] is not None}
    messages = (
        {
            m["id"]: m
            for m in ChatMessage.objects.filter(pk__in=ids).values(
                "id",
                "seq",
                "sender_id",
                "content",
                "created_at",
                sender_username=F("sender__username"),
            )
        }
        if ids
        else {}
    )
    for row in rows:
        row["last_message"] = messages.get(row["last_message_id"])


def channel_get_queryset(
    *, channel_id: int, user: User | AnonymousUser | None = None
) -> QuerySet[ChatChannel]:
    """The reference query of `channel_get` (which runs it prepared for signed-in users)."""
    channels = ChatChannel.objects.filter(pk=channel_id).annotate(
        owner_user_id=F("professional__user_id")
    )
    if user is not None:
        channels = channels.annotate(**plan_subscription_annotations(user, plan_ref="related_id"))
    return channels[:1]  # by primary key: no ORDER BY needed


_CHANNEL_ID_STAND_IN = -8_206_113_457


@dataclass(frozen=True)
class _PreparedChannelGet:
    sql: str
    params: tuple
    channel_id_at: int
    user_id_at: tuple[int, ...]
    converters: dict
    compiler: object  # applies the converters, as the ORM's iterables do
    model_columns: tuple[int, int]
    init_list: tuple[str, ...]
    annotation_col_map: dict[str, int]


_prepared_channel_gets: dict[tuple[str, str], _PreparedChannelGet] = {}


def _prepared_channel_get(alias: str) -> _PreparedChannelGet:
    """`channel_get_queryset`'s SQL for a signed-in user, compiled once per process.

    Building and compiling that annotated queryset, and making the model through the ORM, was
    ~0.7 ms of CPU of every message page and post.
    Compiled with stand-ins for the channel and user ids (see `_prepared_channel_list`); each
    call passes the same SQL with its own ids, converts the row with the same converters and
    makes the model instance the way Django's ModelIterable does.
    """
    connection = connections[alias]
    key = (alias, connection.vendor)
    prepared = _prepared_channel_gets.get(key)
    if prepared is not None:
        return prepared
    queryset = channel_get_queryset(
        channel_id=_CHANNEL_ID_STAND_IN, user=User(pk=_USER_ID_STAND_IN)
    )
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    channel_id_at = tuple(i for i, p in enumerate(params) if p == _CHANNEL_ID_STAND_IN)
    user_id_at = tuple(i for i, p in enumerate(params) if p == _USER_ID_STAND_IN)
    if len(channel_id_at) != 1 or not user_id_at:
        raise RuntimeError("channel get: stand-in parameters not found in the compiled SQL")
    select = compiler.select[: compiler.col_count]
    fields = compiler.klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    prepared = _PreparedChannelGet(
        sql=sql,
        params=tuple(params),
        channel_id_at=channel_id_at[0],
        user_id_at=user_id_at,
        converters=compiler.get_converters([column[0] for column in select]),
        compiler=compiler,
        model_columns=(start, end),
        init_list=tuple(column[0].target.attname for column in select[start:end]),
        annotation_col_map=dict(compiler.annotation_col_map),
    )
    _prepared_channel_gets[key] = prepared
    return prepared


def _channel_get_prepared(*, channel_id: int, user: User, alias: str) -> ChatChannel | None:
    prepared = _prepared_channel_get(alias)
    params = list(prepared.params)
    params[prepared.channel_id_at] = channel_id
    for i in prepared.user_id_at:
        params[i] = user.pk
    with connections[alias].cursor() as cursor:
        cursor.execute(prepared.sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    (row,) = prepared.compiler.apply_converters(rows, prepared.converters)
    start, end = prepared.model_columns
    channel = ChatChannel.from_db(alias, prepared.init_list, row[start:end])
    for name, position in prepared.annotation_col_map.items():
        setattr(channel, name, row[position])
    return channel


def channel_get(*, channel_id: int, user: User | AnonymousUser | None = None) -> ChatChannel:
    """A channel with `owner_user_id` (its professional's user id, for the entitlement check).

    With `user`, the same query also carries that user's subscription to the channel's plan
    (`plan_subscription_annotations`), so `channel_entitlement` for that user needs no query of
    its own: one round trip and one queryset fewer on every message page and post. For a
    signed-in user the query runs prepared (`_prepared_channel_get`); tests hold it to the
    reference queryset.
    """
    if user is not None and user.is_authenticated:
        channel = _channel_get_prepared(channel_id=channel_id, user=user, alias=DEFAULT_DB_ALIAS)
    else:
        channel = next(iter(channel_get_queryset(channel_id=channel_id, user=user)), None)
    if channel is None:
        raise NotFound("Channel not found.", code="channel_not_found")
    if user is not None:
        channel.subscription_annotated_for = user.pk
    return channel


class ChannelPageQuerySet(QuerySet):
    """Messages of one channel, sorted in the (channel_id, seq) key's own order.

    MariaDB plans `channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT n` as a *ref* lookup on
    channel_id and walks the key backwards from the newest message down to the cursor, so a page
    from the middle of a 1,000,000-message channel took ~0.6 s. Stating the channel as a range
    (`channel_id >= ? AND channel_id <= ?`, which unlike `=` or BETWEEN is not turned into a ref)
    and ordering by the whole key (channel_id, seq) makes it a range scan that starts at the
    cursor: a few ms at any depth, no filesort. The cursor paginator sets the ordering itself
    (`-seq`, or `seq` for `previous` links), so the channel column is prepended here.
    """

    def order_by(self, *field_names):
        if field_names and isinstance(field_names[0], str) and field_names[0].lstrip("-") == "seq":
            direction = "-" if field_names[0].startswith("-") else ""
            field_names = (f"{direction}channel_id", *field_names)
        return super().order_by(*field_names)


# The columns of a message page row (see channel_messages).
MESSAGE_ROW_FIELDS = ("id", "channel_id", "seq", "sender_id", "content", "created_at")


def channel_messages(*, channel: ChatChannel) -> QuerySet[ChatMessage]:
    """The channel's visible messages as dict rows, newest first (see ChannelPageQuerySet for
    the plan); `message_rows_attach_senders` adds the senders' usernames to one page.

    Rows rather than model instances: instantiating 50 messages (and 50 prefetched senders) was
    ~0.5 ms of a ~4 ms message page. `seq` is unique within a channel, so it is a complete order
    without an id tie-breaker. EXPLAIN on MariaDB is tested: the (channel_id, seq) key, range
    access, no filesort.
    """
    return (
        ChannelPageQuerySet(model=ChatMessage)
        .filter(channel_id__gte=channel.pk, channel_id__lte=channel.pk, hidden_at__isnull=True)
        .values(*MESSAGE_ROW_FIELDS)
        .order_by("-seq")
    )


def message_rows_attach_senders(*, rows: Iterable[dict]) -> None:
    """Set `sender_username` on one page of `channel_messages` rows: one query by primary key.

    Senders in a second query rather than a join: with the join, MariaDB may pick a
    block-nested-loop plan that sorts the whole channel (temporary + filesort).
    """
    rows = list(rows)
    ids = {row["sender_id"] for row in rows}
    usernames = dict(User.objects.filter(pk__in=ids).values_list("id", "username")) if ids else {}
    for row in rows:
        row["sender_username"] = usernames[row["sender_id"]]


def membership_read_state(*, channel_id: int, user_id: int) -> tuple[int, int]:
    """(last_read_seq, unread_count) of one membership, by the same rule as the channel list."""
    row = (
        ChannelMembership.objects.filter(channel_id=channel_id, user_id=user_id)
        .annotate(unread_count=_unread_count_expression())
        .values_list("last_read_seq", "unread_count")
        .first()
    )
    return row or (0, 0)
