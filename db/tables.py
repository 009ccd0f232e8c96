"""Piccolo tables.

Statuses are stored as short strings; the few rules that depend on the clock (an
invitation past `expires_at` reads `expired`, its client `inactive`) are applied when
reading, so no job has to sweep rows at the exact moment they expire. Composite and
partial unique indexes live in raw DDL in the migrations (Piccolo's columns only express
single-column ones).
"""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from db.search import NAME_KEY_LENGTH


class Partner(Table, tablename="partner"):
    """A Partner Space: an accounting firm. `event_seq` numbers its events without gaps;
    `revision` counts every change to what its client list and tokens show."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    vat_number = Varchar(length=32, null=True, default=None)
    event_seq = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    revision = BigInt(default=0)
    reminder_days = Text(null=True, default=None)  # JSON list of days; NULL: the default
    webhooks = Integer(default=0)  # enabled webhook endpoints, recounted when they change


class Business(Table, tablename="business"):
    """A Business Space: a company using Banqup."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    vat_number = Varchar(length=32, null=True, default=None)
    country = Varchar(length=2, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership:
    """The columns of a membership: a user (`sub` of the identity provider) in a space, with
    a role. Piccolo lists a base's columns first; the migrations fix the stored order."""

    id = UUID(primary_key=True)
    user_sub = Varchar(length=255, index=True)
    role = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())


class PartnerMember(Membership, Table, tablename="partner_member"):
    """A user working in a partner; unique per pair."""

    partner = ForeignKey(references=Partner)


class BusinessMember(Membership, Table, tablename="business_member"):
    """A user administering (or working in) a business; unique per pair."""

    business = ForeignKey(references=Business)


class Client(Table, tablename="client"):
    """A row in a partner's client list.

    `status` is `inactive`, `invited` or `active`; `invited` with an
    `invitation_expires_at` in the past reads `inactive`.
    """

    id = UUID(primary_key=True)
    partner = ForeignKey(references=Partner)
    name = Varchar(length=200)
    email = Varchar(length=254, null=True, default=None)
    language = Varchar(length=2, default="en")
    vat_number = Varchar(length=32, null=True, default=None)
    external_ref = Varchar(length=100, null=True, default=None)
    status = Varchar(length=16, default="inactive")
    invitation_expires_at = Timestamptz(null=True, default=None)
    latest_invitation = UUID(null=True, default=None)
    business = ForeignKey(references=Business, null=True, default=None)
    connected_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # `manual`, `import` or `registration_link` (then `registration_link` says which).
    source = Varchar(length=20, default="manual")
    registration_link = UUID(null=True, default=None)
    # The latest end of its link, and by whom (`partner` or `business`).
    disconnected_at = Timestamptz(null=True, default=None)
    disconnected_by = Varchar(length=16, null=True, default=None)
    # When its latest invitation was made (invitation_expires_at is when that one ends).
    invited_at = Timestamptz(null=True, default=None)
    # Folded forms for search and the name sort (db.search), kept by the service.
    name_key = Varchar(length=NAME_KEY_LENGTH, default="")
    search_text = Text(default="")
    vat_key = Varchar(length=32, default="")


class Link(Table, tablename="link"):
    """Partner access to a business, granted by an accepted invitation or registration link."""

    id = UUID(primary_key=True)
    partner = ForeignKey(references=Partner)
    business = ForeignKey(references=Business)
    client = ForeignKey(references=Client, null=True, default=None)
    access_level = Varchar(length=16)
    status = Varchar(length=16, default="active")
    created_by = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class Invitation(Table, tablename="invitation"):
    """One invite of one client.

    The emailed token is not stored: Ed25519 signatures are deterministic, so it is
    rebuilt from `token_id`, `token_kid` and `expires_at`.
    """

    id = UUID(primary_key=True)
    partner = ForeignKey(references=Partner)
    client = ForeignKey(references=Client)
    status = Varchar(length=16, default="pending")
    email = Varchar(length=254)
    language = Varchar(length=2, default="en")
    message = Text(null=True, default=None)
    access_level = Varchar(length=16)
    token_id = Varchar(length=32, unique=True)
    token_kid = Varchar(length=64)
    replaces = UUID(null=True, default=None)
    created_by = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    opened_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = Varchar(length=255, null=True, default=None)
    declined_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    link = UUID(null=True, default=None)
    email_status = Varchar(length=16, default="queued")
    email_error = Text(null=True, default=None)
    reminders_sent = Integer(default=0)
    last_reminded_at = Timestamptz(null=True, default=None)
    next_reminder_at = Timestamptz(null=True, default=None)  # NULL: no reminder due


class QRGrant(Table, tablename="qr_grant"):
    """A short-lived grant shown on the partner's screen: a `qr` token and a typed `user_code`."""

    id = UUID(primary_key=True)
    invitation = ForeignKey(references=Invitation)
    token_id = Varchar(length=32, unique=True)
    token_kid = Varchar(length=64)
    user_code = Varchar(length=8, unique=True)  # among every grant kept (a day after expiry)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class RegistrationLink(Table, tablename="registration_link"):
    """A reusable, revocable partner link; every business confirming through it is linked."""

    id = UUID(primary_key=True)
    partner = ForeignKey(references=Partner)
    label = Varchar(length=200, null=True, default=None)
    token_id = Varchar(length=32, unique=True)
    token_kid = Varchar(length=64)
    token_expires_at = Timestamptz()
    access_level = Varchar(length=16)
    expires_at = Timestamptz(null=True, default=None)
    max_uses = Integer(null=True, default=None)
    uses = Integer(default=0)
    created_by = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class Event(Table, tablename="event"):
    """A state change, numbered per partner by `seq` (gap-free; the polling cursor)."""

    id = BigSerial(primary_key=True)
    partner = ForeignKey(references=Partner)
    seq = BigInt()
    type = Varchar(length=40)
    at = Timestamptz(default=TimestamptzNow())
    client = UUID(null=True, default=None)
    invitation = UUID(null=True, default=None)
    link = UUID(null=True, default=None)
    data = JSON(default="{}")


class Work:
    """The columns of a work table, whose rows `db.claims` claims, attempts and settles:
    `status` is `queued` while there is work to do. Piccolo lists a base's columns first;
    the migrations fix the stored order."""

    id = BigSerial(primary_key=True)
    status = Varchar(length=16, default="queued")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)


class MailOutbox(Work, Table, tablename="mail_outbox"):
    """An invitation email waiting to be sent, written with the invitation it belongs to."""

    invitation = ForeignKey(references=Invitation)
    kind = Varchar(length=16, default="invite")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class KnownUser(Table, tablename="known_user"):
    """What the service knows of a user from their access tokens and requests: whom to
    tell, and in which language, when a partner gains access to their business."""

    sub = Varchar(length=255, primary_key=True)
    email = Varchar(length=254, null=True, default=None)
    language = Varchar(length=2, default="en")
    updated_at = Timestamptz(default=TimestamptzNow())


class AccessNotice(Work, Table, tablename="access_notice"):
    """An email telling a business admin that a partner gained access, queued with the
    confirm that caused it and sent like invitation emails (see db.claims)."""

    link = UUID()
    partner = UUID()
    business = UUID()
    email = Varchar(length=254)
    language = Varchar(length=2, default="en")
    access_level = Varchar(length=16)
    granted_by = Varchar(length=255)
    granted_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class InviteQuota(Table, tablename="invite_quota"):
    """Invitation emails a partner queued on `day` (UTC, YYYY-MM-DD); taken with one
    conditional UPDATE (`db.statements.TAKE_INVITE_QUOTA`)."""

    partner = ForeignKey(references=Partner, primary_key=True)
    day = Varchar(length=10)
    sent = Integer()


class CodeBudget(Table, tablename="code_budget"):
    """The typed codes checked in one window by one user, one client address or everyone
    (`scope`); taken with one conditional UPDATE (`db.statements.TAKE_CODE_ATTEMPT`)."""

    scope = Varchar(length=300, primary_key=True)
    window_start = Timestamptz()
    attempts = Integer()


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """A partner's receiver of signed event deliveries (Standard Webhooks).

    `event_types` is stored as `,type,type,` (empty: every type) so that the statement
    queuing deliveries can match a type with a substring test on both engines. Secrets are
    stored encrypted (`api.webhooks.secrets`); the previous one keeps signing until
    `previous_secret_until` after a rotation. `failing_since` is the first failed attempt
    since the last delivered one.
    """

    id = UUID(primary_key=True)
    partner = ForeignKey(references=Partner)
    url = Varchar(length=2000)
    event_types = Text(default="")
    description = Varchar(length=500, null=True, default=None)
    status = Varchar(length=16, default="enabled")
    disabled_reason = Text(null=True, default=None)
    secret = Text()
    previous_secret = Text(null=True, default=None)
    previous_secret_until = Timestamptz(null=True, default=None)
    failing_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Work, Table, tablename="webhook_delivery"):
    """One event (or a test) to POST to one endpoint; claimed through `db.claims`.

    `status` is `queued`, `delivered` or `failed`; `event_seq` is the partner's event
    cursor (null for a `webhook.test` delivery)."""

    endpoint = ForeignKey(references=WebhookEndpoint)
    partner = UUID()
    event_seq = BigInt(null=True, default=None)
    type = Varchar(length=40)
    last_status_code = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)


class IdempotencyKey(Table, tablename="idempotency_key"):
    """A POST answered under an `Idempotency-Key`: its answer is given again to a repeat
    of the same request (same user, path and body) for 24 hours."""

    id = BigSerial(primary_key=True)
    user_sub = Varchar(length=255)
    path = Varchar(length=255)
    key = Varchar(length=255)
    fingerprint = Varchar(length=64)
    # None while the first one runs; 1 once its work committed, before its answer is kept;
    # 0 once its answer was forgotten (api.services.idempotency).
    status_code = Integer(null=True, default=None)
    body = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    partner = UUID(null=True, default=None, index=True)  # the partner the answer is about


TABLES = (
    Partner,
    Business,
    PartnerMember,
    BusinessMember,
    Client,
    Link,
    Invitation,
    QRGrant,
    RegistrationLink,
    Event,
    MailOutbox,
    KnownUser,
    AccessNotice,
    CodeBudget,
    InviteQuota,
    WebhookEndpoint,
    WebhookDelivery,
    IdempotencyKey,
)
