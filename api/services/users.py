"""What the service knows of its users: the email of their access tokens and the
language their requests ask for, kept as they act, so that a business's admins can be
told (in their language) when a partner gains access to it."""

from __future__ import annotations

from api.services.context import Context, utcnow
from db import sql, statements
from mobile_contract import models


async def remember(ctx: Context, user: models.User, language: str | None) -> None:
    """Keep `user`'s email and `language` (None: not said); written only when this process
    has not written the same already."""
    known = (user.email, language)
    if ctx.known_users.get(user.sub) == known:
        return
    await sql.execute(statements.REMEMBER_USER, user.sub, user.email, language, utcnow(), language)
    ctx.known_users.put(user.sub, known)
