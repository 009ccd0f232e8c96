"""Partner dashboard routes: clients, invitations and events of one partner."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.routes.caching import etag_response, not_modified_from_memory, remembered_etag_response
from api.routes.params import (
    IN_PARTNER,
    INVALID,
    NOT_MODIFIED,
    Ctx,
    CurrentUser,
    E,
    PathId,
    documented,
    json_body,
)
from api.services import clients, events, invitations
from mobile_contract import models


class ClientsController(Controller):
    path = "/partners/{partner_id:uuid}/clients"
    tags = ["clients"]

    @post(
        "/",
        **documented("createClient", *IN_PARTNER, *INVALID),
        summary="Add a client to the partner's list",
    )
    async def create(
        self, ctx: Ctx, user: CurrentUser, partner_id: PathId, data: JSONBody[models.ClientCreate]
    ) -> models.Client:
        return await clients.create(ctx, user, partner_id, data)

    @post(
        "/import",
        **documented("importClients", *IN_PARTNER, *INVALID),
        status_code=200,
        summary="Add up to 5000 clients; each row gets its own result",
    )
    async def import_clients(
        self, ctx: Ctx, user: CurrentUser, partner_id: PathId, data: JSONBody[models.ClientImport]
    ) -> models.ImportResponse:
        return await clients.import_clients(ctx, user, partner_id, data)

    @get(
        "/",
        **documented(
            "listClients",
            *IN_PARTNER,
            *INVALID,
            more={200: json_body(models.ClientPage)} | NOT_MODIFIED,
        ),
        summary="List clients, oldest first",
        description="`status` is a comma-separated subset of inactive, invited, active. "
        "Answers 304 for a matching If-None-Match.",
        response_headers=[],
        before_request=not_modified_from_memory,
    )
    async def list_clients(
        self,
        ctx: Ctx,
        user: CurrentUser,
        request: Request[Any, Any, Any],
        partner_id: PathId,
        status_filter: Annotated[
            str | None,
            QueryParameter(
                name="status",
                max_length=64,
                pattern=r"^(inactive|invited|active)(,(inactive|invited|active))*\Z",
                description="Comma-separated: inactive, invited, active",
            ),
        ] = None,
        search: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[bytes]:
        statuses = clients.parse_statuses(status_filter)
        search = search.strip() if search else None
        return await remembered_etag_response(
            request,
            user,
            partner_id,
            lambda: clients.page(
                ctx, user, partner_id, statuses=statuses, search=search, limit=limit, cursor=cursor
            ),
        )

    @get(
        "/{client_id:uuid}",
        **documented("getClient", *IN_PARTNER, more={200: json_body(models.Client)} | NOT_MODIFIED),
        summary="One client, with its latest invitation",
    )
    async def get_client(
        self,
        ctx: Ctx,
        user: CurrentUser,
        request: Request[Any, Any, Any],
        partner_id: PathId,
        client_id: PathId,
    ) -> Response[bytes]:
        return etag_response(request, await clients.get(ctx, user, partner_id, client_id))

    @patch(
        "/{client_id:uuid}",
        **documented("updateClient", *IN_PARTNER, *INVALID),
        summary="Change a client's details",
    )
    async def patch_client(
        self,
        ctx: Ctx,
        user: CurrentUser,
        partner_id: PathId,
        client_id: PathId,
        data: JSONBody[models.ClientPatch],
    ) -> models.Client:
        return await clients.patch(ctx, user, partner_id, client_id, data)

    @post(
        "/{client_id:uuid}/disconnect",
        **documented("disconnectClient", *IN_PARTNER),
        status_code=200,
        summary="Revoke the client's link",
    )
    async def disconnect(
        self, ctx: Ctx, user: CurrentUser, partner_id: PathId, client_id: PathId
    ) -> models.Client:
        return await clients.disconnect(ctx, user, partner_id, client_id)


class InvitationsController(Controller):
    path = "/partners/{partner_id:uuid}/invitations"
    tags = ["invitations"]

    @post(
        "/",
        **documented("inviteClients", *IN_PARTNER, *INVALID),
        status_code=200,
        summary="Invite 1 to 1000 clients; each gets an email",
    )
    async def invite(
        self, ctx: Ctx, user: CurrentUser, partner_id: PathId, data: JSONBody[models.InviteRequest]
    ) -> models.InviteResponse:
        return await invitations.invite(ctx, user, partner_id, data)

    @get(
        "/{invitation_id:uuid}",
        **documented(
            "getInvitation", *IN_PARTNER, more={200: json_body(models.Invitation)} | NOT_MODIFIED
        ),
        summary="One invitation",
    )
    async def get_invitation(
        self,
        ctx: Ctx,
        user: CurrentUser,
        request: Request[Any, Any, Any],
        partner_id: PathId,
        invitation_id: PathId,
    ) -> Response[bytes]:
        return etag_response(request, await invitations.get(ctx, user, partner_id, invitation_id))

    @post(
        "/{invitation_id:uuid}/resend",
        **documented(
            "resendInvitation",
            *IN_PARTNER,
            *INVALID,
            E.CLIENT_ALREADY_ACTIVE,
            E.CLIENT_MISSING_EMAIL,
            E.INVITATION_SUPERSEDED,
            E.RATE_LIMITED,
        ),
        summary="Replace the client's latest invitation with a new one",
        description="At most one per client per 60 s (429 with Retry-After).",
    )
    async def resend(
        self,
        ctx: Ctx,
        user: CurrentUser,
        partner_id: PathId,
        invitation_id: PathId,
        data: JSONBody[models.ResendRequest | None] = None,
    ) -> models.Invitation:
        return await invitations.resend(
            ctx, user, partner_id, invitation_id, data or models.ResendRequest()
        )

    @post(
        "/{invitation_id:uuid}/revoke",
        **documented(
            "revokeInvitation",
            *IN_PARTNER,
            E.INVITATION_ALREADY_ACCEPTED,
            E.INVITATION_DECLINED,
            E.INVITATION_SUPERSEDED,
        ),
        status_code=200,
        summary="Withdraw an invitation",
    )
    async def revoke(
        self, ctx: Ctx, user: CurrentUser, partner_id: PathId, invitation_id: PathId
    ) -> models.Invitation:
        return await invitations.revoke(ctx, user, partner_id, invitation_id)

    @post(
        "/{invitation_id:uuid}/qr-token",
        **documented(
            "createQrToken",
            *IN_PARTNER,
            *INVALID,
            E.INVITATION_ALREADY_ACCEPTED,
            E.INVITATION_DECLINED,
            E.INVITATION_EXPIRED,
            E.INVITATION_REVOKED,
            E.INVITATION_SUPERSEDED,
        ),
        summary="A short-lived QR token and user code for the partner's screen",
    )
    async def qr_token(
        self,
        ctx: Ctx,
        user: CurrentUser,
        partner_id: PathId,
        invitation_id: PathId,
        data: JSONBody[models.QRTokenRequest | None] = None,
    ) -> models.QRToken:
        return await invitations.qr_token(
            ctx, user, partner_id, invitation_id, data or models.QRTokenRequest()
        )


class EventsController(Controller):
    path = "/partners/{partner_id:uuid}/events"
    tags = ["events"]

    @get(
        "/",
        **documented("listEvents", *IN_PARTNER, *INVALID),
        summary="Events after a cursor; with wait > 0, held until one arrives",
        description="Without `after`, from the beginning. "
        "`next_cursor` is the `after` of the next call.",
    )
    async def list_events(
        self,
        ctx: Ctx,
        user: CurrentUser,
        partner_id: PathId,
        after: Annotated[str | None, QueryParameter(max_length=18, pattern=r"^[0-9]+\Z")] = None,
        wait: Annotated[int, QueryParameter(ge=0, le=30)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> models.EventPage:
        return await events.page(ctx, user, partner_id, events.parse_cursor(after), limit, wait)
