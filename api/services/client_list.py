"""A partner's client list as the Clients page reads it: filtered, searched, sorted and
paged, with the number of clients in each tab.

Paging is by keyset: the cursor holds the sort and the last row's (sort value, id), so
rows added while paging appear in their place and none is skipped or repeated. Rows
without a value for the sort (never invited) come last in either direction; ties go by id.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from uuid import UUID

import msgspec
from piccolo.columns import Column

from api.errors import invalid
from api.services import views
from api.services.access import partner_revision
from api.services.context import Context, utcnow
from api.services.revisions import Versioned
from db import search, statements
from db.tables import Client, Invitation
from mobile_contract import models

STATUSES = ("inactive", "invited", "active")
INVITATION_STATUSES = ("pending", "declined", "expired", "revoked", "accepted")
EMAIL_STATUSES = ("queued", "sent", "failed", "not_sent")
Sort = Literal["created", "-created", "name", "-name", "invited_at", "-invited_at", "expires_at"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SORT_COLUMNS: dict[str, Column] = {
    "created": Client.created_at,
    "name": Client.name_key,
    "invited_at": Client.invited_at,
    "expires_at": Client.invitation_expires_at,
}


class Query(msgspec.Struct, kw_only=True, frozen=True):
    """What the list is asked for (already checked against the allowed values)."""

    statuses: tuple[str, ...] = STATUSES
    search: str | None = None
    sort: Sort = "created"
    invitation_statuses: tuple[str, ...] | None = None
    email_statuses: tuple[str, ...] | None = None
    opened: bool | None = None
    limit: int = 50
    cursor: str | None = None


def parse_list(field: str, value: str | None, allowed: Sequence[str]) -> tuple[str, ...] | None:
    """A comma-separated subset of `allowed`, in the order given; None if not given."""
    if value is None or value == "":
        return None
    wanted = tuple(dict.fromkeys(s.strip() for s in value.split(",")))
    unknown = [s for s in wanted if s not in allowed]
    if unknown:
        raise invalid(field, f"{unknown[0]!r} is not one of {', '.join(allowed)}")
    return wanted


def _status_filter(statuses: tuple[str, ...], now: datetime) -> Any:
    still_invited = (Client.status == "invited") & (Client.invitation_expires_at > now)
    conditions = {
        "active": Client.status == "active",
        "invited": still_invited,
        "inactive": (Client.status == "inactive")
        | ((Client.status == "invited") & (Client.invitation_expires_at <= now)),
    }
    return _any(conditions[status] for status in statuses)


def _any(conditions: Any) -> Any:
    combined: Any = None
    for condition in conditions:
        combined = condition if combined is None else combined | condition
    return combined


def _invitation_filter(partner_id: UUID, query: Query, now: datetime) -> Any:
    """Clients whose latest invitation is as asked (clients never invited never are)."""
    where: Any = Invitation.partner == partner_id
    if query.invitation_statuses is not None:
        pending = (Invitation.status == "pending") & (Invitation.expires_at > now)
        conditions = {
            "pending": pending,
            "expired": (Invitation.status == "expired")
            | ((Invitation.status == "pending") & (Invitation.expires_at <= now)),
            "declined": Invitation.status == "declined",
            "revoked": Invitation.status == "revoked",
            "accepted": Invitation.status == "accepted",
        }
        where &= _any(conditions[s] for s in query.invitation_statuses)
    if query.email_statuses is not None:
        where &= Invitation.email_status.is_in(list(query.email_statuses))
    if query.opened is not None:
        where &= (
            Invitation.opened_at.is_not_null() if query.opened else Invitation.opened_at.is_null()
        )
    return Client.latest_invitation.is_in(Invitation.select(Invitation.id).where(where))


def _matches(term: str) -> Any:
    """Name, email or external ref containing `term`, or a VAT number containing it once
    spaces, dots and dashes are left out of both; folded alike (db.search)."""
    vat = search.vat_key(term)
    found: Any = statements.like_escaped(
        Client.search_text, search.contains_pattern(search.fold(term))
    )
    if vat:
        found = found | statements.like_escaped(Client.vat_key, search.contains_pattern(vat))
    return found


def _in_partner(partner_id: UUID, query: Query) -> Any:
    where: Any = Client.partner == partner_id
    if query.search:
        where &= _matches(query.search)
    return where


# The longest cursor: `["-invited_at", name, id]` with the longest name, of characters of
# four UTF-8 bytes each (a name cannot hold what JSON writes longer), in unpadded base64.
# A name sort's cursor holds the name as shown, not its sort key (`search.name_key`, which
# folding can make several times longer).
_NAME_MAX_LENGTH: int = get_args(models.Name)[1].max_length
_LONGEST = len(msgspec.json.encode(["-invited_at", "", str(UUID(int=0))])) + 4 * _NAME_MAX_LENGTH
CURSOR_MAX_LENGTH = math.ceil(_LONGEST * 4 / 3)


def encode_cursor(sort: str, value: Any, client_id: UUID) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = msgspec.json.encode([sort, value, str(client_id)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, sort: str) -> tuple[Any, UUID]:
    """The (sort value, id) of the row a page ended at."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, client_id = msgspec.json.decode(raw, type=tuple[str, str | None, UUID])
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise invalid("cursor", "not a cursor returned by this endpoint") from None
    if made_for != sort:
        raise invalid("cursor", "this cursor belongs to another sort; start again without it")
    if value is None:
        return value, client_id
    if sort.lstrip("-") == "name":
        if _CONTROL.search(value):  # no name holds one (and PostgreSQL text holds no NUL)
            raise invalid("cursor", "not a cursor returned by this endpoint")
        return search.name_key(value), client_id
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        return moment.astimezone(UTC), client_id  # (OverflowError past the year 9999)
    except (ValueError, OverflowError):
        raise invalid("cursor", "not a cursor returned by this endpoint") from None


def _cursor_value(row: dict[str, Any], sort: str) -> Any:
    """What a cursor holds of the row a page ended at (a name, which `decode_cursor` turns
    into its sort key; a time)."""
    column = Client.name if sort.lstrip("-") == "name" else _SORT_COLUMNS[sort.lstrip("-")]
    return row[column._meta.name]


async def _counts(partner_id: UUID, query: Query, now: datetime) -> models.ClientCounts:
    where = _in_partner(partner_id, query)
    counted = {
        status: await Client.count().where(where & _status_filter((status,), now))
        for status in STATUSES
    }
    return models.ClientCounts(**counted)


async def _next_expiry(partner_id: UUID, now: datetime) -> float:
    """When the partner's next invitation expires (moving a client between tabs)."""
    row = await (
        Client.select(Client.invitation_expires_at)
        .where(
            (Client.partner == partner_id)
            & (Client.status == "invited")
            & (Client.invitation_expires_at > now)
        )
        .order_by(Client.invitation_expires_at)
        .first()
    )
    return row["invitation_expires_at"].timestamp() if row else math.inf


async def summary(
    ctx: Context, partner_id: UUID, revision: int, query: Query, now: datetime
) -> tuple[models.ClientCounts, float]:
    """The tab counts under `query.search` and when the partner's next invitation expires,
    remembered with the partner's revision until then: polling the list neither counts
    100,000 rows nor looks for the next expiry again."""
    key = (partner_id, query.search)
    cached = ctx.client_counts.get(key)
    if cached is not None:
        return cached
    valid_until = await _next_expiry(partner_id, now)
    found = await _counts(partner_id, query, now), valid_until
    ctx.client_counts.put(key, partner_id, revision, found, valid_until)
    return found


async def page(ctx: Context, user: models.User, partner_id: UUID, query: Query) -> Versioned:
    """One page of the list and the tab counts. True until the partner's revision changes
    or its next invitation expires."""
    revision = await partner_revision(user.sub, partner_id)
    now = utcnow()
    select = Client.select().where(_in_partner(partner_id, query))
    if set(query.statuses) != set(STATUSES):
        select = select.where(_status_filter(query.statuses, now))
    if (
        query.invitation_statuses is not None
        or query.email_statuses is not None
        or query.opened is not None
    ):
        select = select.where(_invitation_filter(partner_id, query, now))
    descending = query.sort.startswith("-")
    column = _SORT_COLUMNS[query.sort.lstrip("-")]
    if query.cursor:
        value, last_id = decode_cursor(query.cursor, query.sort)
        select = select.where(statements.after_row(column, descending, value, last_id))
    rows = await statements.ordered(select, column, descending).limit(query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    invitation_ids = [r["latest_invitation"] for r in rows if r["latest_invitation"] is not None]
    invitations = {}
    if invitation_ids:
        invitations = {
            r["id"]: r for r in await Invitation.select().where(Invitation.id.is_in(invitation_ids))
        }
    items = [views.client(ctx, r, invitations.get(r["latest_invitation"]), now) for r in rows]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor(query.sort, _cursor_value(last, query.sort), last["id"])
    tab_counts, valid_until = await summary(ctx, partner_id, revision, query, now)
    body = models.ClientPage(items=items, next_cursor=next_cursor, counts=tab_counts)
    return Versioned(body, revision, valid_until)
