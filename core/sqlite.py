"""SQLite connections for the async engine whose statements each take one hand-off to the driver's thread.

aiosqlite runs every call on a thread of its own per connection, and SQLAlchemy's adapter makes four such calls
for a statement: open a cursor, execute, fetch the rows, close the cursor. Each hand-off (queue, thread wake-up,
the event loop woken back) costs about 0.1 ms of CPU, ten times what a typical statement of ours costs SQLite
itself, so a command of eight statements spent most of its time passing work between threads. The cursor here
does all four steps in one call on the connection's thread and keeps the rows, which SQLAlchemy's adapter reads
whole anyway. It relies on aiosqlite's connection internals (`_execute`, `_conn`, `_thread`), hence the upper
bound on aiosqlite in pyproject.toml.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url

_Outcome = tuple[Any, int, int | None, list[Any], bool]


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, *, many: bool) -> _Outcome:
    """On the connection's thread: the statement run, its rows read, its cursor closed; and whether a
    transaction is open after it."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows, connection.in_transaction
    finally:
        cursor.close()


class Cursor:
    """The part of a DB-API cursor SQLAlchemy's aiosqlite adapter uses, each statement in one hand-off."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _call(self, sql: str, parameters: Any, *, many: bool) -> Cursor:
        db = self._connection
        try:
            outcome: _Outcome = await db._execute(  # type: ignore[no-untyped-call]
                lambda: _run(db._conn, sql, parameters, many=many)
            )
        except BaseException:
            db.transaction_open = True  # not known: a rollback must run
            raise
        self.description, self.rowcount, self.lastrowid, self._rows, db.transaction_open = outcome
        return self

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        return await self._call(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> Cursor:
        return await self._call(sql, parameters, many=True)

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


class Connection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors take one hand-off per statement, and whose commit and rollback
    take none when no transaction is open: the pool rolls back every connection it is given back, mostly
    just after a commit, and a transaction that only read has nothing to commit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As the driver reported after this connection's last statement, commit or rollback.
        self.transaction_open = False

    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)

    async def commit(self) -> None:
        if self.transaction_open:
            await super().commit()
            self.transaction_open = False

    async def rollback(self) -> None:
        if self.transaction_open:
            await super().rollback()
            self.transaction_open = False


def connector(url: str, **options: Any) -> Callable[[], Awaitable[Connection]]:
    """The `async_creator` for an engine on this SQLite URL: the driver's arguments as the dialect would give
    them (the file, the URL's query), with `options` on top."""
    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    connect = partial(sqlite3.connect, *args, **{**kwargs, **options})

    async def create() -> Connection:
        connection = Connection(connect, iter_chunk_size=64)
        # As SQLAlchemy's own aiosqlite connect does: the driver's thread must not keep the process alive.
        connection._thread.daemon = True
        await connection
        return connection

    return create
