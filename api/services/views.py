"""Database rows as contract Structs, with the clock-dependent statuses applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.services.context import Context
from mobile_contract import models
from mobile_contract.models import ClientStatus, EmailStatus, InvitationStatus

NO_URLS: dict[str, str | None] = {
    "url": None,
    "app_url": None,
    "qr_svg_url": None,
    "qr_png_url": None,
}


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
        token = ctx.token(row["token_id"], row["expires_at"], "inv", row["token_kid"])
        if token is not None:
            urls = dict(ctx.urls(token))
    return models.Invitation(
        id=row["id"],
        partner_id=row["partner"],
        client_id=row["client"],
        status=status,
        email=row["email"],
        message=row["message"],
        access_level=row["access_level"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        opened_at=row["opened_at"],
        accepted_at=row["accepted_at"],
        declined_at=row["declined_at"],
        revoked_at=row["revoked_at"],
        email_status=EmailStatus(row["email_status"]),
        reminders_sent=row["reminders_sent"],
        last_reminded_at=row["last_reminded_at"],
        email_error=row["email_error"],
        **urls,
    )


def client(
    ctx: Context, row: dict[str, Any], invitation_row: dict[str, Any] | None, now: datetime
) -> models.Client:
    return models.Client(
        id=row["id"],
        partner_id=row["partner"],
        name=row["name"],
        email=row["email"],
        language=row["language"],
        vat_number=row["vat_number"],
        external_ref=row["external_ref"],
        status=client_status(row, now),
        business_id=row["business"],
        connected_at=row["connected_at"],
        invitation=invitation(ctx, invitation_row, now) if invitation_row else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        source=row["source"],
        registration_link_id=row["registration_link"],
        disconnected_at=row["disconnected_at"],
        disconnected_by=row["disconnected_by"],
    )


def link(row: dict[str, Any], partner_name: str | None = None) -> models.Link:
    return models.Link(
        id=row["id"],
        partner_id=row["partner"],
        business_id=row["business"],
        access_level=row["access_level"],
        status=row["status"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        partner_name=partner_name,
    )
