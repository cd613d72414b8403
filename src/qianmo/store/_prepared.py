"""Hot statements, compiled once per dialect and run on the transaction's DBAPI cursor.

A claim and a submit run about twenty statements, and every web request looks up who is asking
and reads records. Through SQLAlchemy's execution layer each statement cost ~200 µs of Python
(building the statement, cache keys, events, result objects) against ~10 µs in SQLite, and that
overhead was most of a claim+submit and of a small web request (profiled). The statements are
still written as Core — one source of SQL for both databases, the access rule included — and
this only skips the per-call machinery: a statement is compiled once per dialect with its bound
IN lists rendered, and parameters and results go through the dialect's own type processors, so
values round-trip exactly as they do through SQLAlchemy.

Runtime parameters are `arg(name)` (a bind parameter whose value is given on each run).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, bindparam, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any] | None


# Runs that leave a statement prepared and generically planned on a PostgreSQL connection
# (`Database.warm`): psycopg prepares it at its sixth run, then PostgreSQL makes five custom
# plans before it weighs a generic one. Fewer (5 or 6) left some statements on custom plans.
WARM_RUNS = 12


def arg(name: str, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
    """A parameter given on each run (a value of None now keeps compiling from asking)."""
    return bindparam(name, None, type_=type_)


@dataclass(frozen=True)
class _Form:
    sql: str
    positional: tuple[str, ...] | None  # parameter order for qmark drivers; None for named
    baked: dict[str, Any]
    binds: dict[str, Callable[[Any], Any]]
    results: tuple[Processor, ...]


class Prepared:
    """One Core statement, run many times on whichever database a connection belongs to.

    `raw` names parameters whose values are already in the database's form (a JSON document
    serialised once, elsewhere): their type's processing is skipped, its cast kept.
    """

    def __init__(self, stmt: ClauseElement, *, raw: Sequence[str] = ()) -> None:
        self.stmt = stmt
        self.raw = frozenset(raw)
        self._forms: dict[str, _Form] = {}
        self._lock = threading.Lock()

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is not None:
            return form
        compiled = cast(
            SQLCompiler,
            self.stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}),
        )
        binds = {
            name: b.type.dialect_impl(dialect).bind_processor(dialect)
            for name, b in compiled.binds.items()
        }
        columns = getattr(self.stmt, "exported_columns", ())
        form = _Form(
            compiled.string,
            tuple(compiled.positiontup) if compiled.positiontup is not None else None,
            dict(compiled.params),
            {name: p for name, p in binds.items() if p is not None and name not in self.raw},
            tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns),
        )
        with self._lock:
            self._forms[dialect.name] = form
        return form

    def _params(self, form: _Form, given: Mapping[str, Any]) -> Any:
        values = {**form.baked, **given}
        for name, process in form.binds.items():
            if name in values:
                values[name] = process(values[name])
        if form.positional is None:
            return values
        return tuple(values[name] for name in form.positional)

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Ran:
        return self._run(conn, params or {}, begin=None)

    def run_begun(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Ran:
        """`run` as the first statement of a write transaction, its BEGIN sent with it: one
        round trip instead of two on PostgreSQL, where psycopg otherwise sends BEGIN alone and
        waits for it (and, in a pipeline, syncs after it). The connection is put in autocommit
        so psycopg sends none of its own; the server is in the transaction all the same, its
        COMMIT or ROLLBACK is sent by SQLAlchemy (or `run_and_commit`) as usual, and the pool
        turns autocommit off again when the connection comes back (`_postgres_engine`).
        Elsewhere (SQLite, a transaction already under way) it is `run`."""
        driver = _not_begun(conn)
        if driver is None:
            return self.run(conn, params)
        driver.autocommit = True
        return self._run(conn, params or {}, begin=_begin_sql(driver))

    def _run(self, conn: Connection, params: Mapping[str, Any], *, begin: str | None) -> Ran:
        """The statement on the driver's own cursor; with `begin`, that BEGIN goes in one
        pipeline with it (`run_begun`)."""
        form = self._form(conn.dialect)
        driver: Any = conn.connection.driver_connection
        cursor = driver.cursor()
        opener = None if begin is None else driver.cursor()
        try:
            if opener is None:
                cursor.execute(form.sql, self._params(form, params))
            else:
                with driver.pipeline():
                    opener.execute(begin, prepare=False)
                    cursor.execute(form.sql, self._params(form, params))
            rows = cursor.fetchall() if _has_rows(cursor) else []
            count = cursor.rowcount
        except Exception as e:
            raise wrapped_error(conn, form.sql, e) from e
        finally:
            if opener is not None:
                opener.close()
            cursor.close()
        return Ran(self._processed(form, rows), count)

    def _processed(self, form: _Form, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if rows and any(form.results):
            rows = [
                tuple(p(v) if p is not None else v for p, v in zip(form.results, r, strict=True))
                for r in rows
            ]
        return rows

    def on_session(self, session: Session, params: Mapping[str, Any] | None = None) -> Ran:
        """Run in the session's transaction, after flushing its pending changes (as a query
        through the session would), so it sees what the caller added."""
        if session.autoflush:
            session.flush()  # returns at once when nothing is pending
        return self.run(session.connection(), params)

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        form = self._form(conn.dialect)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(form.sql, [self._params(form, p) for p in params])
        except Exception as e:
            raise wrapped_error(conn, form.sql, e) from e
        finally:
            cursor.close()


def _has_rows(cursor: Any) -> bool:
    """Whether the statement returned rows. psycopg builds `description` (a `Column` object
    per column) on every access: 6.3 µs for 9 columns against 0.04 µs for its result's field
    count, which says the same (timeit; ~0.02 ms of a label's four to five statements)."""
    result = getattr(cursor, "pgresult", None)
    if result is not None:
        return bool(result.nfields)
    return cursor.description is not None


def run_and_commit(conn: Connection, steps: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> None:
    """Run statements that return nothing, then COMMIT the transaction, as one PostgreSQL
    pipeline: one round trip for all of them. The caller's transaction is over afterwards
    (SQLAlchemy's own commit then finds the connection idle and does nothing)."""
    driver: Any = conn.connection.driver_connection
    cursors: list[Any] = []
    sql = ""
    try:
        with driver.pipeline():
            for prepared, params in steps:
                form = prepared._form(conn.dialect)
                sql = form.sql
                cursors.append(cursor := driver.cursor())
                cursor.execute(form.sql, prepared._params(form, params))
            sql = "COMMIT"
            driver.commit()
    except Exception as e:
        raise wrapped_error(conn, sql, e) from e
    finally:
        for cursor in cursors:
            cursor.close()


@contextmanager
def before_begin(conn: Connection) -> Iterator[None]:
    """Reads and checks at the start of a write transaction that may refuse the request, run
    before it begins: on PostgreSQL, while nothing has been sent in the transaction yet, each
    statement in the block runs on its own (autocommit), and its BEGIN goes with the first
    statement after. A refusal raised in the block then ends the transaction without a
    ROLLBACK — on which psycopg deallocates every statement the connection had prepared, so
    its next requests parse and plan them all again. Under READ COMMITTED a statement sees
    what was committed when it starts, in a transaction or not: the reads see the same. They
    must write nothing and lock nothing (no FOR UPDATE). Elsewhere (SQLite, a transaction
    already under way, one of an isolation level whose snapshot would span the reads) the
    block runs in the transaction as before."""
    driver = _not_begun(conn)
    if driver is None or driver.isolation_level not in (None, _READ_COMMITTED):
        yield
        return
    driver.autocommit = True
    try:
        yield
    finally:
        driver.autocommit = False


_IDLE = 0  # libpq's PQTRANS_IDLE (psycopg.pq.TransactionStatus.IDLE)
_READ_COMMITTED = 2  # psycopg.IsolationLevel.READ_COMMITTED


def _not_begun(conn: Connection) -> Any | None:
    """The psycopg connection under `conn` if nothing of its transaction has been sent yet
    (psycopg would send its BEGIN with the next statement); otherwise None."""
    driver: Any = conn.connection.driver_connection
    pgconn = getattr(driver, "pgconn", None)
    if pgconn is None or pgconn.transaction_status != _IDLE or driver.autocommit:
        return None
    return driver


def _begin_sql(driver: Any) -> str:
    """The BEGIN psycopg would send on `driver`: with the isolation level and access mode
    set on it (SQLAlchemy sets READ COMMITTED on every connection a lookup used, a session
    may ask for REPEATABLE READ), which a bare BEGIN would drop."""
    parts = ["BEGIN"]
    if driver.isolation_level is not None:  # psycopg's IsolationLevel, e.g. REPEATABLE_READ
        parts.append("ISOLATION LEVEL " + driver.isolation_level.name.replace("_", " "))
    if driver.read_only is not None:
        parts.append("READ ONLY" if driver.read_only else "READ WRITE")
    if driver.deferrable is not None:
        parts.append("DEFERRABLE" if driver.deferrable else "NOT DEFERRABLE")
    return " ".join(parts)


def wrapped_error(conn: Connection, sql: str, error: Exception) -> Exception:
    """The driver's error as SQLAlchemy's (IntegrityError…), as callers catch those."""
    base = conn.dialect.loaded_dbapi.Error
    if not isinstance(error, base):
        return error
    return exc.DBAPIError.instance(sql, None, error, base, dialect=conn.dialect)


@dataclass(frozen=True)
class Ran:
    rows: list[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def one(self) -> tuple[Any, ...]:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class PreparedCache:
    """Statements that depend on more than runtime parameters (the viewer's organisations in
    the access rule, a filter's terms), built and compiled on first use for each key and kept
    for the `size` most recently used keys."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, build: Callable[[], ClauseElement], *, raw: Sequence[str] = ()
    ) -> Prepared:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        prepared = Prepared(
            build(), raw=raw
        )  # outside the lock: building takes a millisecond or two
        with self._lock:
            self._entries[key] = prepared
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return prepared
