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
    INVITATION_REMINDER_SENT = "invitation.reminder_sent"
    CLIENT_ACTIVATED = "client.activated"
    CLIENT_DEACTIVATED = "client.deactivated"
