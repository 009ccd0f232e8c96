"""The partner's on-screen QR: a short-lived token and a typed user code for the same grant."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from db.tables import QRGrant
from tests.conftest import Runner
from tests.qr_decode import decode_both
from tests.support import Api, Caller, assert_problem, token_of

MOBILE = "/api/v1/mobile/invitations"
CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


def qr_token(owner: Caller, partner: str, invitation_id: str, body: Any = None) -> Any:
    return owner.post(f"/api/v1/partners/{partner}/invitations/{invitation_id}/qr-token", json=body)


def test_qr_token_grants_the_same_invitation(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner)
    response = qr_token(owner, partner, invitation["id"], {"ttl_seconds": 120})
    assert response.status_code == 201, response.text
    grant = response.json()
    assert CODE.match(grant["user_code"])
    assert grant["url"] == f"https://invites.banqup.example/i/{grant['token']}"
    assert grant["app_url"] == f"banqupone://invite?token={grant['token']}"
    expires = datetime.fromisoformat(grant["expires_at"])
    assert timedelta(seconds=115) < expires - datetime.now(UTC) <= timedelta(seconds=120)
    png = api.http.get(grant["qr_png_url"].removeprefix("https://invites.banqup.example"))
    assert decode_both(png.content) == grant["url"]

    ben = api.user("ben")
    preview = ben.ok("POST", f"{MOBILE}/preview", json={"token": grant["token"]})
    assert preview["invitation_id"] == invitation["id"]
    assert preview["expires_at"] == grant["expires_at"]
    confirmation = ben.ok(
        "POST", f"{MOBILE}/confirm", json={"token": grant["token"], "new_business": {"name": "B"}}
    )
    assert confirmation["client_id"] == client["id"]


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {nodash} ", "{spaced}"])
def test_user_code_typing_variants(api: Api, owner: Caller, partner: str, typed: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    code = qr_token(owner, partner, invitation["id"]).json()["user_code"]
    text = typed.format(
        code=code,
        lower=code.lower(),
        nodash=code.replace("-", ""),
        spaced=" ".join(code.replace("-", "")),
    )
    preview = api.user("ben").ok("POST", f"{MOBILE}/preview", json={"user_code": text})
    assert preview["invitation_id"] == invitation["id"]


def test_confirm_and_decline_by_user_code(api: Api, owner: Caller, partner: str) -> None:
    _, first = api.invited_client(owner, partner)
    _, second = api.invited_client(owner, partner, name="Second", email="second@example.com")
    ben = api.user("ben")
    code = qr_token(owner, partner, first["id"]).json()["user_code"]
    confirmed = ben.ok(
        "POST", f"{MOBILE}/confirm", json={"user_code": code, "new_business": {"name": "B"}}
    )
    assert confirmed["link"]["status"] == "active"
    code = qr_token(owner, partner, second["id"]).json()["user_code"]
    declined = ben.ok("POST", f"{MOBILE}/decline", json={"user_code": code})
    assert declined["id"] == second["id"] and declined["status"] == "declined"


def test_the_sixth_wrong_code_in_ten_minutes_is_refused(
    api: Api, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    code = qr_token(owner, partner, invitation["id"]).json()["user_code"]
    ben = api.user("ben")
    wrong = ["BBBB-BBBB", "CCCC-CCCC", "GGGG-GGGG", "DDDD-DDDD", "FFFF-FFFF"]
    for attempt in wrong:
        assert_problem(ben.post(f"{MOBILE}/preview", json={"user_code": attempt}), 404, "not_found")
    response = ben.post(f"{MOBILE}/preview", json={"user_code": code})
    assert_problem(response, 429, "rate_limited")
    assert 590 <= int(response.headers["retry-after"]) <= 600
    # Another user is not affected, and tokens keep working for Ben.
    assert api.user("carla").ok("POST", f"{MOBILE}/preview", json={"user_code": code})
    qr = qr_token(owner, partner, invitation["id"]).json()
    assert ben.ok("POST", f"{MOBILE}/preview", json={"token": qr["token"]})


def test_an_expired_qr_token_is_refused(api: Api, db: Runner, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    grant = qr_token(owner, partner, invitation["id"]).json()

    async def expire() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await QRGrant.update({QRGrant.expires_at: past}).where(
            QRGrant.invitation == UUID(invitation["id"])
        )

    db(expire)
    ben = api.user("ben")
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": grant["token"]}), 410, "token_expired"
    )
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"user_code": grant["user_code"]}),
        410,
        "user_code_expired",
    )
    assert api.http.get(f"/i/{grant['token']}/qr.png").status_code == 410
    assert api.http.get(f"/i/{grant['token']}").status_code == 410
    # The landing page's poll says what its page says; the emailed link still works.
    assert api.http.get(f"/i/{grant['token']}/status").json() == {"status": "expired"}
    assert api.http.get(f"/i/{token_of(invitation)}/status").json() == {"status": "pending"}


@pytest.mark.parametrize("ttl", [59, 901, "five minutes", None, 300.5])
def test_qr_token_ttl_is_validated(api: Api, owner: Caller, partner: str, ttl: Any) -> None:
    _, invitation = api.invited_client(owner, partner)
    assert_problem(
        qr_token(owner, partner, invitation["id"], {"ttl_seconds": ttl}), 400, "validation_failed"
    )


def test_qr_token_default_ttl_is_five_minutes(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    grant = qr_token(owner, partner, invitation["id"]).json()
    expires = datetime.fromisoformat(grant["expires_at"])
    assert timedelta(seconds=295) < expires - datetime.now(UTC) <= timedelta(seconds=300)


def test_resend_kills_the_on_screen_qr_too(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    grant = qr_token(owner, partner, invitation["id"]).json()
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
    ben = api.user("ben")
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": grant["token"]}), 410, "invitation_revoked"
    )
    response = ben.post(f"{MOBILE}/preview", json={"user_code": grant["user_code"]})
    assert_problem(response, 410, "invitation_revoked")


@pytest.mark.parametrize(
    "typed", ["not a code", "BCDF-GHJ", "BCDF-GHJKL", "AEIO-UAEI", "1234-5678"]
)
def test_a_malformed_code_is_invalid_and_not_counted(
    api: Api, owner: Caller, partner: str, typed: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    code = qr_token(owner, partner, invitation["id"]).json()["user_code"]
    ben = api.user("ben")
    for _ in range(6):
        response = ben.post(f"{MOBILE}/preview", json={"user_code": typed})
        problem = assert_problem(response, 400, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["user_code"]
    assert ben.ok("POST", f"{MOBILE}/preview", json={"user_code": code})


def test_a_typo_an_expired_code_and_a_valid_code_are_told_apart(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    old = qr_token(owner, partner, invitation["id"]).json()["user_code"]

    async def expire() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await QRGrant.update({QRGrant.expires_at: past}).where(
            QRGrant.invitation == UUID(invitation["id"])
        )

    db(expire)
    fresh = qr_token(owner, partner, invitation["id"]).json()["user_code"]
    ben = api.user("ben")
    typo = "BBBB-BBBB" if fresh != "BBBB-BBBB" else "CCCC-CCCC"
    assert_problem(ben.post(f"{MOBILE}/preview", json={"user_code": typo}), 404, "not_found")
    problem = assert_problem(
        ben.post(f"{MOBILE}/preview", json={"user_code": old}), 410, "user_code_expired"
    )
    assert problem["title"] == "Code no longer valid"
    assert (
        ben.ok("POST", f"{MOBILE}/preview", json={"user_code": fresh})["invitation_id"]
        == (invitation["id"])
    )


def _code_of(api: Api, owner: Caller, partner: str) -> tuple[dict[str, Any], str]:
    """A new client's pending invitation and the typed code of an on-screen QR for it."""
    _, invitation = api.invited_client(owner, partner)
    return invitation, qr_token(owner, partner, invitation["id"]).json()["user_code"]


def _assert_dead(user: Caller, code: str) -> None:
    """Preview, confirm and decline through `code` all answer 410 user_code_expired."""
    calls = [
        ("preview", {"user_code": code}),
        ("confirm", {"user_code": code, "new_business": {"name": "B"}}),
        ("decline", {"user_code": code}),
    ]
    for call, body in calls:
        problem = assert_problem(user.post(f"{MOBILE}/{call}", json=body), 410, "user_code_expired")
        assert problem["detail"] == "This code was already used; ask for a new one."


def test_a_used_code_answers_user_code_expired(api: Api, owner: Caller, partner: str) -> None:
    _, code = _code_of(api, owner, partner)
    ben = api.user("ben")
    ben.ok("POST", f"{MOBILE}/confirm", json={"user_code": code, "new_business": {"name": "B"}})
    _assert_dead(api.user("carla"), code)


def test_the_accepters_repeat_through_the_code_is_a_repeat(
    api: Api, owner: Caller, partner: str
) -> None:
    """An app retrying its confirm (a lost answer) gets the same link, as through a token;
    its preview says the invitation is accepted, by this user."""
    _, code = _code_of(api, owner, partner)
    ben = api.user("ben")
    body = {"user_code": code, "new_business": {"name": "B"}}
    first = ben.ok("POST", f"{MOBILE}/confirm", json=body)
    assert ben.ok("POST", f"{MOBILE}/confirm", json=body) == first
    assert ben.ok("GET", "/api/v1/me")["businesses"] == [
        {"id": first["link"]["business_id"], "name": "B", "role": "admin"}
    ]
    preview = ben.post(f"{MOBILE}/preview", json={"user_code": code})
    assert assert_problem(preview, 409, "invitation_already_accepted")["accepted_by_you"] is True


def test_a_code_dies_when_its_invitation_is_accepted_through_a_token(
    api: Api, owner: Caller, partner: str
) -> None:
    invitation, code = _code_of(api, owner, partner)
    ben = api.user("ben")
    accepted = api.accept(ben, invitation)  # the emailed link
    _assert_dead(api.user("carla"), code)
    # To ben, who accepted, the code answers as the emailed token does.
    body = {"user_code": code, "business_id": accepted["link"]["business_id"]}
    assert ben.ok("POST", f"{MOBILE}/confirm", json=body)["link"] == accepted["link"]


def test_a_code_dies_when_its_invitation_is_declined(api: Api, owner: Caller, partner: str) -> None:
    _, code = _code_of(api, owner, partner)
    ben = api.user("ben")
    ben.ok("POST", f"{MOBILE}/decline", json={"user_code": code})
    _assert_dead(ben, code)


def test_a_confirm_repeated_through_the_qr_token_still_returns_the_link(
    api: Api, owner: Caller, partner: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    grant = qr_token(owner, partner, invitation["id"]).json()
    ben = api.user("ben")
    body = {"user_code": grant["user_code"], "new_business": {"name": "B"}}
    first = ben.ok("POST", f"{MOBILE}/confirm", json=body)
    again = ben.ok(
        "POST", f"{MOBILE}/confirm", json={"token": grant["token"], "new_business": {"name": "B"}}
    )
    assert again == first


def _answers_410_without_costing_attempts(ben: Caller, code: str) -> None:
    """`code` answers 410 more often than a user may be wrong, and a wrong code is still
    checked (404) afterwards: none of those cost an attempt."""
    for _ in range(6):  # more than the 5 wrong codes a user has
        assert_problem(
            ben.post(f"{MOBILE}/preview", json={"user_code": code}), 410, "user_code_expired"
        )
    wrong = "BBBB-BBBB" if code != "BBBB-BBBB" else "CCCC-CCCC"
    assert_problem(ben.post(f"{MOBILE}/preview", json={"user_code": wrong}), 404, "not_found")


def test_a_used_code_costs_no_attempt(api: Api, owner: Caller, partner: str) -> None:
    _, code = _code_of(api, owner, partner)
    ben = api.user("ben")
    ben.ok("POST", f"{MOBILE}/decline", json={"user_code": code})
    _answers_410_without_costing_attempts(ben, code)


def test_an_expired_code_costs_no_attempt(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    invitation, code = _code_of(api, owner, partner)

    async def expire() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await QRGrant.update({QRGrant.expires_at: past}).where(
            QRGrant.invitation == UUID(invitation["id"])
        )

    db(expire)
    ben = api.user("ben")
    _answers_410_without_costing_attempts(ben, code)


def test_a_code_drawn_twice_is_drawn_again(
    api: Api, owner: Caller, partner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import invitations

    _, taken = _code_of(api, owner, partner)
    taken = taken.replace("-", "")
    draws = iter([taken, taken, "ZZZZZZZZ" if taken != "ZZZZZZZZ" else "XXXXXXXX"])
    monkeypatch.setattr(invitations, "new_user_code", lambda: next(draws))
    _, invitation = api.invited_client(owner, partner, name="Second", email="second@example.com")
    grant = qr_token(owner, partner, invitation["id"]).json()
    assert grant["user_code"].replace("-", "") not in (taken, "")
    assert next(draws, None) is None  # the third draw was the one kept
    preview = api.user("ben").ok(
        "POST", f"{MOBILE}/preview", json={"user_code": grant["user_code"]}
    )
    assert preview["invitation_id"] == invitation["id"]


def test_the_database_refuses_a_second_grant_with_a_code_in_use(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    from db.errors import is_unique_violation

    invitation, code = _code_of(api, owner, partner)

    async def duplicate() -> Exception | None:
        grant = QRGrant(
            invitation=UUID(invitation["id"]),
            token_id="another-token-id",
            token_kid="kid",
            user_code=code.replace("-", ""),
            expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        try:
            await grant.save()
        except Exception as exc:
            return exc
        return None

    refused = db(duplicate)
    assert refused is not None and is_unique_violation(refused)
