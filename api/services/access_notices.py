"""Access notices: when a partner gains access to a Business Space (an invitation or a
registration link is confirmed), every admin of that business whose email the service
knows (`api.services.users`) is told by email, in their language: which partner, what
access, granted by whom and when, and how to withdraw it. The emails are queued with the
confirm, in its unit of work, and sent by the mail worker like invitation emails."""

from __future__ import annotations

from uuid import UUID

from api.services.changes import PartnerChange
from api.services.context import Context
from db import sql, statements
from mobile_contract import models


def _who(user: models.User) -> str:
    if user.name and user.email:
        return f"{user.name} ({user.email})"
    return user.name or user.email or user.sub


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
