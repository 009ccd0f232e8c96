"""Demo data for `make run`: a partner with clients in each status, and what to try.

Seeds only an empty database (no partner yet), so restarting keeps what you did.
"""

from __future__ import annotations

from api.services import access, client_list, clients, invitations, mobile, spaces
from api.services.context import Context
from api.settings import Settings
from db.tables import Partner, PartnerMember
from mobile_contract import models

PARTNER_USER = models.User(sub="demo-partner", email="anna@demo-accountants.example", name="Anna")
CLIENT_USER = models.User(sub="demo-client", email="ben@bakery.example", name="Ben")


async def seed(settings: Settings) -> None:
    ctx = Context.from_settings(settings)
    verifier = ctx.verifier
    if not await Partner.exists():
        await _seed(ctx)
    member = (
        await PartnerMember.select(PartnerMember.partner)
        .where(PartnerMember.user_sub == PARTNER_USER.sub)
        .first()
    )
    if member is None:
        print("demo: the database has data but no demo partner; nothing seeded.")
        return
    partner_id = member["partner"]
    page = (
        await client_list.page(
            ctx, PARTNER_USER, partner_id, client_list.Query(statuses=("invited",), limit=1)
        )
    ).body
    token = verifier.issue(PARTNER_USER.sub, PARTNER_USER.email, PARTNER_USER.name)
    app_token = verifier.issue(CLIENT_USER.sub, CLIENT_USER.email, CLIENT_USER.name)
    base = settings.public_base_url
    api = f"{base}/api/v1/partners/{partner_id}"
    print("\nDemo data is ready.\n")
    print(f"  Partner dashboard token (Anna):  {token}\n")
    print(f"  Mobile app token (Ben):          {app_token}\n")
    invited = page.items[0].invitation if page.items else None
    if invited is not None and invited.url:
        print(f"  Invitation landing page:  {invited.url}")
        print(f"  Its QR code:              {invited.qr_png_url}\n")
    print("Try:")
    print(f'  curl -s -H "Authorization: Bearer {token}" "{api}/clients?status=inactive,invited"')
    print(f'  curl -s -H "Authorization: Bearer {token}" "{api}/events?wait=10"')
    if invited is not None and invited.url:
        invite_token = invited.url.rsplit("/i/", 1)[1]
        print(
            f'  curl -s -X POST -H "Authorization: Bearer {app_token}" '
            f"-H 'Content-Type: application/json' -d '{{\"token\": \"{invite_token}\"}}' "
            f"{base}/api/v1/mobile/invitations/preview"
        )
    print(f"\n  API schema: {base}/schema/openapi.json\n")
    if settings.app_env == "dev":
        # The sign-in goes in the fragment (after #): browsers never send it to the server.
        print("Or in a browser (the sign-in is in the address):")
        print(f"  Partner dashboard (Anna):  {base}/demo/#token={token}")
        print(f"  Banqup One app (Ben):      {base}/demo/app#token={app_token}")
        print(f"  Sent mail:                 {base}/demo/mail#token={token}\n")


async def _seed(ctx: Context) -> None:
    partner = await spaces.create_partner(
        ctx, PARTNER_USER, models.PartnerCreate(name="Demo Accountants", vat_number="BE0123456789")
    )
    rows = [
        models.ClientCreate(name="Bakkerij Janssens", email="info@janssens.example", language="nl"),
        models.ClientCreate(
            name="Boulangerie Dubois", email="contact@dubois.example", language="fr"
        ),
        models.ClientCreate(name="Müller GmbH", email="buero@mueller.example", language="de"),
        models.ClientCreate(name="Green Garden Ltd", email="hello@greengarden.example"),
        models.ClientCreate(name="Offline Florist", vat_number="BE0777777777"),
    ]
    member = await access.member_of(PARTNER_USER, partner.id)
    made = [await clients.create(ctx, member, row) for row in rows]
    result = await invitations.invite(
        ctx,
        member,
        models.InviteRequest(
            client_ids=[c.id for c in made[:3]],
            message="Dear client, please link your Banqup business to our office.",
        ),
    )
    accepted = result.results[2].invitation
    assert accepted is not None and accepted.url is not None
    await mobile.confirm(
        ctx,
        CLIENT_USER,
        models.ConfirmRequest(
            token=accepted.url.rsplit("/i/", 1)[1],
            new_business=models.BusinessCreate(name="Müller GmbH", country="DE"),
        ),
    )
