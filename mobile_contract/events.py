"""The types of a partner's events (`GET …/events`), in the feed and in the schema.

Like error codes, a type is never renamed or reused; a new kind of change gets a new type.
"""

from enum import StrEnum


class EventType(StrEnum):
    CLIENT_CREATED = "client.created"
    INVITATION_CREATED = "invitation.created"
    INVITATION_EMAIL_SENT = "invitation.email_sent"
    INVITATION_EMAIL_FAILED = "invitation.email_failed"
    INVITATION_OPENED = "invitation.opened"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_EXPIRED = "invitation.expired"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_SUPERSEDED = "invitation.superseded"
    CLIENT_ACTIVATED = "client.activated"
    CLIENT_DEACTIVATED = "client.deactivated"
    CLIENT_UPDATED = "client.updated"
    CLIENT_DELETED = "client.deleted"
    REGISTRATION_LINK_CREATED = "registration_link.created"
    REGISTRATION_LINK_REVOKED = "registration_link.revoked"
    INVITATION_REMINDER_SENT = "invitation.reminder_sent"


# The keys of each type's `data` (ids are strings); documented in the schema with `Event`.
DATA_KEYS: dict[EventType, str] = {
    EventType.CLIENT_CREATED: "none; through a registration link: `business_id`, "
    "`registration_link_id`",
    EventType.INVITATION_CREATED: "none; for a resend: `replaces` (the earlier invitation)",
    EventType.INVITATION_EMAIL_SENT: "none",
    EventType.INVITATION_EMAIL_FAILED: "`error` (why delivery failed)",
    EventType.INVITATION_OPENED: "none",
    EventType.INVITATION_ACCEPTED: "`business_id`",
    EventType.INVITATION_DECLINED: "none",
    EventType.INVITATION_EXPIRED: "none",
    EventType.INVITATION_REVOKED: "none",
    EventType.INVITATION_SUPERSEDED: "`replaced_by` (the new invitation)",
    EventType.CLIENT_ACTIVATED: "`business_id`; through a registration link also "
    "`registration_link_id`",
    EventType.CLIENT_DEACTIVATED: "`by` (`partner` or `business`)",
    EventType.CLIENT_UPDATED: "`fields` (the names of the fields changed)",
    EventType.CLIENT_DELETED: "none (its invitations go with it, a pending one included, "
    "without an event of their own; the client's earlier events keep ids and types only)",
    EventType.REGISTRATION_LINK_CREATED: "`registration_link_id`",
    EventType.REGISTRATION_LINK_REVOKED: "`registration_link_id`",
    EventType.INVITATION_REMINDER_SENT: "`reminder` (1 for the first reminder, 2 for the second)",
}


def data_description() -> str:
    """`DATA_KEYS` in words, for the schema."""
    lines = [f"`{t.value}`: {keys}" for t, keys in DATA_KEYS.items()]
    return "Depends on `type`. " + "; ".join(lines) + "."
