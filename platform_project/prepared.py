"""Querysets compiled to SQL once per process, then run with each request's values.

Building and compiling a queryset costs the ORM 0.2-3 ms of CPU per request on the hot paths
(the channel list's annotations, the channel lookup with its subscription columns, the message
page, the authenticated user), while the queries themselves run in well under a millisecond.
Their shape never changes, only a few values do. A `PreparedQuery` compiles the reference
queryset once per process and database, with stand-ins for those values, records where each
stand-in sits in the parameter list, and from then on runs the same SQL with each call's values,
converting result columns with the ORM's own converters.

The reference queryset stays the source of truth: tests compare what the prepared query
answers with what the queryset answers, on SQLite and MariaDB. A stand-in that cannot be found
in the compiled parameters (the reference changed shape) fails loudly rather than guessing.
Stand-ins must differ from every other parameter of the compiled query (odd numbers, dates in
1901), and lie inside their column's range: the ORM compiles a bound a column can never reach
(a negative seq, say) into no condition at all. Only integers and datetimes are supported
(datetimes are adapted as the ORM adapts them); a bool would equal 1, so never use 0 or 1.

With `server_prepared=True`, MariaDB also keeps the statement parsed: PREPARE once per
connection, then `EXECUTE ... USING` each call's values (see `_held_on_server`).
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.mysql.operations import DatabaseOperations as MySQLOperations
from django.db.models import Model, QuerySet, Subquery


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[str, tuple[int, ...]], ...]  # stand-in name -> positions in params
    model: type[Model]
    converters: dict
    names: tuple[str, ...]  # column names of a values() queryset
    model_columns: tuple[int, int] | None  # the model's slice of a row (model querysets)
    init_list: tuple[str, ...]
    annotations: tuple[tuple[str, int], ...]
    # MySQL: the SQL with its constant parameters already escaped in, `%(name)s` where a
    # stand-in's value goes, and the names of those stand-ins (see _inline_constants).
    template: str | None = None
    template_slots: tuple[str, ...] = ()
    # MySQL: the SQL with its constants escaped in and `?` where a stand-in's value goes, for a
    # server-side prepared statement, and the stand-ins' names in the order of the `?`s.
    server_sql: str | None = None
    server_slots: tuple[str, ...] = ()
    # `converters` as _apply_converters walks them, worked out once (see _converter_plan).
    converter_plan: tuple = field(init=False, default=())

    def __post_init__(self):
        object.__setattr__(self, "converter_plan", _converter_plan(self.converters))


def _adapt(connection, value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _literals(connection, values: dict[str, Any], names) -> dict[str, str]:
    """MySQL: each named value as SQL text, adapted as the ORM adapts it and escaped by the
    driver (`literal`, what mysqlclient itself formats parameters with), each name once."""
    raw = connection.connection
    return {
        name: raw.literal(_adapt(connection, values[name])).decode(raw.encoding) for name in names
    }


def _inline_constants(
    connection, sql: str, params: tuple, slots: tuple[tuple[str, tuple[int, ...]], ...]
) -> tuple[str | None, tuple[str, ...], str | None, tuple[str, ...]]:
    """MySQL/MariaDB: the SQL with every parameter but the stand-ins escaped in once.

    mysqlclient sends text statements (it has no binary-protocol prepared statements): it
    escapes each parameter in Python and formats them into the statement on every execute
    (~2 µs a parameter; the channel list query has a dozen). The constants never change, so
    they are escaped here, by the same connection method mysqlclient uses (`literal`), and
    each call escapes only its own values, each once however often the statement repeats it
    (the channel list had the user's id six times): the template names them (`%(user_id)s`)
    and keeps `%%` for a literal percent.
    Other databases (and constants that are not text, e.g. binary) keep the parameter path.

    Also answers the same SQL for a server-side prepared statement (see `server_prepared`):
    constants escaped in, `?` for each stand-in occurrence, `%` as itself.
    """
    if connection.vendor != "mysql":
        return None, (), None, ()
    connection.ensure_connection()
    raw = connection.connection
    slot_at = {i: name for name, positions in slots for i in positions}
    parts, server_parts, names, order, index = [], [], set(), [], 0
    for token in re.split(r"(%s|%%)", sql):
        if token == "%s":
            if index in slot_at:
                parts.append(f"%({slot_at[index]})s")
                server_parts.append("?")
                names.add(slot_at[index])
                order.append(slot_at[index])
            else:
                try:
                    escaped = raw.literal(params[index]).decode(raw.encoding)
                except UnicodeDecodeError:
                    return None, (), None, ()
                parts.append(escaped.replace("%", "%%"))
                server_parts.append(escaped)
            index += 1
        else:
            parts.append(token)
            server_parts.append("%" if token == "%%" else token)
    if index != len(params):
        return None, (), None, ()
    return "".join(parts), tuple(sorted(names)), "".join(server_parts), tuple(order)


# Server-side prepared statements (MariaDB). The channel list's statement spent ~18% of its
# server CPU parsing its 2.7 KB of text on every request; PREPARE parses it once per connection,
# then each request sends `EXECUTE name USING <values>` (MariaDB takes expressions in USING;
# MySQL only user variables, so it keeps the text path). A statement lives as long as its
# connection; each connection remembers what it holds. A page's LIMIT and OFFSET are
# placeholders too, so a query is one statement whatever page is asked for; a connection holds
# at most this many (later ones run as text), and one the server refuses to prepare (its
# `max_prepared_stmt_count` reached, a proxy that does not pass PREPARE) runs as text as well.
_SERVER_STATEMENTS_MAX = 16
_ER_UNKNOWN_STMT_HANDLER = 1243
# Attributes of the driver's connection: the names prepared on it, and those refused.
_HELD = "lp_prepared_statements"
_REFUSED = "lp_refused_statements"
_LIMIT = re.compile(r"LIMIT (\d+)(?: OFFSET (\d+))?")


def _held_on_server(connection, statement: tuple[str, str, tuple[int, ...]]) -> bool:
    """Whether `statement` (name, SQL, LIMIT values) is prepared on the connection, preparing
    it if there is room and the server accepts it."""
    connection.ensure_connection()
    state = connection.connection.__dict__
    held = state.setdefault(_HELD, set())
    name = statement[0]
    if name in held:
        return True
    if len(held) >= _SERVER_STATEMENTS_MAX or name in state.get(_REFUSED, ()):
        return False
    try:
        _prepare(connection, statement)
    except DatabaseError:
        state.setdefault(_REFUSED, set()).add(name)
        return False
    return True


def _prepare(connection, statement: tuple[str, str, tuple[int, ...]]) -> None:
    # Through the driver's own cursor: like the backend's init_command, a connection's setup
    # rather than a query of the request, so Django's query log (and the query-count tests)
    # see the same statements whether or not the connection had it already.
    name, sql, _ = statement
    raw = connection.connection
    with connection.wrap_database_errors, raw.cursor() as cursor:
        cursor.execute(f"PREPARE {name} FROM {raw.literal(sql).decode(raw.encoding)}")
    raw.__dict__.setdefault(_HELD, set()).add(name)


def _execute_on_server(
    cursor, connection, statement: tuple[str, str, tuple[int, ...]], compiled, values
) -> list:
    sql = _execute_sql(connection, statement, compiled, values)
    try:
        cursor.execute(sql)
    except DatabaseError as error:
        # The server no longer has it (e.g. the session was reset): prepare it again, once.
        if error.args[:1] != (_ER_UNKNOWN_STMT_HANDLER,):
            raise
        _forget(connection, [statement])
        _prepare(connection, statement)
        cursor.execute(sql)
    return cursor.fetchall()


def _forget(connection, statements) -> None:
    """Record that the server no longer holds these statements (they are prepared again when
    next run)."""
    connection.connection.__dict__.get(_HELD, set()).difference_update(s[0] for s in statements)


def _execute_sql(connection, statement: tuple[str, str, tuple[int, ...]], compiled, values) -> str:
    """`EXECUTE name USING <values>` for a statement held on the server."""
    literals = _literals(connection, values, set(compiled.server_slots))
    # The stand-ins' values in the order of their `?`s, then the page's LIMIT and OFFSET (the
    # suffix's place is after every stand-in: see PreparedQuery.server_statement).
    using = ", ".join(
        [literals[name] for name in compiled.server_slots] + [str(n) for n in statement[2]]
    )
    return f"EXECUTE {statement[0]} USING {using}" if using else f"EXECUTE {statement[0]}"


class PreparedCall(NamedTuple):
    """One run of a prepared query: what `query.execute(alias, suffix, **values)` runs. A
    plain tuple: built, hashed and compared on every request that fetches ahead."""

    query: "PreparedQuery"
    alias: str
    suffix: str
    values: tuple[tuple[str, Any], ...]

    @classmethod
    def of(
        cls, query: "PreparedQuery", alias: str = DEFAULT_DB_ALIAS, suffix: str = "", **values: Any
    ) -> "PreparedCall":
        return cls(query, alias, suffix, tuple(sorted(values.items())))


class Fetched:
    """Rows of calls run ahead of time by `fetch_together`, converted, each for the one
    `execute` (`rows`, `instances`, …, with `fetched=`) that asks for exactly that call. A call
    that is not here runs as usual then."""

    def __init__(self, rows: dict[PreparedCall, list] | None = None):
        self._rows = rows or {}

    def __bool__(self) -> bool:
        return bool(self._rows)

    def take(self, call: PreparedCall) -> list | None:
        return self._rows.pop(call, None)


def fetch_together(*calls: PreparedCall) -> Fetched:
    """Runs `calls` in one round trip where the database allows it: on MariaDB, when every one
    is a server-side prepared statement (`server_prepared=True`), as one multi-statement
    `EXECUTE …; EXECUTE …` (each round trip costs ~30 µs of CPU on each side, on top of the
    statement). Elsewhere nothing runs here, and each call runs when it is asked for.

    A statement the server no longer holds is left out (it is prepared again when its call
    runs alone); any other error is raised, as the calls' own `execute` would raise it.
    """
    if not calls or len({call.alias for call in calls}) != 1:
        return Fetched()
    connection = connections[calls[0].alias]
    if connection.vendor != "mysql" or not all(call.query.server_prepared for call in calls):
        return Fetched()
    statements = [call.query.server_statement(call.alias, call.suffix) for call in calls]
    if (
        not connection.mysql_is_mariadb
        or not all(statements)
        or not all(_held_on_server(connection, statement) for statement in statements)
    ):
        return Fetched()
    compiled = [call.query.compiled(call.alias) for call in calls]
    sql = "; ".join(
        _execute_sql(connection, statement, c, dict(call.values))
        for statement, c, call in zip(statements, compiled, calls, strict=True)
    )
    fetched = {}
    with connection.cursor() as cursor:
        for index, call in enumerate(calls):
            try:
                if index == 0:
                    cursor.execute(sql)
                elif not cursor.nextset():
                    break  # no result for this call: it runs alone when asked for
            except DatabaseError as error:
                if error.args[:1] != (_ER_UNKNOWN_STMT_HANDLER,):
                    raise
                # Forgotten by the server (the statements after it did not run either): the
                # calls from here on run alone, preparing their statements again.
                _forget(connection, statements[index:])
                break
            fetched[call] = _converted(cursor.fetchall(), compiled[index], connection)
    return Fetched(fetched)


def _is_mysql_aware_datetime(functions: list) -> bool:
    return len(functions) == 1 and getattr(functions[0], "__func__", None) is _MYSQL_DATETIME


# The MySQL backend's datetime converter is `timezone.make_aware(value, connection.timezone)`
# for each non-null value, three Python calls deep; a channel list converts ~40 of them, ~2% of
# its CPU. mysqlclient answers naive datetimes only, which make_aware gives the connection's
# time zone by `replace(tzinfo=...)`: done here directly, with the same result.
_MYSQL_DATETIME = MySQLOperations.convert_datetimefield_value


def _converter_plan(converters: dict) -> tuple:
    """(position, functions or None for the MySQL datetime shortcut, expression) a column."""
    return tuple(
        (position, None if _is_mysql_aware_datetime(functions) else functions, expression)
        for position, (functions, expression) in converters.items()
    )


def _converted(rows, compiled: "_Compiled", connection) -> list:
    """The rows of a compiled query with its converters applied (as they came: none)."""
    return (
        _apply_converters(rows, compiled.converter_plan, connection)
        if compiled.converters
        else rows
    )


def _apply_converters(rows: list, plan: tuple, connection) -> list:
    """SQLCompiler.apply_converters with this call's connection (the compiler kept the one of
    the thread that compiled it), by a `_converter_plan`."""
    zone = connection.timezone
    converted = []
    for row in rows:
        row = list(row)
        for position, functions, expression in plan:
            value = row[position]
            if functions is None:
                if value is not None:
                    row[position] = value.replace(tzinfo=zone)
                continue
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        converted.append(row)
    return converted


def _slice_suffix(alias: str, start: int, stop: int | None) -> str:
    """The LIMIT/OFFSET clause of rows [start:stop] (`rows_slice`; `PreparedPage.slice_call`
    names the same call)."""
    return connections[alias].ops.limit_offset_sql(start, stop)


class PreparedQuery:
    """`build(**stand_ins)` is the reference queryset; calls pass real values by the same names.

    Results come as dict rows (`rows`, for values() querysets) or model instances with their
    annotations set (`instances`). `suffix` appends SQL the caller builds from trusted numbers
    (a LIMIT/OFFSET clause from `connection.ops.limit_offset_sql`).

    `server_prepared=True` (for long statements, where the server's parsing counts): on MariaDB
    the statement is prepared on the server once per connection and each call EXECUTEs it with
    its values (see `_held_on_server`); the query log then shows `EXECUTE <name> USING ...`.
    Elsewhere it changes nothing.
    """

    def __init__(
        self, build: Callable[..., QuerySet], *, server_prepared: bool = False, **stand_ins: Any
    ):
        self.build = build
        self.stand_ins = stand_ins
        self.server_prepared = server_prepared
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        # (alias, suffix shape) -> the server-side statement's name and SQL (server_statement)
        self._server_statements: dict[tuple[str, str], tuple[str, str]] = {}

    def compiled(self, alias: str) -> _Compiled:
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(alias)
        return compiled

    def _compile(self, alias: str) -> _Compiled:
        connection = connections[alias]
        queryset = self.build(**self.stand_ins)
        query = queryset.query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for name, stand_in in self.stand_ins.items():
            adapted = _adapt(connection, stand_in)
            positions = tuple(i for i, p in enumerate(params) if p == adapted)
            if not positions:
                raise RuntimeError(f"prepared query: stand-in {name!r} not found in the SQL")
            slots.append((name, positions))
        select = compiler.select[: compiler.col_count]
        model_columns = None
        init_list: tuple[str, ...] = ()
        annotations: tuple[tuple[str, int], ...] = ()
        if queryset._fields is None:  # a model queryset (values() and values_list() set fields)
            fields = compiler.klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            model_columns = (start, end)
            init_list = tuple(column[0].target.attname for column in select[start:end])
            annotations = tuple(compiler.annotation_col_map.items())
        template, template_slots, server_sql, server_slots = _inline_constants(
            connection, sql, tuple(params), tuple(slots)
        )
        return _Compiled(
            template=template,
            template_slots=template_slots,
            server_sql=server_sql,
            server_slots=server_slots,
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            model=queryset.model,
            converters=compiler.get_converters([column[0] for column in select]),
            names=(*query.extra_select, *query.values_select, *query.annotation_select),
            model_columns=model_columns,
            init_list=init_list,
            annotations=annotations,
        )

    def statement(self, alias: str, suffix: str = "", **values: Any) -> tuple[str, list | None]:
        """The SQL to run for `values` and its parameters (None: the values are in the SQL)."""
        compiled = self.compiled(alias)
        connection = connections[alias]
        if compiled.template is not None:
            connection.ensure_connection()
            sql = compiled.template % _literals(connection, values, compiled.template_slots)
            return (f"{sql} {suffix}" if suffix else sql), None
        params = list(compiled.params)
        for name, positions in compiled.slots:
            value = _adapt(connection, values[name])
            for i in positions:
                params[i] = value
        return (f"{compiled.sql} {suffix}" if suffix else compiled.sql), params

    def execute(
        self, alias: str, suffix: str = "", *, fetched: Fetched | None = None, **values: Any
    ) -> tuple[_Compiled, list]:
        """Runs the SQL with `values` in place of the stand-ins; rows with converters applied.
        With `fetched`, rows it holds for this very call are answered instead (once)."""
        compiled = self.compiled(alias)
        if fetched:
            rows = fetched.take(PreparedCall.of(self, alias, suffix, **values))
            if rows is not None:
                return compiled, rows
        connection = connections[alias]
        with connection.cursor() as cursor:
            statement = self.server_prepared and self.server_statement(alias, suffix)
            if statement and connection.mysql_is_mariadb and _held_on_server(connection, statement):
                rows = _execute_on_server(cursor, connection, statement, compiled, values)
            else:
                sql, params = self.statement(alias, suffix, **values)
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        return compiled, _converted(rows, compiled, connection)

    def _server_parts(self, alias: str) -> tuple[str, str] | None:
        """The statement for a server-side PREPARE as the text before and after the place of
        the suffix (None: this database or statement cannot have one)."""
        compiled = self.compiled(alias)
        return None if compiled.server_sql is None else (compiled.server_sql, "")

    def server_statement(
        self, alias: str, suffix: str = ""
    ) -> tuple[str, str, tuple[int, ...]] | None:
        """The server-side prepared statement for this database and suffix: its name, its SQL
        and the values of its LIMIT and OFFSET placeholders (a suffix's LIMIT clause is
        `LIMIT ? OFFSET ?`: every page runs the same statement). No stand-in's `?` follows the
        suffix's: it is last in the statement, or inside a derived table whose outer SELECT has
        identifiers only (WrappedQuery)."""
        limit = _LIMIT.fullmatch(suffix)
        if limit:
            shape, numbers = "LIMIT ? OFFSET ?", (int(limit[1]), int(limit[2] or 0))
        else:
            shape, numbers = suffix, ()
        key = (alias, shape)
        found = self._server_statements.get(key)
        if found is None:
            parts = self._server_parts(alias)
            if parts is None:
                return None
            sql = f"{parts[0]} {shape}{parts[1]}" if shape else "".join(parts)
            name = "lp_" + hashlib.sha256(sql.encode()).hexdigest()[:32]
            found = self._server_statements[key] = (name, sql)
        return (*found, numbers)

    def rows_slice(
        self, alias: str, page: slice, *, fetched: Fetched | None = None, **values: Any
    ) -> list[dict]:
        """`rows` for `queryset[start:stop]`, as a paginator slices (plain slices only)."""
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("prepared rows support plain slices only")
        start = page.start or 0
        if page.stop is not None and page.stop <= start:
            return []  # as the ORM: an empty slice runs no query (and needs no LIMIT 0)
        return self.rows(alias, _slice_suffix(alias, start, page.stop), fetched=fetched, **values)

    def rows(
        self, alias: str, suffix: str = "", *, fetched: Fetched | None = None, **values: Any
    ) -> list[dict]:
        compiled, rows = self.execute(alias, suffix, fetched=fetched, **values)
        names = compiled.names
        return [dict(zip(names, row, strict=True)) for row in rows]

    def instances(
        self, alias: str, suffix: str = "", *, fetched: Fetched | None = None, **values: Any
    ) -> list[Model]:
        compiled, rows = self.execute(alias, suffix, fetched=fetched, **values)
        if compiled.model_columns is None:
            raise TypeError("instances() needs a model queryset, not values()")
        model = compiled.model
        start, end = compiled.model_columns
        result = []
        for row in rows:
            instance = model.from_db(alias, compiled.init_list, row[start:end])
            for name, position in compiled.annotations:
                setattr(instance, name, row[position])
            result.append(instance)
        return result


class WrappedQuery(PreparedQuery):
    """A prepared query run as a derived table inside an outer SELECT.

    `outer(connection, columns)` answers that SELECT with `{inner}` where the inner statement
    goes (slices' LIMIT and OFFSET stay inside it); `columns` are the names of the inner
    columns it must answer first, in order: all of them but `hidden`, which the outer SELECT
    may use (a sort key) without answering (no converting, no removing afterwards). Then come
    the columns of `extra`: reference values() querysets (one, or a tuple of them for columns
    of several models) whose columns it adds in order (their names and the ORM's converters are
    taken from them).

    For what the ORM cannot spell: e.g. sorting and limiting a page before joining wide columns
    to it, so the sort's temporary table holds no TEXT column. The outer SELECT, the names and
    the converters are put together once per database, like any compiled query; each call
    only places its inner statement.
    """

    def __init__(
        self,
        inner: PreparedQuery,
        outer: Callable[[Any, list[str]], str],
        extra: Callable[[], QuerySet] | tuple[Callable[[], QuerySet], ...],
        *,
        hidden: tuple[str, ...] = (),
    ):
        super().__init__(inner.build, server_prepared=inner.server_prepared, **inner.stand_ins)
        self.inner = inner
        self.outer = outer
        self.extra_builds = extra if isinstance(extra, tuple) else (extra,)
        self.extras = tuple(PreparedQuery(build) for build in self.extra_builds)
        self.hidden = hidden

    def _compile(self, alias: str) -> _Compiled:
        inner = self.inner.compiled(alias)
        missing = set(self.hidden) - set(inner.names)
        if missing:
            raise RuntimeError(f"wrapped query: hidden columns {missing} are not the inner query's")
        answered = [i for i, name in enumerate(inner.names) if name not in self.hidden]
        names = [inner.names[i] for i in answered]
        outer = self.outer(connections[alias], names)
        if inner.template is None:  # the driver formats the whole statement: escape its `%`
            outer = outer.replace("%", "%%")
        width = len(answered)
        converters = {
            position: inner.converters[i]
            for position, i in enumerate(answered)
            if i in inner.converters
        }
        for extra in (extra.compiled(alias) for extra in self.extras):
            converters.update({width + i: converter for i, converter in extra.converters.items()})
            names.extend(extra.names)
            width += len(extra.names)
        return replace(
            inner,
            sql=outer,  # with `{inner}`: see statement()
            template=None,
            template_slots=(),
            # the inner statement's `?`s, in order; `{inner}` marks its place (_server_parts)
            server_sql=None if inner.server_sql is None else outer,
            server_slots=inner.server_slots,
            names=tuple(names),
            converters=converters,
        )

    def _server_parts(self, alias: str) -> tuple[str, str] | None:
        inner = self.inner._server_parts(alias)
        outer = self.compiled(alias).server_sql
        if inner is None or outer is None:
            return None
        # The suffix (LIMIT) stays inside the derived table, as in statement().
        before, after = outer.split("{inner}", 1)
        return before + inner[0], inner[1] + after

    def statement(self, alias: str, suffix: str = "", **values: Any) -> tuple[str, list | None]:
        sql, params = self.inner.statement(alias, suffix, **values)
        return self.compiled(alias).sql.replace("{inner}", sql), params


# The count's column in the combined page query (see PreparedPage.slice_with_count).
_PAGE_TOTAL = "prepared_page_total"


class PreparedPage:
    """A prepared query and its prepared count for Django's Paginator (and DRF's page number
    pagination): `count()` and plain slices, with one set of call values for both.

    `count` must answer one row with the count as `n`, or no row for none (a grouped count).
    It receives the values its own stand-ins name; the page query receives all of them.

    `slice_with_count` answers a page and the count from one statement: the page query with the
    count as an uncorrelated scalar subquery, which the database evaluates once. That saves a
    round trip on every page request (the count and the page also come from one snapshot);
    `CountingPaginator` uses it.
    """

    def __init__(
        self,
        page: PreparedQuery,
        count: PreparedQuery,
        *,
        using: str = DEFAULT_DB_ALIAS,
        fetched: Fetched | None = None,
        **values: Any,
    ):
        self._page = page
        self._count = count
        self.using = using
        self.fetched = fetched
        self.values = values

    def slice_call(self, start: int, stop: int) -> PreparedCall:
        """The call `slice_with_count(start, stop)` runs (to fetch it ahead: `fetch_together`)."""
        return PreparedCall.of(
            _page_with_count(self._page, self._count),
            self.using,
            _slice_suffix(self.using, start, stop),
            **self.values,
        )

    def _count_values(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: values[name] for name in self._count.stand_ins}

    def count(self) -> int:
        rows = self._count.rows(self.using, **self._count_values(self.values))
        return rows[0]["n"] if rows else 0

    def finish_rows(self, rows: list[dict]) -> list[dict]:
        """What a subclass does to the page's rows before they are answered (here: nothing)."""
        return rows

    def __getitem__(self, page: slice) -> list[dict]:
        return self.finish_rows(self._page.rows_slice(self.using, page, **self.values))

    def slice_with_count(self, start: int, stop: int) -> tuple[list[dict], int | None]:
        """Rows `[start:stop]` and the count; the count is None when the slice is empty (no
        row carried it: the caller asks `count()` if it needs one)."""
        rows = _page_with_count(self._page, self._count).rows_slice(
            self.using, slice(start, stop), fetched=self.fetched, **self.values
        )
        if not rows:
            return [], None
        total = rows[0][_PAGE_TOTAL]
        for row in rows:
            del row[_PAGE_TOTAL]
        return self.finish_rows(rows), total


_pages_with_count: dict[tuple[int, int], PreparedQuery] = {}


def _page_with_count(page: PreparedQuery, count: PreparedQuery) -> PreparedQuery:
    """The page query with the count query as a column, prepared once per pair."""
    # Both queries live as long as the process (module-level prepared queries), so their ids
    # stay theirs.
    key = (id(page), id(count))
    combined = _pages_with_count.get(key)
    if combined is None:
        combined = _pages_with_count[key] = _combine_page_and_count(page, count)
    return combined


def _combine_page_and_count(page: PreparedQuery, count: PreparedQuery) -> PreparedQuery:
    if isinstance(page, WrappedQuery):  # the count goes into the inner query
        return WrappedQuery(
            _page_with_count(page.inner, count), page.outer, page.extra_builds, hidden=page.hidden
        )
    missing = set(count.stand_ins) - set(page.stand_ins)
    if missing:
        raise RuntimeError(f"prepared page: the count's stand-ins {missing} are not the page's")

    def build(**values: Any) -> QuerySet:
        counted = count.build(**{name: values[name] for name in count.stand_ins})
        return page.build(**values).annotate(**{_PAGE_TOTAL: Subquery(counted.values("n"))})

    return PreparedQuery(build, server_prepared=page.server_prepared, **page.stand_ins)
