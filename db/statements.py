"""The service's plain SQL, in one place: statements compiled once (`db.sql`) for the paths
where Piccolo's query builder costs more than the round trip, and the INSERT targets of
the bulk writes. `bench/direct.py` replays these same statements as its yardstick.
"""

from __future__ import annotations

import functools
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query import OrderByRaw

from db.search import LIKE_ESCAPE
from db.sql import Statement, insert_into
from db.tables import AccessNotice, Client, Event, Invitation, MailOutbox

NOTIFY_CHANNEL = "invites_events"
PING = Statement("SELECT 1")  # the database answers (readyz)

# --- the unit of work (api.services.changes) ------------------------------------------

# Takes event numbers and a new revision; on PostgreSQL the same statement sends the
# notification, delivered at commit to every process listening (see api.listener).
BUMP_PARTNER = Statement(
    "UPDATE partner SET event_seq = event_seq + {}, revision = revision + 1"
    " WHERE id = {} RETURNING event_seq, revision, webhooks, name",
    postgres="UPDATE partner SET event_seq = event_seq + {}, revision = revision + 1"
    " WHERE id = {} RETURNING event_seq, revision, webhooks, name,"
    f" pg_notify('{NOTIFY_CHANNEL}', id::text || ' ' || event_seq || ' ' || revision)",
)
EVENT_INSERT = insert_into(
    Event,
    Event.partner,
    Event.seq,
    Event.type,
    Event.at,
    Event.client,
    Event.invitation,
    Event.link,
    Event.data,
)

# --- webhooks (written by the unit of work too) ----------------------------------------

# The partner's count of enabled endpoints, read back by BUMP_PARTNER: a partner without
# any pays nothing more for its events.
RECOUNT_WEBHOOKS = Statement(
    "UPDATE partner SET webhooks = (SELECT count(*) FROM webhook_endpoint"
    " WHERE partner = {} AND status = 'enabled') WHERE id = {}"
)
# One delivery per event after a cursor per enabled endpoint of the partner whose
# `event_types` (`,a,b,` or empty for all) takes the event's type.
_QUEUE_DELIVERIES = (
    "INSERT INTO webhook_delivery (endpoint, partner, event_seq, type, status, attempts,"
    " next_attempt_at, created_at)"
    " SELECT w.id, e.partner, e.seq, e.type, 'queued', 0, {NOW}, {NOW}"
    " FROM event e JOIN webhook_endpoint w ON w.partner = e.partner"
    " WHERE e.partner = {} AND e.seq > {} AND w.status = 'enabled'"
    " AND (w.event_types = '' OR {FIND}(w.event_types, ',' || e.type || ',') > 0)"
)
QUEUE_DELIVERIES = Statement(
    _QUEUE_DELIVERIES.replace("{NOW}", "{}").replace("{FIND}", "instr"),
    # A parameter in a SELECT list would be typed text on PostgreSQL: say what it is.
    postgres=_QUEUE_DELIVERIES.replace("{NOW}", "{}::timestamptz").replace("{FIND}", "strpos"),
)

# --- clients and invitations ----------------------------------------------------------

CLIENT_INSERT = insert_into(
    Client,
    Client.id,
    Client.partner,
    Client.name,
    Client.email,
    Client.language,
    Client.vat_number,
    Client.external_ref,
    Client.status,
    Client.created_at,
    Client.updated_at,
    Client.source,
    Client.name_key,
    Client.search_text,
    Client.vat_key,
)
INVITATION_INSERT = insert_into(Invitation, *Invitation.all_columns())
OUTBOX_INSERT = insert_into(
    MailOutbox,
    MailOutbox.invitation,
    MailOutbox.kind,
    MailOutbox.status,
    MailOutbox.attempts,
    MailOutbox.next_attempt_at,
    MailOutbox.created_at,
)


@functools.cache
def mark_invited(count: int) -> Statement:
    """Clients become `invited`, pointing at their (one) pending invitation."""
    return Statement(
        "UPDATE client SET status = 'invited', invitation_expires_at = {}, invited_at = {},"
        " updated_at = {},"
        " latest_invitation = (SELECT invitation.id FROM invitation"
        " WHERE invitation.client = client.id AND invitation.status = 'pending')"
        f" WHERE id IN ({', '.join(['{}'] * count)})"
    )


# --- the client list (api.services.client_list) ------------------------------------------


def like_escaped(column: Column, pattern: str) -> WhereRaw:
    """`column LIKE pattern` with `db.search.LIKE_ESCAPE` as the escape character (SQLite
    has no default one)."""
    return WhereRaw(f"{column._meta.db_column_name} LIKE {{}} ESCAPE '{LIKE_ESCAPE}'", pattern)


def ordered(select: Any, column: Column, descending: bool) -> Any:
    """`select` ordered by `column`, rows without a value after the others on both engines
    (SQLite puts NULL first in ascending order, PostgreSQL first in descending), then by
    id. A column that cannot be NULL is ordered plainly, so that an index on (…, column,
    id) serves the order: an `IS NULL` sort key would make PostgreSQL sort every row."""
    if column._meta.null:
        select = select.order_by(OrderByRaw(f"{column._meta.db_column_name} IS NULL"))
    table: Any = column._meta.table
    return select.order_by(column, ascending=not descending).order_by(table.id)


def after_row(column: Column, descending: bool, value: Any, last_id: Any) -> WhereRaw:
    """Rows after (`value`, `last_id`) in the order of `ordered(…, column, descending)`.
    Ascending, the comparison is one row comparison, which an index on (…, column, id)
    serves as a range."""
    name = column._meta.db_column_name
    if value is None:  # the page ended among the rows without a value
        return WhereRaw(f"{name} IS NULL AND id > {{}}", last_id)
    if descending:
        found = f"({name} < {{}} OR ({name} = {{}} AND id > {{}}))"
        values: tuple[Any, ...] = (value, value, last_id)
    else:
        found, values = f"({name}, id) > ({{}}, {{}})", (value, last_id)
    if column._meta.null:
        found = f"({found} OR {name} IS NULL)"
    return WhereRaw(found, *values)


# An invitation, and its partner's revision read in the same statement.
_INVITATION = "SELECT invitation.*, partner.revision AS partner_revision FROM invitation"
_INVITATION += " JOIN partner ON partner.id = invitation.partner WHERE invitation.{} = {{}}"
INVITATION_BY_ID = Statement(_INVITATION.format("id"))
INVITATION_BY_TOKEN = Statement(_INVITATION.format("token_id"))

# --- users (api.services.users) ------------------------------------------------------

# A user's email, and their language when a request named one (else the one known).
REMEMBER_USER = Statement(
    "INSERT INTO known_user (sub, email, language, updated_at)"
    " VALUES ({}, {}, COALESCE({}, 'en'), {})"
    " ON CONFLICT (sub) DO UPDATE SET email = excluded.email,"
    " language = COALESCE({}, known_user.language), updated_at = excluded.updated_at"
)

# The admins of a business whose email is known, and their language.
ADMINS_TO_TELL = Statement(
    "SELECT known_user.email, known_user.language FROM business_member"
    " JOIN known_user ON known_user.sub = business_member.user_sub"
    " WHERE business_member.business = {} AND business_member.role = 'admin'"
    " AND known_user.email IS NOT NULL ORDER BY known_user.email"
)
ACCESS_NOTICE_INSERT = insert_into(
    AccessNotice,
    AccessNotice.link,
    AccessNotice.partner,
    AccessNotice.business,
    AccessNotice.email,
    AccessNotice.language,
    AccessNotice.access_level,
    AccessNotice.granted_by,
    AccessNotice.granted_at,
    AccessNotice.next_attempt_at,
    AccessNotice.created_at,
)

# --- business spaces (a confirm may create one) ----------------------------------------

INSERT_BUSINESS = Statement(
    "INSERT INTO business (id, name, vat_number, country, created_at) VALUES ({}, {}, {}, {}, {})"
)
INSERT_BUSINESS_ADMIN = Statement(
    "INSERT INTO business_member (id, business, user_sub, role, created_at)"
    " VALUES ({}, {}, {}, 'admin', {})"
)

# --- confirm (api.services.mobile), in the order it runs them after locking the client --

INVITATION = Statement("SELECT * FROM invitation WHERE id = {}")
ACTIVE_LINK = Statement(
    "SELECT * FROM link WHERE partner = {} AND business = {} AND status = 'active'"
)
INSERT_LINK = Statement(
    "INSERT INTO link (id, partner, business, client, access_level, status, created_by,"
    " created_at, revoked_at) VALUES ({}, {}, {}, {}, {}, 'active', {}, {}, NULL)"
)
ACCEPT_INVITATION = Statement(
    "UPDATE invitation SET status = 'accepted', accepted_at = {}, accepted_by = {}, link = {}"
    " WHERE id = {}"
)
ACTIVATE_CLIENT = Statement(
    "UPDATE client SET status = 'active', business = {}, connected_at = {}, updated_at = {},"
    " disconnected_at = NULL, disconnected_by = NULL WHERE id = {}"
)

# --- typed-code budgets (api.services.grants) ------------------------------------------

OPEN_CODE_BUDGET = Statement(
    "INSERT INTO code_budget (scope, window_start, attempts) VALUES ({}, {}, 0)"
    " ON CONFLICT (scope) DO NOTHING"
)
# One attempt taken from a budget, in one statement on its row: a window that has passed
# starts again at this attempt; a spent one returns no row. Values: the window's start
# limit (now - window) three times with `now` and the limit (see `take_code_attempt`).
TAKE_CODE_ATTEMPT = Statement(
    "UPDATE code_budget SET"
    " attempts = CASE WHEN window_start <= {} THEN 1 ELSE attempts + 1 END,"
    " window_start = CASE WHEN window_start <= {} THEN {} ELSE window_start END"
    " WHERE scope = {} AND (window_start <= {} OR attempts < {}) RETURNING attempts"
)
CODE_BUDGET_START = Statement("SELECT window_start FROM code_budget WHERE scope = {}")
GIVE_BACK_CODE_ATTEMPT = Statement(
    "UPDATE code_budget SET attempts = attempts - 1 WHERE scope = {} AND attempts > 0"
)

# --- invitation emails per partner and day (api.services.sending) ----------------------

OPEN_INVITE_QUOTA = Statement(
    "INSERT INTO invite_quota (partner, day, sent) VALUES ({}, {}, 0)"
    " ON CONFLICT (partner) DO NOTHING"
)
# `count` more emails of a partner today, if they fit under its cap: one statement on its
# row (a new day starts from 0). Values: today, count, count, today, partner, today,
# count, cap.
TAKE_INVITE_QUOTA = Statement(
    "UPDATE invite_quota SET sent = CASE WHEN day = {} THEN sent + {} ELSE {} END, day = {}"
    " WHERE partner = {} AND (CASE WHEN day = {} THEN sent ELSE 0 END) + {} <= {}"
    " RETURNING sent"
)
INVITE_QUOTA_SENT = Statement("SELECT day, sent FROM invite_quota WHERE partner = {}")
