"""Reminders: a pending invitation's email again, on the partner's schedule (in fractions
of a day here, so that the sweep, every SWEEP_SECONDS in the tests, sends them within
seconds), with the same link; once per scheduled day, whatever the number of processes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import pytest

from api.services.reminders import queue_for_partner
from api.settings import ConfigError, load_settings
from db.tables import Invitation
from tests.conftest import Runner, start_server, stop_server
from tests.mailbox import Mailbox
from tests.support import Api, Caller, assert_problem, token_of, until

SECONDS = 1 / 86_400  # one second, in days
MOBILE = "/api/v1/mobile/invitations"


def schedule(owner: Caller, partner: str, days: list[float]) -> dict[str, Any]:
    return owner.ok("PATCH", f"/api/v1/partners/{partner}", json={"reminder_days": days})


def links(messages: list[EmailMessage]) -> list[str]:
    """The invitation token each message links to."""
    found = []
    for message in messages:
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        [url] = [w for w in text.split() if "/i/" in w]
        found.append(url.rsplit("/i/", 1)[1])
    return found


def reminders(messages: list[EmailMessage]) -> list[EmailMessage]:
    """The reminders among `messages` (a resend's subject starts with "Reminder:" too)."""
    return [m for m in messages if "is waiting for you" in str(m["Subject"])]


def test_a_pending_invitation_gets_its_reminders_with_the_same_link(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    assert schedule(owner, partner, [2 * SECONDS, 4 * SECONDS])["reminder_days"] == [
        2 * SECONDS,
        4 * SECONDS,
    ]
    client, invitation = api.invited_client(owner, partner, email="slow@client.example")
    address = "slow@client.example"
    messages = until(lambda: len(mailbox.to(address)) == 3 and mailbox.to(address))
    first, *later = messages
    assert first["Subject"] == "Acme Accountants invites you to link your business on Banqup"
    # (a subject too long for the first header line starts on the next one)
    assert [str(m["Subject"]).strip() for m in later] == [
        "Reminder: Acme Accountants is waiting for you to link your business on Banqup"
    ] * 2
    text = later[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "A reminder: you have not answered this invitation yet." in text
    assert links(messages) == [token_of(invitation)] * 3
    seen = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert seen["reminders_sent"] == 2 and seen["status"] == "pending"
    assert seen["last_reminded_at"] is not None
    assert seen["email_status"] == "sent"
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    sent = [e for e in events if e["type"] == "invitation.reminder_sent"]
    assert [(e["invitation_id"], e["client_id"], e["data"]) for e in sent] == [
        (invitation["id"], client["id"], {"reminder": 1}),
        (invitation["id"], client["id"], {"reminder": 2}),
    ]


def test_no_reminder_once_an_invitation_is_no_longer_pending(
    api: Api, db: Runner, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    # Long enough for every other invitation to have ended before its reminder is due.
    schedule(owner, partner, [10 * SECONDS])
    base = f"/api/v1/partners/{partner}"
    made = {
        name: api.invited_client(owner, partner, name=name, email=f"{name}@client.example")[1]
        for name in ("accepted", "declined", "revoked", "superseded", "expired", "control")
    }
    ben = api.user("ben")
    api.accept(ben, made["accepted"])
    ben.ok("POST", f"{MOBILE}/decline", json={"token": token_of(made["declined"])})
    owner.ok("POST", f"{base}/invitations/{made['revoked']['id']}/revoke")

    async def age(invitation_id: str, **changes: Any) -> None:
        columns = {getattr(Invitation, name): value for name, value in changes.items()}
        await Invitation.update(columns).where(Invitation.id == UUID(invitation_id))

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    db(lambda: age(made["superseded"]["id"], created_at=an_hour_ago))  # past the cooldown
    newer = owner.ok("POST", f"{base}/invitations/{made['superseded']['id']}/resend", 201)
    db(lambda: age(made["expired"]["id"], expires_at=datetime.now(UTC)))
    # The control invitation's reminder comes in the same sweep as any of the others'.
    until(lambda: len(mailbox.to("control@client.example")) == 2, within=30)
    for name in ("accepted", "declined", "revoked", "expired"):
        assert reminders(mailbox.to(f"{name}@client.example")) == [], name
    superseded = mailbox.to("superseded@client.example")
    assert links(reminders(superseded)) in ([], [token_of(newer)])
    assert token_of(made["superseded"]) not in links(reminders(superseded))


def test_a_partner_without_reminder_days_sends_none(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    other_owner = api.user("olga")
    control = api.partner(other_owner, "Control Accountants")
    for who, where in ((owner, partner), (other_owner, control)):
        schedule(who, where, [6 * SECONDS])
    _, off = api.invited_client(owner, partner, email="off@client.example")
    assert schedule(owner, partner, [])["reminder_days"] == []  # also for what is pending
    api.invited_client(other_owner, control, email="on@client.example")
    until(lambda: len(mailbox.to("on@client.example")) == 2, within=30)
    assert len(mailbox.to("off@client.example")) == 1
    seen = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{off['id']}")
    assert seen["reminders_sent"] == 0 and seen["last_reminded_at"] is None


def test_no_reminder_to_an_address_changed_since_the_invitation(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    schedule(owner, partner, [8 * SECONDS])  # time enough to change the address first
    moved, _ = api.invited_client(owner, partner, name="Moved", email="old@client.example")
    api.invited_client(owner, partner, name="Control", email="stays@client.example")
    until(lambda: mailbox.to("old@client.example"))  # the invitation's own email went out
    owner.ok(
        "PATCH",
        f"/api/v1/partners/{partner}/clients/{moved['id']}",
        json={"email": "new@client.example"},
    )
    until(lambda: len(mailbox.to("stays@client.example")) == 2, within=30)
    assert len(mailbox.to("old@client.example")) == 1
    assert mailbox.to("new@client.example") == []


def test_a_reminder_speaks_the_language_the_client_was_given_since(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    schedule(owner, partner, [8 * SECONDS])  # time enough to change the language first
    client, invitation = api.invited_client(owner, partner, email="lang@client.example")
    until(lambda: mailbox.to("lang@client.example"))  # the invitation's own email, in English
    url = f"/api/v1/partners/{partner}/clients/{client['id']}"
    owner.ok("PATCH", url, json={"language": "de"})
    first, reminder = until(
        lambda: len(mailbox.to("lang@client.example")) == 2 and mailbox.to("lang@client.example"),
        within=30,
    )
    assert (first["Content-Language"], reminder["Content-Language"]) == ("en", "de")
    assert str(reminder["Subject"]).strip() == (
        "Erinnerung: Acme Accountants wartet noch auf die Verknüpfung Ihres Unternehmens auf Banqup"
    )
    page = api.http.get(f"/i/{token_of(invitation)}")
    assert page.headers["content-language"] == "de"


def test_overdue_reminders_go_out_at_the_schedules_spacing(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    """A schedule shortened once both its days are past: the first reminder goes out at
    once, the second the schedule's spacing (2 s) later, not on the next sweep."""
    schedule(owner, partner, [50 * SECONDS, 100 * SECONDS])
    _, invitation = api.invited_client(owner, partner, email="late@client.example")
    until(lambda: mailbox.to("late@client.example"))
    time.sleep(3.5)
    schedule(owner, partner, [1 * SECONDS, 3 * SECONDS])

    def reminded() -> list[datetime]:
        events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
        return [
            datetime.fromisoformat(e["at"])
            for e in events
            if e["type"] == "invitation.reminder_sent" and e["invitation_id"] == invitation["id"]
        ]

    first, second = until(lambda: len(at := reminded()) == 2 and at, within=15)
    assert second - first >= timedelta(seconds=2)


def test_a_reminder_time_set_under_an_earlier_schedule_is_put_right_not_sent(
    api: Api, db: Runner, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    """An invite that met a schedule change keeps the time the old schedule gave it: the
    sweep goes by the schedule as it is now, and moves the time instead of sending."""
    schedule(owner, partner, [5])  # days
    _, invitation = api.invited_client(owner, partner, email="early@client.example")
    until(lambda: mailbox.to("early@client.example"))  # its own email is out
    invitation_id = UUID(invitation["id"])

    async def next_reminder_at(value: datetime | None = None) -> datetime:
        if value is not None:
            await Invitation.update({Invitation.next_reminder_at: value}).where(
                Invitation.id == invitation_id
            )
        row = (
            await Invitation.select(Invitation.created_at, Invitation.next_reminder_at)
            .where(Invitation.id == invitation_id)
            .first()
        )
        assert row is not None
        return row["next_reminder_at"] - row["created_at"]  # type: ignore[no-any-return]

    assert db(next_reminder_at) == timedelta(days=5)
    db(lambda: next_reminder_at(datetime.now(UTC) - timedelta(seconds=1)))
    until(lambda: db(next_reminder_at) == timedelta(days=5))  # the next sweep's doing
    seen = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert (seen["reminders_sent"], seen["last_reminded_at"]) == (0, None)
    assert len(mailbox.to("early@client.example")) == 1
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert "invitation.reminder_sent" not in [e["type"] for e in events]


def test_a_sweep_that_finds_a_partners_reminders_taken_queues_none(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    """Another process queued them between this one listing the partner and taking its
    rows: nothing is left to do, which is no error."""
    assert db(lambda: queue_for_partner(api.ctx, UUID(partner))) == 0


def test_several_processes_send_each_reminder_once(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    """The test app and two server processes sweep and send from one database."""
    servers = [start_server(), start_server()]
    try:
        schedule(owner, partner, [2 * SECONDS, 4 * SECONDS])
        rows = [{"name": f"R{i}", "email": f"many{i}@client.example"} for i in range(20)]
        imported = owner.ok(
            "POST", f"/api/v1/partners/{partner}/clients/import", json={"clients": rows}
        )
        api.invite(owner, partner, [r["client"]["id"] for r in imported["results"]])
        addresses = [f"many{i}@client.example" for i in range(20)]
        until(lambda: all(len(mailbox.to(a)) >= 3 for a in addresses), within=30)
        time.sleep(1)  # a few sweeps more: a duplicate would have arrived by now
        assert [len(mailbox.to(a)) for a in addresses] == [3] * 20
    finally:
        for server in servers:
            stop_server(server)


@pytest.mark.parametrize(
    ("days", "field"),
    [
        ([1, 2, 3], "reminder_days"),  # more than two
        ([14], "reminder_days"),  # not below the 14-day lifetime
        ([20], "reminder_days"),
        ([5, 2], "reminder_days"),  # not increasing
        ([2, 2], "reminder_days"),
        ("3,10", "reminder_days"),
        (None, "reminder_days"),
        ([-1], "reminder_days[0]"),
        ([0], "reminder_days[0]"),
        (["3"], "reminder_days[0]"),  # not a number
    ],
)
def test_a_schedule_out_of_range_is_refused(
    owner: Caller, partner: str, days: Any, field: str
) -> None:
    response = owner.patch(f"/api/v1/partners/{partner}", json={"reminder_days": days})
    body = assert_problem(response, 400, "validation_failed")
    assert [error["field"] for error in body["errors"]] == [field]


def test_a_partner_shows_its_schedule_and_outsiders_cannot_change_it(
    api: Api, owner: Caller, partner: str
) -> None:
    changed = owner.ok(
        "PATCH", f"/api/v1/partners/{partner}", json={"name": "Acme Two", "vat_number": "BE01"}
    )
    assert changed["name"] == "Acme Two" and changed["vat_number"] == "BE01"
    assert changed["reminder_days"] == [3.0, 10.0]  # INVITATION_REMINDER_DAYS's default
    stranger = api.user("mallory")
    response = stranger.patch(f"/api/v1/partners/{partner}", json={"reminder_days": []})
    assert_problem(response, 404, "not_found")


def test_the_default_schedule_keeps_what_fits_a_short_lifetime() -> None:
    assert load_settings({"INVITATION_TTL_DAYS": "5"}).invitation_reminder_days == (3.0,)
    assert load_settings({"INVITATION_TTL_DAYS": "0.01"}).invitation_reminder_days == ()
    given = {"INVITATION_TTL_DAYS": "5", "INVITATION_REMINDER_DAYS": "3,10"}
    with pytest.raises(ConfigError, match="must increase and stay below INVITATION_TTL_DAYS"):
        load_settings(given)
    assert load_settings({"INVITATION_REMINDER_DAYS": ""}).invitation_reminder_days == ()
