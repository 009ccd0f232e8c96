"""Racing requests: exactly one wins, the loser leaves nothing behind, and neither gets a
500."""

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.services import changes, clients, invitations, mobile, reminders, spaces
from api.services.access import Member
from api.services.changes import partner_change
from api.services.webhooks import MAX_ENDPOINTS
from db import sql, statements
from db.tables import Client, Invitation, Partner
from db.transactions import lock
from mobile_contract import models
from tests.conftest import IS_POSTGRES, Runner
from tests.support import Api, Caller, age_invitation, established, token_of, until

MOBILE = "/api/v1/mobile/invitations"
ROUNDS = 15


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


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


def test_resend_racing_confirm_ends_consistent(api: Api, db: Any) -> None:
    """Either the confirm wins (the resend is refused) or the resend wins (the old token
    is dead); never an accepted invitation that is also superseded."""
    owner = api.user("anna")
    partner = api.partner(owner)
    for round_ in range(ROUNDS):
        client, invitation = api.invited_client(owner, partner, name=f"Client {round_}")
        age_invitation(db, invitation["id"], seconds=61)
        ben = api.user()
        resend_url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/resend"
        with ThreadPoolExecutor(max_workers=2) as pool:
            confirming = pool.submit(
                ben.post,
                f"{MOBILE}/confirm",
                json={"token": token_of(invitation), "new_business": {"name": "B"}},
            )
            resending = pool.submit(owner.post, resend_url, json={})
            confirm, resend = confirming.result(), resending.result()
        row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
        old = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
        if confirm.status_code == 200:
            assert resend.status_code == 409 and resend.json()["code"] == "client_already_active"
            assert old["status"] == "accepted" and row["status"] == "active"
        else:
            assert confirm.status_code == 410 and confirm.json()["code"] == "invitation_superseded"
            assert resend.status_code == 201
            assert old["status"] == "superseded" and row["status"] == "invited"
            assert row["invitation"]["id"] == resend.json()["id"]
            assert ben.ok("GET", "/api/v1/me")["businesses"] == []


def test_schedule_changes_racing_confirms_all_succeed(api: Api) -> None:
    """A new reminder schedule rewrites the partner's pending invitations while confirms end
    some of them: both take the rows in the one order (clients, invitations, the partner
    row last), so neither waits on the other in a circle (a deadlock would be a 503)."""
    owner = api.user("anna")
    partner = api.partner(owner)
    for round_ in range(ROUNDS):
        invitations = [
            api.invited_client(owner, partner, name=f"C{round_}.{i}")[1] for i in range(3)
        ]
        users = [api.user() for _ in invitations]
        with ThreadPoolExecutor(max_workers=4) as pool:
            confirms = [
                pool.submit(
                    user.post,
                    f"{MOBILE}/confirm",
                    json={"token": token_of(invitation), "new_business": {"name": "B"}},
                )
                for user, invitation in zip(users, invitations, strict=True)
            ]
            days = [1 + round_ % 2]  # a change every round
            change = pool.submit(
                owner.patch, f"/api/v1/partners/{partner}", json={"reminder_days": days}
            )
            answers = [c.result() for c in confirms], change.result()
        assert [r.status_code for r in answers[0]] == [200] * 3, [r.text for r in answers[0]]
        assert answers[1].status_code == 200, answers[1].text
        assert answers[1].json()["reminder_days"] == days


def reminder_times(db: Runner, client_ids: list[str]) -> list[tuple[datetime, datetime]]:
    """(created_at, next_reminder_at) of the clients' invitations."""

    async def read() -> list[tuple[datetime, datetime]]:
        rows = await Invitation.select(Invitation.created_at, Invitation.next_reminder_at).where(
            Invitation.client.is_in([UUID(i) for i in client_ids])
        )
        return [(r["created_at"], r["next_reminder_at"]) for r in rows]

    return db(read)


def test_invites_racing_schedule_changes_follow_the_schedule_in_force(api: Api, db: Runner) -> None:
    """An invite and a schedule change committing in the same moment: the invite's
    reminder times are those of the schedule in force once both are done (the invite
    reads the schedule under the partner row; a change that did not move its invitations
    sees them under that row and starts again)."""
    owner = api.user("anna")
    partner = api.partner(owner)
    established(db, partner)
    for round_ in range(ROUNDS):
        ids = [api.client_row(owner, partner, name=f"C{round_}.{i}")["id"] for i in range(10)]
        days = [1 + round_ % 2]  # a change every round
        with ThreadPoolExecutor(max_workers=2) as pool:
            inviting = pool.submit(api.invite, owner, partner, ids)
            changing = pool.submit(
                owner.patch, f"/api/v1/partners/{partner}", json={"reminder_days": days}
            )
            invited, changed = inviting.result(), changing.result()
        assert changed.status_code == 200, changed.text
        assert all("invitation" in result for result in invited), invited

        times = reminder_times(db, ids)
        assert times and all(due == created + timedelta(days=days[0]) for created, due in times), (
            days,
            times,
        )


PG_ONLY = pytest.mark.skipif(
    not IS_POSTGRES, reason="row locks are PostgreSQL's (SQLite's are whole)"
)
SCENE_SECONDS = 20  # a step that waits longer than this is stuck


def schedule_change(api: Api, member: Member, days: list[float]) -> Awaitable[models.Partner]:
    return spaces.update_partner(api.ctx, member, models.PartnerUpdate(reminder_days=days))


class Hold:
    """A change of the partner's data held open (by `held`) until `release`d."""

    def __init__(self) -> None:
        self.held, self.release = asyncio.Event(), asyncio.Event()

    async def partner_row(self, api: Api, partner: str) -> str:
        async with partner_change(api.ctx, UUID(partner)):
            await lock(Partner, UUID(partner))
            self.held.set()
            await self.release.wait()
        return "held"

    async def invitation_change(self, api: Api, partner: str, client: UUID) -> str:
        """The client's invitation changed under its lock; the partner row comes as the
        change ends (as the outbox recording an email, or a revoke)."""
        async with partner_change(api.ctx, UUID(partner)):
            await lock(Client, client)
            await Invitation.update({Invitation.message: "changed"}).where(
                Invitation.client == client
            )
            self.held.set()
            await self.release.wait()
        return "changed"


def pause_at_partner_row(
    monkeypatch: pytest.MonkeyPatch, task: Callable[[], asyncio.Task[Any] | None]
) -> tuple[asyncio.Event, asyncio.Event]:
    """(reached, go_on): `reached` is set when `task()` asks reminders' `lock` for the
    partner row, which it is given once `go_on` is set."""
    reached, go_on = asyncio.Event(), asyncio.Event()

    async def pausing(table: Any, *ids: UUID) -> None:
        if table is Partner and asyncio.current_task() is task():
            reached.set()
            await go_on.wait()
        await lock(table, *ids)

    monkeypatch.setattr(reminders, "lock", pausing)
    return reached, go_on


@PG_ONLY
def test_a_schedule_change_meeting_an_invite_that_committed_meanwhile(
    api: Api, db: Runner, owner: Caller, partner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule change has moved the pending invitations it knew when an invite of
    another client commits (under the old schedule), and a change of that new invitation
    takes its client and waits for the partner row. Under the partner row the schedule
    change sees the new invitation and starts again, rather than move it there (it would
    wait for that change in a circle: a deadlock, a 503). Both end well, and both
    invitations follow the new schedule."""
    member = owner.member(partner)
    first = UUID(api.invited_client(owner, partner, name="Pending")[0]["id"])
    late = UUID(api.client_row(owner, partner, name="Invited meanwhile")["id"])

    async def scene() -> list[Any]:
        scheduling: asyncio.Task[models.Partner] | None = None
        reached, go_on = pause_at_partner_row(monkeypatch, lambda: scheduling)
        change = Hold()
        async with asyncio.timeout(SCENE_SECONDS):
            scheduling = asyncio.create_task(schedule_change(api, member, [2.0]))
            await reached.wait()
            await invitations.invite(api.ctx, member, models.InviteRequest(client_ids=[late]))
            changing = asyncio.create_task(change.invitation_change(api, partner, late))
            await change.held.wait()
            go_on.set()
            await asyncio.sleep(0.3)  # the schedule change goes as far as it can
            change.release.set()
            return [(await scheduling).reminder_days, await changing]

    assert db(scene) == [[2.0], "changed"]
    times = reminder_times(db, [str(first), str(late)])
    assert len(times) == 2
    assert all(due == created + timedelta(days=2) for created, due in times), times


@PG_ONLY
def test_a_first_preview_while_a_schedule_change_waits_for_the_partner_row(
    api: Api, db: Runner, owner: Caller, partner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first preview marks its invitation opened, then waits for the partner row to
    record `invitation.opened`. The schedule change moved that invitation before it
    waited for the partner row: the preview waits for the schedule change, which does
    not wait for the preview (a circle would be a deadlock, a 503)."""
    member = owner.member(partner)
    invitation = api.invited_client(owner, partner)[1]
    app_user = models.User(sub="app-user", email="app-user@example.com", name=None)
    opening = models.GrantRequest(token=token_of(invitation))

    async def scene() -> list[Any]:
        scheduling: asyncio.Task[models.Partner] | None = None
        reached, go_on = pause_at_partner_row(monkeypatch, lambda: scheduling)
        row = Hold()
        async with asyncio.timeout(SCENE_SECONDS):
            holding = asyncio.create_task(row.partner_row(api, partner))
            await row.held.wait()
            scheduling = asyncio.create_task(schedule_change(api, member, [2.0]))
            await reached.wait()
            go_on.set()
            await asyncio.sleep(0.1)  # waiting for the partner row now
            previewing = asyncio.create_task(mobile.preview(api.ctx, app_user, opening))
            await asyncio.sleep(0.3)  # the preview goes as far as it can
            row.release.set()
            return [
                await holding,
                (await scheduling).reminder_days,
                (await previewing).invitation_id,
            ]

    assert db(scene) == ["held", [2.0], UUID(invitation["id"])]


@PG_ONLY
def test_a_confirm_a_first_preview_and_an_invite_meet_at_the_partner_row(
    api: Api, db: Runner, owner: Caller, partner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A confirm holds its client and has inserted its link (a foreign key's `FOR KEY
    SHARE` of the partner row) when another change of the partner holds the partner row
    to its commit. An invite asks for the partner row (for its reminder schedule), a first
    preview of the confirm's invitation marks it opened and waits for the partner row
    too, and the confirm goes on to accept that invitation. Were the invite's lock
    `FOR UPDATE`, it would wait for the confirm and queue the preview behind it: confirm,
    preview and invite in a circle (a deadlock, a 503)."""
    member = owner.member(partner)
    _, invitation = api.invited_client(owner, partner, name="Confirming")
    other = UUID(api.client_row(owner, partner, name="Invited now")["id"])
    app_user = models.User(sub="app-user", email="app-user@example.com", name=None)
    token = token_of(invitation)
    path = f"/api/v1/partners/{partner}/invitations/{invitation['id']}"
    until(lambda: owner.ok("GET", path)["email_status"] == "sent")  # the outbox is done

    async def scene() -> list[Any]:
        confirming: asyncio.Task[Any] | None = None
        inviting: asyncio.Task[Any] | None = None
        at_accept, go_accept = asyncio.Event(), asyncio.Event()
        other_change = Hold()
        execute = sql.execute

        async def pausing_execute(statement: Any, *args: Any) -> Any:
            if statement is statements.ACCEPT_INVITATION and asyncio.current_task() is confirming:
                at_accept.set()
                await go_accept.wait()
            return await execute(statement, *args)

        monkeypatch.setattr(sql, "execute", pausing_execute)
        reached, go_on = pause_at_partner_row(monkeypatch, lambda: inviting)

        async def holding_to_commit() -> models.Client:
            async def held() -> None:  # after its UPDATE of the partner row
                other_change.held.set()
                await other_change.release.wait()

            changes.before_commit.set(held)
            data = models.ClientCreate(name="Meanwhile", email="m@example.com")
            return await clients.create(api.ctx, member, data)

        new_business = models.BusinessCreate(name="B")
        async with asyncio.timeout(SCENE_SECONDS):
            confirming = asyncio.create_task(
                mobile.confirm(
                    api.ctx, app_user, models.ConfirmRequest(token=token, new_business=new_business)
                )
            )
            await at_accept.wait()
            holding = asyncio.create_task(holding_to_commit())
            await other_change.held.wait()
            inviting = asyncio.create_task(
                invitations.invite(api.ctx, member, models.InviteRequest(client_ids=[other]))
            )
            await reached.wait()
            go_on.set()
            await asyncio.sleep(0.3)  # the invite waits for the partner row
            previewing = asyncio.create_task(
                mobile.preview(api.ctx, app_user, models.GrantRequest(token=token))
            )
            await asyncio.sleep(0.3)  # the preview marked it opened and waits too
            go_accept.set()
            await asyncio.sleep(0.3)
            other_change.release.set()
            return [
                (await confirming).client_id,
                (await holding).name,
                [r.client_id for r in (await inviting).results],
                (await previewing).invitation_id,
            ]

    client_id = UUID(invitation["client_id"])
    assert db(scene) == [client_id, "Meanwhile", [other], UUID(invitation["id"])]


def test_a_change_that_waited_for_another_is_dated_after_it(api: Api) -> None:
    """Disconnects racing a confirm wait for its locks: the client's events (activated,
    then deactivated when a disconnect came second) are in time order, none dated before
    the change it waited for."""
    owner = api.user("anna")
    partner = api.partner(owner)
    base = f"/api/v1/partners/{partner}"
    for round_ in range(ROUNDS):
        client, invitation = api.invited_client(owner, partner, name=f"Client {round_}")
        ben = api.user()
        body = {"token": token_of(invitation), "new_business": {"name": "B"}}
        with ThreadPoolExecutor(max_workers=5) as pool:
            confirming = pool.submit(ben.post, f"{MOBILE}/confirm", json=body)
            disconnects = [
                pool.submit(owner.post, f"{base}/clients/{client['id']}/disconnect", json={})
                for _ in range(4)
            ]
            assert confirming.result().status_code == 200
            assert [d.result().status_code for d in disconnects] == [200] * 4
        events = owner.ok("GET", f"{base}/events", params={"limit": 500})["events"]
        times = [at(e["at"]) for e in events if e.get("client_id") == client["id"]]
        assert times == sorted(times), events


def test_revoke_racing_confirm_ends_consistent(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner)
    for round_ in range(ROUNDS):
        client, invitation = api.invited_client(owner, partner, name=f"Client {round_}")
        ben = api.user()
        revoke_url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke"
        with ThreadPoolExecutor(max_workers=2) as pool:
            confirming = pool.submit(
                ben.post,
                f"{MOBILE}/confirm",
                json={"token": token_of(invitation), "new_business": {"name": "B"}},
            )
            revoking = pool.submit(owner.post, revoke_url)
            confirm, revoke = confirming.result(), revoking.result()
        row = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}")
        final = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
        if confirm.status_code == 200:
            assert (
                revoke.status_code == 409 and revoke.json()["code"] == "invitation_already_accepted"
            )
            assert final["status"] == "accepted" and row["status"] == "active"
        else:
            assert confirm.status_code == 410 and confirm.json()["code"] == "invitation_revoked"
            assert revoke.status_code == 200
            assert final["status"] == "revoked" and row["status"] == "inactive"
            assert ben.ok("GET", "/api/v1/me")["businesses"] == []


Call = tuple[Caller, str, str, Any]  # (who, method, url, JSON body)


def both(first: Call, second: Call) -> list[int]:
    """The statuses of two requests sent at the same moment."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = [
            pool.submit(who.request, method, url, json=body)
            for who, method, url, body in (first, second)
        ]
        return [f.result().status_code for f in sent]


def test_a_client_deleted_while_the_app_answers_its_invitation(api: Api) -> None:
    """Whichever comes first: the answer wins (the client is active: 409 to the delete; or
    declined: deleted after it), or the delete wins and the token is not one any more."""
    owner = api.user("anna")
    partner = api.partner(owner)
    # (delete, answer): the delete first, or the answer first (then an active client is
    # kept, a declined one deleted).
    outcomes = {"confirm": ([204, 400], [409, 200]), "decline": ([204, 400], [204, 200])}
    for round_ in range(ROUNDS):
        for answer, body in (("confirm", {"new_business": {"name": "B"}}), ("decline", {})):
            client, invitation = api.invited_client(owner, partner, name=f"{answer} {round_}")
            ben = api.user()
            statuses = both(
                (owner, "DELETE", f"/api/v1/partners/{partner}/clients/{client['id']}", None),
                (ben, "POST", f"{MOBILE}/{answer}", {"token": token_of(invitation)} | body),
            )
            assert statuses in outcomes[answer], (answer, statuses)
            if statuses == [204, 400]:
                assert ben.ok("GET", "/api/v1/me")["businesses"] == []


@pytest.mark.parametrize(
    ("ending", "outcomes"),
    [("delete", ([204, 201], [204, 404])), ("revoke", ([200, 201], [200, 410]))],
)
def test_a_qr_code_asked_for_while_its_invitation_ends(
    api: Api, ending: str, outcomes: tuple[list[int], ...]
) -> None:
    """The client deleted or the invitation revoked at the same moment: the QR code is
    made before (and dies with it), or refused; never made for what has ended."""
    owner = api.user("anna")
    partner = api.partner(owner)
    base = f"/api/v1/partners/{partner}"
    for round_ in range(ROUNDS):
        client, invitation = api.invited_client(owner, partner, name=f"Client {round_}")
        end: Call = (
            (owner, "DELETE", f"{base}/clients/{client['id']}", None)
            if ending == "delete"
            else (owner, "POST", f"{base}/invitations/{invitation['id']}/revoke", None)
        )
        statuses = both(end, (owner, "POST", f"{base}/invitations/{invitation['id']}/qr-token", {}))
        assert statuses in outcomes, statuses


def test_an_endpoint_deleted_while_a_delivery_is_queued_for_it(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner)
    hooks = f"/api/v1/partners/{partner}/webhooks"
    for round_ in range(ROUNDS):
        hook = owner.ok("POST", hooks, 201, json={"url": "http://127.0.0.1:9/hook"})
        one = f"{hooks}/{hook['id']}"
        sent = owner.ok("POST", f"{one}/test", 202)
        action = f"{one}/test" if round_ % 2 else f"{one}/deliveries/{sent['id']}/redeliver"
        statuses = both((owner, "DELETE", one, None), (owner, "POST", action, None))
        assert statuses in ([204, 202], [204, 404]), (action, statuses)


def test_endpoint_changes_racing_events_queued_for_it(api: Api) -> None:
    """A change that queues deliveries for an endpoint (any event) and one that locks the
    endpoint (a test send, an edit) take the partner row and the endpoint in one order:
    neither waits on the other in a circle (a deadlock would be a 503)."""
    owner = api.user("anna")
    partner = api.partner(owner)
    base = f"/api/v1/partners/{partner}"
    hook = owner.ok("POST", f"{base}/webhooks", 201, json={"url": "http://127.0.0.1:9/hook"})
    one = f"{base}/webhooks/{hook['id']}"
    for round_ in range(ROUNDS):
        with ThreadPoolExecutor(max_workers=3) as pool:
            sent = [
                pool.submit(owner.post, f"{base}/clients", json={"name": f"C{round_}"}),
                pool.submit(owner.post, f"{one}/test", json=None),
                pool.submit(owner.patch, one, json={"description": f"round {round_}"}),
            ]
            statuses = [f.result().status_code for f in sent]
        assert statuses == [201, 202, 200], [f.result().text for f in sent]


def test_creates_racing_for_the_last_webhook_slot(api: Api) -> None:
    """Two endpoints added at once where one fits: one is made, the other refused. (A race
    on PostgreSQL; SQLite runs the two one after the other.)"""
    owner = api.user("anna")
    partner = api.partner(owner)
    hooks = f"/api/v1/partners/{partner}/webhooks"
    for i in range(MAX_ENDPOINTS - 1):
        owner.ok("POST", hooks, 201, json={"url": f"http://127.0.0.1:9/hook{i}"})
    for round_ in range(ROUNDS):
        new = {"url": f"http://127.0.0.1:9/round{round_}"}
        with ThreadPoolExecutor(max_workers=2) as pool:
            sent = [pool.submit(owner.post, hooks, json=new) for _ in range(2)]
            responses = [f.result() for f in sent]
        assert sorted(r.status_code for r in responses) == [201, 400], [r.text for r in responses]
        made = next(r for r in responses if r.status_code == 201).json()
        assert len(owner.ok("GET", hooks)["items"]) == MAX_ENDPOINTS
        assert owner.request("DELETE", f"{hooks}/{made['id']}").status_code == 204
