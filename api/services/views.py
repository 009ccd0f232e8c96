"""Database rows as contract Structs, with the clock-dependent statuses applied."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from api.services.context import Context
from mobile_contract import models
from mobile_contract.models import ClientStatus, EmailStatus, InvitationStatus

S = TypeVar("S", bound=msgspec.Struct)

NO_URLS: dict[str, str | None] = {
    "url": None,
    "app_url": None,
    "qr_svg_url": None,
    "qr_png_url": None,
}


def from_row(model: type[S], row: Mapping[str, Any], **given: Any) -> S:
    """`model` made from a database row: each field not `given` from the column of its name,
    a reference field `x_id` from column `x` (`partner_id` from `partner`). A column the
    row lacks is a KeyError, as it should be when a query forgot it."""
    return model(**{f: row[c] for f, c in _columns(model) if f not in given}, **given)


@functools.cache
def _columns(model: type[msgspec.Struct]) -> tuple[tuple[str, str], ...]:
    """Each field of `model` with the column it comes from."""
    return tuple(
        (field, field.removesuffix("_id") if field.endswith("_id") else field)
        for field in model.__struct_fields__
    )


def invitation_status(row: dict[str, Any], now: datetime) -> InvitationStatus:
    """The rule "this invitation is usable" is `== PENDING`: stored pending and not past
    its expiry."""
    status = InvitationStatus(row["status"])
    if status is InvitationStatus.PENDING and row["expires_at"] <= now:
        return InvitationStatus.EXPIRED
    return status


def client_status(row: dict[str, Any], now: datetime) -> ClientStatus:
    status = ClientStatus(row["status"])
    expires = row["invitation_expires_at"]
    if status is ClientStatus.INVITED and (expires is None or expires <= now):
        return ClientStatus.INACTIVE
    return status


def invitation(ctx: Context, row: dict[str, Any], now: datetime) -> models.Invitation:
    status = invitation_status(row, now)
    urls: dict[str, str | None] = NO_URLS
    if status == "pending":
        token = ctx.keys.sign(row["token_id"], row["expires_at"], "inv", row["token_kid"])
        urls = dict(ctx.urls(token))
    return from_row(
        models.Invitation,
        row,
        status=status,
        email_status=EmailStatus(row["email_status"]),
        **urls,
    )


def client(
    ctx: Context, row: dict[str, Any], invitation_row: dict[str, Any] | None, now: datetime
) -> models.Client:
    return from_row(
        models.Client,
        row,
        status=client_status(row, now),
        invitation=invitation(ctx, invitation_row, now) if invitation_row else None,
    )


def link(row: dict[str, Any], partner_name: str | None = None) -> models.Link:
    return from_row(models.Link, row, partner_name=partner_name)
