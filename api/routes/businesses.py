"""Business routes: see and withdraw the partners' access to a business."""

from litestar import Controller, get, post

from api.routes.params import API_PROBLEMS, Ctx, CurrentUser, PathId
from api.services import links
from mobile_contract import models


class BusinessLinksController(Controller):
    path = "/businesses/{business_id:uuid}/links"
    tags = ["businesses"]

    @get("/", responses=API_PROBLEMS, summary="Partners linked to this business")
    async def list_links(self, user: CurrentUser, business_id: PathId) -> models.LinkList:
        return await links.business_links(user, business_id)

    @post(
        "/{link_id:uuid}/revoke",
        responses=API_PROBLEMS,
        status_code=200,
        summary="Withdraw a partner's access",
    )
    async def revoke(
        self, ctx: Ctx, user: CurrentUser, business_id: PathId, link_id: PathId
    ) -> models.Link:
        return await links.revoke_business_link(ctx, user, business_id, link_id)
