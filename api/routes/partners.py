"""Partner dashboard routes: clients, invitations and events of one partner."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.errors import item_errors_in
from api.routes.bodies import IMPORT_BODY_MAX, INVITE_BODY_MAX
from api.routes.caching import not_modified_in_memory, remembered_etag_response
from api.routes.idempotency import Idempotent
from api.routes.longpolls import refuse_capped_polls
from api.routes.memory import answered_from_memory
from api.routes.params import (
    IN_PARTNER,
    INVALID,
    NOT_MODIFIED,
    AnyRequest,
    Ctx,
    CurrentUser,
    E,
    Member,
    PathId,
    action,
    documented,
    json_body,
    with_etag,
)
from api.services import client_list, clients, events, invitations
from mobile_contract import models


class ClientsController(Controller):
    path = "/partners/{partner_id:uuid}/clients"
    tags = ["clients"]

    @post("/", **documented("createClient", *IN_PARTNER, *INVALID, E.IDEMPOTENCY_CONFLICT))
    async def create(
        self, ctx: Ctx, member: Member, data: JSONBody[models.ClientCreate], once: Idempotent
    ) -> Response[models.Client]:
        """Add a client to the partner's list."""
        return await once(data, models.Client, lambda: clients.create(ctx, member, data))

    @action(
        "/import",
        "importClients",
        *IN_PARTNER,
        *INVALID,
        E.IDEMPOTENCY_CONFLICT,
        request_max_body_size=IMPORT_BODY_MAX,
    )
    async def import_clients(
        self, ctx: Ctx, member: Member, data: JSONBody[models.ClientImport], once: Idempotent
    ) -> Response[models.ImportResponse]:
        """Add up to 5000 clients; each row gets its own result."""
        answer = await once(
            data, models.ImportResponse, lambda: clients.import_clients(ctx, member, data)
        )
        item_errors_in(once.language, answer.content.results)
        return answer

    @get(
        "/",
        **documented(
            "listClients",
            *IN_PARTNER,
            *INVALID,
            more={200: json_body(models.ClientPage)} | NOT_MODIFIED,
        ),
        response_headers=[],
        middleware=[answered_from_memory(not_modified_in_memory)],
    )
    async def list_clients(  # not `member`: the page reads membership and revision at once
        self,
        ctx: Ctx,
        user: CurrentUser,
        request: AnyRequest,
        partner_id: PathId,
        status_filter: Annotated[
            str | None,
            QueryParameter(
                name="status",
                max_length=64,
                description="Comma-separated: inactive, invited, active",
            ),
        ] = None,
        search: Annotated[
            str | None,
            QueryParameter(
                max_length=100,
                description="Name, email, VAT number (spaces, dots and dashes ignored) or "
                "external ref containing this; case and accents ignored, `%` and `_` literal",
            ),
        ] = None,
        sort: Annotated[client_list.Sort, QueryParameter()] = "created",
        invitation_status: Annotated[
            str | None,
            QueryParameter(
                max_length=64,
                description="Comma-separated: pending, declined, expired, revoked, accepted",
            ),
        ] = None,
        email_status: Annotated[
            str | None,
            QueryParameter(
                max_length=32, description="Comma-separated: queued, sent, failed, not_sent"
            ),
        ] = None,
        opened: Annotated[
            bool | None, QueryParameter(description="Whether the latest invitation was opened")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: Annotated[
            str | None, QueryParameter(max_length=client_list.CURSOR_MAX_LENGTH)
        ] = None,
    ) -> Response[bytes]:
        """List clients, with the number in each tab.

        `status`, `invitation_status` and `email_status` are comma-separated subsets; the last two
        and `opened` look at each client's latest invitation (a client never invited matches none of
        them). `counts` are the partner's clients per status under the same `search`, whatever the
        other filters. `sort` (default `created`) breaks ties by id; clients without the sorted
        value (never invited) come last. Answers 304 for a matching If-None-Match."""
        query = client_list.Query(
            statuses=client_list.parse_list("status", status_filter, client_list.STATUSES)
            or client_list.STATUSES,
            search=search.strip() if search and search.strip() else None,
            sort=sort,
            invitation_statuses=client_list.parse_list(
                "invitation_status", invitation_status, client_list.INVITATION_STATUSES
            ),
            email_statuses=client_list.parse_list(
                "email_status", email_status, client_list.EMAIL_STATUSES
            ),
            opened=opened,
            limit=limit,
            cursor=cursor,
        )
        return await remembered_etag_response(
            request, user, partner_id, lambda: client_list.page(ctx, user, partner_id, query)
        )

    @get("/{client_id:uuid}", **with_etag("getClient", *IN_PARTNER))
    async def get_client(self, ctx: Ctx, member: Member, client_id: PathId) -> models.Client:
        """One client, with its latest invitation.

        Answers an `ETag`: with it in `If-None-Match`, 304 while the client is unchanged."""
        return await clients.get(ctx, member, client_id)

    @patch("/{client_id:uuid}", **documented("updateClient", *IN_PARTNER, *INVALID))
    async def patch_client(
        self, ctx: Ctx, member: Member, client_id: PathId, data: JSONBody[models.ClientPatch]
    ) -> models.Client:
        """Change a client's details.

        An absent field keeps its value; `null` clears `email`, `vat_number` or
        `external_ref`. A new `language` applies to the client's pending invitation too (its
        page and emails still to come); a new `email` ends the reminders to the old address
        (resend the invitation to reach the new one). `client.updated` lists the fields that
        changed; a PATCH that changes nothing emits no event."""
        return await clients.patch(ctx, member, client_id, data)

    @delete("/{client_id:uuid}", **documented("deleteClient", *IN_PARTNER, E.CLIENT_ALREADY_ACTIVE))
    async def delete_client(self, ctx: Ctx, member: Member, client_id: PathId) -> None:
        """Erase a client that is not active, with its personal data.

        Its invitations, their messages and queued emails are erased; its events keep their ids and
        types only. An active client must be disconnected first (409)."""
        await clients.delete(ctx, member, client_id)

    @get("/{client_id:uuid}/invitations", **documented("listClientInvitations", *IN_PARTNER))
    async def list_client_invitations(
        self, ctx: Ctx, member: Member, client_id: PathId
    ) -> models.InvitationList:
        """Every invitation of a client, newest first."""
        return await clients.invitations_of(ctx, member, client_id)

    @action("/{client_id:uuid}/disconnect", "disconnectClient", *IN_PARTNER)
    async def disconnect(self, ctx: Ctx, member: Member, client_id: PathId) -> models.Client:
        """Revoke the client's link."""
        return await clients.disconnect(ctx, member, client_id)


class InvitationsController(Controller):
    path = "/partners/{partner_id:uuid}/invitations"
    tags = ["invitations"]

    @action(
        "/",
        "inviteClients",
        *IN_PARTNER,
        *INVALID,
        E.IDEMPOTENCY_CONFLICT,
        E.RATE_LIMITED,
        request_max_body_size=INVITE_BODY_MAX,
    )
    async def invite(
        self, ctx: Ctx, member: Member, data: JSONBody[models.InviteRequest], once: Idempotent
    ) -> Response[models.InviteResponse]:
        """Invite 1 to 1000 clients; each gets an email.

        A partner sends at most INVITES_PER_PARTNER_PER_DAY invitation emails a UTC day (fewer in
        its first week): an invite that does not fit is 429 with Retry-After, and invites nobody."""
        answer = await once(
            data, models.InviteResponse, lambda: invitations.invite(ctx, member, data)
        )
        item_errors_in(once.language, answer.content.results)
        return answer

    @get("/{invitation_id:uuid}", **with_etag("getInvitation", *IN_PARTNER))
    async def get_invitation(
        self, ctx: Ctx, member: Member, invitation_id: PathId
    ) -> models.Invitation:
        """One invitation."""
        return await invitations.get(ctx, member, invitation_id)

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
    )
    async def resend(
        self,
        ctx: Ctx,
        member: Member,
        invitation_id: PathId,
        data: JSONBody[models.ResendRequest | None] = None,
    ) -> models.Invitation:
        """Replace the client's latest invitation with a new one.

        At most one per client per 60 s (429 with Retry-After). The old invitation becomes
        superseded whatever it was (pending, expired, declined, revoked, or accepted and since
        disconnected; its `*_at` times keep what happened), and its tokens stop working."""
        return await invitations.resend(ctx, member, invitation_id, data or models.ResendRequest())

    @action(
        "/{invitation_id:uuid}/revoke",
        "revokeInvitation",
        *IN_PARTNER,
        E.INVITATION_ALREADY_ACCEPTED,
        E.INVITATION_DECLINED,
        E.INVITATION_SUPERSEDED,
    )
    async def revoke(self, ctx: Ctx, member: Member, invitation_id: PathId) -> models.Invitation:
        """Withdraw an invitation.

        A pending one, or the client's latest if it expired; the client goes back to
        `inactive`. An earlier one answers 410 `invitation_superseded` with
        `latest_invitation_id`, as resend does."""
        return await invitations.revoke(ctx, member, invitation_id)

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
    )
    async def qr_token(
        self,
        ctx: Ctx,
        member: Member,
        invitation_id: PathId,
        data: JSONBody[models.QRTokenRequest | None] = None,
    ) -> models.QRToken:
        """A short-lived QR token and user code for the partner's screen."""
        return await invitations.qr_token(
            ctx, member, invitation_id, data or models.QRTokenRequest()
        )


class EventsController(Controller):
    path = "/partners/{partner_id:uuid}/events"
    tags = ["events"]

    @get(
        "/",
        **documented("listEvents", *IN_PARTNER, *INVALID, E.RATE_LIMITED),
        middleware=[refuse_capped_polls],
    )
    async def list_events(  # not `member`: a poll past the caps must cost no query
        self,
        ctx: Ctx,
        user: CurrentUser,
        partner_id: PathId,
        after: Annotated[
            str | None,
            QueryParameter(
                max_length=18,
                pattern=r"^([0-9]+|latest)\Z",
                description="A `next_cursor` of this feed, or `latest`: an empty page whose "
                "`next_cursor` is the newest event's (start live without reading history)",
            ),
        ] = None,
        wait: Annotated[int, QueryParameter(ge=0, le=30)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> models.EventPage:
        """Events after a cursor; with wait > 0, held until one arrives.

        Without `after`, from the beginning. Long-polls held at once are capped per user, per
        partner and per server process: beyond a cap, 429 at once with Retry-After. `next_cursor` is
        the `after` of the next call; a cursor beyond the newest is 400. Event types and the keys of
        their `data` are listed with the `Event` schema."""
        return await events.page(ctx, user, partner_id, events.parse_cursor(after), limit, wait)
