"""Requests made again under the same `Idempotency-Key`: the first answer, given again.

A dashboard that lost the answer to an import (a dropped connection, a timeout) sends
the same request again with the same key; whichever process receives it finds the first
answer in the database and gives it back, changing nothing. The key is the caller's own,
per path; a different body under a used key is a conflict. Keys are kept 24 hours.

The key is reserved before the work starts, so two copies racing each other run once:
the second waits for the first answer. The work's unit of work marks the key carried out
in its own transaction (`changes.before_commit`), and the answer is kept just after. An
error answer is not kept (the work did not happen; the same key may try again), and a
reservation left by a process that died before any commit is taken over after
`ABANDONED` (one that was only slow finds its reservation gone when it comes to commit,
and rolls back: 409); one whose work committed but whose answer was lost (the process
died in between, the database went away) is never run again: a repeat is told so (409).
An answer that showed a client since deleted is forgotten with the client's data, its key
kept taken (`forget_answers_showing`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, NamedTuple
from uuid import UUID

from api.errors import AppError
from api.services.changes import before_commit
from api.services.context import utcnow
from db.errors import is_unique_violation
from db.tables import IdempotencyKey
from mobile_contract import ErrorCode

KEEP = timedelta(hours=24)
# Kept as `status_code` in place of an answer's:
FORGOTTEN = 0  # the answer showed a client since deleted
CARRIED_OUT = 1  # the work committed; its answer is not kept (yet)
ABANDONED = timedelta(minutes=2)
WAIT_FOR_FIRST = 10.0  # seconds a repeat waits for the first request's answer
POLL = 0.1


class Answer(NamedTuple):
    status_code: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join((method.encode(), path.encode(), body))).hexdigest()


async def _reserve(user_sub: str, partner_id: UUID, path: str, key: str, print_: str) -> int | None:
    """Take the key for this request: the reservation's id, or None if it is taken."""
    reservation = IdempotencyKey(
        user_sub=user_sub,
        partner=partner_id,
        path=path,
        key=key,
        fingerprint=print_,
        created_at=utcnow(),
    )
    try:
        await reservation.save()
    except Exception as exc:
        if is_unique_violation(exc):
            return None
        raise
    return int(reservation.id)


def _same_key(user_sub: str, path: str, key: str) -> Any:
    return (
        (IdempotencyKey.user_sub == user_sub)
        & (IdempotencyKey.path == path)
        & (IdempotencyKey.key == key)
    )


async def once(
    user_sub: str,
    partner_id: UUID,
    path: str,
    key: str,
    print_: str,
    compute: Callable[[], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """The answer to this request (about `partner_id`) under `key`, and whether it is a
    repeat's."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_FIRST
    while (reservation := await _reserve(user_sub, partner_id, path, key, print_)) is None:
        row = await IdempotencyKey.select().where(_same_key(user_sub, path, key)).first()
        if row is None:  # expired or given up between the two statements: try again
            continue
        if row["created_at"] <= utcnow() - KEEP:  # its time is over: the key is free
            await IdempotencyKey.delete().where(IdempotencyKey.id == row["id"])
            continue
        if row["fingerprint"] != print_:
            raise AppError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                "This Idempotency-Key was used for a different request; use a new key.",
            )
        if row["status_code"] == FORGOTTEN:
            raise AppError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                "The answer under this Idempotency-Key showed a client since deleted;"
                " use a new key.",
            )
        if row["status_code"] not in (None, CARRIED_OUT):
            return Answer(row["status_code"], row["body"].encode()), True
        if row["created_at"] <= utcnow() - ABANDONED:
            if row["status_code"] == CARRIED_OUT:
                raise AppError(
                    ErrorCode.IDEMPOTENCY_CONFLICT,
                    "The request with this Idempotency-Key was carried out, but its answer"
                    " was lost; its changes are in the partner's events. Use a new key.",
                )
            # Unless its work has committed meanwhile (then the loop reads it again).
            await IdempotencyKey.delete().where(_open(row["id"]))
            continue
        if loop.time() >= deadline:
            raise AppError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                "The first request with this Idempotency-Key is still being processed; retry.",
                retry_after=1,
            )
        await asyncio.sleep(POLL)
    return await asyncio.shield(_first(reservation, compute)), False


async def forget_expired() -> None:
    """Delete the keys whose time is over (a background loop's housekeeping)."""
    await IdempotencyKey.delete().where(IdempotencyKey.created_at <= utcnow() - KEEP)


async def forget_answers_showing(partner_id: UUID, erased: UUID) -> None:
    """Forget the kept answers to the partner's requests that show `erased` (a deleted
    client), whose personal data goes with it. The key stays taken: a repeat changes
    nothing, and is told (409) that its answer is gone."""
    await IdempotencyKey.update(
        {IdempotencyKey.status_code: FORGOTTEN, IdempotencyKey.body: None}
    ).where((IdempotencyKey.partner == partner_id) & IdempotencyKey.body.like(f"%{erased}%"))


def _open(reservation: int) -> Any:
    """The reservation, while nothing of its work has committed."""
    return (IdempotencyKey.id == reservation) & IdempotencyKey.status_code.is_null()


async def _first(reservation: int, compute: Callable[[], Awaitable[Answer]]) -> Answer:
    """Run the request and keep its answer, on its own reservation (not another taken
    under the same key after this one was given up). Shielded by the caller: a caller
    that goes away (a dropped connection) does not stop it half-way, so the answer is kept
    for the retry. An error gives the key up when nothing was committed."""

    async def carried_out() -> None:
        marked = await (
            IdempotencyKey.update({IdempotencyKey.status_code: CARRIED_OUT})
            .where(
                (IdempotencyKey.id == reservation)
                & (
                    IdempotencyKey.status_code.is_null()
                    | (IdempotencyKey.status_code == CARRIED_OUT)  # an earlier unit of work's
                )
            )
            .returning(IdempotencyKey.id)
        )
        if not marked:  # given up after ABANDONED: a repeat does the work, not this one
            raise AppError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                "This request took so long that a repeat with its Idempotency-Key was carried"
                " out instead; nothing of this one was kept.",
            )

    marking = before_commit.set(carried_out)
    try:
        answer = await compute()
    except Exception:
        await IdempotencyKey.delete().where(_open(reservation))
        raise
    finally:
        before_commit.reset(marking)
    await IdempotencyKey.update(
        {IdempotencyKey.status_code: answer.status_code, IdempotencyKey.body: answer.body.decode()}
    ).where(IdempotencyKey.id == reservation)
    return answer
