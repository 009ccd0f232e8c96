"""`create_app(settings)`: the Litestar application.

The lifespan applies migrations, opens the PostgreSQL pool, starts the QR renderer's
process pool, the web role's tasks and (unless web-only) the background loops of
api.background, and closes them again on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from types import FrameType

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from api import background, metrics
from api.access_log import access_log_middleware, settling
from api.errors import EXCEPTION_HANDLERS
from api.head import answer_head_as_get
from api.listener import listen
from api.openapi import OfflineSwaggerPlugin, StrictStructSchemaPlugin
from api.process import database_pool, render_processes
from api.qr import QRRenderer
from api.routes.bodies import API_BODY_MAX, guarded_bodies
from api.routes.businesses import BusinessLinksController
from api.routes.decoding import StrictRequest
from api.routes.demo import demo_router
from api.routes.health import healthz, metrics_text, readyz
from api.routes.idempotency import once_per_key
from api.routes.landing import LandingController
from api.routes.mobile import MobileController
from api.routes.params import current_user, partner_member
from api.routes.partners import ClientsController, EventsController, InvitationsController
from api.routes.public import QRImageController, WellKnownController
from api.routes.query import reject_unknown_query
from api.routes.registration_links import RegistrationLinksController
from api.routes.spaces import SpacesController
from api.routes.webhooks import WebhooksController
from api.services.bus import EventBus
from api.services.context import Context
from api.services.events import newest_cursors, newest_revisions
from api.services.revisions import revisions
from api.settings import Settings
from db.migrate import migrate
from db.transactions import IS_POSTGRES

log = logging.getLogger("api")
SHUTDOWN_GRACE = 5.0  # seconds that the web role's tasks get to stop
API_VERSION = "1.0.0"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Banqup invitations",
        version=API_VERSION,
        description="Links accounting firms (partners) to their clients' Business Spaces.",
        path="/schema",
        render_plugins=[OfflineSwaggerPlugin(), JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        use_handler_docstrings=True,  # see api.routes.params.DocumentedOperation
    )


def _context(state: State) -> Context:
    ctx: Context = state.ctx
    return ctx


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    """The web role (render processes for QR codes, long-poll wake-ups, the change
    listener) and, unless web-only, the background role (api.background)."""
    await migrate()
    ctx: Context = app.state.ctx
    settings = ctx.settings
    async with AsyncExitStack() as stack:
        stack.callback(metrics.process_ended)  # last: after every task has stopped
        stack.enter_context(settling())  # the request lines and counts
        await stack.enter_async_context(database_pool(settings))
        executor = await stack.enter_async_context(render_processes())
        app.state.qr = QRRenderer(executor)
        stack.push_async_callback(_stop, _web_tasks(ctx))
        stack.enter_context(_polls_answered_on_stop(ctx.bus))
        if not app.state.web_only:
            await stack.enter_async_context(background.running(ctx, executor))
        yield


def _web_tasks(ctx: Context) -> list[asyncio.Task[None]]:
    """What keeps long-polls and cached answers fresh across processes."""
    metrics.LONGPOLLS_CAP.set(ctx.bus.caps.per_process)
    tasks = [asyncio.create_task(ctx.bus.watch(newest_cursors), name="event-watch")]
    if IS_POSTGRES:
        listener = listen(ctx.settings.database_url, ctx.bus, revisions)
        tasks.append(asyncio.create_task(listener, name="event-listen"))
    else:
        tasks.append(asyncio.create_task(revisions.watch(newest_revisions), name="revisions"))
    return tasks


@contextmanager
def _polls_answered_on_stop(bus: EventBus) -> Iterator[None]:
    """granian answers every open request before it runs the lifespan's shutdown, so a
    held long-poll would keep a stopping worker up for the rest of its wait (up to 25 s).
    On SIGTERM or SIGINT the held polls are answered at once with what there is. The
    handler goes before the one in place (the event loop's own wake-up, through which
    granian hears the signal, is untouched); not in an app run off the main thread (the
    tests' clients), where there are no signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stopping(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(bus.stop)
        handler = before[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)

    for sig in before:
        signal.signal(sig, stopping)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    revisions.trusted = False
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
    for task in stuck:
        log.warning("task %s did not stop in time", task.get_name())


def create_app(settings: Settings, *, web_only: bool = False) -> Litestar:
    """The app; `web_only` leaves the background work to `python -m api worker`."""
    state = State(
        {"settings": settings, "ctx": Context.from_settings(settings), "web_only": web_only}
    )
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
            WebhooksController,
        ],
        dependencies={
            "user": Provide(current_user),
            "member": Provide(partner_member),
            "once": Provide(once_per_key),
        },
        security=[{"bearer": []}],
        middleware=[guarded_bodies, reject_unknown_query],
        request_max_body_size=API_BODY_MAX,
    )
    cors = None
    if settings.cors_origins:
        cors = CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
                "Accept-Language",
            ],
            expose_headers=["ETag", "Retry-After", "X-Request-ID", "Idempotent-Replayed"],
            allow_credentials=False,
        )
    static = create_static_files_router(
        path="/static",
        directories=[Path(__file__).parent / "static"],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )
    app = Litestar(
        route_handlers=[
            api_v1,
            LandingController,
            QRImageController,
            WellKnownController,
            healthz,
            readyz,
            metrics_text,
            static,
            # The browser demo, in dev only: 404 anywhere else.
            *([demo_router()] if settings.app_env == "dev" else []),
        ],
        dependencies={"ctx": Provide(_context, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[_lifespan],
        state=state,
        openapi_config=openapi_config(),
        cors_config=cors,
        plugins=[StrictStructSchemaPlugin()],
        request_class=StrictRequest,
        request_max_body_size=API_BODY_MAX,
        debug=False,
        logging_config=None,
    )
    # Around routing, as Litestar wraps its own (CORS, OpenTelemetry): the access log sees
    # every request, those no route matched included, and HEAD is routed as GET.
    app.asgi_handler = access_log_middleware(answer_head_as_get(app.asgi_handler))
    return app
