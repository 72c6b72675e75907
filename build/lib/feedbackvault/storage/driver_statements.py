"""Run the submission path's statements on the driver's cursor, bound by SQLAlchemy's types.

A submission runs about ten statements over two stores. Through SQLAlchemy Core each
cost ~40 us of Python on top of the driver's own work (cache-key generation, execution
context, result set-up: a quarter of a submission's time under py-spy), where the
driver needs a few. These statements are written once per dialect with the tables'
own names, and their parameters still go through each column type's bind processor,
so they store exactly what the ORM and Core paths store and read.

On PostgreSQL a unit can also pipeline its statements (psycopg's pipeline mode): the
inserts of a submission go out together and only the reads the code waits for cost
a round trip. Driver errors are re-raised as SQLAlchemy's, as every other path
raises them, with their parameters hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

# Named markers in the SQL given to `prepare`.
_MARKER = re.compile(r":(\w+)")
# Where a session keeps its driver cursor for the length of its transaction.
_SESSION_KEY = "feedbackvault.driver_cursor"

BindProcessor = Callable[[Any], Any]
ResultProcessor = Callable[[Any], Any]
Built = TypeVar("Built")


def once_per_dialect(build: Callable[[Dialect], Built]) -> Callable[[Dialect], Built]:
    """Cache what `build` makes for a dialect by the dialect's name.

    Every engine has its own dialect object; statements for one SQLite engine serve
    every other SQLite engine (the types' bind processors do not depend on the URL).
    """
    made: dict[str, Built] = {}

    def get(dialect: Dialect) -> Built:
        found = made.get(dialect.name)
        if found is None:
            found = made[dialect.name] = build(dialect)
        return found

    return get


@dataclass(frozen=True)
class DriverStatement:
    """One statement in the driver's own parameter style, with a bind processor per marker."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[BindProcessor | None, ...]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """Order and convert the values as the driver expects them (a missing one is NULL)."""
        return tuple(
            values.get(name) if process is None else process(values.get(name))
            for name, process in zip(self.names, self.processors, strict=True)
        )


def prepare(dialect: Dialect, sql: str, types: Mapping[str, TypeEngine[Any]]) -> DriverStatement:
    """Turn SQL with `:name` markers into the dialect's positional form.

    `types` gives the column type of each marker that needs converting (a marker
    missing from it is passed as it is: strings, integers, bytes).
    """
    names = tuple(_MARKER.findall(sql))
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    processors = tuple(
        types[name].dialect_impl(dialect).bind_processor(dialect) if name in types else None
        for name in names
    )
    return DriverStatement(_MARKER.sub(marker, sql), names, processors)


@dataclass(frozen=True)
class RowReader:
    """Read a table's rows as the driver returns them into the values the ORM would load."""

    names: tuple[str, ...]
    processors: tuple[ResultProcessor | None, ...]

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """Convert one row that lists every column in the table's order."""
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(self.names, self.processors, row, strict=True)
        }


def row_reader(dialect: Dialect, table: Table, names: Sequence[str] = ()) -> RowReader:
    """Build the reader of rows that return the `names` columns of `table` (`columns_of`).

    No names: every column, in the table's order.
    """
    columns = [table.c[name] for name in names] if names else list(table.columns)
    return RowReader(
        tuple(column.key for column in columns),
        tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ),
    )


def columns_of(table: Table, names: Sequence[str] = ()) -> str:
    """List columns for a SELECT or RETURNING a RowReader reads: `names`, or all in order."""
    return ", ".join(names or [column.key for column in table.columns])


# Ends a transaction from inside a pipeline (DriverCursor.queue_commit).
_COMMIT = DriverStatement("COMMIT", (), ())


def insert_sql(table: Table, prefix: str = "") -> tuple[str, dict[str, TypeEngine[Any]]]:
    """Write an INSERT of one row naming every column, and the type of each marker.

    The markers are the column names, each after `prefix`, so that the rows of several
    tables can go into one statement without their markers clashing.
    """
    columns = [column.key for column in table.columns]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - the table's own names
        f"VALUES ({', '.join(f':{prefix}{column}' for column in columns)})"
    )
    return sql, {prefix + column.key: column.type for column in table.columns}


def insert_row(
    dialect: Dialect,
    table: Table,
    *,
    on_conflict: str = "",
    returning: Sequence[str] = (),
) -> DriverStatement:
    """Prepare an INSERT of one row naming every column of the table.

    `on_conflict` is the ON CONFLICT clause after those words, if any.
    """
    sql, types = insert_sql(table)
    if on_conflict:
        sql += f" ON CONFLICT {on_conflict}"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return prepare(dialect, sql, types)


class Pending:
    """The rows of a statement sent ahead (`DriverCursor.send`), read when first asked for."""

    def __init__(self, cursor: DriverCursor, statement: DriverStatement, answer: Any) -> None:
        self._cursor = cursor
        self._statement = statement
        self._answer = answer  # a driver cursor to fetch from, or the rows already read
        self._rows: list[Any] | None = answer if isinstance(answer, list) else None

    def rows(self) -> list[Any]:
        """Return the statement's rows (in a pipeline, the first call waits for them)."""
        if self._rows is None:
            self._rows = self._cursor.fetched(self._statement, self._answer)
        return self._rows


class DriverCursor:
    """The driver cursor of one transaction: a session's (begun on first use) or a unit's own."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self.dialect = dialect
        self._connection = dbapi_connection
        self._cursor = self._connection.cursor()
        self._driver_error: type[Exception] = self.dialect.loaded_dbapi.Error
        self._pipelines = 0  # how many pipelines are open around the statements run
        self._commit_queued = False

    def run(self, statement: DriverStatement, values: Mapping[str, Any]) -> Any:
        """Execute one statement; return the cursor, to fetch what it returned."""
        try:
            self._cursor.execute(statement.sql, statement.parameters(values))
        except self._driver_error as exc:
            raise self._translated(statement, exc) from exc
        return self._cursor

    def fetchall(self, statement: DriverStatement, values: Mapping[str, Any]) -> list[Any]:
        """Execute one statement and fetch its rows (in a pipeline, this waits for them)."""
        try:
            self._cursor.execute(statement.sql, statement.parameters(values))
            return list(self._cursor.fetchall())
        except self._driver_error as exc:
            raise self._translated(statement, exc) from exc

    def send(self, statement: DriverStatement, values: Mapping[str, Any]) -> Pending:
        """Send a query now and read its rows later, from its own driver cursor.

        In a pipeline (PostgreSQL) the queries sent this way and the statements run
        after them share one round trip: the first `Pending.rows()` waits for all
        that was sent before it. Outside a pipeline the rows are read at once.
        """
        cursor = self._connection.cursor() if self._pipelines else self._cursor
        try:
            cursor.execute(statement.sql, statement.parameters(values))
            answer = cursor if self._pipelines else list(cursor.fetchall())
        except self._driver_error as exc:
            raise self._translated(statement, exc) from exc
        return Pending(self, statement, answer)

    def fetched(self, statement: DriverStatement, cursor: Any) -> list[Any]:
        """Read the rows of a statement `send` sent on `cursor` (Pending.rows)."""
        try:
            return list(cursor.fetchall())
        except self._driver_error as exc:
            raise self._translated(statement, exc) from exc

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """Send the statements run inside together where the driver can (psycopg)."""
        pipelined = getattr(self._connection, "pipeline", None)
        try:
            with pipelined() if pipelined is not None else nullcontext():
                self._pipelines += pipelined is not None
                try:
                    yield
                finally:
                    self._pipelines -= pipelined is not None
        except self._driver_error as exc:
            # A statement's failure surfaces when the pipeline syncs, at its end.
            raise DBAPIError.instance(
                None, None, exc, self._driver_error, hide_parameters=True
            ) from exc

    def queue_commit(self) -> None:
        """Queue COMMIT in a running pipeline, so the pipeline's closing sync carries it.

        psycopg's own `commit()` in a pipeline syncs at once, and the pipeline then syncs
        again as it closes: a round trip each. Queued here, the driver learns from the
        server's answer that the transaction ended, and the owner's commit afterwards
        has nothing left to send. Outside a pipeline (SQLite) this does nothing: the
        owner commits as usual. A unit may queue it before its last read, so the read
        and the COMMIT share a round trip; it is queued once.
        """
        if self._pipelines and not self._commit_queued:
            self._commit_queued = True
            self.run(_COMMIT, {})

    def _translated(self, statement: DriverStatement, exc: Exception) -> Exception:
        return DBAPIError.instance(
            statement.sql, None, exc, self._driver_error, hide_parameters=True
        )


def driver_cursor(session: Session) -> DriverCursor:
    """Return the driver cursor of the session's transaction, created on first use."""
    cursor = session.info.get(_SESSION_KEY)
    if cursor is None:
        connection = session.connection()
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None, "a connection is open while it is used"
        cursor = session.info[_SESSION_KEY] = DriverCursor(dbapi_connection, connection.dialect)
    assert isinstance(cursor, DriverCursor)
    return cursor
