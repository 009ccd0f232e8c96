"""Every change to a partner's data goes through the one unit of work: each write route
and each background loop takes exactly one new partner revision and wakes this process's
long-polls exactly once. A new write route must be added to the walk below (or to the
routes that change no partner, with the reason), so one that bypasses the unit of work
cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar.routes import HTTPRoute

from api.services.invitations import expire_due
from db.tables import Event, Invitation, Partner
from tests.conftest import Runner
from tests.support import Api, Caller, token_of, until

MOBILE = "/api/v1/mobile/invitations"
P = "/api/v1/partners/{partner_id}"

# Write routes that change no existing partner's data, and why.
NOT_A_PARTNER_CHANGE = {
    "POST /api/v1/partners": "creates a partner (its revision starts at 0)",
    "POST /api/v1/businesses": "a Business Space, no partner's data",
    f"POST {P}/invitations/{{invitation_id}}/qr-token": "a short-lived grant: no list or event",
}


def write_routes(api: Api) -> set[str]:
    """Every `METHOD /api/v1/…` route of the app that is not a read."""
    return {
        f"{method} {route.path.replace(':uuid', '').replace(':int', '')}"
        for route in api.http.app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/v1/")
        for method in route.methods
        if method not in ("GET", "HEAD", "OPTIONS")
    }


class Watch:
    """The partner's revision and this process's wake-ups of its long-polls."""

    def __init__(self, api: Api, db: Runner, partner: str) -> None:
        self.db, self.partner = db, UUID(partner)
        self.published: list[int | None] = []
        self._bus = api.ctx.bus
        self._publish = self._bus.publish

    def __enter__(self) -> Watch:
        def publish(partner_id: UUID, newest: int | None = None) -> None:
            if partner_id == self.partner:
                self.published.append(newest)
            self._publish(partner_id, newest)

        self._bus.publish = publish  # type: ignore[method-assign]
        self._first_revision = self.revision()
        return self

    def __exit__(self, *_: object) -> None:
        self._bus.publish = self._publish  # type: ignore[method-assign]

    def revision(self) -> int:
        async def read() -> int:
            row = await Partner.select(Partner.revision).where(Partner.id == self.partner).first()
            return int(row["revision"])

        return self.db(read)

    def email_outcomes(self) -> int:
        """Outcomes the outbox worker recorded so far (one unit of work each: one email is
        claimed at a time in this walk)."""

        async def count() -> int:
            return await Event.count().where(
                (Event.partner == self.partner)
                & Event.type.is_in(["invitation.email_sent", "invitation.email_failed"])
            )

        return self.db(count)

    def quiet(self) -> None:
        """Wait until no email of the partner is still queued (the worker recorded it) and
        every change committed so far has woken the polls: a change publishes right after
        its commit, so a reader can see the commit a moment before the wake-up."""

        async def queued() -> int:
            return await Invitation.count().where(
                (Invitation.partner == self.partner) & (Invitation.email_status == "queued")
            )

        until(lambda: self.db(queued) == 0)
        until(lambda: len(self.published) == self.revision() - self._first_revision)

    def one_change(self, step: Callable[[], object], changes: int = 1) -> None:
        """`step` (with the emails it queues sent) made `changes` changes, besides the
        outbox worker's records of those emails: each took one revision, woke once."""
        self.quiet()
        revision, outcomes, woken = self.revision(), self.email_outcomes(), len(self.published)
        step()
        self.quiet()
        expected = changes + self.email_outcomes() - outcomes
        assert self.revision() - revision == expected
        assert len(self.published) - woken == expected


@pytest.fixture
def watch(api: Api, db: Runner, partner: str) -> Iterator[Watch]:
    with Watch(api, db, partner) as watching:
        yield watching


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_every_write_route_is_walked_below(api: Api) -> None:
    assert write_routes(api) == set(WALKED) | set(NOT_A_PARTNER_CHANGE)


WALKED = {
    f"PATCH {P}",
    f"POST {P}/clients",
    f"POST {P}/clients/import",
    f"PATCH {P}/clients/{{client_id}}",
    f"DELETE {P}/clients/{{client_id}}",
    f"POST {P}/clients/{{client_id}}/disconnect",
    f"POST {P}/invitations",
    f"POST {P}/invitations/{{invitation_id}}/resend",
    f"POST {P}/invitations/{{invitation_id}}/revoke",
    f"POST {P}/registration-links",
    f"POST {P}/registration-links/{{link_id}}/revoke",
    f"POST {MOBILE}/preview",
    f"POST {MOBILE}/confirm",
    f"POST {MOBILE}/decline",
    "POST /api/v1/businesses/{business_id}/links/{link_id}/revoke",
    f"POST {P}/webhooks",
    f"PATCH {P}/webhooks/{{webhook_id}}",
    f"DELETE {P}/webhooks/{{webhook_id}}",
    f"POST {P}/webhooks/{{webhook_id}}/rotate-secret",
    f"POST {P}/webhooks/{{webhook_id}}/test",
    f"POST {P}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver",
}


def test_each_write_takes_one_revision_and_wakes_once(
    api: Api, db: Runner, owner: Caller, partner: str, watch: Watch
) -> None:
    base = f"/api/v1/partners/{partner}"
    ben = api.user("ben")
    made: dict[str, Any] = {}

    def create() -> None:
        made["a"] = ok(
            owner.post(f"{base}/clients", json={"name": "A", "email": "a@x.example"}), 201
        )

    def import_rows() -> None:
        rows = [{"name": n, "email": f"{n.lower()}@x.example"} for n in ("B", "C", "D")]
        results = ok(owner.post(f"{base}/clients/import", json={"clients": rows}))["results"]
        made["b"], made["c"], made["d"] = (r["client"] for r in results)

    def invite(name: str) -> Callable[[], None]:
        def step() -> None:
            [result] = api.invite(owner, partner, [made[name]["id"]])
            made[f"{name}_invitation"] = result["invitation"]

        return step

    watch.one_change(lambda: ok(owner.patch(base, json={"reminder_days": [1, 2]})))
    watch.one_change(create)
    watch.one_change(import_rows)
    watch.one_change(
        lambda: ok(owner.patch(f"{base}/clients/{made['a']['id']}", json={"name": "A2"}))
    )
    watch.one_change(invite("a"))
    watch.one_change(invite("b"))
    watch.one_change(invite("c"))

    async def invited_long_ago() -> None:  # past the resend cooldown (setup, not measured)
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        await Invitation.update({Invitation.created_at: long_ago}).where(
            Invitation.partner == UUID(partner)
        )

    db(invited_long_ago)

    def resend() -> None:
        old = made["a_invitation"]
        made["a_invitation"] = ok(owner.post(f"{base}/invitations/{old['id']}/resend"), 201)

    watch.one_change(resend)
    watch.one_change(
        lambda: ok(owner.post(f"{base}/invitations/{made['b_invitation']['id']}/revoke"))
    )
    qr = f"{base}/invitations/{made['c_invitation']['id']}/qr-token"
    watch.one_change(lambda: ok(owner.post(qr), 201), changes=0)

    grant = {"token": token_of(made["a_invitation"])}
    watch.one_change(lambda: ok(ben.post(f"{MOBILE}/preview", json=grant)))
    watch.one_change(lambda: ok(ben.post(f"{MOBILE}/preview", json=grant)), changes=0)
    confirm = grant | {"new_business": {"name": "Bakery A"}}
    link = {}
    watch.one_change(lambda: link.update(ok(ben.post(f"{MOBILE}/confirm", json=confirm))["link"]))
    decline = {"token": token_of(made["c_invitation"])}
    watch.one_change(lambda: ok(ben.post(f"{MOBILE}/decline", json=decline)))
    business = link["business_id"]
    revoke_link = f"/api/v1/businesses/{business}/links/{link['id']}/revoke"
    watch.one_change(lambda: ok(ben.post(revoke_link)))
    watch.one_change(lambda: ok(ben.post(revoke_link)))  # already revoked: still one unit

    regs = f"{base}/registration-links"
    reg: dict[str, Any] = {}
    watch.one_change(lambda: reg.update(ok(owner.post(regs, json={}), 201)))
    by_link = {"token": reg["token"], "new_business": {"name": "Bakery R"}}
    joined: dict[str, Any] = {}
    watch.one_change(lambda: joined.update(ok(ben.post(f"{MOBILE}/confirm", json=by_link))))
    watch.one_change(lambda: ok(owner.post(f"{regs}/{reg['id']}/revoke")))
    disconnect = f"{base}/clients/{joined['client_id']}/disconnect"
    watch.one_change(lambda: ok(owner.post(disconnect)))
    erase = f"{base}/clients/{made['d']['id']}"
    watch.one_change(lambda: owner.request("DELETE", erase).raise_for_status())
    assert watch.email_outcomes() == 4  # the worker's records were walked too

    hooks = f"{base}/webhooks"
    hook: dict[str, Any] = {}
    body = {
        "url": "http://127.0.0.1:9/hooks"
    }  # nothing listens: failed attempts change no revision
    watch.one_change(lambda: hook.update(ok(owner.post(hooks, json=body), 201)))
    one = f"{hooks}/{hook['id']}"
    watch.one_change(lambda: ok(owner.patch(one, json={"description": "ERP"})))
    watch.one_change(lambda: ok(owner.post(f"{one}/rotate-secret")))
    test: dict[str, Any] = {}
    watch.one_change(lambda: test.update(ok(owner.post(f"{one}/test"), 202)))
    redeliver = f"{one}/deliveries/{test['id']}/redeliver"
    watch.one_change(lambda: ok(owner.post(redeliver), 202))
    watch.one_change(lambda: owner.request("DELETE", one).raise_for_status())


def test_the_expiry_sweep_takes_one_revision_and_wakes_once(
    api: Api, db: Runner, owner: Caller, partner: str, watch: Watch
) -> None:
    for name in ("E1", "E2"):
        api.invited_client(owner, partner, name=name, email=f"{name.lower()}@x.example")
    watch.quiet()

    async def past_expiry() -> None:  # as if they were sent long ago (one statement)
        past = datetime.now(UTC) - timedelta(seconds=1)
        await Invitation.update({Invitation.expires_at: past}).where(
            Invitation.partner == UUID(partner)
        )

    def expired() -> int:
        events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
        return [e["type"] for e in events].count("invitation.expired")

    # The app's sweep (every SWEEP_SECONDS) writes both down in one change.
    watch.one_change(lambda: (db(past_expiry), until(lambda: expired() == 2)))
    assert db(lambda: expire_due(api.ctx)) == 0  # nothing left to sweep
