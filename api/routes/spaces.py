"""Routes for everyone signed in: who am I, create a partner or a business."""

from litestar import Controller, get, post

from api.services import spaces
from mobile_contract import models


class SpacesController(Controller):
    tags = ["spaces"]

    @get("/me", summary="The signed-in user and the partners and businesses they belong to")
    async def me(self, user: models.User) -> models.Me:
        return await spaces.me(user)

    @post("/partners", summary="Create a Partner Space; the caller becomes its admin")
    async def create_partner(self, user: models.User, data: models.PartnerCreate) -> models.Partner:
        return await spaces.create_partner(user, data)

    @post("/businesses", summary="Create a Business Space; the caller becomes its admin")
    async def create_business(self, user: models.User, data: models.BusinessCreate) -> models.Business:
        return await spaces.create_business(user, data)
