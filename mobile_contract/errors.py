"""Stable error codes of the HTTP API and the status each one answers with.

Codes are never renamed or reused; a new code gets a new name.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    VALIDATION_FAILED = "validation_failed"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_SUPERSEDED = "invitation_superseded"
    INVITATION_DECLINED = "invitation_declined"
    INVITATION_ALREADY_ACCEPTED = "invitation_already_accepted"
    NOT_BUSINESS_ADMIN = "not_business_admin"
    BUSINESS_ALREADY_LINKED = "business_already_linked"
    CLIENT_ALREADY_ACTIVE = "client_already_active"
    CLIENT_ALREADY_INVITED = "client_already_invited"
    CLIENT_MISSING_EMAIL = "client_missing_email"
    REGISTRATION_LINK_REVOKED = "registration_link_revoked"
    REGISTRATION_LINK_EXPIRED = "registration_link_expired"
    REGISTRATION_LINK_EXHAUSTED = "registration_link_exhausted"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL_ERROR = "internal_error"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    USER_CODE_EXPIRED = "user_code_expired"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.VALIDATION_FAILED: 400,
    ErrorCode.TOKEN_INVALID: 400,
    ErrorCode.TOKEN_EXPIRED: 410,
    ErrorCode.INVITATION_EXPIRED: 410,
    ErrorCode.INVITATION_REVOKED: 410,
    ErrorCode.INVITATION_SUPERSEDED: 410,
    ErrorCode.INVITATION_DECLINED: 410,
    ErrorCode.INVITATION_ALREADY_ACCEPTED: 409,
    ErrorCode.NOT_BUSINESS_ADMIN: 403,
    ErrorCode.BUSINESS_ALREADY_LINKED: 409,
    ErrorCode.CLIENT_ALREADY_ACTIVE: 409,
    ErrorCode.CLIENT_ALREADY_INVITED: 409,
    ErrorCode.CLIENT_MISSING_EMAIL: 409,
    ErrorCode.REGISTRATION_LINK_REVOKED: 410,
    ErrorCode.REGISTRATION_LINK_EXPIRED: 410,
    ErrorCode.REGISTRATION_LINK_EXHAUSTED: 410,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.USER_CODE_EXPIRED: 410,
}

TITLES: dict[ErrorCode, str] = {
    ErrorCode.UNAUTHENTICATED: "Sign-in required",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ErrorCode.VALIDATION_FAILED: "Invalid request",
    ErrorCode.TOKEN_INVALID: "Invalid invitation token",
    ErrorCode.TOKEN_EXPIRED: "Invitation token expired",
    ErrorCode.INVITATION_EXPIRED: "Invitation expired",
    ErrorCode.INVITATION_REVOKED: "Invitation revoked",
    ErrorCode.INVITATION_SUPERSEDED: "Invitation replaced by a newer one",
    ErrorCode.INVITATION_DECLINED: "Invitation declined",
    ErrorCode.INVITATION_ALREADY_ACCEPTED: "Invitation already accepted",
    ErrorCode.NOT_BUSINESS_ADMIN: "Not an administrator of this business",
    ErrorCode.BUSINESS_ALREADY_LINKED: "Business already linked to this partner",
    ErrorCode.CLIENT_ALREADY_ACTIVE: "Client already active",
    ErrorCode.CLIENT_ALREADY_INVITED: "Client already invited",
    ErrorCode.CLIENT_MISSING_EMAIL: "Client has no email address",
    ErrorCode.REGISTRATION_LINK_REVOKED: "Registration link revoked",
    ErrorCode.REGISTRATION_LINK_EXPIRED: "Registration link expired",
    ErrorCode.REGISTRATION_LINK_EXHAUSTED: "Registration link used up",
    ErrorCode.RATE_LIMITED: "Too many requests",
    ErrorCode.UNAVAILABLE: "Service temporarily unavailable",
    ErrorCode.INTERNAL_ERROR: "Internal error",
    ErrorCode.IDEMPOTENCY_CONFLICT: "Idempotency key used for another request",
    ErrorCode.USER_CODE_EXPIRED: "Code no longer valid",
}


def problem_type(code: ErrorCode) -> str:
    """The `type` URI of a problem document for `code`."""
    return f"urn:banqup:problem:{code.value}"
