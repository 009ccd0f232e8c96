"""Mobile app routes: preview, confirm or decline what a QR code, link or typed code grants."""

from litestar import Controller
from litestar.params import JSONBody

from api.routes.bodies import MOBILE_BODY_MAX
from api.routes.params import (
    GRANT,
    INVALID,
    SIGNED_IN,
    USER_CODE,
    AnyRequest,
    Codes,
    Ctx,
    CurrentUser,
    E,
    action,
    client_address,
)
from api.services import mobile
from mobile_contract import models

# Preview, confirm and decline: a token or typed code, judged the same way by each.
GRANTING: Codes = (*SIGNED_IN, *INVALID, *GRANT, *USER_CODE)


class MobileController(Controller):
    path = "/mobile/invitations"
    tags = ["mobile"]
    request_max_body_size = MOBILE_BODY_MAX

    @action("/preview", "previewInvitation", *GRANTING)
    async def preview(
        self, ctx: Ctx, user: CurrentUser, request: AnyRequest, data: JSONBody[models.GrantRequest]
    ) -> models.Preview:
        """Who asks for what access; marks the invitation opened.

        Exactly one of token or user_code. 5 wrong user codes per 10 minutes, then 429; a user code
        whose QR expired or whose invitation was accepted or declined is 410 user_code_expired (not
        counted), but to the user who accepted it, while the code lasts, what the token answers
        (409 invitation_already_accepted, accepted_by_you)."""
        return await mobile.preview(ctx, user, data, client_address(request, ctx))

    @action(
        "/confirm", "confirmInvitation", *GRANTING, E.NOT_BUSINESS_ADMIN, E.BUSINESS_ALREADY_LINKED
    )
    async def confirm(
        self,
        ctx: Ctx,
        user: CurrentUser,
        request: AnyRequest,
        data: JSONBody[models.ConfirmRequest],
    ) -> models.Confirmation:
        """Grant the access with an existing business or a new one.

        Idempotent for the user who accepted, through a token or (while it lasts) the user code;
        anyone else gets 409, or through a used user code 410 user_code_expired. Through a registration link, a
        business already linked gets its link back, and a confirm repeated by its user with
        `new_business` of the same name gets the same link (another name is another business)."""
        return await mobile.confirm(ctx, user, data, client_address(request, ctx))

    @action("/decline", "declineInvitation", *GRANTING)
    async def decline(
        self, ctx: Ctx, user: CurrentUser, request: AnyRequest, data: JSONBody[models.GrantRequest]
    ) -> models.Invitation | models.RegistrationLinkDeclined:
        """Decline an invitation.

        For a registration link nothing is stored; the answer says so."""
        return await mobile.decline(ctx, user, data, client_address(request, ctx))
