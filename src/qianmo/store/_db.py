"""Engines and transactions: SQLite in WAL mode with one writer at a time, or PostgreSQL."""

from __future__ import annotations

import json
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from qianmo.errors import QianmoError
from qianmo.store._prepared import wrapped_error
from qianmo.store._writer import WriterLock

# A writer waits this long for SQLite's lock before failing; imports hold it only per batch.
SQLITE_BUSY_TIMEOUT_MS = 60_000

_sqlite_writers: dict[str, WriterLock] = {}
_sqlite_writers_lock = threading.Lock()


def _writer_lock(url: str) -> WriterLock:
    """The writer lock of one SQLite database, shared by every `Database` on it in this process
    and, through a file beside it, with other processes."""
    path = make_url(url).database or ""
    key = path or url
    with _sqlite_writers_lock:
        if key not in _sqlite_writers:
            in_memory = path in ("", ":memory:") or path.startswith("file::memory:")
            _sqlite_writers[key] = WriterLock(None if in_memory else f"{path}-writer")
        return _sqlite_writers[key]


def json_text(value: Any) -> str:
    """A value as the JSON text the engines store for it (a JSON column's serialiser)."""
    # orjson is several times faster than the standard library on the record documents that
    # every write carries (bench/ingest_bench.py); the standard library takes what orjson
    # refuses (integers beyond 64 bits), so nothing that could be stored before is refused now.
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def _json_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN and the like, written by the standard library
        return json.loads(text)


JSON_CODEC: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": _json_loads}


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 60}, **JSON_CODEC
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE can be issued.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: no deadlock-prone upgrade from a read lock later.
        # Straight to the driver: every request begins a transaction or two, and through
        # `exec_driver_sql` the BEGIN cost ~0.1 ms of Python, more than SQLite takes for it.
        sql = f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}"
        try:
            conn.connection.driver_connection.execute(sql)
        except Exception as e:  # raised as SQLAlchemy would (OperationalError on a busy database)
            raise wrapped_error(conn, sql, e) from e

    return engine


# A pooled PostgreSQL connection idle longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 10.0


def _input_waiting(dbapi_conn: Any) -> bool:
    """Whether the server sent something to a connection nobody is using: when PostgreSQL
    ends a backend (pg_terminate_backend, a restart) it sends the error and closes the socket,
    so a connection it dropped shows readable input at once, without a round trip."""
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _postgres_engine(url: str, schema: str | None) -> Engine:
    args: dict[str, Any] = {}
    if schema:
        args["options"] = f"-csearch_path={schema},public"
    # Not `pool_pre_ping`: its `SELECT 1` was a round trip on every checkout, two per web
    # request, ~15 % of a label's server CPU (bench/annotate_load.py). A connection is checked
    # without one (`_input_waiting`, `closed`) and pinged only after sitting idle, when a
    # silent drop (a firewall's idle timeout) becomes likely.
    engine = create_engine(url, connect_args=args, pool_size=10, max_overflow=40, **JSON_CODEC)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()
        # `Prepared.run_begun` left it in autocommit for the rest of its transaction, which
        # SQLAlchemy ended (COMMIT or ROLLBACK) before giving it back: back to the default,
        # so the next writer's statements are in a transaction again. None: SQLAlchemy
        # invalidated it (a disconnect) and checks its record in empty.
        if dbapi_conn is not None and not dbapi_conn.closed and dbapi_conn.autocommit:
            dbapi_conn.autocommit = False

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        suspect = dbapi_conn.closed or _input_waiting(dbapi_conn)
        if suspect or (
            idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_S
        ):
            try:
                alive = not dbapi_conn.closed and engine.dialect.do_ping(dbapi_conn)
            except Exception:  # any failure to answer: the pool opens a new connection
                alive = False
            if not alive:
                # The pool discards this connection and checks out another (a fresh one).
                raise exc.DisconnectionError("the database closed this pooled connection")

    return engine


class Database:
    """One database: `write()` for a change set (one transaction), `read()` for queries."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        backend = make_url(url).get_backend_name()
        if backend == "sqlite":
            self.engine = _sqlite_engine(url)
        elif backend == "postgresql":
            self.engine = _postgres_engine(url, schema)
        else:
            raise QianmoError(f"unsupported database {backend!r}: use sqlite or postgresql")
        self.dialect = backend
        self._writer = _writer_lock(url) if backend == "sqlite" else None
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(writer, expire_on_commit=False)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: statements outside a transaction, each its own (`lookups`)
        self._unwrapped: Engine | None = None
        self._lookups: sessionmaker[Session] | None = None
        if backend == "postgresql":
            self._unwrapped = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._lookups = sessionmaker(self._unwrapped, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        if self._writer is None:
            with self._write() as session, session.begin():
                yield session
            return
        with self._writer, self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def lookups(self) -> Iterator[Session]:
        """A session for reads that need no snapshot across statements (who is asking, the
        pages' queries). On PostgreSQL it runs without a transaction: READ COMMITTED gives
        each statement its own snapshot anyway, and a BEGIN and COMMIT around them were two
        round trips a request (the COMMIT on the web server's event loop, at the request's
        end). Nothing may be written through it. On SQLite it is `read()`: there a read
        transaction is a snapshot and costs no round trip."""
        if self._lookups is None:
            with self.read() as session:
                yield session
            return
        with self._lookups() as session:
            yield session

    @contextmanager
    def lookup_connection(self) -> Iterator[Connection]:
        """`lookups` as a bare connection, for one prepared read (who is asking, on every
        request): no ORM session to build and close around it. On PostgreSQL a pooled
        connection without a transaction: 91 µs of CPU for the token lookup against 158 µs
        through a session (measured in a loop of 2,000). On SQLite a read transaction, on a
        connection of the engine's own (`read()` without its ORM session)."""
        if self._unwrapped is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._unwrapped.connect() as conn:
            yield conn

    def warm(self, *primers: Callable[[Connection], None]) -> None:
        """Open the pool's connections now (PostgreSQL), each running `primers` in a
        transaction: a server's start-up step, so its first requests do not wait while
        connections open and plan their statements (`annotate.warm_up`). The primers must
        change nothing (statements that match no row): their transaction commits, because a
        ROLLBACK makes psycopg deallocate every statement the connection had prepared. On
        SQLite there is nothing to warm: opening a connection is opening a file."""
        if self.is_sqlite:
            return
        pool = self.engine.pool
        size = pool.size() if isinstance(pool, QueuePool) else 1
        connections = [self.engine.connect() for _ in range(size)]
        try:
            for conn in connections:
                with conn.begin():
                    for prime in primers:
                        prime(conn)
        finally:
            for conn in connections:
                conn.close()

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def scratch_schema(url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL schema named `prefix_…`, dropped with all it holds afterwards:
    a database of its own for a test or a bench run on a shared server. The trigram extension
    the search index needs is made once, in `public`, where every schema's path finds it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            yield schema
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()
