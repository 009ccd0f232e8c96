"""Resend replaces an invitation (with a cooldown); invitations expire on their own."""

from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.conftest import Runner
from tests.support import Api, Caller, age_invitation, assert_problem, expire_invitation, token_of

MOBILE = "/api/v1/mobile/invitations"


def resend(owner: Caller, partner: str, invitation_id: str, body: Any = None) -> Any:
    return owner.post(f"/api/v1/partners/{partner}/invitations/{invitation_id}/resend", json=body)


def test_resend_supersedes_the_old_token(api: Api, db: Runner, owner: Caller, partner: str) -> None:
    client, old = api.invited_client(owner, partner)
    age_invitation(db, old["id"], seconds=61)
    response = resend(owner, partner, old["id"], {"message": "Second try"})
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] != old["id"]
    assert new["status"] == "pending" and new["message"] == "Second try"
    assert token_of(new) != token_of(old)
    stale = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{old['id']}")
    assert stale["status"] == "superseded" and stale["url"] is None
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["invitation"]["id"] == new["id"] and row["status"] == "invited"

    ben = api.user("ben")
    for path, body in (
        ("preview", {}),
        ("confirm", {"new_business": {"name": "B"}}),
        ("decline", {}),
    ):
        response = ben.post(f"{MOBILE}/{path}", json={"token": token_of(old)} | body)
        assert_problem(response, 410, "invitation_superseded")
    assert (
        ben.ok("POST", f"{MOBILE}/preview", json={"token": token_of(new)})["message"]
        == "Second try"
    )
    # Resending the superseded one is refused: resend the latest.
    assert_problem(resend(owner, partner, old["id"]), 410, "invitation_superseded")
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [e["type"] for e in events if "email" not in e["type"]][-3:] == [
        "invitation.superseded",
        "invitation.created",
        "invitation.opened",
    ]


def test_resend_keeps_the_message_unless_given(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    _, old = api.invited_client(owner, partner)
    age_invitation(db, old["id"], seconds=61)
    kept = resend(owner, partner, old["id"]).json()
    assert kept["message"] == "Welcome aboard!"
    age_invitation(db, kept["id"], seconds=61)
    cleared = resend(owner, partner, kept["id"], {"message": None}).json()
    assert cleared["message"] is None


def test_resend_cooldown_is_60_seconds(api: Api, db: Runner, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    response = resend(owner, partner, invitation["id"])
    assert_problem(response, 429, "rate_limited")
    assert 55 <= int(response.headers["retry-after"]) <= 60
    age_invitation(db, invitation["id"], seconds=50)
    response = resend(owner, partner, invitation["id"])
    assert_problem(response, 429, "rate_limited")
    assert 5 <= int(response.headers["retry-after"]) <= 10
    age_invitation(db, invitation["id"], seconds=11)
    assert resend(owner, partner, invitation["id"]).status_code == 201


@pytest.mark.parametrize("ending", ["declined", "revoked", "expired"])
def test_resend_revives_an_ended_invitation(
    api: Api, db: Runner, owner: Caller, partner: str, ending: str
) -> None:
    client, invitation = api.invited_client(owner, partner)
    if ending == "declined":
        api.user("ben").ok("POST", f"{MOBILE}/decline", json={"token": token_of(invitation)})
    elif ending == "revoked":
        owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
    else:
        expire_invitation(db, invitation["id"])
    age_invitation(db, invitation["id"], seconds=61)
    response = resend(owner, partner, invitation["id"])
    assert response.status_code == 201, response.text
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["status"] == "invited" and row["invitation"]["id"] == response.json()["id"]
    old = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert old["status"] == "superseded"  # whatever ended it, as the contract says
    assert (old["declined_at"] is not None, old["revoked_at"] is not None) == (
        ending == "declined",
        ending == "revoked",
    )  # what happened to it stays told
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    superseded = [e for e in events if e["type"] == "invitation.superseded"]
    assert [(e["invitation_id"], e["data"]) for e in superseded] == [
        (invitation["id"], {"replaced_by": response.json()["id"]})
    ]
    # Its token stops working, and only the latest one can be resent.
    ben = api.user("ben")
    problem = assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": token_of(invitation)}),
        410,
        "invitation_superseded",
    )
    assert problem["latest_invitation_id"] == response.json()["id"]
    assert_problem(resend(owner, partner, invitation["id"]), 410, "invitation_superseded")


def test_only_the_latest_expired_invitation_can_be_revoked(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    """Revoke, like resend, acts on the client's latest invitation: an expired one that a
    new invite followed answers 410 naming the latest, and changes nothing."""
    client, old = api.invited_client(owner, partner)
    expire_invitation(db, old["id"])
    [result] = api.invite(owner, partner, [client["id"]])
    latest = result["invitation"]
    url = f"/api/v1/partners/{partner}/invitations/{old['id']}/revoke"
    problem = assert_problem(owner.post(url), 410, "invitation_superseded")
    assert problem["latest_invitation_id"] == latest["id"]
    assert owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{old['id']}")["status"] == (
        "expired"
    )
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert "invitation.revoked" not in [e["type"] for e in events]
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["status"] == "invited" and row["invitation"]["id"] == latest["id"]
    expire_invitation(db, latest["id"])  # the latest one, expired, is still withdrawn
    revoked = owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{latest['id']}/revoke")
    assert revoked["status"] == "revoked"


def test_resend_of_an_accepted_invitation(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client, invitation = api.invited_client(owner, partner)
    api.accept(api.user("ben"), invitation)
    age_invitation(db, invitation["id"], seconds=61)
    assert_problem(resend(owner, partner, invitation["id"]), 409, "client_already_active")
    owner.ok("POST", f"/api/v1/partners/{partner}/clients/{client['id']}/disconnect")
    assert resend(owner, partner, invitation["id"]).status_code == 201
    old = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert old["status"] == "superseded" and old["accepted_at"] is not None
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [e["type"] for e in events if e.get("invitation_id") == invitation["id"]][-1] == (
        "invitation.superseded"
    )


def test_resend_validates_the_message(api: Api, db: Runner, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    assert_problem(
        resend(owner, partner, invitation["id"], {"message": "x" * 2001}), 400, "validation_failed"
    )
    assert_problem(resend(owner, partner, invitation["id"], {"other": 1}), 400, "validation_failed")


def test_an_expired_invitation_reads_expired_at_once(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client, invitation = api.invited_client(owner, partner)
    expire_invitation(db, invitation["id"])
    got = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert got["status"] == "expired" and got["url"] is None
    row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
    assert row["status"] == "inactive"
    listed = owner.ok("GET", f"/api/v1/partners/{partner}/clients", params={"status": "inactive"})
    assert [c["id"] for c in listed["items"]] == [client["id"]]
    assert (
        owner.ok("GET", f"/api/v1/partners/{partner}/clients", params={"status": "invited"})[
            "items"
        ]
        == []
    )
    ben = api.user("ben")
    token = token_of(invitation)
    assert_problem(ben.post(f"{MOBILE}/preview", json={"token": token}), 410, "invitation_expired")
    response = ben.post(f"{MOBILE}/confirm", json={"token": token, "new_business": {"name": "B"}})
    assert_problem(response, 410, "invitation_expired")
    qr = owner.post(f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token", json={})
    assert_problem(qr, 410, "invitation_expired")
    # Inviting again replaces the expired one.
    [result] = api.invite(owner, partner, [client["id"]])
    assert result["invitation"]["status"] == "pending"
    stale = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert stale["status"] == "expired"


def test_invitations_last_the_configured_days(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    created = datetime.fromisoformat(invitation["created_at"])
    expires = datetime.fromisoformat(invitation["expires_at"])
    assert expires == (created + timedelta(days=14)).replace(microsecond=0)
    assert jwt.decode(token_of(invitation), options={"verify_signature": False})["exp"] == (
        expires.timestamp()
    )  # the token ends with its invitation
