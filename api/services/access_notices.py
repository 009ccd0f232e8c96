"""Access notices: when a partner gains access to a Business Space (an invitation or a
registration link is confirmed), every admin of that business whose email the service
knows (`api.services.users`) is told by email, in their language: which partner, what
access, granted by whom and when, and how to withdraw it. The emails are queued with the
confirm, in its unit of work, and sent by the mail worker like invitation emails."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from api.services.changes import PartnerChange
from api.services.context import Context
from db import sql, statements
from db.tables import AccessNotice
from mobile_contract import models

GRANTED_BY_LENGTH = cast(int, AccessNotice.granted_by.length)


def _who(user: models.User) -> str:
    """Who granted the access, as the notice says it: "name (email)" where both are known
    and fit the column, else the email, the name or the user id."""
    both = f"{user.name} ({user.email})"
    if user.name and user.email and len(both) <= GRANTED_BY_LENGTH:
        return both
    return user.email or user.name or user.sub


async def queue(
    ctx: Context,
    change: PartnerChange,
    *,
    link_id: UUID,
    business_id: UUID,
    access_level: str,
    granted_by: models.User,
) -> None:
    admins = await sql.fetch(statements.ADMINS_TO_TELL, business_id)
    if not admins:
        return
    now = change.now
    rows = [
        (
            link_id,
            change.partner_id,
            business_id,
            admin["email"],
            admin["language"],
            access_level,
            _who(granted_by),
            now,
            now,
            now,
        )
        for admin in admins
    ]
    await sql.insert(statements.ACCESS_NOTICE_INSERT, rows)
    change.after_commit(ctx.mail_queued.set)
