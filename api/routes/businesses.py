"""Business routes: see and withdraw the partners' access to a business."""

from litestar import Controller, get

from api.routes.params import SIGNED_IN, Ctx, CurrentUser, E, PathId, action, documented
from api.services import links
from mobile_contract import models


class BusinessLinksController(Controller):
    path = "/businesses/{business_id:uuid}/links"
    tags = ["businesses"]

    @get("/", **documented("listBusinessLinks", *SIGNED_IN, E.NOT_FOUND))
    async def list_links(self, user: CurrentUser, business_id: PathId) -> models.LinkList:
        """Partners linked to this business."""
        return await links.business_links(user, business_id)

    @action(
        "/{link_id:uuid}/revoke",
        "revokeBusinessLink",
        *SIGNED_IN,
        E.NOT_FOUND,
        E.NOT_BUSINESS_ADMIN,
    )
    async def revoke(
        self, ctx: Ctx, user: CurrentUser, business_id: PathId, link_id: PathId
    ) -> models.Link:
        """Withdraw a partner's access."""
        return await links.revoke_business_link(ctx, user, business_id, link_id)
