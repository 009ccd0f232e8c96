"""The landing page in a real headless Chromium (Debian's), driven by Playwright
(`tests.chromium`)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.chromium import PHONE, chromium, page_width
from tests.conftest import LiveServer
from tests.qr_decode import decode_both
from tests.support import Api, Caller

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-profile"), 1024, 1100) as context:
        yield context


class Remote:
    """The API of the live server, called as the dashboard and the app do."""

    def __init__(self, server: LiveServer, caller: Caller) -> None:
        self.http = httpx.Client(base_url=server.base_url, headers=caller.headers, timeout=10)

    def ok(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


def invite(
    live_server: LiveServer,
    api: Api,
    message: str,
    partner_name: str = "Acme & Partners",
    client_name: str = "Bakery Janssens",
) -> tuple[Remote, dict[str, Any]]:
    anna = Remote(live_server, api.user("anna"))
    partner = anna.ok("POST", "/api/v1/partners", json={"name": partner_name})["id"]
    client = anna.ok(
        "POST",
        f"/api/v1/partners/{partner}/clients",
        json={"name": client_name, "email": "jan@bakery.example"},
    )
    [result] = anna.ok(
        "POST",
        f"/api/v1/partners/{partner}/invitations",
        json={"client_ids": [client["id"]], "message": message},
    )["results"]
    return anna, result["invitation"]


def local(live_server: LiveServer, invitation: dict[str, Any]) -> str:
    """The invitation's universal link, on the live server instead of its public origin."""
    return f"{live_server.base_url}/i/{invitation['url'].rsplit('/i/', 1)[1]}"


def watch(page: Page) -> list[str]:
    """Collect anything that would mean script ran or broke: dialogs, errors, console errors."""
    troubles: list[str] = []
    page.on(
        "dialog", lambda dialog: (troubles.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    page.on("pageerror", lambda error: troubles.append(f"page error: {error}"))
    page.on(
        "console",
        lambda msg: (
            troubles.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    return troubles


def test_landing_page_renders_and_its_qr_decodes(
    browser: BrowserContext, live_server: LiveServer, api: Api
) -> None:
    message = 'Dear client,\n<script>alert("pwned")</script><img src=x onerror="alert(2)"> see you!'
    _, invitation = invite(live_server, api, message)
    page = browser.new_page()
    troubles = watch(page)
    response = page.goto(local(live_server, invitation))
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    assert (
        page.locator("h1").first.inner_text()
        == "Acme & Partners would like to link your business on Banqup"
    )
    assert page.locator("#message").inner_text() == message
    assert page.locator("#open-app").get_attribute("href") == invitation["app_url"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "landing.png"), full_page=True)
    qr_png = page.locator("#qr").screenshot()
    assert decode_both(qr_png) == invitation["url"]
    page.wait_for_timeout(500)
    assert troubles == []
    page.close()


def test_page_flips_to_connected_after_confirm(
    browser: BrowserContext, live_server: LiveServer, api: Api
) -> None:
    _, invitation = invite(live_server, api, "Welcome")
    page = browser.new_page()
    troubles = watch(page)
    page.goto(local(live_server, invitation))
    assert page.locator("#connected").is_hidden()
    ben = Remote(live_server, api.user("ben"))
    token = invitation["url"].rsplit("/i/", 1)[1]
    ben.ok(
        "POST",
        "/api/v1/mobile/invitations/confirm",
        json={"token": token, "new_business": {"name": "Ben BV"}},
    )
    page.locator("#connected").wait_for(state="visible", timeout=8000)
    assert page.locator("#invitation").is_hidden()
    assert (
        "Acme & Partners is now linked to your business" in page.locator("#connected").inner_text()
    )
    assert page.url == local(live_server, invitation)  # no reload, no navigation
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "landing-connected.png"))
    assert troubles == []
    page.close()


def test_an_invalid_token_shows_the_error_page(
    browser: BrowserContext, live_server: LiveServer
) -> None:
    page = browser.new_page()
    troubles = watch(page)
    response = page.goto(f"{live_server.base_url}/i/eyJhbGciOiJub25lIn0.e30.x")
    assert response is not None and response.status == 400
    assert page.locator("h1").inner_text() == "This link does not work"
    page.screenshot(path=str(ARTIFACTS / "landing-invalid.png"))
    # Chromium reports the 400 of the document itself on the console; nothing else.
    assert all("status of 400" in t for t in troubles), troubles
    page.close()


def test_the_page_on_a_phone(browser: BrowserContext, live_server: LiveServer, api: Api) -> None:
    _, invitation = invite(live_server, api, "Hello from your accountant")
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    page.goto(local(live_server, invitation))
    button = page.locator("#open-app").bounding_box()
    assert button is not None and button["width"] > 300  # a thumb-sized button
    assert page.locator("#qr").is_hidden()  # no QR to scan on the phone itself
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "landing-phone.png"), full_page=True)
    # Long unbroken names wrap rather than widening the page past the screen.
    _, invitation = invite(live_server, api, "Hi", "Accountants" * 15, "Overlong" * 20)
    page.goto(local(live_server, invitation))
    expect(page.locator("h1").first).to_contain_text("Accountants" * 15)
    assert page_width(page) <= PHONE["width"]
    page.close()


def test_the_poster_prints_a_qr_that_decodes(
    browser: BrowserContext, live_server: LiveServer, api: Api
) -> None:
    anna_caller = api.user("anna")
    anna = Remote(live_server, anna_caller)
    partner = anna.ok("POST", "/api/v1/partners", json={"name": "Acme & Partners Accountancy"})[
        "id"
    ]
    link = anna.ok(
        "POST", f"/api/v1/partners/{partner}/registration-links", json={"label": "Front desk"}
    )
    page = browser.new_page()
    page.set_extra_http_headers(anna_caller.headers)
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    response = page.goto(
        f"{live_server.base_url}/api/v1/partners/{partner}/registration-links/{link['id']}/poster.svg"
    )
    assert response is not None and response.status == 200
    ARTIFACTS.mkdir(exist_ok=True)
    poster = page.screenshot(path=str(ARTIFACTS / "poster.png"))
    assert decode_both(poster) == link["url"]
    page.close()


def test_the_interactive_documentation_works_offline(
    browser: BrowserContext, live_server: LiveServer
) -> None:
    page = browser.new_page()
    troubles = watch(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{live_server.base_url}/schema")
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    operation = page.locator(".opblock-summary-operation-id", has_text="previewInvitation")
    operation.first.wait_for(timeout=15_000)
    assert page.locator(".opblock-summary-operation-id").count() >= 30
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "schema-docs.png"))
    elsewhere = [
        url
        for url in requested
        if not url.startswith((live_server.base_url + "/", "data:", "blob:"))
    ]
    assert elsewhere == []
    assert troubles == []
    page.close()
