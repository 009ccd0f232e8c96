"""Helpers the tests share: signed-in callers and the data they make through the API; the
database edits that stand in for time passing; a token's parts."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import httpx
import jwt
from litestar.testing import TestClient

from api.auth import AccessTokenVerifier
from api.services.access import Member
from api.services.context import Context
from db.tables import Client, Invitation, Partner
from mobile_contract import models


def access_token(client: TestClient[Any], sub: str, email: str | None = None, **claims: Any) -> str:
    verifier: AccessTokenVerifier = client.app.state.ctx.verifier
    token = verifier.issue(sub, email, claims.pop("name", None))
    if claims:
        payload = jwt.decode(token, options={"verify_signature": False}) | claims
        payload = {k: v for k, v in payload.items() if v is not None}
        secret = client.app.state.settings.auth_hs256_secret  # the test run sets one
        token = jwt.encode(payload, secret, algorithm="HS256")
    return token


@dataclass
class Caller:
    """A signed-in user making requests."""

    http: TestClient[Any]
    sub: str
    email: str
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = self.headers | kwargs.pop("headers", {})
        return self.http.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, json=json, **kwargs)

    def patch(self, url: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, json=json, **kwargs)

    def ok(self, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, url, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def member(self, partner: str) -> Member:
        """This user as a member of `partner`, as a route hands it to a service (for tests
        that call services directly)."""
        return Member(models.User(sub=self.sub, email=self.email, name=None), UUID(partner))


class Api:
    """Makes callers and the usual data (partners, clients, invitations) via HTTP."""

    def __init__(self, http: TestClient[Any]) -> None:
        self.http = http
        self.ctx: Context = http.app.state.ctx

    def user(self, name: str | None = None) -> Caller:
        sub = name or f"user-{uuid.uuid4().hex[:8]}"
        email = f"{sub}@example.com"
        token = access_token(self.http, sub, email, name=sub.title())
        return Caller(self.http, sub, email, {"Authorization": f"Bearer {token}"})

    def partner(self, owner: Caller, name: str = "Acme Accountants") -> str:
        return str(owner.ok("POST", "/api/v1/partners", 201, json={"name": name})["id"])

    def business(self, owner: Caller, name: str = "Bakery Janssens") -> str:
        return str(owner.ok("POST", "/api/v1/businesses", 201, json={"name": name})["id"])

    def client_row(self, owner: Caller, partner_id: str, **fields: Any) -> dict[str, Any]:
        body = {"name": "Bakery Janssens", "email": "owner@bakery.example"} | fields
        return owner.ok("POST", f"/api/v1/partners/{partner_id}/clients", 201, json=body)

    def invite(
        self, owner: Caller, partner_id: str, client_ids: list[str], **fields: Any
    ) -> list[dict[str, Any]]:
        body = {"client_ids": client_ids} | fields
        results = owner.ok("POST", f"/api/v1/partners/{partner_id}/invitations", 200, json=body)[
            "results"
        ]
        return list(results)

    def accept(
        self, user: Caller, invitation: dict[str, Any], business: str = "B"
    ) -> dict[str, Any]:
        """`user` confirms `invitation` with a new business: the Confirmation."""
        body = {"token": token_of(invitation), "new_business": {"name": business}}
        return user.ok("POST", "/api/v1/mobile/invitations/confirm", json=body)  # type: ignore[no-any-return]

    def invited_client(
        self, owner: Caller, partner_id: str, **fields: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new client with one pending invitation: (client, invitation)."""
        client = self.client_row(owner, partner_id, **fields)
        [result] = self.invite(owner, partner_id, [client["id"]], message="Welcome aboard!")
        return client, result["invitation"]


def established(db: Callable[[Any], Any], partner_id: str) -> None:
    """Make the partner older than a week (out of its first week's smaller invitation cap)."""

    async def age() -> None:
        week_ago = datetime.now(UTC) - timedelta(days=8)
        await Partner.update({Partner.created_at: week_ago}).where(
            Partner.id == uuid.UUID(partner_id)
        )

    db(age)


def age_invitation(db: Callable[[Any], Any], invitation_id: str, **delta: float) -> None:
    """Move an invitation's creation (and so its cooldown) into the past by `delta`
    (`timedelta`'s keywords)."""

    async def update() -> None:
        row = (
            await Invitation.select(Invitation.created_at)
            .where(Invitation.id == uuid.UUID(invitation_id))
            .first()
        )
        await Invitation.update(
            {Invitation.created_at: row["created_at"] - timedelta(**delta)}
        ).where(Invitation.id == uuid.UUID(invitation_id))

    db(update)


def expire_invitation(db: Callable[[Any], Any], invitation_id: str) -> None:
    """Let the invitation's lifetime pass (its expiry is copied on the client row)."""

    async def update() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await Invitation.update({Invitation.expires_at: past}).where(
            Invitation.id == uuid.UUID(invitation_id)
        )
        await Client.update({Client.invitation_expires_at: past}).where(
            Client.latest_invitation == uuid.UUID(invitation_id)
        )

    db(update)


def token_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A signed token's header and claims (decoded, not verified) and its signature."""
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def token_of(invitation: dict[str, Any]) -> str:
    url: str = invitation["url"]
    return url.rsplit("/i/", 1)[1]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body


T = TypeVar("T")


def until(check: Callable[[], T], within: float = 15) -> T:
    """The first true value of `check()`, asked every 50 ms; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not (value := check()):
        assert time.monotonic() < deadline, f"not seen within {within} s"
        time.sleep(0.05)
    return value
