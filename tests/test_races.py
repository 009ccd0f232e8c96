"""Concurrent confirms: exactly one wins, and the loser leaves nothing behind."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support import Api, Caller, token_of

MOBILE = "/api/v1/mobile/invitations"
ROUNDS = 15


def race(*confirms: tuple[Caller, dict[str, Any]]) -> list[httpx.Response]:
    """Send these confirms at the same moment, each from its own thread."""
    with ThreadPoolExecutor(max_workers=len(confirms)) as pool:
        return list(pool.map(lambda c: c[0].post(f"{MOBILE}/confirm", json=c[1]), confirms))


def test_two_users_racing_one_token(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner)
    for round_ in range(ROUNDS):
        client, invitation = api.invited_client(owner, partner, name=f"Client {round_}")
        token = token_of(invitation)
        ben, eve = api.user(), api.user()
        responses = race(
            (ben, {"token": token, "new_business": {"name": "Ben BV"}}),
            (eve, {"token": token, "new_business": {"name": "Eve BV"}}),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.text for r in responses]
        loser: Caller = ben if responses[0].status_code == 409 else eve
        winner_response = next(r for r in responses if r.status_code == 200)
        assert (
            next(r for r in responses if r.status_code == 409).json()["code"]
            == "invitation_already_accepted"
        )
        assert loser.ok("GET", "/api/v1/me")["businesses"] == []  # its new business was rolled back
        row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
        assert row["status"] == "active"
        assert row["business_id"] == winner_response.json()["link"]["business_id"]
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events", params={"limit": 500})["events"]
    assert [e["type"] for e in events].count("invitation.accepted") == ROUNDS
    assert [int(e["cursor"]) for e in events] == list(range(1, len(events) + 1))


def test_one_user_racing_one_token_gets_one_link(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner)
    for round_ in range(ROUNDS):
        _, invitation = api.invited_client(owner, partner, name=f"Client {round_}")
        ben = api.user()
        business = api.business(ben)
        body = {"token": token_of(invitation), "business_id": business}
        responses = race((ben, body), (ben, body), (ben, body))
        assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
        assert len({r.json()["link"]["id"] for r in responses}) == 1
        links = ben.ok("GET", f"/api/v1/businesses/{business}/links")["items"]
        assert len(links) == 1


def test_two_invitations_racing_for_one_business(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner)
    for round_ in range(ROUNDS):
        _, first = api.invited_client(
            owner, partner, name=f"A{round_}", email=f"a{round_}@example.com"
        )
        _, second = api.invited_client(
            owner, partner, name=f"B{round_}", email=f"b{round_}@example.com"
        )
        ben = api.user()
        business = api.business(ben)
        responses = race(
            (ben, {"token": token_of(first), "business_id": business}),
            (ben, {"token": token_of(second), "business_id": business}),
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        assert (
            next(r for r in responses if r.status_code == 409).json()["code"]
            == "business_already_linked"
        )
        links = ben.ok("GET", f"/api/v1/businesses/{business}/links")["items"]
        assert [x["status"] for x in links] == ["active"]
