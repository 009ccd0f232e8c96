"""Signed webhooks to partners' own systems: real receivers on loopback, every delivery
verified with the `standardwebhooks` library."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import msgspec
import pytest
from standardwebhooks import Webhook as Verifier

from api.services import webhooks
from api.webhooks import targets
from api.webhooks.secrets import SecretBox, new_secret
from db.tables import Partner, WebhookEndpoint
from mobile_contract.errors import EVENT_TYPES_MESSAGE
from tests.conftest import LiveServer, Runner, start_server, start_worker, stop_server
from tests.support import Api, Caller, assert_problem, token_of, until


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps every request it gets and answers the
    scripted statuses first, then 204. A `slow` one holds each answer until released."""

    def __init__(self, answers: list[int], slow: bool, location: str | None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.ports: list[int] = []  # the sender's port of each request: its connection
        self.answers = list(answers)
        self.slow = slow
        self.location = location
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections are kept, as most servers keep them

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ports.append(self.client_address[1])
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.slow:
                    receiver.released.wait(15)
                status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def bodies(self) -> list[dict[str, Any]]:
        return [msgspec.json.decode(body) for _, body in self.requests]

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(
        answers: list[int] | None = None, slow: bool = False, location: str | None = None
    ) -> Receiver:
        made.append(Receiver(answers or [], slow, location))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def server(test_client: Any) -> Iterator[LiveServer]:
    """A server process on the test database for one test: its loops deliver too, so one
    kept for the whole module would take the deliveries of tests that expect none."""
    process = start_server()
    yield process
    stop_server(process)


def create(owner: Caller, partner: str, url: str, **fields: Any) -> dict[str, Any]:
    return owner.ok(  # type: ignore[no-any-return]
        "POST", f"/api/v1/partners/{partner}/webhooks", 201, json={"url": url} | fields
    )


def verified(secret: str, receiver: Receiver) -> list[dict[str, Any]]:
    """Every request the receiver got, verified with the Standard Webhooks library."""
    verifier = Verifier(secret)
    return [verifier.verify(body, headers) for headers, body in receiver.requests]


def deliveries(owner: Caller, partner: str, webhook: dict[str, Any], **query: Any) -> Any:
    url = f"/api/v1/partners/{partner}/webhooks/{webhook['id']}/deliveries"
    return owner.ok("GET", url, params=query)


def test_the_secret_is_shown_on_creation_only(owner: Caller, partner: str, db: Runner) -> None:
    made = create(owner, partner, "http://127.0.0.1:9/hooks", description="Practice system")
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"].removeprefix("whsec_"))) == 32
    assert made["status"] == "enabled" and made["event_types"] == []
    assert made["disabled_reason"] is None and made["description"] == "Practice system"
    base = f"/api/v1/partners/{partner}/webhooks"
    shown = owner.ok("GET", f"{base}/{made['id']}")
    assert "secret" not in shown and shown["url"] == "http://127.0.0.1:9/hooks"
    assert [w["id"] for w in owner.ok("GET", base)["items"]] == [made["id"]]

    async def stored() -> str:
        row = await WebhookEndpoint.select().where(WebhookEndpoint.id == made["id"]).first()
        return str(row["secret"])

    sealed = db(stored)
    assert sealed.startswith("v1:") and made["secret"].removeprefix("whsec_") not in sealed


def test_a_whole_invitation_story_arrives_signed_with_the_feeds_types_and_cursors(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    receiver = receivers()
    hook = create(owner, partner, receiver.url)
    _, invitation = api.invited_client(owner, partner)
    events = f"/api/v1/partners/{partner}/events"
    until(lambda: "invitation.email_sent" in {e["type"] for e in owner.ok("GET", events)["events"]})
    ben = api.user("ben")
    ben.ok("POST", "/api/v1/mobile/invitations/preview", json={"token": token_of(invitation)})
    api.accept(ben, invitation)
    feed = owner.ok("GET", events)["events"]
    assert [e["type"] for e in feed] == [
        "client.created",
        "invitation.created",
        "invitation.email_sent",
        "invitation.opened",
        "invitation.accepted",
        "client.activated",
    ]
    until(lambda: len(receiver.requests) >= len(feed))
    got = sorted(verified(hook["secret"], receiver), key=lambda b: int(b["data"]["cursor"]))
    assert [(b["type"], b["data"]["cursor"]) for b in got] == [
        (e["type"], e["cursor"]) for e in feed
    ]
    for body, event in zip(got, feed, strict=True):
        assert body["data"]["partner_id"] == partner
        assert body["data"].get("client_id") == event.get("client_id")
        assert body["data"].get("invitation_id") == event.get("invitation_id")
        assert datetime.fromisoformat(body["timestamp"]) == datetime.fromisoformat(event["at"])
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == len(feed)
    page = until(lambda: deliveries(owner, partner, hook, limit=100))
    until(
        lambda: all(d["outcome"] == "delivered" for d in deliveries(owner, partner, hook)["items"])
    )
    assert {d["event_cursor"] for d in page["items"]} == {e["cursor"] for e in feed}


def test_a_receiver_failing_twice_gets_three_attempts_with_one_webhook_id(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    receiver = receivers([500, 503])
    hook = create(owner, partner, receiver.url)
    api.client_row(owner, partner)
    until(lambda: len(receiver.requests) == 3)
    assert len(verified(hook["secret"], receiver)) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1
    [delivery] = until(
        lambda: [
            d for d in deliveries(owner, partner, hook)["items"] if d["outcome"] == "delivered"
        ]
    )
    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 204 and delivery["last_error"] is None
    assert delivery["type"] == "client.created" and delivery["delivered_at"]
    assert delivery["next_attempt_at"] is None


def test_a_process_whose_key_cannot_read_the_secret_leaves_the_delivery_to_another(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    receiver = receivers()
    hook = create(owner, partner, receiver.url)
    right = api.ctx.webhook_secrets
    api.ctx.webhook_secrets = SecretBox("another WEBHOOK_SECRET_KEY, as a misconfigured host")
    try:
        api.client_row(owner, partner)
        [tried] = until(
            lambda: [d for d in deliveries(owner, partner, hook)["items"] if d["attempts"] >= 2]
        )
    finally:
        api.ctx.webhook_secrets = right
    assert tried["outcome"] == "pending" and receiver.requests == []
    assert tried["last_error"] == (
        "not sent: the secret cannot be read (was WEBHOOK_SECRET_KEY changed?)"
    )
    [delivered] = until(
        lambda: [
            d for d in deliveries(owner, partner, hook)["items"] if d["outcome"] == "delivered"
        ]
    )
    # The attempt under way when the key was put back may be the one that delivers.
    assert delivered["attempts"] >= 2 and len(verified(hook["secret"], receiver)) == 1


def test_after_a_rotation_deliveries_verify_with_the_old_and_the_new_secret(
    owner: Caller, partner: str, receivers: Any
) -> None:
    receiver = receivers()
    hook = create(owner, partner, receiver.url)
    base = f"/api/v1/partners/{partner}/webhooks/{hook['id']}"
    rotated = owner.ok("POST", f"{base}/rotate-secret")
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]
    test = owner.ok("POST", f"{base}/test", 202)
    assert test["type"] == "webhook.test" and test["outcome"] == "pending"
    until(lambda: receiver.requests)
    assert verified(hook["secret"], receiver) == verified(rotated["secret"], receiver)
    [(headers, _)] = receiver.requests
    assert len(headers["webhook-signature"].split(" ")) == 2
    [body] = receiver.bodies()
    assert body["type"] == "webhook.test" and body["data"]["webhook_id"] == hook["id"]


def test_an_event_types_filter_holds(api: Api, owner: Caller, partner: str, receivers: Any) -> None:
    only, every = receivers(), receivers()
    create(owner, partner, only.url, event_types=["client.activated"])
    create(owner, partner, every.url)
    _, invitation = api.invited_client(owner, partner)
    api.accept(api.user("ben"), invitation)
    feed = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    until(lambda: len(every.requests) >= len(feed))
    until(lambda: only.requests)
    assert [b["type"] for b in only.bodies()] == ["client.activated"]


def test_deliveries_one_after_another_reuse_one_connection(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    receiver = receivers()
    create(owner, partner, receiver.url)
    for n in range(3):
        api.client_row(owner, partner, name=f"Client {n}")
        until(lambda n=n: len(receiver.requests) == n + 1)  # type: ignore[misc]
    assert len(set(receiver.ports)) == 1


def test_a_410_disables_the_endpoint_at_once(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    gone, witness = receivers([410]), receivers()
    hook = create(owner, partner, gone.url)
    create(owner, partner, witness.url)
    api.client_row(owner, partner)
    url = f"/api/v1/partners/{partner}/webhooks/{hook['id']}"
    disabled = until(lambda: (w := owner.ok("GET", url))["status"] == "disabled" and w)
    assert "410" in disabled["disabled_reason"]
    api.client_row(owner, partner, name="Second")
    until(lambda: len(witness.requests) == 2)
    assert len(gone.requests) == 1
    [delivery] = deliveries(owner, partner, hook)["items"]
    assert delivery["outcome"] == "failed" and delivery["last_status_code"] == 410
    enabled = owner.ok("PATCH", url, json={"status": "enabled"})
    assert enabled["status"] == "enabled" and enabled["disabled_reason"] is None


def test_a_deleted_endpoint_gets_nothing_more(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    deleted, witness = receivers(), receivers()
    hook = create(owner, partner, deleted.url)
    create(owner, partner, witness.url)
    url = f"/api/v1/partners/{partner}/webhooks/{hook['id']}"
    assert owner.request("DELETE", url).status_code == 204
    assert_problem(owner.get(url), 404, "not_found")
    api.client_row(owner, partner)
    until(lambda: witness.requests)
    assert deleted.requests == []


def test_outsiders_get_404_on_every_webhook_route(api: Api, owner: Caller, partner: str) -> None:
    hook = create(owner, partner, "http://127.0.0.1:9/hooks")
    outsider = api.user("mallory")
    base = f"/api/v1/partners/{partner}/webhooks"
    one = f"{base}/{hook['id']}"
    for method, url, body in (
        ("POST", base, {"url": "http://127.0.0.1:9/x"}),
        ("GET", base, None),
        ("GET", one, None),
        ("PATCH", one, {"description": "mine"}),
        ("DELETE", one, None),
        ("POST", f"{one}/rotate-secret", None),
        ("POST", f"{one}/test", None),
        ("GET", f"{one}/deliveries", None),
        ("POST", f"{one}/deliveries/1/redeliver", None),
    ):
        assert_problem(outsider.request(method, url, json=body), 404, "not_found")
    assert owner.ok("GET", one)["description"] is None
    assert deliveries(owner, partner, hook)["items"] == []


def test_a_slow_receiver_delays_neither_the_api_nor_other_endpoints(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    slow, fast = receivers(slow=True), receivers()
    create(owner, partner, slow.url)
    create(owner, partner, fast.url)
    api.client_row(owner, partner)
    until(lambda: slow.requests)  # the slow receiver now holds its answer
    started = time.monotonic()
    api.client_row(owner, partner, name="Second")
    answered = time.monotonic() - started
    # Well within the slow receiver's hold (15 s, past the attempt's 10 s timeout).
    until(lambda: len(fast.requests) == 2, within=6)
    assert time.monotonic() - started < 6 and answered < 2
    assert not slow.released.is_set()


def test_a_redelivery_sends_the_event_again_with_the_same_webhook_id(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    receiver = receivers()
    hook = create(owner, partner, receiver.url)
    api.client_row(owner, partner)
    [first] = until(
        lambda: [
            d for d in deliveries(owner, partner, hook)["items"] if d["outcome"] == "delivered"
        ]
    )
    url = f"/api/v1/partners/{partner}/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver"
    again = owner.ok("POST", url, 202)
    assert again["event_cursor"] == first["event_cursor"] and again["id"] != first["id"]
    until(lambda: len(receiver.requests) == 2)
    assert len(verified(hook["secret"], receiver)) == 2
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1
    for none in ("999999999", "0", "-1", str(2**63), str(10**30)):  # ids that name no delivery
        missing = url.replace(f"/deliveries/{first['id']}/", f"/deliveries/{none}/")
        assert_problem(owner.post(missing), 404, "not_found")


def test_the_delivery_log_pages_newest_first(owner: Caller, partner: str) -> None:
    hook = create(owner, partner, "http://127.0.0.1:9/hooks")
    base = f"/api/v1/partners/{partner}/webhooks/{hook['id']}"
    made = [owner.ok("POST", f"{base}/test", 202)["id"] for _ in range(5)]
    seen: list[int] = []
    cursor = None
    for size in (2, 2, 1):
        page = deliveries(owner, partner, hook, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) == size
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None and seen == sorted(made, reverse=True)
    for query in ({"limit": 0}, {"limit": 101}, {"cursor": "abc"}):
        assert_problem(owner.get(f"{base}/deliveries", params=query), 400, "validation_failed")


def test_redirects_are_not_followed(api: Api, owner: Caller, partner: str, receivers: Any) -> None:
    target = receivers()
    redirecting = receivers([302] * 20, location=target.url)  # redirects every retry too
    hook = create(owner, partner, redirecting.url)
    api.client_row(owner, partner)
    [delivery] = until(
        lambda: [d for d in deliveries(owner, partner, hook)["items"] if d["last_status_code"]]
    )
    assert delivery["last_status_code"] == 302 and "redirect" in delivery["last_error"]
    assert delivery["outcome"] == "pending"
    until(lambda: len(redirecting.requests) >= 2)  # retried, never followed
    assert target.requests == []


def test_changing_an_endpoint(owner: Caller, partner: str) -> None:
    hook = create(owner, partner, "http://127.0.0.1:9/hooks")
    url = f"/api/v1/partners/{partner}/webhooks/{hook['id']}"
    changed = owner.ok(
        "PATCH",
        url,
        json={"event_types": ["invitation.accepted"], "description": "ERP", "status": "disabled"},
    )
    assert changed["event_types"] == ["invitation.accepted"] and changed["description"] == "ERP"
    assert changed["status"] == "disabled" and changed["disabled_reason"]
    assert "secret" not in changed
    for body, error in (
        ({"url": "ftp://127.0.0.1/x"}, ("url", "must be a web address (https://…)")),
        ({"event_types": ["nope"]}, ("event_types[0]", EVENT_TYPES_MESSAGE)),
        ({"status": "paused"}, ("status", "must be enabled or disabled")),
        ({"colour": "red"}, ("colour", "is not a field of this request")),
    ):
        problem = assert_problem(owner.patch(url, json=body), 400, "validation_failed")
        assert [(e["field"], e["message"]) for e in problem["errors"]] == [error]
    assert EVENT_TYPES_MESSAGE.startswith("must be an event type: client.created, ")
    assert owner.ok("PATCH", url, json={"url": "http://127.0.0.1:8/other"})["url"].endswith(
        ":8/other"
    )


# --- where webhooks may go ---------------------------------------------------------------


@pytest.fixture
def strict(api: Api) -> Iterator[Any]:
    """The app's context with private targets refused, as in prod."""
    ctx = api.ctx
    before = ctx.settings
    ctx.settings = msgspec.structs.replace(before, webhook_allow_private=False)
    yield ctx
    ctx.settings = before


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Host names that resolve to chosen addresses (no real DNS, no traffic)."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in table:
            address = table[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "https://127.0.0.2/hooks",
        "https://localhost/hooks",
        "https://[::1]/hooks",
        "https://loopback.example/hooks",
        "https://10.1.2.3/hooks",
        "https://intranet.example/hooks",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://224.0.0.1/hooks",
        "https://0.0.0.0/hooks",
        "https://user:pass@hooks.example/x",
    ],
)
def test_non_public_targets_are_refused_in_prod(
    owner: Caller, partner: str, strict: Any, names: dict[str, str], url: str
) -> None:
    names["loopback.example"] = "127.0.0.1"
    names["intranet.example"] = "10.0.0.7"
    body = assert_problem(
        owner.post(f"/api/v1/partners/{partner}/webhooks", json={"url": url}),
        400,
        "validation_failed",
    )
    assert body["errors"][0]["field"] == "url"


def test_each_attempt_checks_the_address_again(names: dict[str, str], db: Runner) -> None:
    names["rebinding.example"] = "93.184.216.34"

    async def resolve() -> targets.Target:
        return await targets.resolve("https://rebinding.example:8443/hooks?a=1", False)

    pinned = db(resolve)
    assert pinned == targets.Target(
        "https://93.184.216.34:8443/hooks?a=1", "rebinding.example:8443", "rebinding.example"
    )
    names["rebinding.example"] = "169.254.169.254"  # the second answer differs
    with pytest.raises(targets.UnsafeTarget, match="non-public"):
        db(resolve)


def test_a_public_https_url_is_accepted_in_prod(
    owner: Caller, partner: str, strict: Any, names: dict[str, str]
) -> None:
    names["hooks.partner.example"] = "93.184.216.34"
    made = create(owner, partner, "https://hooks.partner.example/banqup")
    assert made["url"] == "https://hooks.partner.example/banqup"
    url = f"/api/v1/partners/{partner}/webhooks/{made['id']}"
    names["hooks.partner.example"] = "192.168.1.1"
    assert_problem(
        owner.patch(url, json={"url": "https://hooks.partner.example/other"}),
        400,
        "validation_failed",
    )
    # disabled before the test ends, so the worker never tries the public address
    owner.ok("PATCH", url, json={"status": "disabled"})


def test_check_url_is_what_the_api_applies(strict: Any, names: dict[str, str], db: Runner) -> None:
    names["loopback.example"] = "127.0.0.1"

    async def check() -> None:
        await webhooks.check_url(strict, "https://loopback.example/x")

    with pytest.raises(Exception, match="non-public"):
        db(check)


def test_two_processes_deliver_each_event_once(
    api: Api, owner: Caller, partner: str, receivers: Any, server: LiveServer
) -> None:
    receiver = receivers()
    create(owner, partner, receiver.url)
    rows = [{"name": f"Client {n}", "email": f"c{n}@x.example"} for n in range(40)]
    owner.ok("POST", f"/api/v1/partners/{partner}/clients/import", json={"clients": rows})
    for n in range(10):
        api.client_row(owner, partner, name=f"One by one {n}")
    feed = owner.ok("GET", f"/api/v1/partners/{partner}/events", params={"limit": 500})["events"]
    until(lambda: len(receiver.requests) >= len(feed))
    time.sleep(0.5)  # anything sent twice would arrive now
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == len(set(ids)) == len(feed)


def test_two_worker_processes_deliver_each_event_once(
    api: Api, owner: Caller, partner: str, receivers: Any
) -> None:
    """Two `python -m api worker` processes (and the test app's own loops) on one
    database: each event reaches the endpoint once."""
    workers = [start_worker(), start_worker()]
    try:
        receiver = receivers()
        create(owner, partner, receiver.url)
        rows = [{"name": f"Client {n}", "email": f"w{n}@x.example"} for n in range(60)]
        owner.ok("POST", f"/api/v1/partners/{partner}/clients/import", json={"clients": rows})
        url = f"/api/v1/partners/{partner}/events"
        feed = owner.ok("GET", url, params={"limit": 500})["events"]
        until(lambda: len(receiver.requests) >= len(feed), within=30)
        time.sleep(0.5)  # anything sent twice would arrive now
        ids = [headers["webhook-id"] for headers, _ in receiver.requests]
        assert len(ids) == len(set(ids)) == len(feed)
    finally:
        for worker in workers:
            stop_server(worker)


def test_deliveries_are_logged_by_id_never_by_url(
    api: Api, owner: Caller, partner: str, receivers: Any, server: LiveServer
) -> None:
    """A receiver's URL can be its credential (a secret path, a key in the query): the
    log names the endpoint and the delivery, and the HTTP client's own lines stay out.
    The server process delivers: this process's key cannot read the secret."""
    receiver = receivers()
    url = f"{receiver.url}/catch/4f9a1c7e?key=zq81"
    hook = create(owner, partner, url)
    right = api.ctx.webhook_secrets
    api.ctx.webhook_secrets = SecretBox("not this process's key: the server delivers")
    try:
        api.client_row(owner, partner)
        [delivery] = until(
            lambda: [
                d for d in deliveries(owner, partner, hook)["items"] if d["outcome"] == "delivered"
            ]
        )
    finally:
        api.ctx.webhook_secrets = right
    line = f"webhook {hook['id']} delivery {delivery['id']}: status 204, delivered"

    def logged() -> str:  # lines are written in batches
        text: str = server.log()
        return text if line in text else ""

    log = until(logged)
    assert "4f9a1c7e" not in log and "zq81" not in log and receiver.url not in log


def test_every_delivery_row_belongs_to_an_endpoint_of_its_partner(
    api: Api, owner: Caller, partner: str, receivers: Any, db: Runner
) -> None:
    other_owner = api.user("olga")
    other = api.partner(other_owner, "Other Accountants")
    mine, theirs = receivers(), receivers()
    create(owner, partner, mine.url)
    create(other_owner, other, theirs.url)
    api.client_row(owner, partner)
    until(lambda: mine.requests)
    api.client_row(other_owner, other)
    until(lambda: theirs.requests)
    assert [b["data"]["partner_id"] for b in mine.bodies()] == [partner]
    assert [b["data"]["partner_id"] for b in theirs.bodies()] == [other]
    assert UUID(partner) != UUID(other)


def test_an_endpoint_failing_for_too_long_is_disabled(
    api: Api, owner: Caller, partner: str, receivers: Any, db: Runner
) -> None:
    failing = receivers([500] * 20)
    hook = create(owner, partner, failing.url)

    async def failing_for_three_days() -> None:
        since = datetime.now(UTC) - timedelta(hours=73)
        await WebhookEndpoint.update({WebhookEndpoint.failing_since: since}).where(
            WebhookEndpoint.id == UUID(hook["id"])
        )

    db(failing_for_three_days)
    api.client_row(owner, partner)
    url = f"/api/v1/partners/{partner}/webhooks/{hook['id']}"
    disabled = until(lambda: (w := owner.ok("GET", url))["status"] == "disabled" and w)
    assert disabled["disabled_reason"] == "every delivery failed for 72 hours"


def test_the_partner_counts_its_enabled_endpoints(owner: Caller, partner: str, db: Runner) -> None:
    async def count() -> int:
        row = await Partner.select(Partner.webhooks).where(Partner.id == UUID(partner)).first()
        return int(row["webhooks"])

    base = f"/api/v1/partners/{partner}/webhooks"
    first = create(owner, partner, "http://127.0.0.1:9/a")
    create(owner, partner, "http://127.0.0.1:9/b")
    assert db(count) == 2
    owner.ok("PATCH", f"{base}/{first['id']}", json={"status": "disabled"})
    assert db(count) == 1
    owner.ok("PATCH", f"{base}/{first['id']}", json={"status": "enabled"})
    assert db(count) == 2
    owner.request("DELETE", f"{base}/{first['id']}").raise_for_status()
    assert db(count) == 1


def test_a_sealed_secret_opens_only_with_its_key_and_row() -> None:
    box, other = SecretBox("k" * 32), SecretBox("x" * 32)
    secret = new_secret()
    sealed = box.seal(secret, b"row-1")
    assert box.open(sealed, b"row-1") == secret
    for opener, row in ((other, b"row-1"), (box, b"row-2")):
        with pytest.raises(ValueError):
            opener.open(sealed, row)
