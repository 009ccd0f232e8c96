"""Invitation emails through a real SMTP server: content, languages, outages, rejections."""

import base64
import re
import time
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import pytest
from prometheus_client import REGISTRY

from db.tables import Client
from tests.conftest import Runner
from tests.mailbox import Mailbox
from tests.qr_decode import decode_both
from tests.support import Api, Caller, age_invitation, assert_problem, until

MOBILE = "/api/v1/mobile/invitations"


@pytest.fixture
def partner(api: Api, owner: Caller) -> str:
    return api.partner(owner, "Acme & Partners")


def parts(message: EmailMessage) -> tuple[str, str, bytes, str]:
    """(text, html, inline QR png, its Content-ID) of an invitation email."""
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    return text, html, image.get_content(), image["Content-ID"].strip("<>")


def invitation(owner: Caller, partner: str, invitation_id: str) -> Any:
    return owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation_id}")


def test_the_invitation_email(api: Api, mailbox: Mailbox, owner: Caller, partner: str) -> None:
    client, inv = api.invited_client(
        owner, partner, name="Bakery <Janssens>", email="jan@bakery.example"
    )
    # invited_client sends "Welcome aboard!"; send a hostile message too
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{inv['id']}/revoke")
    [result] = api.invite(
        owner, partner, [client["id"]], message='Hi <script>alert("x")</script>\nSee you & bye'
    )
    inv = result["invitation"]
    message = until(
        lambda: [m for m in mailbox.to("jan@bakery.example") if inv["url"] in parts(m)[0]]
    )[0]
    assert message["Subject"] == "Acme & Partners invites you to link your business on Banqup"
    assert message["To"].addresses[0].display_name == "Bakery <Janssens>"
    assert message["From"].addresses[0].addr_spec == "no-reply@banqup.localhost"
    assert message["Content-Language"] == "en"
    text, html, png, cid = parts(message)
    assert inv["url"] in text and f'href="{inv["url"]}"' in html
    assert f'src="cid:{cid}"' in html
    assert decode_both(png) == inv["url"]
    assert '<script>alert("x")</script>' in text  # plain text is shown as text
    assert "<script>" not in html
    # Escaped, each separator in an element of its own (no reader links anything in it).
    assert (
        "Hi &lt;script&gt;alert(&#34;x&#34;)&lt;<span>/</span>script&gt;\r\nSee you &amp; bye"
        in html
    )
    assert "Acme &amp; Partners" in html and "Bakery &lt;Janssens&gt;" in html
    expires = inv["expires_at"][:10]
    year, month, day = (int(x) for x in expires.split("-"))
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]  # fmt: skip
    assert f"This invitation expires on {day} {months[month - 1]} {year}." in text
    assert "replaces the earlier" not in text
    sent = until(lambda: invitation(owner, partner, inv["id"])["email_status"] == "sent")
    assert sent
    assert invitation(owner, partner, inv["id"])["email_error"] is None
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert any(
        e["type"] == "invitation.email_sent" and e["invitation_id"] == inv["id"] for e in events
    )


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", "Acme & Partners invites you to link your business on Banqup", "Open in Banqup One"),
        (
            "nl",
            "Acme & Partners nodigt u uit om uw onderneming te koppelen op Banqup",
            "Openen in Banqup One",
        ),
        (
            "fr",
            "Acme & Partners vous invite à relier votre entreprise sur Banqup",
            "Ouvrir dans Banqup One",
        ),
        (
            "de",
            "Acme & Partners lädt Sie ein, Ihr Unternehmen auf Banqup zu verknüpfen",
            "In Banqup One öffnen",
        ),
    ],
)
def test_the_email_speaks_the_clients_language(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str, language: str, subject: str, words: str
) -> None:
    address = f"{language}@client.example"
    api.invited_client(owner, partner, email=address, language=language)
    [message] = until(lambda: mailbox.to(address))
    assert message["Subject"] == subject
    assert message["Content-Language"] == language
    text, html, _, _ = parts(message)
    assert words in text and words in html
    assert f'<html lang="{language}">' in html


def test_a_resend_says_it_replaces_the_earlier_one(
    api: Api, mailbox: Mailbox, db: Any, owner: Caller, partner: str
) -> None:
    _, inv = api.invited_client(owner, partner, email="again@client.example")
    until(lambda: mailbox.to("again@client.example"))
    age_invitation(db, inv["id"], seconds=61)
    new = owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{inv['id']}/resend", 201)
    messages = until(
        lambda: len(mailbox.to("again@client.example")) == 2 and mailbox.to("again@client.example")
    )
    second = messages[1]
    assert second["Subject"].startswith("Reminder: ")
    text, _, png, _ = parts(second)
    assert "This invitation replaces the earlier one" in text
    assert decode_both(png) == new["url"]


def test_a_subject_of_many_accented_words_keeps_its_spaces(
    api: Api, mailbox: Mailbox, owner: Caller
) -> None:
    """A subject long enough to be folded, read as the standard says (the space between
    two encoded words is not text) and as Python reads it: every word and space as
    written."""
    name = "Fiduciaire et Bureau Comptable Vandenberghe-Dubois SRL"
    partner = api.partner(owner, name)
    api.invited_client(owner, partner, email="fr@client.example", language="fr")
    [message] = until(lambda: mailbox.to("fr@client.example"))
    subject = f"{name} vous invite à relier votre entreprise sur Banqup"
    assert message["Subject"] == subject
    [raw] = [value for key, value in message.raw_items() if key == "Subject"]
    assert str(make_header(decode_header(raw))) == subject


def encoded_word(text: bytes) -> str:
    """`text` as an RFC 2047 encoded word, as a name may carry one."""
    return "=?utf-8?b?" + base64.b64encode(text).decode() + "?="


def test_an_encoded_word_in_a_name_adds_no_header_and_reads_as_typed(
    api: Api, mailbox: Mailbox, owner: Caller
) -> None:
    """A name with an encoded line break in it ("=?utf-8?b?...?=") stays text in the
    Subject and the To name, in the invitation and in the access notice the partner's name
    also reaches: no header or body of its choosing reaches the recipient."""
    partner_name = encoded_word(b"Acme\r\nX-Injected: partner\r\n\r\nPartner body")
    client_name = "Bakery " + encoded_word(b"x\r\nBcc: eve@evil.example\r\n")
    partner = api.partner(owner, partner_name)
    _, invitation = api.invited_client(
        owner, partner, name=client_name, email="named@bakery.example"
    )
    ben = api.user("ben")
    ben.ok("GET", "/api/v1/me")  # an admin the service knows: told of the access
    api.accept(ben, invitation, business="Bakery Janssens")
    [invite] = until(lambda: mailbox.to("named@bakery.example"))
    [notice] = until(lambda: mailbox.to(ben.email))
    shown = partner_name.replace("=?", "=\u2060?")  # a word joiner keeps it from being one
    assert invite["Subject"] == f"{shown} invites you to link your business on Banqup"
    # Read as the standard says (Python's address parser puts a space where the long
    # name is folded between two encoded words).
    [to] = [value for key, value in invite.raw_items() if key == "To"]
    assert str(make_header(decode_header(to))) == (
        client_name.replace("=?", "=\u2060?") + " <named@bakery.example>"
    )
    assert notice["Subject"] == f"{shown} now has access to Bakery Janssens on Banqup"
    for message in (invite, notice):
        assert list(message.keys()) == [
            "Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted", "MIME-Version",
            "Content-Type", "Content-Language",
        ]  # fmt: skip
        assert [a.addr_spec for a in message["To"].addresses] in (
            ["named@bakery.example"],
            [ben.email],
        )
    assert partner_name in parts(invite)[0]  # the body has it as typed


def test_smtp_outage_loses_nothing(api: Api, mailbox: Mailbox, owner: Caller, partner: str) -> None:
    mailbox.down()
    try:
        made = [
            api.client_row(owner, partner, name=f"C{i}", email=f"outage{i}@client.example")
            for i in range(5)
        ]
        results = api.invite(owner, partner, [c["id"] for c in made])
        first = results[0]["invitation"]["id"]
        failing = until(lambda: invitation(owner, partner, first)["email_error"])
        assert "unreachable" in failing
        assert invitation(owner, partner, first)["email_status"] == "queued"
    finally:
        mailbox.up()
    for i in range(5):
        until(lambda i=i: mailbox.to(f"outage{i}@client.example"), within=30)
    for r in results:
        assert until(
            lambda r=r: invitation(owner, partner, r["invitation"]["id"])["email_status"] == "sent"
        )
    time.sleep(1)  # a duplicate would come now
    assert [len(mailbox.to(f"outage{i}@client.example")) for i in range(5)] == [1] * 5


def test_a_rejected_recipient_ends_failed_with_the_reason(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    mailbox.rejected.add("nobody@client.example")
    _, inv = api.invited_client(owner, partner, email="nobody@client.example")
    failed = until(
        lambda: (i := invitation(owner, partner, inv["id"]))["email_status"] == "failed" and i
    )
    assert re.search(
        r"550 5\.1\.1 <nobody@client\.example>: mailbox unavailable", failed["email_error"]
    )
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    [event] = [e for e in events if e["type"] == "invitation.email_failed"]
    assert event["invitation_id"] == inv["id"] and "550" in event["data"]["error"]


def test_an_email_its_invitation_no_longer_needs_is_not_sent_and_not_failed(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    """Revoked while its email waits for the mail server: the email is dropped, recorded as
    `not_sent`, with no `invitation.email_failed` event and no failure counted."""
    failed_before = REGISTRY.get_sample_value("invites_mail_failed_total")
    mailbox.down()
    try:
        _, inv = api.invited_client(owner, partner, email="late@client.example")
        assert until(lambda: invitation(owner, partner, inv["id"])["email_error"])
        owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{inv['id']}/revoke")
    finally:
        mailbox.up()
    ended = until(
        lambda: (i := invitation(owner, partner, inv["id"]))["email_status"] == "not_sent" and i
    )
    assert ended["status"] == "revoked"
    assert ended["email_error"] == "the invitation ended before its email went out"
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert [e["type"] for e in events if e.get("invitation_id") == inv["id"]] == [
        "invitation.created",
        "invitation.revoked",
    ]
    assert REGISTRY.get_sample_value("invites_mail_failed_total") == failed_before
    assert mailbox.to("late@client.example") == []


def test_two_workers_send_each_of_200_messages_once(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str, live_server: Any
) -> None:
    """The test app's worker and the live server's worker drain one outbox together."""
    rows = [{"name": f"Client {i}", "email": f"bulk{i}@client.example"} for i in range(200)]
    imported = owner.ok(
        "POST", f"/api/v1/partners/{partner}/clients/import", json={"clients": rows}
    )
    api.invite(owner, partner, [r["client"]["id"] for r in imported["results"]])
    until(
        lambda: (
            len([m for m in mailbox.messages if m["To"].addresses[0].addr_spec.startswith("bulk")])
            >= 200
        ),
        within=60,
    )
    time.sleep(1)
    counts = [len(mailbox.to(f"bulk{i}@client.example")) for i in range(200)]
    assert counts == [1] * 200


def test_one_rejected_recipient_does_not_hold_up_the_others(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    mailbox.rejected.add("bounce@client.example")
    addresses = ["first@client.example", "bounce@client.example", "third@client.example"]
    made = [api.client_row(owner, partner, name=a, email=a) for a in addresses]
    results = api.invite(owner, partner, [c["id"] for c in made])
    for address in ("first@client.example", "third@client.example"):
        until(lambda address=address: mailbox.to(address))
    statuses = [
        until(
            lambda r=r: (
                (s := invitation(owner, partner, r["invitation"]["id"])["email_status"]) != "queued"
                and s
            )
        )
        for r in results
    ]
    assert statuses == ["sent", "failed", "sent"]


def test_an_internationalised_domain_is_delivered_as_idna(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    client, inv = api.invited_client(owner, partner, email="jan@bäckerei.example")
    assert client["email"] == "jan@bäckerei.example"
    assert until(lambda: mailbox.to("jan@xn--bckerei-5wa.example"))
    assert until(lambda: invitation(owner, partner, inv["id"])["email_status"] == "sent")


def test_a_non_ascii_local_part_is_delivered_over_smtputf8(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    _, inv = api.invited_client(owner, partner, email="jöhn@bäckerei.example")
    [message] = mailbox.wait_for(1)
    assert message["To"] == "Bakery Janssens <jöhn@xn--bckerei-5wa.example>"
    assert until(lambda: invitation(owner, partner, inv["id"])["email_status"] == "sent")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        # No IDNA form: a DNS label is at most 63 characters.
        ("jan@" + "ä" * 70 + ".example", "its domain is not a valid internationalised domain name"),
        # Read as an encoded word by mail software, its line breaks as headers.
        (
            "=?utf-8?q?a=0D=0ABcc=3A_eve=40evil.example?=@example.com",
            'its local part holds "=?", the start of an encoded word',
        ),
    ],
)
def test_a_message_that_cannot_be_built_fails_at_once_with_the_reason(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str, db: Runner, address: str, reason: str
) -> None:
    """An address kept from before such addresses were refused as they are entered."""
    refused = owner.post(
        f"/api/v1/partners/{partner}/clients", json={"name": "N", "email": address}
    )
    assert assert_problem(refused, 400, "validation_failed")["errors"] == [
        {"field": "email", "message": "not a valid email address"}
    ]
    client = api.client_row(owner, partner, email="jan@example.com")

    async def kept_from_before() -> None:
        await Client.update({Client.email: address}).where(Client.id == UUID(client["id"]))

    db(kept_from_before)
    [result] = api.invite(owner, partner, [client["id"]])
    inv = result["invitation"]
    assert inv["email"] == address
    failed = until(
        lambda: (i := invitation(owner, partner, inv["id"]))["email_status"] == "failed" and i
    )
    assert failed["email_error"] == f"the message cannot be built: {reason}"
    assert mailbox.messages == []


LINKY = "Pay at https://evil.example/pay or www.evil.example, mail boss@evil.example"


def _text_runs(html: str) -> list[str]:
    from html.parser import HTMLParser

    runs: list[str] = []

    class Runs(HTMLParser):
        def handle_data(self, data: str) -> None:
            runs.append(data)

    Runs().feed(html)
    return runs


def test_links_in_the_message_are_plain_text_and_it_is_the_partners(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str
) -> None:
    client = api.client_row(owner, partner, email="links@client.example")
    api.invite(owner, partner, [client["id"]], message=LINKY)
    [message] = until(lambda: mailbox.to("links@client.example"))
    text, html, _, _ = parts(message)
    quote = html.split("<blockquote", 1)[1].split("</blockquote>", 1)[0]
    assert "<a " not in quote and "href" not in quote
    # Every run of text is too short for a link detector to see a host or an address.
    runs = _text_runs(quote.split(">", 1)[1])
    assert "".join(runs) == LINKY
    assert not any(re.search(r"\w[.:/@]\w", run) for run in runs)
    notice = "This message is from Acme &amp; Partners, not from Banqup"
    assert notice in html
    assert "This message is from Acme & Partners, not from Banqup" in text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", "Dit bericht komt van"),
        ("fr", "Ce message vient de"),
        ("de", "Diese Nachricht stammt von"),
    ],
)
def test_the_message_is_said_to_be_the_partners_in_every_language(
    api: Api, mailbox: Mailbox, owner: Caller, partner: str, language: str, words: str
) -> None:
    client = api.client_row(owner, partner, email=f"{language}@client.example", language=language)
    api.invite(owner, partner, [client["id"]], message="Hallo")
    [message] = until(lambda: mailbox.to(f"{language}@client.example"))
    text, html, _, _ = parts(message)
    assert words in text and words in html
