"""The invitation story through HTTP, as the dashboard and the app play it."""

import time
from typing import Any

import pytest

from tests.conftest import Runner
from tests.qr_decode import decode_both
from tests.support import Api, Caller, assert_problem, established, token_of

MOBILE = "/api/v1/mobile/invitations"


def without_delivery(invitation: dict[str, Any]) -> dict[str, Any]:
    """An invitation less its email delivery fields, which the outbox worker sets meanwhile."""
    return {k: v for k, v in invitation.items() if k not in ("email_status", "email_error")}


def event_types(owner: Caller, partner: str, after: str = "") -> list[str]:
    params = {"after": after} if after else {}
    page = owner.ok("GET", f"/api/v1/partners/{partner}/events", params=params)
    # Email delivery events come from the outbox worker, at their own pace.
    return [e["type"] for e in page["events"] if not e["type"].startswith("invitation.email_")]


def test_the_whole_story(api: Api, owner: Caller, partner: str) -> None:
    made = [
        api.client_row(owner, partner, name=f"Client {i}", email=f"c{i}@example.com")
        for i in range(3)
    ]
    results = api.invite(
        owner,
        partner,
        [c["id"] for c in made],
        message="Please link your business <b>today</b>",
        access_level="read_only",
    )
    assert [r["client_id"] for r in results] == [c["id"] for c in made]
    invitation = results[0]["invitation"]
    assert invitation["status"] == "pending"
    assert invitation["email"] == "c0@example.com"
    assert invitation["access_level"] == "read_only"
    assert invitation["email_status"] == "queued"
    token = token_of(invitation)
    assert invitation["url"] == f"https://invites.banqup.example/i/{token}"
    assert invitation["app_url"] == f"banqupone://invite?token={token}"

    # The QR code in the email decodes to the universal link.
    png = api.http.get(invitation["qr_png_url"].removeprefix("https://invites.banqup.example"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decode_both(png.content) == invitation["url"]

    # The app scans it and previews: who asks for what; the invitation becomes opened.
    ben = api.user("ben")
    preview = ben.ok("POST", f"{MOBILE}/preview", json={"token": token})
    assert preview == {
        "kind": "invitation",
        "invitation_id": invitation["id"],
        "partner": {"id": partner, "name": "Acme Accountants"},
        "client_name": "Client 0",
        "invited_email": "c***@example.com",
        "message": "Please link your business <b>today</b>",
        "access_level": "read_only",
        "expires_at": invitation["expires_at"],
        "businesses": [],
    }
    opened = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert opened["opened_at"] is not None

    # Ben confirms with a new business.
    confirmation = ben.ok(
        "POST",
        f"{MOBILE}/confirm",
        json={"token": token, "new_business": {"name": "Ben's Bakery", "country": "BE"}},
    )
    link = confirmation["link"]
    assert confirmation["client_id"] == made[0]["id"]
    assert link["partner_id"] == partner
    assert link["access_level"] == "read_only"
    assert link["status"] == "active"
    me = ben.ok("GET", "/api/v1/me")
    assert me["businesses"] == [
        {"id": link["business_id"], "name": "Ben's Bakery", "role": "admin"}
    ]

    client = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{made[0]['id']}")
    assert client["status"] == "active"
    assert client["business_id"] == link["business_id"]
    assert client["connected_at"] is not None
    assert client["invitation"]["status"] == "accepted"
    assert client["invitation"]["url"] is None
    active = owner.ok("GET", f"/api/v1/partners/{partner}/clients", params={"status": "active"})
    assert [c["id"] for c in active["items"]] == [made[0]["id"]]

    assert event_types(owner, partner) == [
        "client.created",
        "client.created",
        "client.created",
        "invitation.created",
        "invitation.created",
        "invitation.created",
        "invitation.opened",
        "invitation.accepted",
        "client.activated",
    ]

    # Confirming again (a retry by the app) returns the same link and creates nothing.
    again = ben.ok(
        "POST",
        f"{MOBILE}/confirm",
        json={"token": token, "new_business": {"name": "Ben's Bakery", "country": "BE"}},
    )
    assert again == confirmation
    same_business = ben.ok(
        "POST", f"{MOBILE}/confirm", json={"token": token, "business_id": link["business_id"]}
    )
    assert same_business == confirmation
    assert len(ben.ok("GET", "/api/v1/me")["businesses"]) == 1
    assert len(event_types(owner, partner)) == 9

    # Anyone else is told it was accepted already.
    eve = api.user("eve")
    response = eve.post(
        f"{MOBILE}/confirm", json={"token": token, "new_business": {"name": "Eve Ltd"}}
    )
    assert_problem(response, 409, "invitation_already_accepted")
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": token}), 409, "invitation_already_accepted"
    )
    assert eve.ok("GET", "/api/v1/me")["businesses"] == []


def test_confirm_with_an_existing_business(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    business = api.business(ben, "Ben's Bakery")
    preview = ben.ok("POST", f"{MOBILE}/preview", json={"token": token_of(invitation)})
    assert preview["businesses"] == [
        {"id": business, "name": "Ben's Bakery", "already_linked": False}
    ]
    confirmation = ben.ok(
        "POST", f"{MOBILE}/confirm", json={"token": token_of(invitation), "business_id": business}
    )
    assert confirmation["link"]["business_id"] == business
    assert confirmation["link"]["access_level"] == "full"
    links = ben.ok("GET", f"/api/v1/businesses/{business}/links")["items"]
    assert [(x["partner_id"], x["partner_name"], x["status"]) for x in links] == [
        (partner, "Acme Accountants", "active")
    ]
    # A second invitation of the same partner to the same business is refused.
    _, second = api.invited_client(owner, partner, name="Other", email="other@example.com")
    preview = ben.ok("POST", f"{MOBILE}/preview", json={"token": token_of(second)})
    assert preview["businesses"] == [
        {"id": business, "name": "Ben's Bakery", "already_linked": True}
    ]
    response = ben.post(
        f"{MOBILE}/confirm", json={"token": token_of(second), "business_id": business}
    )
    assert_problem(response, 409, "business_already_linked")
    assert client["id"]


def test_only_a_business_admin_may_confirm(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    ben, eve = api.user("ben"), api.user("eve")
    business = api.business(ben)
    response = eve.post(
        f"{MOBILE}/confirm", json={"token": token_of(invitation), "business_id": business}
    )
    assert_problem(response, 403, "not_business_admin")
    fake = "00000000-0000-4000-8000-000000000000"
    response = eve.post(
        f"{MOBILE}/confirm", json={"token": token_of(invitation), "business_id": fake}
    )
    assert_problem(response, 403, "not_business_admin")
    status = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")["status"]
    assert status == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"new_business": {}},
        {"new_business": {"name": "A"}, "business_id": "00000000-0000-4000-8000-000000000000"},
    ],
)
def test_confirm_needs_exactly_one_business_choice_and_one_grant(
    api: Api, owner: Caller, partner: str, body: dict[str, Any]
) -> None:
    _, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    response = ben.post(f"{MOBILE}/confirm", json={"token": token_of(invitation)} | body)
    assert_problem(response, 400, "validation_failed")
    both = {"token": token_of(invitation), "user_code": "BCDF-GHJK", "new_business": {"name": "A"}}
    assert_problem(ben.post(f"{MOBILE}/confirm", json=both), 400, "validation_failed")
    assert_problem(ben.post(f"{MOBILE}/preview", json={}), 400, "validation_failed")


def test_decline(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    declined = ben.ok("POST", f"{MOBILE}/decline", json={"token": token_of(invitation)})
    assert declined["status"] == "declined"
    assert declined["declined_at"] is not None
    assert declined["url"] is None
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["status"] == "inactive"
    assert row["invitation"]["status"] == "declined"
    token = token_of(invitation)
    assert_problem(ben.post(f"{MOBILE}/preview", json={"token": token}), 410, "invitation_declined")
    response = ben.post(f"{MOBILE}/confirm", json={"token": token, "new_business": {"name": "B"}})
    assert_problem(response, 410, "invitation_declined")
    assert_problem(ben.post(f"{MOBILE}/decline", json={"token": token}), 410, "invitation_declined")
    assert event_types(owner, partner)[-1] == "invitation.declined"


def test_revoke(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke"
    revoked = owner.ok("POST", url)
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    assert without_delivery(owner.ok("POST", url)) == without_delivery(revoked)  # idempotent
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["status"] == "inactive"
    ben = api.user("ben")
    token = token_of(invitation)
    assert_problem(ben.post(f"{MOBILE}/preview", json={"token": token}), 410, "invitation_revoked")
    response = ben.post(f"{MOBILE}/confirm", json={"token": token, "new_business": {"name": "B"}})
    assert_problem(response, 410, "invitation_revoked")
    assert event_types(owner, partner).count("invitation.revoked") == 1
    # The client can be invited afresh.
    [result] = api.invite(owner, partner, [client["id"]])
    assert result["invitation"]["status"] == "pending"


def test_revoke_of_an_accepted_invitation_is_refused(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    api.accept(api.user("ben"), invitation)
    response = owner.post(f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
    assert_problem(response, 409, "invitation_already_accepted")


def test_bulk_invite_reports_each_client(api: Api, owner: Caller, partner: str) -> None:
    fresh = api.client_row(owner, partner, name="Fresh")
    no_mail = owner.ok("POST", f"/api/v1/partners/{partner}/clients", 201, json={"name": "No mail"})
    invited, _ = api.invited_client(owner, partner, name="Invited")
    active, inv = api.invited_client(owner, partner, name="Active")
    api.accept(api.user("ben"), inv)
    other_owner = api.user("olga")
    foreign = api.client_row(other_owner, api.partner(other_owner, "Other"), name="Foreign")
    unknown = "00000000-0000-4000-8000-000000000000"
    ids = [
        fresh["id"],
        no_mail["id"],
        invited["id"],
        active["id"],
        foreign["id"],
        unknown,
        fresh["id"],
    ]
    results = api.invite(owner, partner, ids)
    assert [r["client_id"] for r in results] == ids
    assert [r.get("error", {}).get("code") for r in results] == [
        None,
        "client_missing_email",
        "client_already_invited",
        "client_already_active",
        "not_found",
        "not_found",
        "client_already_invited",
    ]
    assert "invitation" in results[0] and all("invitation" not in r for r in results[1:])


@pytest.mark.parametrize(
    "body",
    [
        {"client_ids": []},
        {"client_ids": ["00000000-0000-4000-8000-000000000000"] * 1001},
        {"client_ids": ["nope"]},
        {"client_ids": ["00000000-0000-4000-8000-000000000000"], "message": "m" * 2001},
        {"client_ids": ["00000000-0000-4000-8000-000000000000"], "access_level": "admin"},
    ],
)
def test_bulk_invite_validates(owner: Caller, partner: str, body: dict[str, Any]) -> None:
    response = owner.post(f"/api/v1/partners/{partner}/invitations", json=body)
    assert_problem(response, 400, "validation_failed")


def test_bulk_invite_of_1000_clients(owner: Caller, partner: str, db: Runner) -> None:
    established(db, partner)  # a new partner sends at most 200 a day
    rows = [{"name": f"Client {i}", "email": f"c{i}@example.com"} for i in range(1000)]
    imported = owner.ok(
        "POST", f"/api/v1/partners/{partner}/clients/import", json={"clients": rows}
    )
    ids = [r["client"]["id"] for r in imported["results"]]
    results = owner.ok("POST", f"/api/v1/partners/{partner}/invitations", json={"client_ids": ids})
    assert [r["invitation"]["status"] for r in results["results"]] == ["pending"] * 1000
    invited = owner.ok(
        "GET", f"/api/v1/partners/{partner}/clients", params={"status": "invited", "limit": 500}
    )
    assert len(invited["items"]) == 500 and invited["next_cursor"]


def test_disconnect_revokes_the_link(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    link = api.accept(ben, invitation)["link"]
    url = f"/api/v1/partners/{partner}/clients/{client['id']}/disconnect"
    disconnected = owner.ok("POST", url)
    assert disconnected["status"] == "inactive"
    assert disconnected["business_id"] is None and disconnected["connected_at"] is None
    again = owner.ok("POST", url)
    assert again | {"invitation": None} == disconnected | {"invitation": None}
    links = ben.ok("GET", f"/api/v1/businesses/{link['business_id']}/links")["items"]
    assert [x["status"] for x in links] == ["revoked"]
    assert event_types(owner, partner)[-1] == "client.deactivated"


def test_business_revokes_a_link(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    link = api.accept(ben, invitation)["link"]
    business = link["business_id"]
    eve = api.user("eve")
    revoke_url = f"/api/v1/businesses/{business}/links/{link['id']}/revoke"
    assert_problem(eve.post(revoke_url), 404, "not_found")
    assert_problem(eve.get(f"/api/v1/businesses/{business}/links"), 404, "not_found")
    revoked = ben.ok("POST", revoke_url)
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["status"] == "inactive" and row["business_id"] is None
    assert event_types(owner, partner)[-1] == "client.deactivated"
    # The partner can invite the client again, and it can link again.
    [result] = api.invite(owner, partner, [client["id"]])
    again = ben.ok(
        "POST",
        f"{MOBILE}/confirm",
        json={"token": token_of(result["invitation"]), "business_id": business},
    )
    assert again["link"]["id"] != link["id"]


def test_partner_routes_hide_other_partners_invitations(
    api: Api, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    mallory = api.user("mallory")
    api.partner(mallory, "Mallory & Co")
    base = f"/api/v1/partners/{partner}/invitations/{invitation['id']}"
    assert_problem(mallory.get(base), 404, "not_found")
    for action in ("resend", "revoke", "qr-token"):
        assert_problem(mallory.post(f"{base}/{action}", json={}), 404, "not_found")
    assert_problem(mallory.get(f"/api/v1/partners/{partner}/events"), 404, "not_found")
    assert owner.ok("GET", base)["status"] == "pending"


def test_invitation_etag(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}"
    deadline = time.monotonic() + 15
    while owner.ok("GET", url)["email_status"] == "queued":  # let the email go out first
        assert time.monotonic() < deadline
        time.sleep(0.05)
    etag = owner.get(url).headers["etag"]
    assert owner.get(url, headers={"If-None-Match": etag}).status_code == 304
    api.user("ben").ok("POST", f"{MOBILE}/preview", json={"token": token_of(invitation)})
    response = owner.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.json()["opened_at"] is not None
