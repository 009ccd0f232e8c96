"""The landing page of a link: content, languages, error pages, headers; GET changes nothing."""

from typing import Any

import pytest

from tests.support import Api, Caller, age_invitation, expire_invitation, token_of

MOBILE = "/api/v1/mobile/invitations"


@pytest.fixture
def partner(api: Api, owner: Caller) -> str:
    return api.partner(owner, "Acme & Partners")


def page(api: Api, token: str, **headers: str) -> Any:
    return api.http.get(f"/i/{token}", headers=headers)


def assert_page_headers(response: Any) -> None:
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_the_landing_page(api: Api, owner: Caller, partner: str) -> None:
    client, invitation = api.invited_client(owner, partner, name="Bakery <Janssens>", language="en")
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{invitation['id']}/revoke")
    [result] = api.invite(
        owner,
        partner,
        [client["id"]],
        message="<script>alert(1)</script> & welcome",
        access_level="read_only",
    )
    token = token_of(result["invitation"])
    response = page(api, token)
    assert response.status_code == 200
    assert_page_headers(response)
    html = response.text
    assert "Acme &amp; Partners would like to link your business on Banqup" in html
    assert "Invitation for Bakery &lt;Janssens&gt;" in html
    assert "read-only access" in html
    assert "&lt;script&gt;alert(1)&lt;<span>/</span>script&gt; &amp; welcome" in html
    assert "<script>alert" not in html
    assert f'href="banqupone://invite?token={token}"' in html
    assert f'src="/i/{token}/qr.svg"' in html
    assert "This invitation expires on" in html
    assert "App Store" in html


def test_a_get_changes_nothing(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    token = token_of(invitation)
    for _ in range(3):
        assert page(api, token).status_code == 200
        assert api.http.get(f"/i/{token}/status").json() == {"status": "pending"}
        assert api.http.get(f"/i/{token}/qr.png").status_code == 200
    after = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invitation['id']}")
    assert after["opened_at"] is None and after["status"] == "pending"
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert "invitation.opened" not in [e["type"] for e in events]


@pytest.mark.parametrize(
    ("client_language", "accept", "expected", "words"),
    [
        ("nl", None, "nl", "wil uw onderneming koppelen"),
        ("fr", None, "fr", "souhaite relier votre entreprise"),
        ("de", None, "de", "möchte Ihr Unternehmen auf Banqup verknüpfen"),
        ("nl", "de-DE,de;q=0.9,en;q=0.5", "de", "möchte Ihr Unternehmen"),
        ("de", "es-ES, fr;q=0.3, en;q=0.8", "en", "would like to link your business"),
        ("fr", "es, it", "fr", "souhaite relier"),
    ],
)
def test_the_page_speaks_the_clients_language_unless_the_browser_asks(
    api: Api,
    owner: Caller,
    partner: str,
    client_language: str,
    accept: str | None,
    expected: str,
    words: str,
) -> None:
    _, invitation = api.invited_client(owner, partner, language=client_language)
    headers = {"Accept-Language": accept} if accept else {}
    response = page(api, token_of(invitation), **headers)
    assert response.headers["content-language"] == expected
    assert f'<html lang="{expected}">' in response.text
    assert words in response.text


def test_error_pages(api: Api, owner: Caller, partner: str, db: Any) -> None:
    ben = api.user("ben")
    pages: dict[str, tuple[int, str]] = {}

    def check(name: str, token: str, status: int, title: str) -> None:
        response = page(api, token)
        assert response.status_code == status, name
        assert_page_headers(response)
        assert f'data-error="{name}"' in response.text
        assert title in response.text
        assert "/static/landing.js" not in response.text
        pages[name] = (status, title)

    check("invalid", "not-a-token", 400, "This link does not work")
    check("invalid", "a.b.c", 400, "This link does not work")
    _, inv = api.invited_client(owner, partner, name="E", email="e@example.com")
    expire_invitation(db, inv["id"])
    check("expired", token_of(inv), 410, "This invitation has expired")
    _, inv = api.invited_client(owner, partner, name="R", email="r@example.com")
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{inv['id']}/revoke")
    check("revoked", token_of(inv), 410, "This invitation was withdrawn")
    _, inv = api.invited_client(owner, partner, name="S", email="s@example.com")
    age_invitation(db, inv["id"], seconds=61)
    owner.ok("POST", f"/api/v1/partners/{partner}/invitations/{inv['id']}/resend", 201)
    check("superseded", token_of(inv), 410, "A newer invitation replaced this one")
    _, inv = api.invited_client(owner, partner, name="D", email="d@example.com")
    ben.ok("POST", f"{MOBILE}/decline", json={"token": token_of(inv)})
    check("declined", token_of(inv), 410, "This invitation was declined")
    _, inv = api.invited_client(owner, partner, name="A", email="a@example.com")
    api.accept(ben, inv)
    check("accepted", token_of(inv), 409, "This invitation was already accepted")
    assert api.http.get(f"/i/{token_of(inv)}/status").json() == {"status": "accepted"}
    assert set(pages) == {"invalid", "expired", "revoked", "superseded", "declined", "accepted"}


def test_static_assets_are_served(api: Api) -> None:
    css = api.http.get("/static/landing.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = api.http.get("/static/landing.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]


def test_well_known_files_are_404_until_configured(api: Api) -> None:
    assert api.http.get("/.well-known/apple-app-site-association").status_code == 404
    assert api.http.get("/.well-known/assetlinks.json").status_code == 404


def test_well_known_files_from_configuration(settings: Any) -> None:
    import msgspec
    from litestar.testing import TestClient

    from api.app import create_app

    configured = msgspec.structs.replace(
        settings,
        apple_app_ids=("ABCDE12345.com.banqup.one",),
        android_package="com.banqup.one",
        android_cert_sha256=("AA:BB:CC",),
    )
    # Not entered: no lifespan, so this second app leaves the test database pool alone
    # (the .well-known routes read only settings).
    client = TestClient(create_app(configured), base_url="http://testserver.local")
    apple = client.get("/.well-known/apple-app-site-association", follow_redirects=False)
    assert apple.status_code == 200
    assert apple.headers["content-type"] == "application/json"
    assert apple.json() == {
        "applinks": {
            "details": [{"appIDs": ["ABCDE12345.com.banqup.one"], "components": [{"/": "/i/*"}]}]
        }
    }
    android = client.get("/.well-known/assetlinks.json")
    assert android.status_code == 200
    assert android.json() == [
        {
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {
                "namespace": "android_app",
                "package_name": "com.banqup.one",
                "sha256_cert_fingerprints": ["AA:BB:CC"],
            },
        }
    ]


def test_links_in_the_message_are_plain_text_on_the_page(
    api: Api, owner: Caller, partner: str
) -> None:
    message = "See https://evil.example/pay or www.evil.example"
    client = api.client_row(owner, partner)
    [result] = api.invite(owner, partner, [client["id"]], message=message)
    page = api.http.get(f"/i/{token_of(result['invitation'])}").text
    quote = page.split('<blockquote id="message">', 1)[1].split("</blockquote>", 1)[0]
    assert "<a " not in quote and "https://evil.example" not in quote
    assert quote.replace("<span>", "").replace("</span>", "") == message
    assert "not from Banqup" in page
    assert 'name="format-detection"' in page
