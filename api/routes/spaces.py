"""Routes for everyone signed in: who am I, create a partner or a business."""

from litestar import Controller, get, post
from litestar.params import JSONBody

from api.routes.params import INVALID, SIGNED_IN, CurrentUser, documented
from api.services import spaces
from mobile_contract import models


class SpacesController(Controller):
    tags = ["spaces"]

    @get(
        "/me",
        **documented("getMe", *SIGNED_IN),
        summary="The signed-in user and the partners and businesses they belong to",
    )
    async def me(self, user: CurrentUser) -> models.Me:
        return await spaces.me(user)

    @post(
        "/partners",
        **documented("createPartner", *SIGNED_IN, *INVALID),
        summary="Create a Partner Space; the caller becomes its admin",
    )
    async def create_partner(
        self, user: CurrentUser, data: JSONBody[models.PartnerCreate]
    ) -> models.Partner:
        return await spaces.create_partner(user, data)

    @post(
        "/businesses",
        **documented("createBusiness", *SIGNED_IN, *INVALID),
        summary="Create a Business Space; the caller becomes its admin",
    )
    async def create_business(
        self, user: CurrentUser, data: JSONBody[models.BusinessCreate]
    ) -> models.Business:
        return await spaces.create_business(user, data)
