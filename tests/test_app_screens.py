"""What the app's accept screens get: whom an invitation was for, whose link they made,
and answers that say what to do next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from db.tables import Invitation
from tests.conftest import Runner
from tests.support import Api, Caller, assert_problem, token_of

MOBILE = "/api/v1/mobile/invitations"


def test_preview_shows_whom_the_invitation_was_for_masked(
    api: Api, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner, email="jan.peeters@bakery.example")
    preview = api.user("ben").ok("POST", f"{MOBILE}/preview", json={"token": token_of(invitation)})
    assert preview["invited_email"] == "j***@bakery.example"


def test_confirm_names_the_partner_of_the_link(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    confirmation = api.accept(api.user("ben"), invitation)
    assert confirmation["link"]["partner_name"] == "Acme Accountants"


def test_a_superseded_invitation_points_at_the_latest(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    _, first = api.invited_client(owner, partner)

    async def sent_long_ago() -> None:
        await Invitation.update(
            {Invitation.created_at: datetime.now(UTC) - timedelta(hours=1)}
        ).where(Invitation.id == UUID(first["id"]))

    db(sent_long_ago)
    base = f"/api/v1/partners/{partner}/invitations"
    latest = owner.ok("POST", f"{base}/{first['id']}/resend", 201)
    response = api.user("ben").post(f"{MOBILE}/preview", json={"token": token_of(first)})
    problem = assert_problem(response, 410, "invitation_superseded")
    assert problem["latest_invitation_id"] == latest["id"]
    problem = assert_problem(
        owner.post(f"{base}/{first['id']}/resend"), 410, "invitation_superseded"
    )
    assert problem["latest_invitation_id"] == latest["id"]


def test_an_accepted_invitation_says_whose_and_whether_by_you(
    api: Api, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    link = api.accept(ben, invitation)["link"]
    other_business = api.business(ben, "Ben's Other Shop")
    again = {"token": token_of(invitation), "business_id": other_business}
    mine = assert_problem(
        ben.post(f"{MOBILE}/confirm", json=again), 409, "invitation_already_accepted"
    )
    assert mine["accepted_by_you"] is True
    assert mine["partner"] == {"id": partner, "name": "Acme Accountants"}
    assert datetime.fromisoformat(mine["accepted_at"]) >= datetime.fromisoformat(link["created_at"])
    carla = api.user("carla")
    theirs = assert_problem(
        carla.post(
            f"{MOBILE}/confirm", json={"token": token_of(invitation), "new_business": {"name": "C"}}
        ),
        409,
        "invitation_already_accepted",
    )
    assert theirs["accepted_by_you"] is False
    assert theirs["partner"] == mine["partner"] and theirs["accepted_at"] == mine["accepted_at"]
    preview = assert_problem(
        carla.post(f"{MOBILE}/preview", json={"token": token_of(invitation)}),
        409,
        "invitation_already_accepted",
    )
    assert preview["accepted_by_you"] is False


def test_other_problems_carry_no_extra_fields(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
    problem = assert_problem(
        api.user("ben").post(f"{MOBILE}/preview", json={"token": token_of(invitation)}),
        410,
        "invitation_revoked",
    )
    assert set(problem) == {"type", "title", "status", "detail", "code"}
