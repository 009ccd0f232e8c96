"""Every partner and business route, called by an outsider and by no one: 404 and 401,
and nothing changes."""

import re
from typing import Any

import pytest

from tests.support import Api, token_of

MOBILE = "/api/v1/mobile/invitations"
# Bodies that would succeed for a member, so that only membership can stop them.
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/partners/{partner_id}/clients"): {
        "name": "Intruder",
        "email": "x@evil.example",
    },
    ("post", "/api/v1/partners/{partner_id}/clients/import"): {"clients": [{"name": "Intruder"}]},
    ("patch", "/api/v1/partners/{partner_id}/clients/{client_id}"): {"name": "Pwned"},
    ("post", "/api/v1/partners/{partner_id}/invitations"): {"client_ids": ["{client_id}"]},
    ("post", "/api/v1/partners/{partner_id}/invitations/{invitation_id}/resend"): {},
    ("post", "/api/v1/partners/{partner_id}/invitations/{invitation_id}/qr-token"): {},
    ("post", "/api/v1/partners/{partner_id}/registration-links"): {"label": "Intruder"},
    ("post", "/api/v1/partners/{partner_id}/webhooks"): {"url": "http://127.0.0.1:9/evil"},
    ("patch", "/api/v1/partners/{partner_id}/webhooks/{webhook_id}"): {"status": "disabled"},
}


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """A partner with a client, an invitation, an accepted link and a registration link."""
    anna = api.user("anna")
    partner = api.partner(anna, "Acme")
    client, invitation = api.invited_client(anna, partner)
    _, accepted = api.invited_client(anna, partner, name="Linked", email="linked@example.com")
    ben = api.user("ben")
    link = ben.ok(
        "POST",
        f"{MOBILE}/confirm",
        json={"token": token_of(accepted), "new_business": {"name": "Ben BV"}},
    )["link"]
    registration = anna.ok("POST", f"/api/v1/partners/{partner}/registration-links", 201, json={})
    hooks = f"/api/v1/partners/{partner}/webhooks"
    webhook = anna.ok("POST", hooks, 201, json={"url": "http://127.0.0.1:9/hooks"})
    delivery = anna.ok("POST", f"{hooks}/{webhook['id']}/test", 202)
    return {
        "anna": anna,
        "ben": ben,
        "ids": {
            "partner_id": partner,
            "client_id": client["id"],
            "invitation_id": invitation["id"],
            "business_id": link["business_id"],
            "link_id": link["id"],
            "webhook_id": webhook["id"],
            "delivery_id": str(delivery["id"]),
        },
        "registration_link_id": registration["id"],
    }


def without_delivery(client: dict[str, Any]) -> dict[str, Any]:
    """A client less its invitation's email delivery state, which the outbox worker sets
    on its own schedule."""
    invitation = client["invitation"]
    if invitation is None:
        return client
    return client | {"invitation": invitation | {"email_status": None, "email_error": None}}


def snapshot(world: dict[str, Any]) -> Any:
    anna, ben, ids = world["anna"], world["ben"], world["ids"]
    partner = ids["partner_id"]
    return (
        [
            without_delivery(c)
            for c in anna.ok("GET", f"/api/v1/partners/{partner}/clients")["items"]
        ],
        anna.ok("GET", f"/api/v1/partners/{partner}/registration-links")["items"],
        [
            e
            for e in anna.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
            if "email" not in e["type"]
        ],
        ben.ok("GET", f"/api/v1/businesses/{ids['business_id']}/links")["items"],
        anna.ok("GET", f"/api/v1/partners/{partner}/webhooks")["items"],
    )


def operations(api: Api) -> list[tuple[str, str]]:
    paths = api.http.get("/schema/openapi.json").json()["paths"]
    return [
        (method, path)
        for path, ops in paths.items()
        if path.startswith(("/api/v1/partners/{", "/api/v1/businesses/{"))
        for method in ops
    ]


def fill(path: str, ids: dict[str, str], registration_link_id: str) -> str:
    path = path.replace(
        "/registration-links/{link_id}", f"/registration-links/{registration_link_id}"
    )
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_outsiders_and_anonymous_callers_change_nothing(api: Api, world: dict[str, Any]) -> None:
    mallory = api.user("mallory")
    api.partner(mallory, "Mallory & Co")  # a member of other spaces, not of these
    api.business(mallory, "Mallory Ltd")
    before = snapshot(world)
    checked = 0
    for method, path in operations(api):
        url = fill(path, world["ids"], world["registration_link_id"])
        body = BODIES.get((method, path), {})
        if body:
            body = {
                k: [fill(i, world["ids"], "") for i in v] if k == "client_ids" else v
                for k, v in body.items()
            }
        outsider = mallory.request(method.upper(), url, json=body if method != "get" else None)
        assert outsider.status_code == 404, (method, path, outsider.text)
        assert outsider.json()["code"] == "not_found"
        anonymous = api.http.request(method.upper(), url, json=body if method != "get" else None)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.json()["code"] == "unauthenticated"
        checked += 1
    assert checked >= 18
    assert snapshot(world) == before


def test_a_business_member_who_is_not_admin_cannot_revoke(
    api: Api, world: dict[str, Any], db: Any
) -> None:
    from uuid import UUID

    from db.tables import BusinessMember

    carla = api.user("carla")

    async def add_member() -> None:
        await BusinessMember(
            business=UUID(world["ids"]["business_id"]), user_sub=carla.sub, role="member"
        ).save()

    db(add_member)
    ids = world["ids"]
    links = carla.ok("GET", f"/api/v1/businesses/{ids['business_id']}/links")["items"]
    assert [x["id"] for x in links] == [ids["link_id"]]  # members may look
    response = carla.post(f"/api/v1/businesses/{ids['business_id']}/links/{ids['link_id']}/revoke")
    assert response.status_code == 403 and response.json()["code"] == "not_business_admin"
    assert (
        world["ben"].ok("GET", f"/api/v1/businesses/{ids['business_id']}/links")["items"][0][
            "status"
        ]
        == "active"
    )


def test_an_outsider_learns_nothing_from_a_query_the_partner_would_refuse(
    api: Api, world: dict[str, Any]
) -> None:
    """A partner route asks who the caller is before it reads the query: an outsider gets
    the 404 of any other path, a member the 400 of the query."""
    mallory = api.user("mallory")
    ids = world["ids"]
    partner = ids["partner_id"]
    for url in (
        f"/api/v1/partners/{partner}/webhooks/{ids['webhook_id']}/deliveries?limit=0",
        f"/api/v1/partners/{partner}/registration-links/"
        f"{world['registration_link_id']}/poster.svg?lang=xx",
    ):
        outsider = mallory.get(url)
        assert (outsider.status_code, outsider.json()["code"]) == (404, "not_found"), url
        member = world["anna"].get(url)
        assert (member.status_code, member.json()["code"]) == (400, "validation_failed"), url
