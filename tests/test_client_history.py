"""A client's origin, disconnection and invitation history; erasing a client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from db.tables import Client, Event, Invitation, Link, MailOutbox, QRGrant
from tests.conftest import Runner
from tests.support import Api, Caller, assert_problem, token_of


def clients_url(partner: str, rest: str = "") -> str:
    return f"/api/v1/partners/{partner}/clients{rest}"


def test_a_client_says_where_it_came_from(api: Api, owner: Caller, partner: str) -> None:
    manual = api.client_row(owner, partner)
    assert manual["source"] == "manual" and manual["registration_link_id"] is None
    imported = owner.ok(
        "POST", clients_url(partner, "/import"), json={"clients": [{"name": "Imported"}]}
    )["results"][0]["client"]
    assert imported["source"] == "import"
    assert owner.ok("GET", clients_url(partner, f"/{imported['id']}"))["source"] == "import"


def test_disconnection_records_when_and_by_whom(api: Api, owner: Caller, partner: str) -> None:
    ben = api.user("ben")
    by_partner, invitation = api.invited_client(owner, partner, name="P")
    api.accept(ben, invitation, "Bakery P")
    assert owner.ok("GET", clients_url(partner, f"/{by_partner['id']}"))["disconnected_at"] is None
    client = owner.ok("POST", clients_url(partner, f"/{by_partner['id']}/disconnect"))
    assert client["disconnected_by"] == "partner"
    assert client["disconnected_at"] is not None

    by_business, invitation = api.invited_client(owner, partner, name="B")
    link = api.accept(ben, invitation, "Bakery B")["link"]
    ben.ok("POST", f"/api/v1/businesses/{link['business_id']}/links/{link['id']}/revoke")
    client = owner.ok("GET", clients_url(partner, f"/{by_business['id']}"))
    assert client["status"] == "inactive"
    assert client["disconnected_by"] == "business"


def test_history_lists_every_invitation_newest_first(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client, first = api.invited_client(owner, partner)

    async def sent_long_ago() -> None:  # past the resend cooldown
        await Invitation.update(
            {Invitation.created_at: datetime.now(UTC) - timedelta(hours=1)}
        ).where(Invitation.id == UUID(first["id"]))

    db(sent_long_ago)
    base = f"/api/v1/partners/{partner}/invitations"
    second = owner.ok("POST", f"{base}/{first['id']}/resend", 201)
    owner.ok("POST", f"{base}/{second['id']}/revoke")
    history = owner.ok("GET", clients_url(partner, f"/{client['id']}/invitations"))["items"]
    assert [(i["id"], i["status"]) for i in history] == [
        (second["id"], "revoked"),
        (first["id"], "superseded"),
    ]


def test_history_of_another_partners_client_is_not_found(
    api: Api, owner: Caller, partner: str
) -> None:
    client = api.client_row(owner, partner)
    stranger = api.user("stranger")
    theirs = api.partner(stranger, "Other Firm")
    response = stranger.get(clients_url(theirs, f"/{client['id']}/invitations"))
    assert_problem(response, 404, "not_found")


def test_delete_erases_the_client_and_its_personal_data(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client, invitation = api.invited_client(
        owner, partner, name="Jan Peeters", vat_number="BE0123456789", external_ref="K-9"
    )
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token", 201)
    kept = api.client_row(owner, partner, name="Someone Else")
    response = owner.request("DELETE", clients_url(partner, f"/{client['id']}"))
    assert response.status_code == 204 and response.content == b""
    assert_problem(owner.get(clients_url(partner, f"/{client['id']}")), 404, "not_found")

    async def stored() -> dict[str, Any]:
        client_id, invitation_id = UUID(client["id"]), UUID(invitation["id"])
        return {
            "clients": await Client.count().where(Client.id == client_id),
            "invitations": await Invitation.count().where(Invitation.client == client_id),
            "mail": await MailOutbox.count().where(MailOutbox.invitation == invitation_id),
            "grants": await QRGrant.count().where(QRGrant.invitation == invitation_id),
            "events": await Event.select(Event.type, Event.data)
            .where(Event.client == client_id)
            .order_by(Event.seq),
            "others": await Client.count().where(Client.id == UUID(kept["id"])),
        }

    found = db(stored)
    assert found["clients"] == found["invitations"] == found["mail"] == found["grants"] == 0
    assert found["others"] == 1
    types = [e["type"] for e in found["events"]]
    assert types[0] == "client.created" and types[-1] == "client.deleted"
    assert "invitation.created" in types
    assert all(e["data"] in ("{}", {}) for e in found["events"])
    preview = api.user("ben").post(
        "/api/v1/mobile/invitations/preview", json={"token": token_of(invitation)}
    )
    assert_problem(preview, 400, "token_invalid")


def test_delete_refuses_an_active_client(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    api.accept(api.user("ben"), invitation)
    response = owner.request("DELETE", clients_url(partner, f"/{client['id']}"))
    assert_problem(response, 409, "client_already_active")
    assert owner.ok("GET", clients_url(partner, f"/{client['id']}"))["status"] == "active"


def test_a_disconnected_client_can_be_deleted(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client, invitation = api.invited_client(owner, partner)
    link = api.accept(api.user("ben"), invitation)["link"]
    owner.ok("POST", clients_url(partner, f"/{client['id']}/disconnect"))
    response = owner.request("DELETE", clients_url(partner, f"/{client['id']}"))
    assert response.status_code == 204

    async def link_client() -> Any:
        row = await Link.select(Link.client, Link.status).where(Link.id == UUID(link["id"])).first()
        return row

    assert db(link_client) == {"client": None, "status": "revoked"}
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert events[-1]["type"] == "client.deleted"
    assert events[-1]["client_id"] == client["id"]
    assert all(e["data"] == {} for e in events if e.get("client_id") == client["id"])


def test_deleting_an_unknown_client_is_not_found(owner: Caller, partner: str) -> None:
    response = owner.request(
        "DELETE", clients_url(partner, "/00000000-0000-4000-8000-000000000000")
    )
    assert_problem(response, 404, "not_found")


def test_an_edit_is_an_event(api: Api, owner: Caller, partner: str) -> None:
    client = api.client_row(owner, partner)
    owner.ok("PATCH", clients_url(partner, f"/{client['id']}"), json={"name": "New", "email": None})
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert events[-1]["type"] == "client.updated"
    assert events[-1]["data"] == {"fields": ["name", "email"]}


def test_an_edit_names_only_the_fields_it_changed_and_no_change_is_no_event(
    api: Api, owner: Caller, partner: str
) -> None:
    client = api.client_row(owner, partner, name="Same", email="same@client.example")
    url = clients_url(partner, f"/{client['id']}")
    unchanged = owner.ok("PATCH", url, json={"name": " Same ", "vat_number": None})
    assert unchanged == owner.ok("GET", url)
    assert unchanged["updated_at"] == client["updated_at"]
    owner.ok("PATCH", url, json={"name": "Same", "email": "new@client.example"})
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [(e["type"], e["data"]) for e in events] == [
        ("client.created", {}),
        ("client.updated", {"fields": ["email"]}),
    ]
