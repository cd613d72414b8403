"""The application factory: settings in, a FastAPI app out (API, pages, static files)."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from qianmo.annotate import warm_up
from qianmo.settings import Settings, get_settings
from qianmo.store import Database, Worker, open_workspace, prime_lookups
from qianmo.web import api, pages
from qianmo.web._errors import install_error_handlers
from qianmo.web._security import ConcurrencyLimit, LoginLimiter, SecurityHeaders
from qianmo.web._templates import NavItem, make_environment

API_PREFIX = "/api/v1"
SESSION_COOKIE = "qianmo_session"
SESSION_MAX_AGE_S = 12 * 3600
# Requests inside the app at once: each may hold two connections (its read session and a
# write), so twice this stays within the pool (SQLite 5+10, PostgreSQL 10+40). A server
# process runs Python on one core at a time: more requests in flight than keep it busy while
# others wait for the database only queue for the GIL, and every hand-over costs CPU. On
# PostgreSQL 24 → 8 took 50 annotators from 75 to 108–111 labels/s (p95 0.96 → 0.62–0.69 s,
# server CPU 6.7 → 5.9–6.4 ms a label, bench/annotate_load.py on a loaded machine); 4 did
# better still on loopback, but 8 leaves room for a database farther away.
IN_FLIGHT = {"sqlite": 7, "postgresql": 8}


def _routers(package: object) -> list[tuple[APIRouter, list[NavItem]]]:
    """Every public module of a package that defines `router` (and optionally `NAV`); those
    with `ROUTE_FIRST = True` first, then by name."""
    found = []
    path = list(getattr(package, "__path__", []))
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")  # type: ignore[attr-defined]
        if isinstance(getattr(module, "router", None), APIRouter):
            first = bool(getattr(module, "ROUTE_FIRST", False))
            found.append((not first, info.name, module.router, list(getattr(module, "NAV", []))))
    return [(router, nav) for _, _, router, nav in sorted(found, key=lambda f: f[:2])]


class JobWorkerThread:
    """Queued jobs run in a thread of this process (the embedded default)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.stop = threading.Event()
        worker = Worker(
            db,
            heartbeat_s=settings.job_heartbeat_seconds,
            stale_after_s=settings.job_stale_after_seconds,
        )
        self.thread = threading.Thread(
            target=worker.run, args=(self.stop,), kwargs={"poll_s": 0.5}, daemon=True
        )

    def __enter__(self) -> JobWorkerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def _worker_lifespan(db: Database, settings: Settings, run_worker: bool):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not run_worker:
            yield
            return
        with JobWorkerThread(db, settings):
            yield

    return lifespan


def app_from_environment() -> FastAPI:
    """The app as `qianmo serve --workers N` builds it in each server process: settings from
    the environment, no job thread (the parent process runs that one)."""
    return ready_to_serve(create_app(get_settings()))


def ready_to_serve(app: FastAPI) -> FastAPI:
    """`app` with its request handling prepared, and what exists then kept out of the garbage
    collector's scans; every server process calls this before it accepts a connection.

    FastAPI prepares each route (its parameter and response models, pydantic adapters) on the
    first request that reaches it in a process, which made the first requests of every
    process the slowest under load; building the OpenAPI schema prepares them all, and the
    schema is then ready for `/api/v1/openapi.json` too.

    The modules, routes, schemas and templates are most of the process's objects, alive until
    it ends: each full collection scanned them all, ~70 ms of CPU in one pause, several times
    per thousand labels (counted with `gc.callbacks` under bench/annotate_load.py's requests).

    On PostgreSQL the pool's connections are opened and have planned the statements of every
    API request's lookup and of a label (`Database.warm`, `annotate.warm_up`): otherwise the
    first requests to reach each connection paid for both.
    """
    db: Database = app.state.db
    db.warm(prime_lookups, warm_up)
    app.openapi()
    gc.collect()
    gc.freeze()
    return app


def create_app(
    settings: Settings, *, db: Database | None = None, run_worker: bool = False
) -> FastAPI:
    """The web platform on `db` (default: the settings' workspace).

    With `run_worker`, queued jobs run in a thread of this process (the embedded default);
    without, `qianmo worker` processes do them.
    """
    db = db or open_workspace(settings)
    app = FastAPI(
        title="qianmo",
        version="1",
        summary="Co-build, check, label, release and measure cybersecurity datasets.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=_worker_lifespan(db, settings, run_worker),
    )
    app.state.db = db
    app.state.settings = settings
    app.state.templates = make_environment()
    app.state.login_limiter = LoginLimiter()
    app.state.session_max_age_s = SESSION_MAX_AGE_S
    app.state.nav = []
    app.state.uploads_dir = Path(settings.home) / "uploads"
    install_error_handlers(app)
    # Static files first: FastAPI tries routes in order, and every page fetches a stylesheet
    # and a script; after all the routers each of those paid for matching them all first.
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    for router, _ in _routers(api):
        app.include_router(router, prefix=API_PREFIX)
    for router, nav in _routers(pages):
        app.include_router(router, include_in_schema=False)
        app.state.nav.extend(nav)
    # Order matters: the session middleware runs inside the headers middleware.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.environment == "production",
    )
    in_flight = IN_FLIGHT.get(db.dialect, 7)
    # The label routes' threads (`Asking.in_thread`); threads start on first use.
    app.state.label_threads = ThreadPoolExecutor(in_flight, thread_name_prefix="qianmo-label")
    app.add_middleware(ConcurrencyLimit, limit=in_flight)
    app.add_middleware(SecurityHeaders)
    return app
