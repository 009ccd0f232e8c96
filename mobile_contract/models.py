"""Request and response bodies of the HTTP API as msgspec Structs.

Base options, and why:
- Fields are named at every call site (msgspec applies `kw_only` per class, so the bases
  state it and the code keeps to it): adding a field with a default never shifts others.
- `forbid_unknown_fields=True` on requests only: a misspelt field is a 400, not silently
  ignored. Responses may gain fields; clients must ignore unknown ones.
- `omit_defaults=True` only on bodies whose contract marks fields optional (`field?`):
  those fields are absent rather than null.

Evolution rules: new fields get defaults, a field never changes type.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from mobile_contract.events import EventType, data_description
from mobile_contract.links import TOKEN_FIELD_MAX_LENGTH

# Printable text on one line: no control characters (CR/LF would let a value inject
# headers into an email), at least one non-space character.
_ONE_LINE = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*\Z"
# Free text may span lines, but carries no other control characters.
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z"
_LETTER = r"A-Za-z0-9\u00a1-\uffff"
_LABEL = rf"[{_LETTER}](?:[{_LETTER}-]*[{_LETTER}])?"
# The one rule of email addresses: a local part without spaces, controls or specials, and a
# domain of at least two DNS labels. Both may be non-ASCII, and such addresses are
# delivered (api.mail.compose): the domain travels as IDNA (`xn--…`), a non-ASCII local
# part over SMTPUTF8 (an email to it fails, with that reason, where the mail server does
# not offer SMTPUTF8). A local part holding "=?" is refused: mail software reads it as the
# start of an RFC 2047 encoded word, which can carry line breaks into the headers.
EMAIL_PATTERN = rf"^(?![^@]*=\?)[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]+@{_LABEL}(?:\.{_LABEL})+\Z"


def mail_domain(address: str) -> str | None:
    """The domain of an `Email` as mail carries it (IDNA, ASCII); None where it is no
    internationalised domain name (a label over 63 characters once encoded), which the
    pattern cannot tell."""
    try:
        return address.rpartition("@")[2].encode("idna").decode("ascii")
    except UnicodeError:
        return None


Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=_ONE_LINE)]
Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]
VatNumber = Annotated[
    str, Meta(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9 .-]*\Z")
]
ExternalRef = Annotated[str, Meta(min_length=1, max_length=100, pattern=_ONE_LINE)]
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}\Z", description="ISO 3166-1 alpha-2")]
Message = Annotated[str, Meta(max_length=2000, pattern=_MULTI_LINE)]
Label = Annotated[str, Meta(min_length=1, max_length=200, pattern=_ONE_LINE)]
Token = Annotated[
    str,
    Meta(
        max_length=TOKEN_FIELD_MAX_LENGTH,
        description="As given by a link or QR code; anything else is 400 token_invalid",
    ),
]
UserCode = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        description="8 letters, shown as XXXX-XXXX; case, spaces and dashes are ignored",
    ),
]
Language = Literal["en", "nl", "fr", "de"]
AccessLevel = Literal["full", "read_only"]


class ClientStatus(StrEnum):
    INACTIVE = "inactive"  # not linked, no pending invitation
    INVITED = "invited"  # a pending, unexpired invitation
    ACTIVE = "active"  # linked to a business


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # also a pending one whose `expires_at` has passed
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # a resend replaced it


class EmailStatus(StrEnum):
    """not_sent: invited with send_email false, or the invitation ended before the email left."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    NOT_SENT = "not_sent"


Role = Literal["admin", "member"]


class Request(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies."""


class Response(msgspec.Struct, kw_only=True):
    """Base of response bodies."""


# --- problems ---------------------------------------------------------------------


class FieldError(Response):
    field: str
    message: str


class Problem(Response, omit_defaults=True):
    """RFC 9457 problem document; `code` is one of `ErrorCode`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    # 410 invitation_superseded: the invitation that replaced this one (resend that one).
    latest_invitation_id: UUID | None = None
    # 409 invitation_already_accepted: whose invitation, when, and whether by the caller.
    partner: PartnerRef | None = None
    accepted_at: datetime | None = None
    accepted_by_you: bool | None = None


class ItemError(Response):
    """Why one item of a bulk request failed (the rest are unaffected)."""

    code: str
    detail: str
    field: str | None = None  # for validation_failed: the field of the item at fault


# --- people and spaces --------------------------------------------------------------


class User(Response):
    sub: str
    email: str | None
    name: str | None


class Membership(Response):
    id: UUID
    name: str
    role: Role


class Me(Response):
    user: User
    partners: list[Membership]
    businesses: list[Membership]


class PartnerCreate(Request):
    name: Name
    vat_number: VatNumber | None = None


ReminderDays = Annotated[
    list[Annotated[float, Meta(gt=0, le=365)]],
    Meta(
        max_length=2,
        description="Days after an invitation is sent when a reminder goes out (fractions "
        "allowed; at most two, increasing, each below the invitation's lifetime; [] for none)",
    ),
]


class PartnerUpdate(Request):
    name: Name | UnsetType = UNSET
    vat_number: VatNumber | UnsetType | None = UNSET
    reminder_days: ReminderDays | UnsetType = UNSET


class Partner(Response):
    id: UUID
    name: str
    vat_number: str | None
    created_at: datetime
    reminder_days: list[float] = msgspec.field(default_factory=list)


class BusinessCreate(Request):
    name: Name
    vat_number: VatNumber | None = None
    country: Country | None = None


class Business(Response):
    id: UUID
    name: str
    vat_number: str | None
    country: str | None
    created_at: datetime


# --- clients ------------------------------------------------------------------------


class ClientCreate(Request):
    name: Name
    email: Email | None = None
    language: Language = "en"
    vat_number: VatNumber | None = None
    external_ref: ExternalRef | None = None


class ClientPatch(Request):
    """Fields to change; an absent field is kept, `null` clears an optional one."""

    name: Name | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    language: Language | UnsetType = UNSET
    vat_number: VatNumber | UnsetType | None = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class ClientImport(Request):
    clients: Annotated[
        list[Any],
        Meta(
            min_length=1,
            max_length=5000,
            description="Rows shaped like ClientCreate; each is validated on its own.",
        ),
    ]


class Invitation(Response):
    """One invite of one client. Links are set only while the invitation is pending."""

    id: UUID
    partner_id: UUID
    client_id: UUID
    status: InvitationStatus
    email: str
    message: str | None
    access_level: AccessLevel
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    accepted_at: datetime | None
    declined_at: datetime | None
    revoked_at: datetime | None
    email_status: EmailStatus
    email_error: str | None
    url: str | None
    app_url: str | None
    qr_svg_url: str | None
    qr_png_url: str | None
    reminders_sent: int = 0
    last_reminded_at: datetime | None = None


ClientSource = Literal["manual", "import", "registration_link"]
DisconnectedBy = Literal["partner", "business"]


class Client(Response):
    id: UUID
    partner_id: UUID
    name: str
    email: str | None
    language: Language
    vat_number: str | None
    external_ref: str | None
    status: ClientStatus
    business_id: UUID | None
    connected_at: datetime | None
    invitation: Invitation | None
    created_at: datetime
    updated_at: datetime
    source: ClientSource = "manual"
    registration_link_id: UUID | None = None
    disconnected_at: datetime | None = None
    disconnected_by: DisconnectedBy | None = None


class ClientCounts(Response):
    """Clients of the partner per tab, under the list's `search` (whatever its filters)."""

    inactive: int
    invited: int
    active: int


class ClientPage(Response):
    items: list[Client]
    next_cursor: str | None
    counts: ClientCounts | None = None


class InvitationList(Response):
    items: list[Invitation]


class ImportResult(Response, omit_defaults=True):
    index: int
    client: Client | None = None
    error: ItemError | None = None


class ImportResponse(Response):
    results: list[ImportResult]


# --- invitations --------------------------------------------------------------------


class InviteRequest(Request):
    client_ids: Annotated[list[UUID], Meta(min_length=1, max_length=1000)]
    message: Message | None = None
    access_level: AccessLevel = "full"
    send_email: Annotated[
        bool,
        Meta(
            description="false: no email; the invitation is for the on-screen QR in a meeting, "
            "and clients without an email address can be invited"
        ),
    ] = True


class InviteResult(Response, omit_defaults=True):
    client_id: UUID
    invitation: Invitation | None = None
    error: ItemError | None = None


class InviteResponse(Response):
    results: list[InviteResult]


class ResendRequest(Request):
    """`message` absent keeps the earlier invitation's message; `null` sends none."""

    message: Message | UnsetType | None = UNSET


class QRTokenRequest(Request):
    ttl_seconds: Annotated[int, Meta(ge=60, le=900)] = 300


class QRToken(Response):
    token: str
    url: str
    app_url: str
    qr_svg_url: str
    qr_png_url: str
    user_code: str
    expires_at: datetime


# --- registration links -------------------------------------------------------------


class RegistrationLinkCreate(Request):
    label: Label | None = None
    expires_at: datetime | None = None
    max_uses: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    access_level: AccessLevel = "full"


class RegistrationLink(Response):
    id: UUID
    label: str | None
    token: str
    url: str
    app_url: str
    qr_svg_url: str
    qr_png_url: str
    access_level: AccessLevel
    uses: int
    max_uses: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class RegistrationLinkList(Response):
    items: list[RegistrationLink]


# --- webhooks -----------------------------------------------------------------------

WebhookURL = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=2000,
        pattern=r"^https?://[^\x00-\x20\x7f]+\Z",
        description="https:// (http:// only where private receivers are allowed)",
    ),
]
Description = Annotated[str, Meta(max_length=500, pattern=_ONE_LINE)]
EventTypes = Annotated[list[EventType], Meta(max_length=len(EventType))]


class WebhookCreate(Request):
    url: WebhookURL
    event_types: EventTypes = msgspec.field(default_factory=list)
    description: Description | None = None


class WebhookPatch(Request):
    url: WebhookURL | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    status: Literal["enabled", "disabled"] | UnsetType = UNSET


class Webhook(Response, omit_defaults=True):
    """An endpoint; `event_types` empty means every type. `secret` only in the answers to
    create and rotate-secret."""

    id: UUID
    url: str
    event_types: list[EventType]
    description: str | None
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    created_at: datetime
    secret: str | None = None


class WebhookList(Response):
    items: list[Webhook]


class WebhookDelivery(Response):
    id: int
    event_cursor: str | None
    type: str
    attempts: int
    outcome: Literal["pending", "delivered", "failed"]
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryPage(Response):
    items: list[WebhookDelivery]
    next_cursor: str | None


# --- events -------------------------------------------------------------------------


class Event(Response, omit_defaults=True, kw_only=True):
    cursor: str
    type: EventType
    at: datetime
    client_id: UUID | None = None
    invitation_id: UUID | None = None
    link_id: UUID | None = None
    data: Annotated[dict[str, Any], Meta(description=data_description())]  # `{}` when none


class EventPage(Response):
    events: list[Event]
    next_cursor: str


# --- mobile -------------------------------------------------------------------------


class GrantRequest(Request):
    """Exactly one of `token` (from a QR code or link) or `user_code` (typed)."""

    token: Token | None = None
    user_code: UserCode | None = None


class ConfirmRequest(GrantRequest):
    """Plus exactly one of `business_id` or `new_business`."""

    business_id: UUID | None = None
    new_business: BusinessCreate | None = None


class PartnerRef(Response):
    id: UUID
    name: str


class BusinessChoice(Response):
    id: UUID
    name: str
    already_linked: bool


class Preview(Response, omit_defaults=True):
    kind: Literal["invitation", "registration_link"]
    partner: PartnerRef
    access_level: AccessLevel
    expires_at: datetime | None
    businesses: list[BusinessChoice]
    invitation_id: UUID | None = None
    registration_link_id: UUID | None = None
    client_name: str | None = None
    message: str | None = None
    invited_email: Annotated[
        str | None,
        Meta(description="Whom the invitation was for, masked: first letter, `***`, the domain"),
    ] = None


class Link(Response):
    id: UUID
    partner_id: UUID
    business_id: UUID
    access_level: AccessLevel
    status: Literal["active", "revoked"]
    created_at: datetime
    revoked_at: datetime | None = None
    partner_name: str | None = None


class Confirmation(Response):
    link: Link
    client_id: UUID


class RegistrationLinkDeclined(Response):
    """The answer to declining a registration link: nothing is stored, the link still works."""

    registration_link_id: UUID
    kind: Literal["registration_link"] = "registration_link"


class LinkList(Response):
    items: list[Link]


# --- public pages and operations ----------------------------------------------------


class LandingStatus(Response):
    """What the landing page polls: the invitation's `InvitationStatus`, or for a
    registration link `active`, `revoked`, `expired` or `exhausted`."""

    status: str


class JWK(Response):
    """An Ed25519 public key of invitation tokens (RFC 8037)."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class JWKS(Response):
    keys: list[JWK]


class AppleAppLinks(Response):
    details: list[dict[str, Any]]


class AppleAppSiteAssociation(Response):
    """What iOS reads to open `/i/...` links in the app."""

    applinks: AppleAppLinks


class AndroidAssetLinkTarget(Response):
    namespace: Literal["android_app"]
    package_name: str
    sha256_cert_fingerprints: list[str]


class AndroidAssetLink(Response):
    """One statement of `assetlinks.json`, which Android reads to open links in the app."""

    relation: list[str]
    target: AndroidAssetLinkTarget


class Health(Response):
    status: Literal["ok"] = "ok"


class Readiness(Response):
    status: Literal["ready"] = "ready"
