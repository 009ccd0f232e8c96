"""Registration links: one reusable link (or poster) that links many businesses."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from db.tables import RegistrationLink
from tests.conftest import Runner
from tests.support import Api, Caller, assert_problem, token_of, token_parts

MOBILE = "/api/v1/mobile/invitations"


def links_url(partner: str, rest: str = "") -> str:
    return f"/api/v1/partners/{partner}/registration-links{rest}"


def create(owner: Caller, partner: str, **body: Any) -> dict[str, Any]:
    return owner.ok("POST", links_url(partner), 201, json=body)  # type: ignore[no-any-return]


def confirm(user: Caller, token: str, name: str = "Business BV") -> Any:
    return user.post(f"{MOBILE}/confirm", json={"token": token, "new_business": {"name": name}})


def test_create_and_list(owner: Caller, partner: str) -> None:
    link = create(owner, partner, label="Office poster", max_uses=10, access_level="read_only")
    assert link["label"] == "Office poster"
    assert link["uses"] == 0 and link["max_uses"] == 10
    assert link["access_level"] == "read_only"
    assert link["expires_at"] is None and link["revoked_at"] is None
    assert link["url"] == f"https://invites.banqup.example/i/{link['token']}"
    assert link["app_url"] == f"banqupone://invite?token={link['token']}"
    assert link["qr_png_url"] == f"{link['url']}/qr.png"
    second = create(owner, partner)
    listed = owner.ok("GET", links_url(partner))["items"]
    assert [x["id"] for x in listed] == [second["id"], link["id"]]
    assert listed[1] == link
    assert owner.ok("GET", links_url(partner, f"/{link['id']}")) == link


@pytest.mark.parametrize(
    "body",
    [
        {"max_uses": 0},
        {"max_uses": -3},
        {"label": ""},
        {"label": "x" * 201},
        {"access_level": "owner"},
        {"expires_at": "2001-01-01T00:00:00Z"},
        {"expires_at": "2099-01-01T00:00:00"},
        {"expires_at": "tomorrow"},
        {"expires_at": "9999-12-31T23:59:59-23:59"},  # the year 10000 in UTC
    ],
)
def test_create_validates(owner: Caller, partner: str, body: dict[str, Any]) -> None:
    assert_problem(owner.post(links_url(partner), json=body), 400, "validation_failed")
    assert owner.ok("GET", links_url(partner))["items"] == []


def test_confirm_through_a_link_adds_an_active_client(
    api: Api, owner: Caller, partner: str
) -> None:
    link = create(owner, partner, access_level="read_only")
    ben = api.user("ben")
    preview = ben.ok("POST", f"{MOBILE}/preview", json={"token": link["token"]})
    assert preview == {
        "kind": "registration_link",
        "registration_link_id": link["id"],
        "partner": {"id": partner, "name": "Acme Accountants"},
        "access_level": "read_only",
        "expires_at": None,
        "businesses": [],
    }
    response = confirm(ben, link["token"], "Ben's Bakery")
    assert response.status_code == 200, response.text
    confirmation = response.json()
    assert confirmation["link"]["access_level"] == "read_only"
    client = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{confirmation['client_id']}")
    assert client["name"] == "Ben's Bakery"
    assert client["email"] == "ben@example.com"
    assert client["status"] == "active"
    assert client["business_id"] == confirmation["link"]["business_id"]
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 1
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [e["type"] for e in events] == [
        "registration_link.created",
        "client.created",
        "client.activated",
    ]
    assert events[0]["data"] == {"registration_link_id": link["id"]}
    assert client["source"] == "registration_link"
    assert client["registration_link_id"] == link["id"]
    assert events[0]["data"]["registration_link_id"] == link["id"]
    # A second business links too: the link is reusable.
    assert confirm(api.user("carla"), link["token"], "Carla's Café").status_code == 200
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 2


def test_a_business_already_linked_gets_its_link_back(
    api: Api, owner: Caller, partner: str
) -> None:
    link = create(owner, partner, max_uses=5)
    ben = api.user("ben")
    business = api.business(ben, "Ben's Bakery")
    body = {"token": link["token"], "business_id": business}
    first = ben.ok("POST", f"{MOBILE}/confirm", json=body)
    again = ben.ok("POST", f"{MOBILE}/confirm", json=body)
    assert again == first
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 1
    clients = owner.ok("GET", f"/api/v1/partners/{partner}/clients")["items"]
    assert len(clients) == 1
    # Also when it was linked through an invitation first.
    _, invitation = api.invited_client(owner, partner, name="Dirk", email="dirk@example.com")
    dirk = api.user("dirk")
    dirk_business = api.business(dirk, "Dirk's Deli")
    token = invitation["url"].rsplit("/i/", 1)[1]
    via_invitation = dirk.ok(
        "POST", f"{MOBILE}/confirm", json={"token": token, "business_id": dirk_business}
    )
    via_link = dirk.ok(
        "POST", f"{MOBILE}/confirm", json={"token": link["token"], "business_id": dirk_business}
    )
    assert via_link == via_invitation
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 1


def test_a_new_business_confirm_repeated_by_its_user_makes_nothing_more(
    api: Api, owner: Caller, partner: str
) -> None:
    """An app retrying after a lost answer, in turn or at once, gets the same link back:
    one business, one client, one use. Another name is another business; another user
    makes their own."""
    link = create(owner, partner, max_uses=5)
    ben = api.user("ben")
    first = confirm(ben, link["token"], "Ben BV").json()
    assert confirm(ben, link["token"], "Ben BV").json() == first
    with ThreadPoolExecutor(max_workers=5) as pool:
        at_once = list(pool.map(lambda _: confirm(ben, link["token"], "Ben BV"), range(5)))
    assert [r.json() for r in at_once] == [first] * 5
    assert len(ben.ok("GET", "/api/v1/me")["businesses"]) == 1
    second = confirm(ben, link["token"], "Ben Two BV").json()
    eve = confirm(api.user("eve"), link["token"], "Ben BV").json()
    assert len({first["link"]["id"], second["link"]["id"], eve["link"]["id"]}) == 3
    assert len(ben.ok("GET", "/api/v1/me")["businesses"]) == 2
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 3
    assert len(owner.ok("GET", f"/api/v1/partners/{partner}/clients")["items"]) == 3


def test_a_business_already_linked_gets_its_link_back_from_an_ended_link(
    api: Api, owner: Caller, partner: str
) -> None:
    """Its own confirm used the link up, and the app, its answer lost, asks again: the
    same link with 200 (with the business, or with the same new business's name), as from
    a link revoked since; nothing is counted or made. Anyone else gets the link's 410."""
    ben = api.user("ben")
    business = api.business(ben, "Ben's Bakery")
    used_up = create(owner, partner, max_uses=1)
    body = {"token": used_up["token"], "business_id": business}
    first = ben.ok("POST", f"{MOBILE}/confirm", json=body)
    assert ben.ok("POST", f"{MOBILE}/confirm", json=body) == first
    carl = api.user("carl")
    made = create(owner, partner, max_uses=1)
    again = {"token": made["token"], "new_business": {"name": "Carl Co"}}
    carls = carl.ok("POST", f"{MOBILE}/confirm", json=again)
    assert carl.ok("POST", f"{MOBILE}/confirm", json=again) == carls
    assert_problem(
        carl.post(f"{MOBILE}/confirm", json={**again, "new_business": {"name": "Carl Two"}}),
        410,
        "registration_link_exhausted",
    )
    revoked = create(owner, partner)
    owner.ok("POST", links_url(partner, f"/{revoked['id']}/revoke"))
    linked = ben.ok(
        "POST", f"{MOBILE}/confirm", json={"token": revoked["token"], "business_id": business}
    )
    assert linked == first
    eve = api.user("eve")
    assert_problem(confirm(eve, used_up["token"]), 410, "registration_link_exhausted")
    assert_problem(confirm(eve, revoked["token"]), 410, "registration_link_revoked")
    assert [
        owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"]
        for link in (used_up, made, revoked)
    ] == [1, 1, 0]
    assert len(owner.ok("GET", f"/api/v1/partners/{partner}/clients")["items"]) == 2
    assert len(carl.ok("GET", "/api/v1/me")["businesses"]) == 1


def test_max_uses_holds_under_concurrency(api: Api, owner: Caller, partner: str) -> None:
    link = create(owner, partner, max_uses=3)
    users = [api.user() for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda u: confirm(u, link["token"], f"{u.sub} BV"), users))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [410] * 7, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 410} == {
        "registration_link_exhausted"
    }
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 3
    assert len(owner.ok("GET", f"/api/v1/partners/{partner}/clients")["items"]) == 3
    losers = [u for u, r in zip(users, responses, strict=True) if r.status_code == 410]
    assert all(u.ok("GET", "/api/v1/me")["businesses"] == [] for u in losers)


def test_revoked_expired_and_exhausted_links(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    ben = api.user("ben")
    revoked = create(owner, partner)
    done = owner.ok("POST", links_url(partner, f"/{revoked['id']}/revoke"))
    assert done["revoked_at"] is not None
    assert owner.ok("POST", links_url(partner, f"/{revoked['id']}/revoke")) == done
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": revoked["token"]}),
        410,
        "registration_link_revoked",
    )
    assert_problem(confirm(ben, revoked["token"]), 410, "registration_link_revoked")
    assert api.http.get(f"/i/{revoked['token']}/qr.png").status_code == 410
    assert api.http.get(f"/i/{revoked['token']}").status_code == 410

    expiring = create(
        owner, partner, expires_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()
    )

    async def expire() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await RegistrationLink.update({RegistrationLink.expires_at: past}).where(
            RegistrationLink.id == UUID(expiring["id"])
        )

    db(expire)
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": expiring["token"]}),
        410,
        "registration_link_expired",
    )
    assert_problem(confirm(ben, expiring["token"]), 410, "registration_link_expired")

    used_up = create(owner, partner, max_uses=1)
    assert confirm(api.user("carla"), used_up["token"]).status_code == 200
    assert_problem(
        ben.post(f"{MOBILE}/preview", json={"token": used_up["token"]}),
        410,
        "registration_link_exhausted",
    )
    assert_problem(confirm(ben, used_up["token"]), 410, "registration_link_exhausted")
    assert ben.ok("GET", "/api/v1/me")["businesses"] == []


def test_declining_a_registration_link_stores_nothing(
    api: Api, owner: Caller, partner: str
) -> None:
    link = create(owner, partner)
    declined = api.user("ben").ok("POST", f"{MOBILE}/decline", json={"token": link["token"]})
    assert declined == {"registration_link_id": link["id"], "kind": "registration_link"}
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["uses"] == 0
    assert confirm(api.user("carla"), link["token"]).status_code == 200


def test_token_types_are_not_interchangeable(api: Api, owner: Caller, partner: str) -> None:
    """A registration token is looked up as a link, an invitation token as an invitation:
    signing the other type over the same jti gets nowhere."""
    ring = api.http.app.state.ctx.keys
    link = create(owner, partner)
    _, invitation = api.invited_client(owner, partner)
    link_jti = token_parts(link["token"])[1]["jti"]
    invitation_jti = token_parts(token_of(invitation))[1]["jti"]
    ben = api.user("ben")
    for token in (
        ring.sign(link_jti, 4_102_444_800, "inv"),
        ring.sign(invitation_jti, 4_102_444_800, "reg"),
    ):
        assert_problem(ben.post(f"{MOBILE}/preview", json={"token": token}), 400, "token_invalid")


def test_the_poster(api: Api, owner: Caller, partner: str) -> None:
    link = create(owner, partner, label="Front desk")
    response = owner.get(links_url(partner, f"/{link['id']}/poster.svg"), params={"lang": "nl"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert 'width="210mm" height="297mm"' in svg
    assert "Koppel uw onderneming aan Acme Accountants" in svg
    assert "Front desk" in svg


def test_other_partners_cannot_see_links(api: Api, owner: Caller, partner: str) -> None:
    link = create(owner, partner)
    mallory = api.user("mallory")
    api.partner(mallory, "Mallory & Co")
    assert_problem(mallory.get(links_url(partner)), 404, "not_found")
    assert_problem(mallory.post(links_url(partner), json={}), 404, "not_found")
    assert_problem(mallory.post(links_url(partner, f"/{link['id']}/revoke")), 404, "not_found")
    assert_problem(mallory.get(links_url(partner, f"/{link['id']}/poster.svg")), 404, "not_found")
    assert owner.ok("GET", links_url(partner, f"/{link['id']}"))["revoked_at"] is None


def test_list_etag(owner: Caller, partner: str, api: Api) -> None:
    link = create(owner, partner)
    etag = owner.get(links_url(partner)).headers["etag"]
    assert owner.get(links_url(partner), headers={"If-None-Match": etag}).status_code == 304
    assert confirm(api.user("ben"), link["token"]).status_code == 200
    changed = owner.get(links_url(partner), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["items"][0]["uses"] == 1


def test_the_poster_escapes_names_and_labels(api: Api) -> None:
    evil = api.user("eve")
    partner = api.partner(evil, 'Evil <script>alert("x")</script> & Co')
    link = evil.ok("POST", links_url(partner), 201, json={"label": "<img src=x onerror=alert(1)>"})
    svg = evil.get(links_url(partner, f"/{link['id']}/poster.svg")).text
    assert "<script>" not in svg and "<img" not in svg
    assert "Evil &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg
