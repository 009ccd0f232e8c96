"""An invitation without an email, for the on-screen QR of a meeting; fractional lifetimes."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import msgspec
import pytest

from api.settings import load_settings
from db.tables import MailOutbox
from tests.conftest import Runner
from tests.mailbox import Mailbox
from tests.support import Api, Caller, until

MOBILE = "/api/v1/mobile/invitations"


def test_a_client_without_email_is_invited_for_a_meeting(
    api: Api, db: Runner, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    client = api.client_row(owner, partner, name="No Mail BV", email=None)
    [refused] = api.invite(owner, partner, [client["id"]])
    assert refused["error"]["code"] == "client_missing_email"
    [result] = api.invite(owner, partner, [client["id"]], send_email=False)
    invitation = result["invitation"]
    assert invitation["status"] == "pending" and invitation["email_status"] == "not_sent"
    qr = owner.ok(
        "POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token", 201
    )
    ben = api.user("ben")
    confirmation = ben.ok(
        "POST",
        f"{MOBILE}/confirm",
        json={"user_code": qr["user_code"], "new_business": {"name": "N"}},
    )
    assert confirmation["client_id"] == client["id"]

    async def queued() -> int:
        return await MailOutbox.count().where(MailOutbox.invitation == UUID(invitation["id"]))

    assert db(queued) == 0
    # The one email is the access notice to Ben, the admin of the new business.
    [notice] = until(lambda: mailbox.messages)
    assert str(notice["Subject"]).strip() == "Acme Accountants now has access to N on Banqup"
    assert [m["To"].addresses[0].addr_spec for m in mailbox.messages] == [ben.email]


def test_a_client_with_email_can_be_invited_without_one(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client = api.client_row(owner, partner)
    [result] = api.invite(owner, partner, [client["id"]], send_email=False)
    assert result["invitation"]["email_status"] == "not_sent"
    page = owner.ok(
        "GET", f"/api/v1/partners/{partner}/clients", params={"email_status": "not_sent"}
    )
    assert [c["id"] for c in page["items"]] == [client["id"]]


def test_the_lifetime_of_an_invitation_may_be_a_fraction_of_a_day(
    monkeypatch: pytest.MonkeyPatch, api: Api, owner: Caller, partner: str
) -> None:
    tiny = msgspec.structs.replace(api.ctx.settings, invitation_ttl_days=0.01)
    monkeypatch.setattr(api.ctx, "settings", tiny)
    _, invitation = api.invited_client(owner, partner)
    created = datetime.fromisoformat(invitation["created_at"])
    expires = datetime.fromisoformat(invitation["expires_at"])
    assert expires == (created + timedelta(days=0.01)).replace(microsecond=0)


def test_a_fractional_lifetime_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INVITATION_TTL_DAYS", "0.25")
    assert load_settings().invitation_ttl_days == 0.25
