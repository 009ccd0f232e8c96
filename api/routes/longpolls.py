"""Long-polls beyond their caps, answered before the route does any work for them.

`GET …/events?wait=N` is held until an event comes, within caps per user, per partner
and per process (`api.services.bus`); beyond them it is answered `429` at once. A flood
of polls is nearly all refusals, and a refusal answered from the handler still costs the
dependencies, the parsing of every parameter and an exception on its way out: at a
thousand polls sent at once, the newcomers queued behind them (`/healthz`, a signed-in
`/me`) waited most of a second. This middleware of the route answers them first, from
memory: a caller whose token verified before (`AccessTokenVerifier.remembered`) and a
query that asks to wait, with no place for it. The rule is `EventBus.refusal`, the same
that `events.page` applies when it takes the place; anything this does not recognise
goes on to the route, which decides.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl
from uuid import UUID

from litestar.types import ASGIApp, Receive, Scope, Send

from api.errors import send_problem
from api.services.context import Context

# `wait` as the route reads it (1..30 seconds), spelt the one usual way.
_WAITS = re.compile(r"[1-9][0-9]?")
MAX_WAIT = 30


def refuse_capped_polls(app: ASGIApp) -> ASGIApp:
    """Middleware of `listEvents`: a long-poll with no place is 429 before the route."""

    async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
        ctx: Context = scope["litestar_app"].state.ctx
        user = ctx.verifier.remembered_caller(scope)
        partner_id = scope["path_params"].get("partner_id")
        if user is not None and isinstance(partner_id, UUID) and _waits(scope["query_string"]):
            refused = ctx.bus.refusal(user.sub, partner_id)
            if refused is not None:
                await send_problem(refused, scope, receive, send)
                return
        await app(scope, receive, send)

    return refusing


def _waits(query: bytes) -> bool:
    """Whether the query asks to wait; the last `wait` counts, as for the route."""
    wait = None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "wait":
            wait = value
    return wait is not None and _WAITS.fullmatch(wait) is not None and int(wait) <= MAX_WAIT
