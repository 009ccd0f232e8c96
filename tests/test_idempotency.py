"""`Idempotency-Key` on the POSTs that create: a repeat gets the first answer and changes
nothing, in this process or another."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import msgspec
import pytest

from api.errors import AppError
from api.services import clients
from api.services.idempotency import ABANDONED, Answer, fingerprint, forget_expired, once
from db.tables import Client, IdempotencyKey
from mobile_contract import ErrorCode, models
from tests.conftest import LiveServer, Runner
from tests.support import Api, Caller, assert_problem, until


def count_clients(db: Runner, partner: str) -> int:
    async def count() -> int:
        return await Client.count().where(Client.partner == UUID(partner))

    return int(db(count))


def test_a_repeated_create_answers_the_first_client_again(
    db: Runner, owner: Caller, partner: str
) -> None:
    url = f"/api/v1/partners/{partner}/clients"
    key = {"Idempotency-Key": "create-1"}
    first = owner.post(url, json={"name": "Once"}, headers=key)
    again = owner.post(url, json={"name": "Once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert count_clients(db, partner) == 1
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [e["type"] for e in events] == ["client.created"]


def test_the_same_key_with_another_body_is_a_conflict(
    db: Runner, owner: Caller, partner: str
) -> None:
    url = f"/api/v1/partners/{partner}/clients"
    key = {"Idempotency-Key": "create-2"}
    assert owner.post(url, json={"name": "One"}, headers=key).status_code == 201
    response = owner.post(url, json={"name": "Another"}, headers=key)
    assert_problem(response, 409, "idempotency_conflict")
    assert count_clients(db, partner) == 1


def test_a_key_holds_however_the_partner_id_is_spelt(
    db: Runner, owner: Caller, partner: str
) -> None:
    """A path parameter is one value however it is written (UUIDs parse in capitals,
    without dashes, in braces, as a URN): a repeat under any spelling is a repeat."""
    key = {"Idempotency-Key": "spelt-1"}
    body = {"name": "Spelt once"}
    first = owner.post(f"/api/v1/partners/{partner}/clients", json=body, headers=key)
    assert first.status_code == 201
    for spelt in (
        partner.upper(),
        partner.replace("-", ""),
        f"{{{partner}}}",
        f"urn:uuid:{partner}",
    ):
        again = owner.post(f"/api/v1/partners/{spelt}/clients", json=body, headers=key)
        assert again.status_code == 201, spelt
        assert again.headers["idempotent-replayed"] == "true", spelt
        assert again.json() == first.json()
    assert count_clients(db, partner) == 1


def test_keys_are_the_callers_own_and_per_route(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    url = f"/api/v1/partners/{partner}/clients"
    key = {"Idempotency-Key": "shared"}
    colleague = api.user("colleague")

    async def join() -> None:
        from db.tables import PartnerMember

        await PartnerMember(partner=UUID(partner), user_sub=colleague.sub, role="member").save()

    db(join)
    owner.ok("POST", url, 201, json={"name": "A"}, headers=key)
    colleague.ok("POST", url, 201, json={"name": "A"}, headers=key)
    rows = {"clients": [{"name": "A"}]}
    owner.ok("POST", f"{url}/import", json=rows, headers=key)
    assert count_clients(db, partner) == 3


def test_an_invite_repeated_sends_one_invitation(api: Api, owner: Caller, partner: str) -> None:
    client = api.client_row(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations"
    body = {"client_ids": [client["id"]]}
    key = {"Idempotency-Key": "invite-1"}
    first = owner.ok("POST", url, json=body, headers=key)
    again = owner.ok("POST", url, json=body, headers=key)
    assert again == first and "invitation" in first["results"][0]
    history = owner.ok("GET", f"/api/v1/partners/{partner}/clients/{client['id']}/invitations")
    assert len(history["items"]) == 1
    without_key = owner.ok("POST", url, json=body)
    assert without_key["results"][0]["error"]["code"] == "client_already_invited"


def test_a_registration_link_created_again_is_the_same_link(owner: Caller, partner: str) -> None:
    url = f"/api/v1/partners/{partner}/registration-links"
    body = {"label": "Front desk", "max_uses": 5}
    key = {"Idempotency-Key": "poster-1"}
    first = owner.post(url, json=body, headers=key)
    again = owner.post(url, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert [link["id"] for link in owner.ok("GET", url)["items"]] == [first.json()["id"]]
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [e["type"] for e in events] == ["registration_link.created"]
    other = owner.post(url, json={**body, "max_uses": 6}, headers=key)
    assert_problem(other, 409, "idempotency_conflict")


def a_day_later(db: Runner, key: str) -> None:
    """The key `key` as if it had been sent 24 hours and a second ago."""

    async def age() -> None:
        await IdempotencyKey.update(
            {IdempotencyKey.created_at: datetime.now(UTC) - timedelta(hours=24, seconds=1)}
        ).where(IdempotencyKey.key == key)

    db(age)


@pytest.mark.parametrize("body", [{"name": "Yesterday"}, {"name": "Today"}])
def test_a_key_expires_after_a_day(
    db: Runner, owner: Caller, partner: str, body: dict[str, str]
) -> None:
    """Then the key is free: the same request or another is new work."""
    url = f"/api/v1/partners/{partner}/clients"
    key = {"Idempotency-Key": "old-key"}
    owner.ok("POST", url, 201, json={"name": "Yesterday"}, headers=key)
    a_day_later(db, "old-key")
    again = owner.post(url, json=body, headers=key)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["name"] == body["name"]
    assert count_clients(db, partner) == 2


def test_keys_past_their_day_are_deleted_by_the_housekeeping(
    db: Runner, owner: Caller, partner: str
) -> None:
    url = f"/api/v1/partners/{partner}/clients"
    for key in ("old-key", "new-key"):
        owner.ok("POST", url, 201, json={"name": key}, headers={"Idempotency-Key": key})
    a_day_later(db, "old-key")
    db(forget_expired)
    kept = db(lambda: IdempotencyKey.select(IdempotencyKey.key))
    assert [row["key"] for row in kept] == ["new-key"]


def test_a_deleted_clients_data_is_not_kept_in_an_answer(
    db: Runner, owner: Caller, partner: str
) -> None:
    """Deleting a client erases its personal data from the answers kept for a repeat too
    (whatever spelling of the partner's id the request used). The key stays taken: a
    repeat changes nothing and is told its answer is gone; other answers stay."""
    url = f"/api/v1/partners/{partner}/clients"
    person = {"name": "Jan Peeters", "email": "jan.peeters@private.example"}
    created = owner.ok("POST", url, 201, json=person, headers={"Idempotency-Key": "jan"})
    rows = {"clients": [person, {"name": "Other row"}]}
    upper = f"/api/v1/partners/{partner.upper().replace('-', '')}/clients/import"
    imported = owner.ok("POST", upper, json=rows, headers={"Idempotency-Key": "jans"})
    kept = owner.ok("POST", url, 201, json={"name": "Other"}, headers={"Idempotency-Key": "o"})
    clients_before = count_clients(db, partner)

    def kept_bodies() -> list[str]:
        return [row["body"] for row in db(lambda: IdempotencyKey.select(IdempotencyKey.body))]

    assert owner.request("DELETE", f"{url}/{created['id']}").status_code == 204
    assert sum("jan.peeters" in (body or "") for body in kept_bodies()) == 1
    owner.request("DELETE", f"{url}/{imported['results'][0]['client']['id']}")
    assert not any("jan.peeters" in (body or "") for body in kept_bodies())

    for again in (
        owner.post(url, json=person, headers={"Idempotency-Key": "jan"}),
        owner.post(upper, json=rows, headers={"Idempotency-Key": "jans"}),
    ):
        problem = assert_problem(again, 409, "idempotency_conflict")
        assert problem["detail"] == (
            "The answer under this Idempotency-Key showed a client since deleted; use a new key."
        )
    assert count_clients(db, partner) == clients_before - 2  # nothing made again
    repeat = owner.post(url, json={"name": "Other"}, headers={"Idempotency-Key": "o"})
    assert repeat.headers["idempotent-replayed"] == "true" and repeat.json() == kept


def test_an_error_is_not_kept(api: Api, owner: Caller, partner: str) -> None:
    url = f"/api/v1/partners/{partner}/invitations"
    key = {"Idempotency-Key": "bad-partner"}
    stranger = api.user("stranger")
    body = {"client_ids": ["00000000-0000-4000-8000-000000000000"]}
    assert_problem(stranger.post(url, json=body, headers=key), 404, "not_found")
    assert_problem(stranger.post(url, json=body, headers=key), 404, "not_found")


@pytest.mark.parametrize("key", [b"", b"x" * 256, b"tab\there", "café".encode()])
def test_a_key_must_be_1_to_255_printable_characters(
    owner: Caller, partner: str, key: bytes
) -> None:
    url = f"/api/v1/partners/{partner}/clients"
    response = owner.post(url, json={"name": "A"}, headers={"Idempotency-Key": key})
    problem = assert_problem(response, 400, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["Idempotency-Key"]


def test_an_import_retried_on_another_process_after_a_dropped_connection(
    db: Runner, owner: Caller, partner: str, live_server: LiveServer
) -> None:
    rows = {"clients": [{"name": f"Row {i}", "email": f"r{i}@x.example"} for i in range(2000)]}
    url = f"/api/v1/partners/{partner}/clients/import"
    key = {"Idempotency-Key": "import-2000"}
    with (
        httpx.Client(base_url=live_server.base_url, headers=owner.headers) as other,
        pytest.raises(httpx.TimeoutException),  # the answer never reaches the caller
    ):
        other.post(url, json=rows, headers=key, timeout=httpx.Timeout(5, read=0.001))

    async def answered() -> bool:  # the other process finished the import and kept its answer
        return bool(await IdempotencyKey.exists().where(IdempotencyKey.status_code >= 200))

    until(lambda: db(answered))
    retried = owner.post(url, json=rows, headers=key)
    assert retried.status_code == 200
    results = retried.json()["results"]
    assert len(results) == 2000 and all("client" in r for r in results)
    assert retried.headers["idempotent-replayed"] == "true"
    assert count_clients(db, partner) == 2000


def keyed_create(
    api: Api, owner: Caller, partner: str, body: dict[str, str]
) -> tuple[str, str, Callable[[], Awaitable[Answer]]]:
    """What the create route hands `idempotency.once` for `body`: the path, the request's
    fingerprint, and the work (the client made, its answer)."""
    path = f"/api/v1/partners/{partner}/clients"
    data = models.ClientCreate(**body)
    member = owner.member(partner)

    async def create() -> Answer:
        return Answer(201, msgspec.json.encode(await clients.create(api.ctx, member, data)))

    return path, fingerprint("POST", path, msgspec.json.encode(data)), create


def lost_answer(
    api: Api, db: Runner, owner: Caller, partner: str, key: str, *, commit: bool
) -> dict[str, str]:
    """A create under `key` whose process died (an exception stands in for it) before it
    kept its answer: after its work committed (`commit`), or before. The body a repeat
    sends."""
    body = {"name": "Lost answer"}
    path, print_, create = keyed_create(api, owner, partner, body)

    async def compute() -> Answer:
        if commit:
            await create()
        raise ConnectionResetError("the process died here")

    with pytest.raises(ConnectionResetError):
        db(lambda: once(owner.sub, UUID(partner), path, key, print_, compute))
    return body


def abandon(db: Runner, key: str) -> None:
    """Let the reservation's time run out (`ABANDONED`)."""
    db(
        lambda: IdempotencyKey.update(
            {IdempotencyKey.created_at: datetime.now(UTC) - ABANDONED}
        ).where(IdempotencyKey.key == key)
    )


def test_work_that_committed_without_its_answer_kept_is_never_run_again(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    body = lost_answer(api, db, owner, partner, "died-after-commit", commit=True)
    assert count_clients(db, partner) == 1
    url = f"/api/v1/partners/{partner}/clients"
    key = {"Idempotency-Key": "died-after-commit"}
    abandon(db, "died-after-commit")  # a repeat before then waits for the answer
    for _ in range(2):
        problem = assert_problem(
            owner.post(url, json=body, headers=key), 409, "idempotency_conflict"
        )
        assert problem["detail"] == (
            "The request with this Idempotency-Key was carried out, but its answer was lost;"
            " its changes are in the partner's events. Use a new key."
        )
    assert count_clients(db, partner) == 1
    assert owner.post(url, json=body, headers={"Idempotency-Key": "new"}).status_code == 201


def test_a_reservation_whose_work_never_committed_is_taken_over(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    """Nothing was done: the key is free again at once (the error gave it up)."""
    body = lost_answer(api, db, owner, partner, "died-before-commit", commit=False)
    url = f"/api/v1/partners/{partner}/clients"
    key = {"Idempotency-Key": "died-before-commit"}
    made = owner.post(url, json=body, headers=key)
    assert made.status_code == 201 and "idempotent-replayed" not in made.headers
    assert count_clients(db, partner) == 1


def test_a_request_its_repeat_took_over_keeps_nothing(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    """A first request slower than `ABANDONED`: its repeat takes the key over and does the
    work; when the first comes to commit, its reservation is gone, and it rolls back."""
    body = {"name": "Slow"}
    path, print_, create = keyed_create(api, owner, partner, body)

    async def slow_first() -> Answer:
        await IdempotencyKey.update(  # two minutes pass; the app sends the request again
            {IdempotencyKey.created_at: datetime.now(UTC) - ABANDONED}
        ).where(IdempotencyKey.key == "slow")
        repeat, replayed = await once(owner.sub, UUID(partner), path, "slow", print_, create)
        assert repeat.status_code == 201 and not replayed
        return await create()

    with pytest.raises(AppError) as caught:
        db(lambda: once(owner.sub, UUID(partner), path, "slow", print_, slow_first))
    assert caught.value.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert count_clients(db, partner) == 1
    again = owner.post(path, json=body, headers={"Idempotency-Key": "slow"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == owner.ok("GET", path)["items"][0]["id"]
