"""Reads of the chat app for the API.

A list's page costs the same number of queries whatever the number of channels and messages:
its columns come from one statement (annotations, correlated subqueries, joins), and the few
rules the channel list applies in Python to the page's rows (`ChannelListRows.finish_rows`)
take at most one more query each for the whole page, and only when a row needs it.
"""

import sys
import threading
import time
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Greatest
from django.utils import timezone

from accounts.models import User
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage
from platform_project.errors import NotFound
from platform_project.prepared import (
    Fetched,
    PreparedCall,
    PreparedPage,
    PreparedQuery,
    WrappedQuery,
)
from subscriptions.entitlements import (
    can_post_from_columns,
    entitled_expression,
    plan_subscription_annotations,
    professionals_entitling,
)
from subscriptions.models import Professional, Subscription


def _count_after_mark(messages: QuerySet[ChatMessage]) -> Subquery:
    # COUNT(*) without GROUP BY: one row (0 for none) and no temporary table per channel, which
    # the grouped spelling (`values().annotate(Count)`) cost MariaDB on every row of the list.
    counted = messages.order_by().annotate(n=Func(Value(1), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def _unread_count_expression(*, own: bool = True) -> Case:
    """Visible messages newer than the membership's read mark, sent by someone else.

    Counting those rows directly scans every message after the mark: ~50 ms for a member who
    never opened a 1,000,000-message channel. Seqs are gap-free, so the same number is
    `channel.last_seq - last_read_seq` minus the few rows after the mark that do not count: the
    member's own messages (index sender/channel/seq) and hidden messages of others (index
    hidden_in_channel/seq). Both are small ranges, so the cost no longer grows with the backlog.
    Correlated on the membership row (`channel_id`, `last_read_seq`, `user_id`).

    Two shortcuts skip the counting subqueries (MySQL evaluates CASE lazily): a member who has
    read everything has nothing unread, and a channel whose `visibility_version` is still 0 has
    never had a message hidden (`message_set_hidden`, the only writer of `hidden_at`, bumps it
    first), which spares ~7% of the channel list's SQL time for the usual, unmoderated channel.

    `own=False`: without subtracting the member's own messages, and without the floor at 0: the
    channel list's prepared form subtracts those in Python where they can exist (see
    `ChannelListRows.finish_rows`).
    """
    after_mark = ChatMessage.objects.filter(
        channel_id=OuterRef("channel_id"), seq__gt=OuterRef("last_read_seq")
    )
    hidden_others = Case(
        When(channel__visibility_version=0, then=Value(0)),
        default=_count_after_mark(
            ChatMessage.objects.filter(
                hidden_in_channel=OuterRef("channel_id"), seq__gt=OuterRef("last_read_seq")
            ).exclude(sender_id=OuterRef("user_id"))
        ),
        output_field=IntegerField(),
    )
    # Signed arithmetic: the seqs are unsigned columns, and MySQL computes GREATEST (and CASE)
    # of an unsigned and a signed operand as DECIMAL; the casts keep the whole expression a
    # BIGINT (~5% of the channel list's SQL time, and no Decimal for the driver to parse).
    others = (
        Cast("channel__last_seq", IntegerField())
        - Cast("last_read_seq", IntegerField())
        - hidden_others
    )
    if own:
        others = Greatest(
            others - _count_after_mark(after_mark.filter(sender_id=OuterRef("user_id"))),
            Value(0),
        )
    return Case(
        When(channel__last_seq__lte=F("last_read_seq"), then=Value(0)),
        default=others,
        output_field=IntegerField(),
    )


def channel_list_for_user(
    *, user: User, now: datetime | None = None
) -> QuerySet[ChannelMembership]:
    """`user`'s channels as dict rows, most recent activity first.

    The reference for the channel list: the API runs a prepared form of this query through
    `ChannelListRows` (same rows; it decides `can_post` in Python). Each row has the channel's
    columns, `can_post`, `unread_count` and the channel's newest visible message
    (`last_message_*`, all None when there is none), joined by the channel's `last_message` key,
    which the services keep.

    `can_post` is the SQL twin of the entitlement rule (`entitled_expression`): for a course
    channel the plan's owner or an active subscriber; other channel types are open to members.
    It answers for `user`, also when staff look at someone else's list.
    """
    return _channel_rows(user=user, now=now).annotate(**_LAST_MESSAGE_COLUMNS)


# The newest visible message's columns of a channel list row: each row name, its path from the
# message, and where the prepared query's outer SELECT reads it (table alias, column).
_LAST_MESSAGE = (
    ("last_message_seq", "seq", "m", "seq"),
    ("last_message_sender_id", "sender_id", "m", "sender_id"),
    ("last_message_sender_username", "sender__username", "u", "username"),
    ("last_message_content", "content", "m", "content"),
    ("last_message_created_at", "created_at", "m", "created_at"),
)
# The reference queryset reaches them through the channel's kept key.
_LAST_MESSAGE_COLUMNS = {
    name: F(f"channel__last_message__{path}") for name, path, _, _ in _LAST_MESSAGE
}


def _channel_rows(
    *, user: User, now: datetime | None, prepared: bool = False
) -> QuerySet[ChannelMembership]:
    """`channel_list_for_user` without the last message's columns (but with its id).

    `prepared`: the shape of `_channel_list`, whose rows `ChannelListRows.finish_rows`
    completes. Instead of `can_post` they carry `member_user_id`, for the outer query's join to
    the member's subscription; `unread_count` does not subtract the member's own messages, and
    `last_read_seq` and `last_posted_seq` say whether any can lie after the mark.
    """
    if not prepared:
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
        access = {
            "can_post": Case(
                When(channel__channel_type=ChannelType.COURSE, then=course_can_post),
                default=Value(True),
                output_field=BooleanField(),
            )
        }
    else:
        access = {"member_user_id": F("user_id")}
    read_state = ("last_read_seq", "last_posted_seq") if prepared else ()
    return (
        ChannelMembership.objects.filter(user=user)
        .values(
            "channel_id",
            *read_state,
            channel_type=F("channel__channel_type"),
            related_id=F("channel__related_id"),
            professional_id=F("channel__professional_id"),
            name=F("channel__name"),
            **access,
            unread_count=_unread_count_expression(own=not prepared),
            last_message_id=F("channel__last_message_id"),
        )
        .order_by("-channel__last_activity_at", "-channel_id")
    )


def newest_visible_message_id(*, channel_ref: str) -> QuerySet[ChatMessage]:
    """The newest visible message of the outer query's channel (`channel_ref` names its id), as
    a one-value subquery: the rule behind `ChatChannel.last_message`."""
    return (
        ChatMessage.objects.filter(channel_id=OuterRef(channel_ref), hidden_at__isnull=True)
        .order_by("-seq")
        .values("pk")[:1]
    )


# Stand-ins compiled into the prepared queries, then swapped for each call's values (see
# platform_project.prepared): unlike any other parameter of those queries, and inside each
# column's range (the ORM drops a bound that a column can never reach).
_USER_ID_STAND_IN = -7_301_246_589
_CHANNEL_ID_STAND_IN = -8_206_113_457
_SEQ_STAND_IN = 3_141_592_653

# Building and compiling the channel list's annotated queryset cost ~3 ms of CPU per request
# (its SQL runs in ~0.9 ms); its only inputs are the user's id and the current time.
#
# Run as a derived table: the page of channels is sorted and limited first, then each row's
# newest message is joined. Joined before the sort (as the reference queryset spells it), the
# message's TEXT content rode in the sort's temporary table, which MariaDB then cannot keep in
# memory (Aria instead; Created_tmp_disk_tables grew by one per list): 0.96 → ~0.8 ms a
# statement. `sort_at` carries the sort key out of the derived table (the outer SELECT does not
# answer it).
#
# `can_post` is decided in Python (`ChannelListRows.finish_rows`, by the entitlement rule) from
# the plan owner's user id and the member's subscription to the plan, which the outer SELECT
# joins for the page's rows only, by primary and unique key. The SQL twin of the rule
# (`entitled_expression`, in the reference queryset) ran two EXISTS subqueries on every
# membership row before the sort: ~18% of the statement's server CPU. Even kept for course
# channels without a plan only (rare: staff make them) and skipped by CASE for the others, the
# professional-wide EXISTS cost ~0.1 ms of server CPU a list (~18%) in planning alone: those
# channels get one query of their own, when a page has any.
_channel_list_inner = PreparedQuery(
    lambda user_id: _channel_rows(user=User(pk=user_id), now=None, prepared=True).annotate(
        sort_at=F("channel__last_activity_at")
    ),
    user_id=_USER_ID_STAND_IN,
    server_prepared=True,  # ~2.7 KB of SQL: parsing it was ~18% of its server CPU
)

# The outer SELECT's columns for the rule: row name, path from a subscription, table alias and
# column; `s` is the member's subscription to the row's plan, `p` the channel's professional.
_ACCESS = (
    ("owner_user_id", "plan__professional__user_id", "p", "user_id"),
    ("subscription_status", "status", "s", "status"),
    ("subscription_expires_at", "expires_at", "s", "expires_at"),
)


def _channel_list_outer(connection, page_columns: list[str]) -> str:
    # Identifiers only, every one a constant quoted by the backend; no value enters this text.
    q = connection.ops.quote_name
    columns = ", ".join(
        [f"{q('page')}.{q(name)}" for name in page_columns]
        + [f"{q(table)}.{q(column)}" for _, _, table, column in (*_LAST_MESSAGE, *_ACCESS)]
    )
    page = q("page")
    return (
        f"SELECT {columns} "  # noqa: S608
        f"FROM ({{inner}}) {page} "
        f"LEFT OUTER JOIN {q(ChatMessage._meta.db_table)} {q('m')} "
        f"ON ({q('m')}.{q('id')} = {page}.{q('last_message_id')}) "
        f"LEFT OUTER JOIN {q(User._meta.db_table)} {q('u')} "
        f"ON ({q('u')}.{q('id')} = {q('m')}.{q('sender_id')}) "
        f"LEFT OUTER JOIN {q(Professional._meta.db_table)} {q('p')} "
        f"ON ({q('p')}.{q('id')} = {page}.{q('professional_id')}) "
        # A course channel's related_id is its plan's id; what other channel types' related_id
        # joins here (if anything) is never read: finish_rows asks course channels only.
        f"LEFT OUTER JOIN {q(Subscription._meta.db_table)} {q('s')} "
        f"ON ({q('s')}.{q('user_id')} = {page}.{q('member_user_id')} "
        f"AND {q('s')}.{q('plan_id')} = {page}.{q('related_id')}) "
        f"ORDER BY {page}.{q('sort_at')} DESC, {page}.{q('channel_id')} DESC"
    )


_channel_list = WrappedQuery(
    _channel_list_inner,
    _channel_list_outer,
    # The outer SELECT's extra columns, named and converted as these are.
    (
        lambda: ChatMessage.objects.values(**{name: F(path) for name, path, _, _ in _LAST_MESSAGE}),
        lambda: Subscription.objects.values(**{name: F(path) for name, path, _, _ in _ACCESS}),
    ),
    hidden=("sort_at", "member_user_id"),  # the outer ORDER BY's key and join key only
)
# The paginator's count: grouped by the user, so no member yields no row (count 0).
_channel_count = PreparedQuery(
    lambda user_id: (
        ChannelMembership.objects.filter(user_id=user_id)
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    ),
    user_id=_USER_ID_STAND_IN,
)


class ChannelListRows(PreparedPage):
    """`channel_list_for_user` for a paginator: `count()` and slicing run it prepared.

    Slices answer lists of the same dict rows the reference queryset yields (tests compare the
    two on a matrix of members, subscriptions and messages, on SQLite and MariaDB), as long as
    `ChannelMembership.last_posted_seq` is at least each member's newest own seq (every writer
    of messages and memberships keeps it: see the field).
    """

    def __init__(
        self,
        *,
        user: User,
        now: datetime | None = None,
        using: str = DEFAULT_DB_ALIAS,
        fetched: Fetched | None = None,
    ):
        self.user = user
        self.now = now or timezone.now()
        # `now` is for finish_rows: nothing in the statement depends on the time.
        super().__init__(
            _channel_list, _channel_count, using=using, fetched=fetched, user_id=user.pk
        )

    def finish_rows(self, rows: list[dict]) -> list[dict]:
        """Each row's `can_post` by the entitlement rule, from the columns the query joined,
        and its `unread_count` without the member's own messages.

        A course channel without a plan is open to active subscribers of any plan of its
        professional: one query answers those professionals for all such rows of the page.
        Own messages after the read mark exist only where `last_posted_seq` passes the mark
        (posting moves both together): one query counts them for all such rows of the page.
        """
        user, now, course = self.user, self.now, ChannelType.COURSE.value
        # First pass: which rows need a query of their own (none, usually).
        marks, planless = {}, set()
        for row in rows:
            last_read_seq = row.pop("last_read_seq")
            if row.pop("last_posted_seq") > last_read_seq and row["unread_count"] > 0:
                marks[row["channel_id"]] = last_read_seq
            if row["related_id"] is None and row["channel_type"] == course:
                planless.add(row["professional_id"])
        own = own_messages_after(user_id=user.pk, marks=marks, using=self.using) if marks else {}
        entitling = (
            professionals_entitling(user, professional_ids=planless, now=now, using=self.using)
            if planless
            else ()
        )
        for row in rows:
            unread = row["unread_count"] - own.get(row["channel_id"], 0)
            row["unread_count"] = unread if unread > 0 else 0
            owner_user_id = row.pop("owner_user_id")
            status = row.pop("subscription_status")
            expires_at = row.pop("subscription_expires_at")
            # Other channel types are open to their members.
            row["can_post"] = row["channel_type"] != course or can_post_from_columns(
                user,
                owner_user_id=owner_user_id,
                status=status,
                expires_at=expires_at,
                entitled_by_professional=(
                    row["related_id"] is None and row["professional_id"] in entitling
                ),
                now=now,
            )
        return rows


def channel_list_page_call(*, user_id: int, start: int, stop: int) -> PreparedCall:
    """What `ChannelListRows(user=<user_id's user>)` runs for the rows [start:stop] with their
    count, to run it ahead (`prepared.fetch_together`)."""
    return PreparedPage(_channel_list, _channel_count, user_id=user_id).slice_call(start, stop)


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


# Building and compiling this annotated queryset, and making the model through the ORM, was
# ~0.7 ms of CPU of every message page and post. Prepared on the server too (MariaDB).
_channel_get = PreparedQuery(
    lambda channel_id, user_id: channel_get_queryset(channel_id=channel_id, user=User(pk=user_id)),
    channel_id=_CHANNEL_ID_STAND_IN,
    user_id=_USER_ID_STAND_IN,
    server_prepared=True,
)


def channel_get_call(*, channel_id: int, user_id: int) -> PreparedCall:
    """What `channel_get(channel_id=channel_id, user=<user_id's user>)` runs, to run it ahead
    (`prepared.fetch_together`)."""
    return PreparedCall.of(_channel_get, channel_id=channel_id, user_id=user_id)


def channel_get(
    *,
    channel_id: int,
    user: User | AnonymousUser | None = None,
    fetched: Fetched | None = None,
) -> ChatChannel:
    """A channel with `owner_user_id` (its professional's user id, for the entitlement check).

    With `user`, the same query also carries that user's subscription to the channel's plan
    (`plan_subscription_annotations`), so `channel_entitlement` for that user needs no query of
    its own: one round trip and one queryset fewer on every message page and post. For a
    signed-in user the query runs prepared (`_channel_get`); tests hold it to the
    reference queryset.
    """
    if user is not None and user.is_authenticated:
        found = _channel_get.instances(
            DEFAULT_DB_ALIAS, fetched=fetched, channel_id=channel_id, user_id=user.pk
        )
        channel = found[0] if found else None
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
    """The channel's visible messages as dict rows with `sender_username`, newest first (see
    ChannelPageQuerySet for the plan). The API runs it prepared through `ChannelMessageRows`.

    Rows rather than model instances: instantiating 50 messages (and 50 senders) was ~0.5 ms
    of a ~4 ms message page. `seq` is unique within a channel, so it is a complete order without
    an id tie-breaker. The sender's username is a scalar subquery by primary key, evaluated for
    the page's rows only; a join instead may make MariaDB pick a block-nested-loop plan that
    sorts the whole channel. EXPLAIN on MariaDB is tested: the (channel_id, seq) key, range
    access, no filesort.
    """
    sender_username = User.objects.filter(pk=OuterRef("sender_id")).values("username")[:1]
    return (
        ChannelPageQuerySet(model=ChatMessage)
        .filter(channel_id__gte=channel.pk, channel_id__lte=channel.pk, hidden_at__isnull=True)
        .values(*MESSAGE_ROW_FIELDS, sender_username=Subquery(sender_username))
        .order_by("-seq")
    )


def _message_page_query(descending: bool, lookup: str | None) -> PreparedQuery:
    def build(channel_id: int, position: int | None = None) -> QuerySet[ChatMessage]:
        page = channel_messages(channel=ChatChannel(pk=channel_id))
        page = page.order_by("-seq" if descending else "seq")
        return page.filter(**{f"seq__{lookup}": position}) if lookup else page

    stand_ins = {"channel_id": _CHANNEL_ID_STAND_IN}
    if lookup:
        stand_ins["position"] = _SEQ_STAND_IN
    return PreparedQuery(build, **stand_ins)


# Every shape the cursor paginator asks for: newest first or oldest first (a `previous` link),
# from the start or from a cursor position.
_message_pages = {
    (descending, lookup): _message_page_query(descending, lookup)
    for descending in (True, False)
    for lookup in (None, "lt", "gt")
}
# seq is an unsigned 32-bit column; a cursor position beyond it behaves like its bound.
_SEQ_MAX = 2**32


class MessagePageCache:
    """Message pages of this process, keyed by the state of the channel's visible messages.

    Chat clients re-read the newest page of a channel all day. A channel's visible messages
    change only when a message is posted (`last_seq` moves) or hidden or unhidden
    (`visibility_version` moves), and both arrive with the channel row every message page reads
    anyway to check the reader's entitlement. A page cached under (channel, last_seq,
    visibility_version, page shape) therefore stays right until one of them moves, when the next
    read asks for a new key: no invalidation messages, no shared cache to reach. Only the page's
    rows are kept; who may read them is decided on every request. Entries live `ttl` seconds at
    most (a sender's username changed by staff shows within that) and the oldest leave first
    when the pages' estimated size passes `max_bytes` (messages run to 5,000 characters and a
    page to 200 of them) or their number passes `max_entries`.
    """

    ROW_OVERHEAD_BYTES = 600  # a row's dict and its other values, roughly

    def __init__(
        self, *, max_entries: int = 512, max_bytes: int = 16 * 1024 * 1024, ttl: float = 30.0
    ):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._entries: dict[tuple, tuple[float, int, tuple[dict, ...]]] = {}
        self._bytes = 0
        self._lock = threading.Lock()  # gthread workers share it

    def get(self, key: tuple) -> list[dict] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return list(entry[2])

    def put(self, key: tuple, rows: list[dict]) -> None:
        # getsizeof: text outside Latin-1 takes 2 or 4 bytes a character.
        size = sum(sys.getsizeof(row["content"]) + self.ROW_OVERHEAD_BYTES for row in rows)
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            while self._entries and (
                len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes
            ):
                self._drop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic() + self.ttl, size, tuple(rows))
            self._bytes += size

    def _drop(self, key: tuple) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


message_page_cache = MessagePageCache()


class ChannelMessageRows:
    """`channel_messages` for DRF's CursorPagination, which calls `order_by("-seq" | "seq")`,
    `filter(seq__lt=… | seq__gt=…)` and slices; the slice runs the matching prepared query.

    Building the page queryset and compiling it was ~1 ms of CPU of a message page. Tests hold
    every shape to the reference queryset, on SQLite and MariaDB.

    `cached=True` serves pages from `message_page_cache`; the channel must then be the one just
    read for this request (its `last_seq` and `visibility_version` name the cached state).
    """

    def __init__(
        self,
        *,
        channel: ChatChannel,
        descending: bool = True,
        lookup: str | None = None,
        position: int | None = None,
        using: str = DEFAULT_DB_ALIAS,
        cached: bool = False,
    ):
        self.channel = channel
        self.descending = descending
        self.lookup = lookup
        self.position = position
        self.using = using
        self.cached = cached

    def _copy(self, **changes) -> "ChannelMessageRows":
        values = {
            "descending": self.descending,
            "lookup": self.lookup,
            "position": self.position,
            "using": self.using,
            "cached": self.cached,
        }
        return ChannelMessageRows(channel=self.channel, **{**values, **changes})

    def order_by(self, *fields: str) -> "ChannelMessageRows":
        if fields not in (("-seq",), ("seq",)):
            raise ValueError(f"ChannelMessageRows orders by seq only, not {fields}")
        return self._copy(descending=fields[0] == "-seq")

    def filter(self, **lookups) -> "ChannelMessageRows":
        ((key, value),) = lookups.items()
        if key not in ("seq__lt", "seq__gt") or self.lookup is not None:
            raise ValueError(f"ChannelMessageRows filters by one seq bound only, not {key}")
        return self._copy(lookup=key[5:], position=min(int(value), _SEQ_MAX))

    def __getitem__(self, page: slice) -> list[dict]:
        if not self.cached or not isinstance(page, slice):
            return self._rows(page)
        channel = self.channel
        key = (
            self.using,
            channel.pk,
            channel.last_seq,
            channel.visibility_version,
            self.descending,
            self.lookup,
            self.position,
            page.start,
            page.stop,
            page.step,
        )
        rows = message_page_cache.get(key)
        if rows is None:
            rows = self._rows(page)
            message_page_cache.put(key, rows)
        return rows

    def _rows(self, page: slice) -> list[dict]:
        values = {"channel_id": self.channel.pk}
        if self.lookup:
            values["position"] = self.position
        return _message_pages[self.descending, self.lookup].rows_slice(self.using, page, **values)


def own_messages_after(
    *, user_id: int, marks: dict[int, int], using: str = DEFAULT_DB_ALIAS
) -> dict[int, int]:
    """How many messages `user_id` sent after each mark: {channel id: count} for
    {channel id: seq} (channels with none are left out). One query; each channel's rows are a
    range of the sender/channel/seq index."""
    after = Q()
    for channel_id, seq in marks.items():
        after |= Q(channel_id=channel_id, seq__gt=seq)
    return dict(
        ChatMessage.objects.using(using)
        .filter(after, sender_id=user_id)
        .order_by()
        .values("channel_id")
        .annotate(n=Count("pk"))
        .values_list("channel_id", "n")
    )


def membership_read_state(*, channel_id: int, user_id: int) -> tuple[int, int]:
    """(last_read_seq, unread_count) of one membership, by the same rule as the channel list."""
    row = (
        ChannelMembership.objects.filter(channel_id=channel_id, user_id=user_id)
        .annotate(unread_count=_unread_count_expression())
        .values_list("last_read_seq", "unread_count")
        .first()
    )
    return row or (0, 0)
