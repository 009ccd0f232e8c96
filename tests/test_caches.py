"""What is answered from memory (client-list ETags, QR token states) stops being answered
the moment it is no longer true: after a write in this process, after a write in another
process (the live server), and when an invitation's expiry passes with no write at all."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from api.services import client_list, grants
from api.services.changes import partner_change
from api.services.revisions import RevisionCache, Revisions
from db.tables import Client, Invitation
from tests.conftest import IS_POSTGRES, LiveServer, Runner
from tests.support import Api, Caller, token_of, until

MOBILE = "/api/v1/mobile/invitations"


def invited_url(partner: str) -> str:
    return f"/api/v1/partners/{partner}/clients?status=invited"


def qr_path(invitation: dict[str, Any]) -> str:
    return f"/i/{token_of(invitation)}/qr.png"


def poll(owner: Caller, url: str, etag: str) -> httpx.Response:
    return owner.get(url, headers={"If-None-Match": etag})


def sent(owner: Caller, partner: str) -> None:
    """Wait until every invitation's email went out (which changes the list too)."""
    clients = f"/api/v1/partners/{partner}/clients"
    until(
        lambda: all(
            c["invitation"] is None or c["invitation"]["email_status"] != "queued"
            for c in owner.ok("GET", clients)["items"]
        ),
        within=10,
    )


def test_a_write_here_is_seen_by_the_next_poll(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    sent(owner, partner)
    url = invited_url(partner)
    etag = owner.get(url).headers["etag"]
    assert poll(owner, url, etag).status_code == 304  # answered from memory
    assert poll(owner, url, etag).status_code == 304
    api.accept(api.user("ben"), invitation)
    changed = poll(owner, url, etag)
    assert changed.status_code == 200 and changed.json()["items"] == []


def _route_must_not_run(*_: Any) -> None:
    raise AssertionError("the route ran for an answer that memory holds")


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


@pytest.mark.parametrize("image", ["qr.png", "qr.svg"])
def test_an_answer_from_memory_is_the_routes_answer_to_the_letter(
    api: Api, owner: Caller, partner: str, monkeypatch: pytest.MonkeyPatch, image: str
) -> None:
    _, invitation = api.invited_client(owner, partner)
    sent(owner, partner)
    etag = owner.get(invited_url(partner)).headers["etag"]
    # The same list under a query string memory holds nothing for yet, and an image not
    # fetched before: both answered by their routes first, then from memory.
    url = invited_url(partner) + "&sort=created"
    image_path = f"/i/{token_of(invitation)}/{image}"
    from_route = poll(owner, url, etag), api.http.get(image_path)
    monkeypatch.setattr(client_list, "page", _route_must_not_run)
    monkeypatch.setattr(grants, "usable_until", _route_must_not_run)
    from_memory = poll(owner, url, etag), api.http.get(image_path)
    assert [_answer(r)[0] for r in from_memory] == [304, 200]
    assert [_answer(r) for r in from_memory] == [_answer(r) for r in from_route]


def test_each_query_and_user_has_its_own_etag(api: Api, owner: Caller, partner: str) -> None:
    api.invited_client(owner, partner)
    api.client_row(owner, partner, name="Not invited")
    invited = owner.get(invited_url(partner)).headers["etag"]
    everyone = f"/api/v1/partners/{partner}/clients"
    assert poll(owner, everyone, invited).status_code == 200
    # An outsider never gets a 304, however well it guesses the ETag.
    outsider = api.user("outsider")
    assert poll(outsider, invited_url(partner), invited).status_code == 404


def test_a_write_in_another_process_is_seen_within_a_second(
    api: Api, owner: Caller, partner: str, live_server: LiveServer
) -> None:
    client, _ = api.invited_client(owner, partner)
    sent(owner, partner)
    url = invited_url(partner)
    etag = owner.get(url).headers["etag"]
    assert poll(owner, url, etag).status_code == 304
    with httpx.Client(base_url=live_server.base_url, headers=owner.headers) as other:
        renamed = other.patch(
            f"/api/v1/partners/{partner}/clients/{client['id']}", json={"name": "Renamed"}
        )
        assert renamed.status_code == 200
    # No event says so: the edit bumps the partner's revision, which the other process
    # announces (PostgreSQL) or this one reads (SQLite).
    started = time.monotonic()
    until(lambda: poll(owner, url, etag).status_code == 200, within=3)
    assert time.monotonic() - started < 1.5
    assert poll(owner, url, etag).json()["items"][0]["name"] == "Renamed"


def test_this_process_write_reaches_the_other_process(
    api: Api, owner: Caller, partner: str, live_server: LiveServer
) -> None:
    _, invitation = api.invited_client(owner, partner)
    sent(owner, partner)
    with httpx.Client(base_url=live_server.base_url, headers=owner.headers) as other:
        url = invited_url(partner)
        etag = other.get(url).headers["etag"]
        assert other.get(url, headers={"If-None-Match": etag}).status_code == 304
        image = other.get(qr_path(invitation))
        assert image.status_code == 200
        assert other.get(qr_path(invitation)).status_code == 200
        owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
        until(lambda: other.get(url, headers={"If-None-Match": etag}).status_code == 200, 3)
        until(lambda: other.get(qr_path(invitation)).status_code == 410, 3)
        assert other.get(qr_path(invitation)).json()["code"] == "invitation_revoked"


def test_a_qr_of_a_token_used_in_another_process_is_refused(
    api: Api, owner: Caller, partner: str, live_server: LiveServer
) -> None:
    _, invitation = api.invited_client(owner, partner)
    assert api.http.get(qr_path(invitation)).status_code == 200
    assert api.http.get(qr_path(invitation)).status_code == 200  # from memory
    ben = api.user("ben")
    body = {"token": token_of(invitation), "new_business": {"name": "Elsewhere"}}
    with httpx.Client(base_url=live_server.base_url, headers=ben.headers) as other:
        assert other.post(f"{MOBILE}/confirm", json=body).status_code == 200
    until(lambda: api.http.get(qr_path(invitation)).status_code == 409, within=3)


def test_nothing_is_served_past_an_expiry(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    """The list and the QR change when the invitation expires, with no write at that time."""
    client, invitation = api.invited_client(owner, partner)
    sent(owner, partner)
    soon = datetime.now(UTC) + timedelta(seconds=3)

    async def expire_soon() -> None:  # as if the invitation had been made long ago
        async with partner_change(api.ctx, UUID(partner)):
            await Invitation.update({Invitation.expires_at: soon}).where(
                Invitation.id == UUID(invitation["id"])
            )
            await Client.update({Client.invitation_expires_at: soon}).where(
                Client.id == UUID(client["id"])
            )

    db(expire_soon)
    url = invited_url(partner)
    etag = owner.get(url).headers["etag"]
    assert poll(owner, url, etag).status_code == 304
    assert api.http.get(qr_path(invitation)).status_code == 200
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.1)
    expired = poll(owner, url, etag)
    assert expired.status_code == 200 and expired.json()["items"] == []
    assert api.http.get(qr_path(invitation)).status_code == 410


def test_an_untrusted_cache_answers_nothing() -> None:
    known = Revisions()
    cache: RevisionCache[str, str] = RevisionCache(known=known)
    partner = uuid4()
    cache.put("key", partner, 3, "value", valid_until=time.time() + 60)
    assert cache.get("key") is None  # nothing keeps the revisions up to date yet
    known.trusted = True
    cache.put("key", partner, 3, "value", valid_until=time.time() + 60)
    assert cache.get("key") == "value"
    known.changing(partner, 4)
    assert cache.get("key") is None
    cache.put("key", partner, 4, "value", valid_until=time.time() + 60)
    known.forget()  # e.g. the listener reconnected: notifications may have been missed
    assert cache.get("key") is None


def test_the_cache_is_bounded() -> None:
    known = Revisions()
    known.trusted = True
    cache: RevisionCache[int, int] = RevisionCache(size=2, known=known)
    partner = uuid4()
    for key in range(3):
        cache.put(key, partner, 1, key, valid_until=time.time() + 60)
    assert [cache.get(k) for k in range(3)] == [None, 1, 2]


@pytest.mark.skipif(not IS_POSTGRES, reason="the NOTIFY listener is PostgreSQL's")
def test_nothing_from_memory_while_notifications_may_be_missed(
    api: Api, db: Runner, owner: Caller, partner: str, live_server: LiveServer
) -> None:
    """Cut this process's LISTEN connection, change the list in another process while it
    is down: the change is seen all the same (memory is distrusted, then forgotten)."""
    client, _ = api.invited_client(owner, partner)
    sent(owner, partner)
    url = invited_url(partner)
    etag = owner.get(url).headers["etag"]
    assert poll(owner, url, etag).status_code == 304

    async def cut_listener() -> int:
        rows = await Client.raw(
            "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
            " AND application_name = '' AND backend_type = 'client backend'"
        )
        return len(rows)

    assert db(cut_listener) >= 1
    with httpx.Client(base_url=live_server.base_url, headers=owner.headers) as other:
        renamed = other.patch(
            f"/api/v1/partners/{partner}/clients/{client['id']}", json={"name": "While away"}
        )
        assert renamed.status_code == 200
    until(lambda: poll(owner, url, etag).status_code == 200, within=5)
    assert poll(owner, url, etag).json()["items"][0]["name"] == "While away"
