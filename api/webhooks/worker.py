"""The delivery worker: POSTs queued webhook deliveries, signed, retrying with backoff.

Deliveries are queued in `webhook_delivery` in the same transaction as their events
(`api.services.changes`) and claimed, leased and retried through `db.claims`, so several
processes never send one delivery at once. Each claimed delivery is sent by a task of its
own and recorded as soon as it is answered, together with the others answered while the
previous record was being written (one transaction for all of them): one slow receiver
holds up only its own deliveries, and a busy stream costs a few writes a batch, not a
transaction a delivery. At most `MAX_IN_FLIGHT` attempts run in this process, at most
`PER_ENDPOINT` of them to one endpoint: a claim skips the endpoints more than half busy
and takes no more rows than half of `PER_ENDPOINT`, so all it takes can start.

A 2xx answer within `ATTEMPT_SECONDS` (DNS, connecting and the answer's status line
included) delivers; anything else is retried (`WEBHOOK_RETRY_BASE_SECONDS`, doubling, at
most 8 attempts). A 410 disables the endpoint at once, and so does failing without a
single success for `WEBHOOK_DISABLE_AFTER_HOURS`. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import httpx
import msgspec

from api.metrics import WEBHOOK_DELIVERIES
from api.services.changes import partner_change
from api.services.context import Context, utcnow
from api.services.events import event_data
from api.webhooks import targets
from api.webhooks.secrets import signature_header
from db.claims import RetryPolicy, WorkQueue, keep_claiming
from db.tables import Event, WebhookDelivery, WebhookEndpoint
from db.transactions import lock, lock_endpoint, write_transaction

log = logging.getLogger("api.webhooks")
ATTEMPT_SECONDS = 10.0
MAX_IN_FLIGHT = 64
PER_ENDPOINT = 8
HALF = PER_ENDPOINT // 2
ANSWER_BYTES = 64 * 1024  # of an answer's body read to keep its connection; no more
DRAIN_SECONDS = 1.0
TLS_CLIENTS = 100  # kept connections pools of https hosts (see `_client`)
USER_AGENT = "Banqup-Webhooks/1"


@dataclass
class Failure:
    reason: str
    permanent: bool = False


class Attempt(msgspec.Struct, frozen=True):
    status_code: int | None
    failure: Failure | None


class Answered(NamedTuple):
    """An attempt made, waiting to be recorded; `recorded` is set once it is."""

    row: dict[str, Any]
    endpoint: dict[str, Any]
    attempt: Attempt
    recorded: asyncio.Future[None]


def policy(base_seconds: float) -> RetryPolicy:
    return RetryPolicy(
        batch=MAX_IN_FLIGHT,
        lease=timedelta(seconds=120),
        max_attempts=8,
        retry_base=timedelta(seconds=base_seconds),
        retry_cap=timedelta(days=1),
    )


def message_id(row: dict[str, Any]) -> str:
    """`webhook-id`: the same for every attempt of a delivery and for its redeliveries."""
    if row["event_seq"] is None:
        return f"msg_test_{row['id']}"
    partner: UUID = row["partner"]
    return f"msg_{partner.hex}_{row['event_seq']}"


def payload(row: dict[str, Any], event: dict[str, Any] | None) -> bytes:
    """The body: `{type, timestamp, data: {partner_id, cursor, client_id?, …}}`."""
    data: dict[str, Any] = {"partner_id": str(row["partner"])}
    if event is None:  # a test
        data["webhook_id"] = str(row["endpoint"])
        at: datetime = row["created_at"]
    else:
        data["cursor"] = str(event["seq"])
        for column, name in (("client", "client_id"), ("invitation", "invitation_id")):
            if event[column] is not None:
                data[name] = str(event[column])
        if event["link"] is not None:
            data["link_id"] = str(event["link"])
        data |= event_data(event["data"])
        at = event["at"]
    return msgspec.json.encode({"type": row["type"], "timestamp": at, "data": data})


class DeliveryWorker:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.queue = WorkQueue(
            WebhookDelivery,
            policy(settings.webhook_retry_base_seconds),
            done_status="delivered",
            done_at=WebhookDelivery.delivered_at,
        )
        self.allow_private = settings.webhooks_may_reach_private
        self.disable_after = timedelta(hours=settings.webhook_disable_after_hours)
        self._in_flight: dict[UUID, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients: dict[str, httpx.AsyncClient] = {}  # least recently used first
        self._retiring: set[asyncio.Task[None]] = set()  # closing evicted clients
        self._answered: list[Answered] = []  # to record, with a future to wake each sender
        self._recorder: asyncio.Task[None] | None = None

    async def run(self, stopping: asyncio.Event | None = None) -> None:
        """Deliver until `stopping` is set, then finish the attempts in hand (each is
        bounded by its timeout); if cancelled, attempts in hand are cancelled with it
        (their leases run out and they are tried again)."""
        stopping = stopping or asyncio.Event()
        try:
            await keep_claiming("webhook worker", self.run_once, self.ctx.webhooks_queued, stopping)
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for retiring in self._retiring:
                retiring.cancel()  # closes its client at once
            await asyncio.gather(*self._retiring, return_exceptions=True)
            for client in self._clients.values():
                await client.aclose()

    async def run_once(self) -> int:
        """Claim what there is room for and start sending it; how many were claimed."""
        # A claim takes no more than any endpoint it may take from can start (none of an
        # endpoint more than half busy, at most half of PER_ENDPOINT): all of it starts.
        room = min(MAX_IN_FLIGHT - len(self._tasks), PER_ENDPOINT - HALF)
        if room <= 0:
            return 0
        now = utcnow()
        full = [e for e, count in self._in_flight.items() if count > HALF]
        where = WebhookDelivery.endpoint.not_in(full) if full else None
        claimed = await self.queue.claim(now, room, where)
        if not claimed:
            return 0
        endpoints = {
            r["id"]: r
            for r in await WebhookEndpoint.select().where(
                WebhookEndpoint.id.is_in(list({row["endpoint"] for row in claimed}))
            )
        }
        events = await _events(claimed)
        for row in claimed:
            endpoint = endpoints.get(row["endpoint"])
            if endpoint is not None:  # else deleted meanwhile (its deliveries with it)
                self._start(row, endpoint, events.get((row["partner"], row["event_seq"])))
        return len(claimed)

    def _start(
        self, row: dict[str, Any], endpoint: dict[str, Any], event: dict[str, Any] | None
    ) -> None:
        endpoint_id: UUID = endpoint["id"]
        self._in_flight[endpoint_id] = self._in_flight.get(endpoint_id, 0) + 1
        task = asyncio.create_task(self._deliver(row, endpoint, event))
        self._tasks.add(task)

        def done(_: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            left = self._in_flight.pop(endpoint_id, 1) - 1
            if left:
                self._in_flight[endpoint_id] = left
            if left <= HALF:  # room again for a claim: look for more
                self.ctx.webhooks_queued.set()

        task.add_done_callback(done)

    async def _deliver(
        self, row: dict[str, Any], endpoint: dict[str, Any], event: dict[str, Any] | None
    ) -> None:
        """Attempt, then wait until the attempt is recorded (so the endpoint's slot is free
        only then, and stopping waits for the record)."""
        attempt = await self.attempt(row, endpoint, event)
        recorded = asyncio.get_running_loop().create_future()
        self._answered.append(Answered(row, endpoint, attempt, recorded))
        if self._recorder is None:
            self._recorder = asyncio.get_running_loop().create_task(self._record_answered())
        await recorded

    async def _record_answered(self) -> None:
        """Record what was answered, in batches, until nothing is left to record."""
        try:
            while self._answered:
                batch, self._answered = self._answered, []
                try:
                    await self._record(batch)
                except Exception as exc:  # the leases run out and these are tried again
                    ids = ", ".join(str(a.row["id"]) for a in batch)
                    log.warning("webhook deliveries %s: cannot record: %s", ids, exc)
                for answered in batch:
                    answered.recorded.set_result(None)
        finally:
            self._recorder = None

    async def attempt(
        self, row: dict[str, Any], endpoint: dict[str, Any], event: dict[str, Any] | None
    ) -> Attempt:
        """Send one attempt; its status code and, unless delivered, why it failed."""
        if endpoint["status"] != "enabled":
            return Attempt(None, Failure("not sent: the endpoint is disabled", permanent=True))
        if row["event_seq"] is not None and event is None:
            return Attempt(None, Failure("not sent: the event is gone", permanent=True))
        try:
            secrets = self._secrets(endpoint)
        except ValueError:  # this process's key, not the delivery, is wrong: retried, so a
            # process with the right key (a deployment part-way through a change) sends it
            log.warning("webhook endpoint %s: its secret cannot be read here", endpoint["id"])
            reason = "not sent: the secret cannot be read (was WEBHOOK_SECRET_KEY changed?)"
            return Attempt(None, Failure(reason))
        body = payload(row, event)
        msg_id, timestamp = message_id(row), int(time.time())
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                target = await targets.resolve(endpoint["url"], self.allow_private)
                headers = {
                    "Host": target.host,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
                }
                extensions = {"sni_hostname": target.server_name} if target.server_name else {}
                client = self._client(target)
                request = client.build_request(
                    "POST", target.url, content=body, headers=headers, extensions=extensions
                )
                response = await client.send(request, stream=True)
        except targets.UnsafeTarget as exc:
            return Attempt(None, Failure(f"not sent: the URL {exc}"))
        except TimeoutError:
            return Attempt(None, Failure(f"no answer within {ATTEMPT_SECONDS:g} s"))
        except httpx.HTTPError as exc:
            return Attempt(None, Failure(f"{type(exc).__name__}: {exc}"[:500]))
        await _drain(response)
        status = response.status_code
        if 200 <= status < 300:
            return Attempt(status, None)
        if status == 410:
            return Attempt(status, Failure("answered 410 Gone: endpoint disabled", permanent=True))
        if 300 <= status < 400:
            return Attempt(status, Failure(f"answered {status}: redirects are not followed"))
        return Attempt(status, Failure(f"answered {status}"))

    def _secrets(self, endpoint: dict[str, Any]) -> list[str]:
        """The secrets that sign: the current one, and the previous one for a day after a
        rotation."""
        box, owner = self.ctx.webhook_secrets, endpoint["id"].bytes
        found = [box.open(endpoint["secret"], owner)]
        until = endpoint["previous_secret_until"]
        if endpoint["previous_secret"] and until is not None and until > utcnow():
            found.append(box.open(endpoint["previous_secret"], owner))
        return found

    def _client(self, target: targets.Target) -> httpx.AsyncClient:
        """A client whose kept connections all belong to one TLS server name (a kept
        connection is found by address, and must not carry another host's deliveries)."""
        key = target.server_name or ""
        client = self._clients.pop(key, None)  # put back last: the most recently used
        if client is None:
            if len(self._clients) >= TLS_CLIENTS:
                self._retire(self._clients.pop(next(iter(self._clients))))
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(ATTEMPT_SECONDS),
                follow_redirects=False,
                trust_env=False,  # no proxy from the environment: connect where checked
                limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=8),
            )
        self._clients[key] = client
        return client

    def _retire(self, client: httpx.AsyncClient) -> None:
        """Close an evicted client once the attempts that may still use it are over."""

        async def close_later() -> None:
            try:
                await asyncio.sleep(ATTEMPT_SECONDS + DRAIN_SECONDS)
            finally:
                await client.aclose()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _record(self, batch: list[Answered]) -> None:
        now = utcnow()
        settled = self.queue.sort([(a.row, a.attempt.failure) for a in batch])
        results = {row["id"]: "delivered" for row in settled.done}
        results |= {row["id"]: "retry" for row, _ in settled.retrying}
        results |= {row["id"]: "failed" for row, _ in settled.failed}
        answers: dict[tuple[int | None, str | None], list[int]] = {}
        latest: dict[UUID, Answered] = {}  # each endpoint's last answer of the batch
        for a in batch:
            reason = a.attempt.failure.reason if a.attempt.failure else None
            answers.setdefault((a.attempt.status_code, reason), []).append(a.row["id"])
            latest[a.endpoint["id"]] = a
        answering = [e for e, a in latest.items() if a.attempt.failure is None]
        failing = [
            e
            for e, a in latest.items()
            if a.attempt.failure is not None and a.endpoint["status"] == "enabled"
        ]
        async with write_transaction():
            # The endpoints before their deliveries, as deleting an endpoint takes them.
            await lock(WebhookEndpoint, *sorted(latest))
            await self.queue.settle(settled, now)
            for (status_code, error), ids in answers.items():
                await WebhookDelivery.update(
                    {
                        WebhookDelivery.last_status_code: status_code,
                        WebhookDelivery.last_error: error,
                    }
                ).where(WebhookDelivery.id.is_in(ids))
            if answering:
                await WebhookEndpoint.update({WebhookEndpoint.failing_since: None}).where(
                    WebhookEndpoint.id.is_in(answering)
                    & WebhookEndpoint.failing_since.is_not_null()
                )
            if failing:
                await WebhookEndpoint.update({WebhookEndpoint.failing_since: now}).where(
                    WebhookEndpoint.id.is_in(failing) & WebhookEndpoint.failing_since.is_null()
                )
        for a in batch:
            attempted(a.endpoint["id"], a.row["id"], a.attempt.status_code, results[a.row["id"]])
        for a in latest.values():
            await self._disable_if_due(a, now)

    async def _disable_if_due(self, answered: Answered, now: datetime) -> None:
        """Disable an endpoint that answered 410, or has failed for too long."""
        endpoint, attempt = answered.endpoint, answered.attempt
        if endpoint["status"] != "enabled" or attempt.failure is None:
            return
        failing_since: datetime | None = endpoint["failing_since"]
        if attempt.status_code == 410:
            await self._disable(endpoint, "the receiver answered 410 Gone")
        elif failing_since is not None and now - failing_since >= self.disable_after:
            hours = self.disable_after.total_seconds() / 3600
            await self._disable(endpoint, f"every delivery failed for {hours:g} hours")

    async def _disable(self, endpoint: dict[str, Any], reason: str) -> None:
        async with partner_change(self.ctx, endpoint["partner"]) as change:
            await lock_endpoint(endpoint["partner"], endpoint["id"])
            await WebhookEndpoint.update(
                {WebhookEndpoint.status: "disabled", WebhookEndpoint.disabled_reason: reason}
            ).where((WebhookEndpoint.id == endpoint["id"]) & (WebhookEndpoint.status == "enabled"))
            change.webhooks_changed()
        log.warning("webhook %s disabled: %s", endpoint["id"], reason)


def attempted(endpoint_id: UUID, delivery_id: int, status_code: int | None, result: str) -> None:
    """Where each attempt's outcome is known (`delivered`, `retry` or `failed`): logged
    here, counted here. Never the secret or the body."""
    log.info("webhook %s delivery %s: status %s, %s", endpoint_id, delivery_id, status_code, result)
    WEBHOOK_DELIVERIES.labels(result).inc()


async def _drain(response: httpx.Response) -> None:
    """Read (and drop) an answer's body, so that its connection is kept for the next
    delivery; one longer than `ANSWER_BYTES` or slower than `DRAIN_SECONDS` closes the
    connection instead. The answer's status is what counts, whatever its body does."""
    read = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > ANSWER_BYTES:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass
    finally:
        await response.aclose()


async def _events(claimed: list[dict[str, Any]]) -> dict[tuple[UUID, int], dict[str, Any]]:
    """The events of these deliveries, by (partner, cursor)."""
    wanted = {(row["partner"], row["event_seq"]) for row in claimed if row["event_seq"]}
    if not wanted:
        return {}
    rows = await Event.select().where(
        Event.partner.is_in(list({p for p, _ in wanted}))
        & Event.seq.is_in(list({s for _, s in wanted}))
    )
    return {(r["partner"], r["seq"]): r for r in rows if (r["partner"], r["seq"]) in wanted}
