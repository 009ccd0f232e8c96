"""Routes for everyone signed in: who am I, create a partner or a business."""

from litestar import Controller, get, patch, post
from litestar.params import JSONBody

from api.routes.params import IN_PARTNER, INVALID, SIGNED_IN, Ctx, CurrentUser, Member, documented
from api.services import spaces
from mobile_contract import models


class SpacesController(Controller):
    tags = ["spaces"]

    @get("/me", **documented("getMe", *SIGNED_IN))
    async def me(self, user: CurrentUser) -> models.Me:
        """The signed-in user and the partners and businesses they belong to."""
        return await spaces.me(user)

    @post("/partners", **documented("createPartner", *SIGNED_IN, *INVALID))
    async def create_partner(
        self, ctx: Ctx, user: CurrentUser, data: JSONBody[models.PartnerCreate]
    ) -> models.Partner:
        """Create a Partner Space; the caller becomes its admin.

        It follows the service's reminder schedule (`INVITATION_REMINDER_DAYS`) until it
        sets its own `reminder_days`."""
        return await spaces.create_partner(ctx, user, data)

    @get("/partners/{partner_id:uuid}", **documented("getPartner", *IN_PARTNER))
    async def get_partner(self, ctx: Ctx, member: Member) -> models.Partner:
        """The partner's settings: name, VAT number, reminder schedule.

        `reminder_days` is the schedule in force: the partner's own, or the service's."""
        return await spaces.get_partner(ctx, member)

    @patch("/partners/{partner_id:uuid}", **documented("updatePartner", *IN_PARTNER, *INVALID))
    async def update_partner(
        self, ctx: Ctx, member: Member, data: JSONBody[models.PartnerUpdate]
    ) -> models.Partner:
        """Change a partner's name, VAT number or reminder schedule."""
        return await spaces.update_partner(ctx, member, data)

    @post("/businesses", **documented("createBusiness", *SIGNED_IN, *INVALID))
    async def create_business(
        self, user: CurrentUser, data: JSONBody[models.BusinessCreate]
    ) -> models.Business:
        """Create a Business Space; the caller becomes its admin."""
        return await spaces.create_business(user, data)
