"""Access notices: when a partner gains access to a business, each of its admins whose
email the service knows (from their access tokens, as they act) is told, in the language
their requests ask for; nobody else is."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from api.mail.compose import AccessNoticeMail, Invite, render_email
from db.tables import BusinessMember
from tests.conftest import Runner
from tests.mailbox import Mailbox
from tests.support import Api, Caller, access_token, token_of, until

MOBILE = "/api/v1/mobile/invitations"


def seen(user: Caller, language: str | None = None) -> None:
    """`user` makes a request (as the app does), so the service knows their email."""
    headers = {"Accept-Language": language} if language else {}
    user.ok("GET", "/api/v1/me", headers=headers)


def html(message: object) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[attr-defined, no-any-return]


def text(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined, no-any-return]


def test_each_known_admin_is_told_in_their_language(
    api: Api, db: Runner, mailbox: Mailbox, owner: Caller
) -> None:
    partner = api.partner(owner, "<b>Acme</b> & Partners")
    ben, nora, mia = api.user("ben"), api.user("nora"), api.user("mia")
    business = api.business(ben, "Bakery Janssens")

    async def add_member(user: Caller, role: str) -> None:
        await BusinessMember(
            id=uuid4(), business=UUID(business), user_sub=user.sub, role=role
        ).save()

    db(lambda: add_member(nora, "admin"))
    db(lambda: add_member(mia, "member"))
    seen(nora, "nl-BE,nl;q=0.9,en;q=0.5")
    seen(mia)  # known, but not an admin
    _, invitation = api.invited_client(owner, partner, email="owner@bakery.example")
    until(lambda: mailbox.to("owner@bakery.example"))
    body = {"token": token_of(invitation), "business_id": business}
    ben.ok("POST", f"{MOBILE}/confirm", json=body, headers={"Accept-Language": "fr"})

    [to_ben] = until(lambda: mailbox.to(ben.email))
    [to_nora] = until(lambda: mailbox.to(nora.email))
    assert str(to_ben["Subject"]).strip() == (
        "<b>Acme</b> & Partners a désormais accès à Bakery Janssens sur Banqup"
    )
    assert "Accordé par Ben (ben@example.com) le" in text(to_ben)
    assert str(to_nora["Subject"]).strip() == (
        "<b>Acme</b> & Partners heeft nu toegang tot Bakery Janssens op Banqup"
    )
    assert "volledige toegang tot de Business Space Bakery Janssens" in text(to_nora)
    assert "Toegang intrekken" in text(to_nora)
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Partners" in html(to_nora)
    assert "<b>Acme</b>" not in html(to_nora)
    ben.ok("POST", f"{MOBILE}/confirm", json=body)  # the same confirm again: nothing new
    until(lambda: mailbox.to("owner@bakery.example"))
    assert mailbox.to(mia.email) == [] and mailbox.to(owner.email) == []
    assert len(mailbox.to(ben.email)) == 1 and len(mailbox.to(nora.email)) == 1


def test_a_registration_link_tells_the_new_business_admin(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    link = owner.ok(
        "POST",
        f"/api/v1/partners/{partner}/registration-links",
        201,
        json={"access_level": "read_only"},
    )
    zoe = api.user("zoe")
    body = {"token": link["token"], "new_business": {"name": "Zoe's Shop"}}
    zoe.ok("POST", f"{MOBILE}/confirm", json=body, headers={"Accept-Language": "de"})
    [notice] = until(lambda: mailbox.to(zoe.email))
    assert str(notice["Subject"]).strip() == (
        "Acme Accountants hat jetzt Zugriff auf Zoe's Shop auf Banqup"
    )
    assert "Lesezugriff auf den Business Space Zoe's Shop" in text(notice)


LONG_ADDRESS = "ben." + "b" * 60 + "@" + "bakery-" + "x" * 40 + ".example"


@pytest.mark.parametrize(
    ("name", "address", "granted_by"),
    [
        ("Ben Peeters", "ben@bakery.example", "Ben Peeters (ben@bakery.example)"),
        ("B" * 200, LONG_ADDRESS, LONG_ADDRESS),
    ],
)
def test_the_notice_says_who_granted_the_access(
    api: Api,
    mailbox: Mailbox,
    owner: Caller,
    partner: str,
    name: str,
    address: str,
    granted_by: str,
) -> None:
    """By name and address; by address alone where both would not fit the notice's row."""
    token = access_token(api.http, "ben-granting", address, name=name)
    ben = Caller(api.http, "ben-granting", address, {"Authorization": f"Bearer {token}"})
    _, invitation = api.invited_client(owner, partner)
    api.accept(ben, invitation)
    [notice] = until(lambda: mailbox.to(address))
    assert f"Granted by {granted_by} on " in text(notice)


WHEN = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "reminder_words", "notice_words"),
    [
        (
            "en",
            ["Reminder: P is waiting for you", "you have not answered this invitation yet"],
            ["P now has full access to the Business Space B.", "Granted by Ben on 2 December"],
        ),
        (
            "nl",
            ["Herinnering: P wacht nog", "u hebt nog niet op deze uitnodiging gereageerd"],
            ["P heeft nu volledige toegang tot de Business Space B.", "door Ben op 2 december"],
        ),
        (
            "fr",
            ["Rappel : P attend toujours", "vous n'avez pas encore répondu à cette invitation"],
            ["P a désormais un accès complet au Business Space B.", "par Ben le 2 décembre"],
        ),
        (
            "de",
            ["Erinnerung: P wartet noch", "Sie haben auf diese Einladung noch nicht geantwortet"],
            ["P hat jetzt vollen Zugriff auf den Business Space B.", "von Ben am 2. Dezember"],
        ),
    ],
)
def test_both_new_emails_render_in_each_language(
    language: str, reminder_words: list[str], notice_words: list[str]
) -> None:
    reminder = Invite(
        to="c@client.example",
        client_name="C",
        partner_name="P",
        language=language,
        message=None,
        access_level="full",
        url="https://invites.banqup.example/i/abc",
        app_url="banqupone://invite?token=abc",
        expires_at=WHEN,
        replaces_earlier=False,
        reminder=True,
    )
    notice = AccessNoticeMail(
        to="a@business.example",
        language=language,
        partner_name="P",
        business_name="B",
        access_level="full",
        granted_by="Ben",
        granted_at=WHEN,
    )
    for mail, words in ((reminder, reminder_words), (notice, notice_words)):
        sent = render_email(mail, "Banqup <no-reply@banqup.example>", "banqup.example", 2)
        message = email.message_from_bytes(sent.data, policy=email.policy.default)
        assert message["Content-Language"] == language
        shown = re.sub(r"<[^>]+>", "", html(message)).replace("&#39;", "'")  # as a reader sees it
        for part in (text(message), shown):
            assert all(w in str(message["Subject"]) + part for w in words), (language, words)
