"""`create_app(settings)`: the Litestar application.

The lifespan applies migrations, opens the PostgreSQL pool, starts the QR renderer's
process pool and the background workers, and closes them again on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from api.access_log import access_log_middleware
from api.errors import EXCEPTION_HANDLERS
from api.listener import listen
from api.mail.outbox import MailWorker
from api.openapi import StrictStructSchemaPlugin
from api.qr import QRRenderer, init_render_process
from api.routes.businesses import BusinessLinksController
from api.routes.health import healthz, readyz
from api.routes.landing import LandingController
from api.routes.mobile import MobileController
from api.routes.params import current_user
from api.routes.partners import ClientsController, EventsController, InvitationsController
from api.routes.public import QRImageController, WellKnownController
from api.routes.query import reject_unknown_query
from api.routes.registration_links import RegistrationLinksController
from api.routes.spaces import SpacesController
from api.services.context import Context
from api.services.events import newest_cursors, newest_revisions
from api.services.invitations import expire_due
from api.services.revisions import revisions
from api.settings import Settings
from db.claims import RetryPolicy
from db.migrate import migrate
from db.piccolo_conf import DB
from db.transactions import IS_POSTGRES

log = logging.getLogger("api")
EXPIRY_SWEEP_SECONDS = 30
SHUTDOWN_GRACE = 5.0  # seconds that background work and pooled connections get to finish
API_VERSION = "1.0.0"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Banqup invitations",
        version=API_VERSION,
        description="Links accounting firms (partners) to their clients' Business Spaces.",
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        use_handler_docstrings=False,
    )


def _context(state: State) -> Context:
    ctx: Context = state.ctx
    return ctx


async def _every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` now and then every `seconds`; a failure is logged, not fatal."""
    while True:
        try:
            await job()
        except Exception as exc:
            log.warning("background job failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(seconds)


async def _no_session_state(_connection: object) -> None:
    """Pool connections come back as they went: this service sets no session state (no
    SET, LISTEN, advisory lock or cursor outside a transaction; its listener has a
    connection of its own), and asyncpg still rolls back a transaction left open. So the
    reset query asyncpg runs by default, a round trip on every release, is left out."""


async def _close_pool(grace: float = SHUTDOWN_GRACE) -> None:
    """Close the PostgreSQL pool, waiting `grace` seconds for connections in use; then cut
    them (a connection lost while the server restarted may never be handed back)."""
    pool = DB.pool  # type: ignore[attr-defined]
    try:
        await asyncio.wait_for(pool.close(), grace)
    except TimeoutError:
        log.warning("closing the database pool: connections still in use, terminating them")
        pool.terminate()
    DB.pool = None  # type: ignore[attr-defined]


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    await migrate()
    ctx: Context = app.state.ctx
    settings = ctx.settings
    if IS_POSTGRES:
        await DB.start_connection_pool(  # type: ignore[call-arg]
            min_size=1, max_size=settings.database_pool_size, reset=_no_session_state
        )
    # QR codes and emails are pure-Python CPU work: one render process per core, at a
    # lower priority than requests, keeps them off the event loop (emails are sent from
    # there too, so that SMTP does not compete with requests either).
    executor = ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_render_process,
    )
    app.state.qr = QRRenderer(executor)
    mail = MailWorker(
        ctx,
        settings.mail_url,
        executor,
        RetryPolicy(
            max_attempts=settings.mail_max_attempts,
            retry_base=timedelta(seconds=settings.mail_retry_base_seconds),
        ),
    )
    tasks = [
        asyncio.create_task(mail.run(), name="mail-outbox"),
        asyncio.create_task(_every(EXPIRY_SWEEP_SECONDS, lambda: expire_due(ctx)), name="expiry"),
        asyncio.create_task(ctx.bus.watch(newest_cursors), name="event-watch"),
    ]
    if IS_POSTGRES:
        listener = listen(settings.database_url, ctx.bus, revisions)
        tasks.append(asyncio.create_task(listener, name="event-listen"))
    else:
        tasks.append(asyncio.create_task(revisions.watch(newest_revisions), name="revisions"))
    try:
        yield
    finally:
        revisions.trusted = False
        for task in tasks:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
        for task in stuck:
            log.warning("background task %s did not stop in time", task.get_name())
        # Wait (off the loop) for the render process to take its stop signal; left to
        # interpreter exit, the executor's queue thread may be gone and the exit hangs.
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        if IS_POSTGRES:
            await _close_pool()


def create_app(settings: Settings) -> Litestar:
    state = State({"settings": settings, "ctx": Context.from_settings(settings)})
    api_v1 = Router(
        path="/api/v1",
        route_handlers=[
            SpacesController,
            ClientsController,
            InvitationsController,
            EventsController,
            MobileController,
            BusinessLinksController,
            RegistrationLinksController,
        ],
        dependencies={"user": Provide(current_user)},
        security=[{"bearer": []}],
        middleware=[reject_unknown_query],
    )
    cors = None
    if settings.cors_origins:
        cors = CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Retry-After"],
            allow_credentials=False,
        )
    static = create_static_files_router(
        path="/static",
        directories=[Path(__file__).parent / "static"],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )
    return Litestar(
        route_handlers=[
            api_v1,
            LandingController,
            QRImageController,
            WellKnownController,
            healthz,
            readyz,
            static,
        ],
        dependencies={"ctx": Provide(_context, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[_lifespan],
        state=state,
        openapi_config=openapi_config(),
        cors_config=cors,
        middleware=[access_log_middleware],
        plugins=[StrictStructSchemaPlugin()],
        debug=False,
        logging_config=None,
    )
