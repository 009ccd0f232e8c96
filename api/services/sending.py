"""How many invitation emails a partner may send: `INVITES_PER_PARTNER_PER_DAY` a UTC
day, `INVITES_PER_NEW_PARTNER_PER_DAY` in its first week (a partner is made by any
signed-in user, with any name, and its emails leave from Banqup's own address).

Counted in the transaction that queues the emails, with one conditional UPDATE of the
partner's `invite_quota` row: concurrent bulk invites of one partner never pass the cap
together, and an invite that fails takes nothing. Its place in the lock order: after the
clients, before the partner row (`db.transactions`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from uuid import UUID

from api.errors import AppError
from api.services.context import Context
from db import sql, statements
from db.tables import Partner
from db.transactions import one
from mobile_contract import ErrorCode

NEW_PARTNER = timedelta(days=7)


async def take_invites(ctx: Context, partner_id: UUID, count: int, now: datetime) -> None:
    """Count `count` more invitation emails of the partner today, or 429 if they do not
    fit (nothing is counted then)."""
    if count <= 0:
        return
    settings = ctx.settings
    partner = await one(Partner.select(Partner.created_at).where(Partner.id == partner_id))
    new = now - partner["created_at"] < NEW_PARTNER
    cap = settings.invites_per_new_partner_per_day if new else settings.invites_per_partner_per_day
    today = now.date().isoformat()
    await sql.execute(statements.OPEN_INVITE_QUOTA, partner_id, today)
    took = await sql.fetch_one(
        statements.TAKE_INVITE_QUOTA, today, count, count, today, partner_id, today, count, cap
    )
    if took is not None:
        return
    row = await sql.fetch_one(statements.INVITE_QUOTA_SENT, partner_id)
    sent = row["sent"] if row and row["day"] == today else 0
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    cap_said = f"This partner may send {cap} invitations a day{' in its first week' if new else ''}"
    if count > cap:  # not even tomorrow: say so
        detail = f"{cap_said}; send these {count} in parts of at most {cap}."
    else:
        detail = f"{cap_said}; {max(cap - sent, 0)} remain today."
    raise AppError(
        ErrorCode.RATE_LIMITED,
        detail,
        retry_after=max(1, math.ceil((tomorrow - now).total_seconds())),
    )
