"""The browser demo (`/demo/`, `/demo/app`, `/demo/mail`) in Debian's Chromium: the seed's
story from the dashboard through the mail to the app's side and back, live."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from playwright.sync_api import BrowserContext, Page, Route, expect

from api.app import create_app
from api.settings import load_settings
from mobile_contract import ErrorCode
from tests.chromium import PHONE, chromium, page_width
from tests.conftest import LiveServer, _free_port, start_server, stop_server
from tests.support import until

ASSETS = Path(__file__).parent.parent / "api" / "demo_pages"
# How long a page following the event feed may take to show a change made elsewhere (ms):
# the long-poll answers within a second; the rest is margin for a loaded machine.
LIVE = 5000


@dataclass
class Demo:
    """A server as `make run` starts it: its own database and mail folder, seeded by
    `python -m api demo`, and the three addresses that command printed."""

    server: LiveServer
    dashboard: str
    app: str
    mail: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "MAIL_URL": f"file://{folder / 'mail'}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    printed = subprocess.run(
        [sys.executable, "-m", "api", "demo"],
        env=dict(os.environ) | env,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    addresses = dict(re.findall(r"(http://\S+/demo/(app|mail)?#token=\S+)", printed)[::-1])
    urls = {kind: url for url, kind in addresses.items()}
    assert set(urls) == {"", "app", "mail"}, printed
    server = start_server(port=port, **env)
    demo = Demo(server, urls[""], urls["app"], urls["mail"])
    # Every test starts from a settled demo: the seeded invitations' emails are out (their
    # events, arriving later, would make a page ask for its list again mid-test).
    with partner_api(demo) as (http, partner):
        queued = {"email_status": "queued"}
        until(lambda: http.get(f"{partner}/clients", params=queued).json()["items"] == [])
    yield demo
    stop_server(server)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-demo-profile"), 1100, 900) as context:
        yield context


class Watched:
    """Pages opened with every request, page error and console error written down;
    anything not for 127.0.0.1 is refused."""

    def __init__(self, context: BrowserContext, origin: str) -> None:
        self.context = context
        self.origin = origin
        self.outside: list[str] = []
        self.troubles: list[str] = []
        self.answered: list[str] = []  # the URL of every response, in order
        context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.troubles.append(f"page error: {error}"))
        page.on(
            "console",
            lambda msg: (
                self.troubles.append(f"console: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.on("dialog", lambda dialog: self.troubles.append(f"dialog: {dialog.message}"))
        page.on("response", lambda r: self.answered.append(r.url))
        page.goto(url)
        return page

    def check(self) -> None:
        assert self.outside == []
        assert self.troubles == []


@pytest.fixture
def watched(browser: BrowserContext, demo: Demo) -> Iterator[Watched]:
    watcher = Watched(browser, demo.server.base_url)
    yield watcher
    browser.unroute("**/*")
    for page in browser.pages:
        page.close()


def client_row(page: Page, name: str) -> Any:
    return page.locator("#client-list li").filter(has=page.get_by_role("button", name=name))


@contextmanager
def partner_api(demo: Demo) -> Iterator[tuple[httpx.Client, str]]:
    """The API as the dashboard's user, and the path of its partner."""
    token = demo.dashboard.split("#token=", 1)[1]
    with httpx.Client(
        base_url=f"{demo.server.base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as http:
        yield http, f"/partners/{http.get('/me').json()['partners'][0]['id']}"


Imported = Callable[[list[str]], None]


@pytest.fixture
def imported(demo: Demo) -> Iterator[Imported]:
    """Imports clients of these names to the demo partner; erases them after the test."""
    ids: list[str] = []
    with partner_api(demo) as (http, partner):

        def add(names: list[str]) -> None:
            rows = [{"name": name} for name in names]
            results = http.post(f"{partner}/clients/import", json={"clients": rows}).json()
            ids.extend(result["client"]["id"] for result in results["results"])

        yield add
        for client_id in ids:
            assert http.delete(f"{partner}/clients/{client_id}").status_code == 204


def test_the_seed_story_from_invite_to_active_without_a_reload(
    demo: Demo, watched: Watched
) -> None:
    dashboard = watched.open(demo.dashboard)
    expect(dashboard.get_by_role("tab", name="Inactive", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    dashboard.get_by_role("checkbox", name="Green Garden Ltd").check()
    dashboard.get_by_role("button", name="Invite", exact=True).click()
    dialog = dashboard.get_by_role("dialog")
    dialog.get_by_label("Message").fill("Hello <b>Green Garden</b>, see you soon!")
    dialog.get_by_role("button", name="Send invites").click()
    expect(dashboard.locator("#list-notice")).to_have_text("1 invitation sent.")
    expect(client_row(dashboard, "Green Garden Ltd")).to_have_count(0)
    dashboard.get_by_role("tab", name="Invited", exact=True).click()
    expect(client_row(dashboard, "Green Garden Ltd")).to_have_count(1)

    mail = watched.open(demo.mail)
    mail.get_by_role("button", name=re.compile("To Green Garden Ltd")).click()
    frame = mail.frame_locator("#body")
    expect(frame.locator("body")).to_contain_text("Hello <b>Green Garden</b>, see you soon!")
    expect(frame.locator("img[src^='data:image/png']")).to_have_count(1)
    link = mail.locator("#links a").filter(has_text="/i/").first.get_attribute("href")
    assert link is not None and link.startswith(demo.server.base_url + "/i/")

    dashboard.get_by_role("tab", name="Active", exact=True).click()
    expect(client_row(dashboard, "Müller GmbH")).to_have_count(1)
    dashboard.evaluate("window.stillTheSamePage = true")

    app = watched.open(demo.app)
    app.get_by_label("Invitation link").fill(link)
    # The preview's `invitation.opened` event wakes the dashboard, whose list of the Active
    # tab has not changed: a 304, nothing redrawn.
    with dashboard.expect_response(lambda r: "/clients?" in r.url and r.status == 304):
        app.get_by_role("button", name="Preview", exact=True).click()
    expect(app.locator("#offer-title")).to_have_text(
        "Demo Accountants asks for full access to your business"
    )
    expect(app.locator("#offer-message")).to_have_text("Hello <b>Green Garden</b>, see you soon!")
    expect(app.get_by_role("radio", name=re.compile("Müller GmbH"))).to_be_disabled()
    app.get_by_role("radio", name="New business").check()
    app.get_by_label("Business name").fill("Green Garden Ltd")
    app.get_by_role("button", name="Confirm", exact=True).click()
    expect(app.locator("#outcome")).to_contain_text(
        "Done: Demo Accountants now has full access to Green Garden Ltd."
    )

    expect(client_row(dashboard, "Green Garden Ltd")).to_have_count(1, timeout=LIVE)
    assert dashboard.evaluate("window.stillTheSamePage") is True
    watched.check()


def test_the_meeting_path_show_qr_then_scan_it(
    demo: Demo, watched: Watched, tmp_path: Path
) -> None:
    dashboard = watched.open(demo.dashboard)
    dashboard.get_by_role("tab", name="Invited", exact=True).click()
    dashboard.get_by_role("button", name="Bakkerij Janssens").click()
    expect(dashboard.locator("#details-title")).to_have_text("Bakkerij Janssens")
    dashboard.get_by_role("button", name="Show QR code").click()
    qr = dashboard.locator("#meeting-qr")
    expect(qr).to_be_visible()
    dashboard.wait_for_function("() => document.getElementById('meeting-qr').naturalWidth > 0")
    expect(dashboard.locator("#user-code")).to_have_text(
        re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
    )
    expect(dashboard.locator("#countdown")).to_have_text(re.compile(r"^Expires in [45]:\d\d$"))
    shot = tmp_path / "meeting-qr.png"
    qr.screenshot(path=str(shot))

    app = watched.open(demo.app)
    app.locator("#scan-file").set_input_files(str(shot))
    expect(app.get_by_label("Invitation link")).to_have_value(
        re.compile(re.escape(demo.server.base_url) + "/i/")
    )
    expect(app.locator("#offer-for")).to_have_text("Invitation for Bakkerij Janssens.")
    app.get_by_label("Business name").fill("Bakkerij Janssens BV")
    app.get_by_role("button", name="Confirm", exact=True).click()
    expect(app.locator("#outcome")).to_contain_text("now has full access to Bakkerij Janssens BV")
    expect(dashboard.locator("#facts")).to_contain_text("Connected", timeout=LIVE)
    watched.check()


def test_a_typed_code_and_the_errors_in_words(demo: Demo, watched: Watched) -> None:
    dashboard = watched.open(demo.dashboard)
    dashboard.get_by_role("tab", name="Invited", exact=True).click()
    dashboard.get_by_role("button", name="Boulangerie Dubois").click()
    dashboard.get_by_role("button", name="Show QR code").click()
    code = dashboard.locator("#user-code")
    expect(code).to_have_text(re.compile("-"))

    app = watched.open(demo.app)
    app.get_by_label("Invitation link").fill("BBBB-BBBB")
    app.get_by_role("button", name="Preview", exact=True).click()
    expect(app.locator("#outcome")).to_have_text(
        "We could not find that. If you typed a code, check its letters and try again."
    )
    app.get_by_label("Invitation link").fill(code.inner_text().lower())
    app.get_by_role("button", name="Preview", exact=True).click()
    expect(app.locator("#offer-for")).to_have_text("Invitation for Boulangerie Dubois.")
    app.get_by_role("button", name="Decline").click()
    expect(app.locator("#outcome")).to_have_text(
        "You declined. Demo Accountants gets no access to your business."
    )
    app.get_by_role("button", name="Preview", exact=True).click()  # the code, now used
    expect(app.locator("#outcome")).to_contain_text("was already used")
    # A 4xx answer to a call the page made is Chromium's console error, nothing else.
    watched.troubles = [t for t in watched.troubles if "status of 4" not in t]
    watched.check()


def test_user_given_strings_stay_text(demo: Demo, watched: Watched) -> None:
    hostile = '<img src=x onerror="alert(1)">Florist & Co'
    dashboard = watched.open(demo.dashboard)
    dashboard.get_by_role("button", name="Offline Florist").click()
    dashboard.get_by_text("Check and correct the details").click()
    dashboard.get_by_label("Name", exact=True).fill(hostile)
    dashboard.get_by_label("Email", exact=True).fill("shop@florist.example")
    dashboard.get_by_role("button", name="Save details").click()
    expect(dashboard.locator("#details-notice")).to_have_text("Details saved.")
    expect(dashboard.get_by_role("button", name=hostile, exact=True)).to_have_count(1)
    expect(dashboard.get_by_role("checkbox", name=hostile, exact=True)).to_have_count(1)
    expect(dashboard.locator("#details-title")).to_have_text(hostile)
    assert dashboard.locator("main img[src='x']").count() == 0

    mail = watched.open(demo.mail)
    sandbox = mail.locator("#body").get_attribute("sandbox") or ""
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    dashboard.wait_for_timeout(300)
    watched.check()


def test_an_edit_in_progress_survives_a_change_made_elsewhere(demo: Demo, watched: Watched) -> None:
    """The details form keeps what is typed while the client changes elsewhere (the feed
    redraws the panel), and saving sends only the fields changed in the form."""
    with partner_api(demo) as (http, partner):
        created = http.post(
            f"{partner}/clients", json={"name": "Atelier Roux", "vat_number": "BE0111111111"}
        )
        client = f"{partner}/clients/{created.json()['id']}"
        dashboard = watched.open(demo.dashboard)
        dashboard.get_by_role("button", name="Atelier Roux", exact=True).click()
        dashboard.get_by_text("Check and correct the details").click()
        dashboard.get_by_label("Name", exact=True).fill("Atelier Roux & Fils")
        assert http.patch(client, json={"external_ref": "R-42"}).status_code == 200
        expect(dashboard.locator("#facts")).to_contain_text("R-42")  # redrawn from the feed
        expect(dashboard.get_by_label("Name", exact=True)).to_have_value("Atelier Roux & Fils")
        dashboard.get_by_role("button", name="Save details").click()
        expect(dashboard.locator("#details-notice")).to_have_text("Details saved.")
        saved = http.get(client).json()
    assert (saved["name"], saved["external_ref"], saved["vat_number"]) == (
        "Atelier Roux & Fils",
        "R-42",
        "BE0111111111",
    )
    expect(dashboard.get_by_label("Name", exact=True)).to_have_value("Atelier Roux & Fils")
    watched.check()


def test_tabs_by_keyboard_and_the_pages_on_a_phone(demo: Demo, watched: Watched) -> None:
    dashboard = watched.open(demo.dashboard)
    inactive = dashboard.get_by_role("tab", name="Inactive", exact=True)
    inactive.focus()
    dashboard.keyboard.press("ArrowRight")
    invited = dashboard.get_by_role("tab", name="Invited", exact=True)
    expect(invited).to_have_attribute("aria-selected", "true")
    expect(invited).to_be_focused()
    for url in (demo.dashboard, demo.app, demo.mail):
        page = watched.open(url)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(300)
        assert page_width(page) <= PHONE["width"], url
    watched.check()


def test_long_unbroken_text_wraps_on_a_phone(demo: Demo, watched: Watched) -> None:
    """Names, addresses and links can be long and unbroken: each page wraps them rather
    than growing wider than the screen."""
    partner_name, client_name = "Accountants" * 15, "Overlong" * 20
    address = "x" * 60 + "@long-domain-long-domain-long-domain-long-domain-example.com"
    with partner_api(demo) as (http, partner), ExitStack() as undo:
        assert http.patch(partner, json={"name": partner_name}).status_code == 200
        undo.callback(http.patch, partner, json={"name": "Demo Accountants"})
        made = http.post(f"{partner}/clients", json={"name": client_name, "email": address})
        client_id = made.json()["id"]
        undo.callback(http.delete, f"{partner}/clients/{client_id}")
        invited = http.post(f"{partner}/invitations", json={"client_ids": [client_id]})
        invitation = invited.json()["results"][0]["invitation"]
        link = http.post(f"{partner}/registration-links", json={"label": "On the counter"})
        undo.callback(http.post, f"{partner}/registration-links/{link.json()['id']}/revoke")

        dashboard = watched.open(demo.dashboard)
        dashboard.set_viewport_size(PHONE)
        dashboard.get_by_role("tab", name="Invited", exact=True).click()
        dashboard.get_by_role("button", name=client_name).click()
        expect(dashboard.locator("#details-title")).to_have_text(client_name)
        expect(dashboard.locator("#partner-name")).to_have_text(partner_name)
        expect(dashboard.locator("#reg-links li").filter(has_text="On the counter")).to_be_visible()
        app = watched.open(demo.app)
        app.set_viewport_size(PHONE)
        app.get_by_label("Invitation link").fill(invitation["url"])
        app.get_by_role("button", name="Preview", exact=True).click()
        expect(app.locator("#offer-title")).to_contain_text(partner_name)
        mail = watched.open(demo.mail)
        mail.set_viewport_size(PHONE)
        expect(mail.locator("ul.messages")).to_contain_text(address)
        for page in (dashboard, app, mail):
            assert page_width(page) <= PHONE["width"], page.url
    watched.check()


def test_the_tabs_answer_before_the_partner_is_known(
    browser: BrowserContext, demo: Demo, watched: Watched
) -> None:
    """A tab chosen while `GET /me` is still on its way is the list the page asks for."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    browser.route("**/api/v1/me", hold)
    try:
        dashboard = watched.open(demo.dashboard)
        dashboard.get_by_role("tab", name="Inactive", exact=True).focus()
        dashboard.keyboard.press("ArrowRight")
        invited = dashboard.get_by_role("tab", name="Invited", exact=True)
        expect(invited).to_have_attribute("aria-selected", "true")
    finally:
        browser.unroute("**/api/v1/me")
    [me] = held
    with dashboard.expect_response(lambda r: "/clients?" in r.url) as listed:
        me.continue_()
    assert "status=invited" in listed.value.url
    expect(dashboard.locator("#partner-name")).to_have_text("Demo Accountants")
    expect(dashboard.locator("#client-panel")).to_have_attribute("aria-labelledby", "tab-invited")
    lists = [url for url in watched.answered if "/clients?" in url]
    assert all("status=invited" in url for url in lists), lists
    watched.check()


def test_a_registration_link_with_its_qr_and_poster(demo: Demo, watched: Watched) -> None:
    dashboard = watched.open(demo.dashboard)
    dashboard.get_by_label("Label").fill("Front desk")
    dashboard.get_by_role("button", name="Create registration link").click()
    link = dashboard.locator("#reg-links li").filter(has_text="Front desk")
    expect(link.get_by_role("img", name="QR code of Front desk")).to_be_visible()
    link.get_by_role("button", name="Show poster").click()
    poster = dashboard.get_by_role("img", name="Poster: Front desk")
    expect(poster).to_have_attribute("src", re.compile("^blob:"))
    dashboard.wait_for_function(
        "() => [...document.querySelectorAll('#poster img')].every(i => i.naturalWidth > 0)"
    )
    link.get_by_role("button", name="Revoke").click()
    expect(link).to_contain_text("revoked")
    watched.check()


class Held(list[Route]):
    """Requests held back by `browser.route(match, held.hold)`, let go later."""

    def hold(self, route: Route) -> None:
        self.append(route)


def next_page(url: str) -> bool:
    return "/clients?" in url and "cursor=" in url


def test_show_more_pages_on_and_a_page_asked_before_a_redraw_is_dropped(
    browser: BrowserContext, demo: Demo, watched: Watched, imported: Imported
) -> None:
    """The "Show more" button adds the next 50 rows. A page still on its way when the list
    is drawn anew (here: a client created elsewhere, told by the feed) would follow rows it
    was not asked after, so it is dropped, and "Show more" asks again after the new rows."""
    imported([f"Paged {n:02}" for n in range(1, 61)])
    dashboard = watched.open(demo.dashboard)
    rows = dashboard.locator("#client-list li")
    more = dashboard.get_by_role("button", name="Show more")
    inactive = dashboard.get_by_role("tab", name="Inactive", exact=True)
    dashboard.get_by_label("Search").fill("Paged")
    expect(inactive.locator(".count")).to_have_text("60")  # drawn with the searched list
    expect(rows).to_have_count(50)
    more.click()
    expect(rows).to_have_count(60)
    expect(more).to_be_hidden()

    dashboard.get_by_role("tab", name="Invited", exact=True).click()
    dashboard.get_by_role("tab", name="Inactive", exact=True).click()
    expect(rows).to_have_count(50)
    held = Held()
    browser.route(next_page, held.hold)
    try:
        more.click()
        expect(more).to_be_disabled()
        with dashboard.expect_response(
            lambda answer: "/clients?" in answer.url and answer.status == 200
        ) as redrawn:
            imported(["Paged 61"])
        assert not next_page(redrawn.value.url)
        [page_asked_before] = held
        page_asked_before.continue_()
        expect(more).to_be_enabled()
    finally:
        browser.unroute(next_page)
    expect(rows).to_have_count(50)
    more.click()
    expect(rows).to_have_count(61)
    expect(more).to_be_hidden()
    watched.check()


def older_search(url: str) -> bool:
    return "search=Latest+1" in url


def test_only_the_latest_list_asked_is_drawn(
    browser: BrowserContext, demo: Demo, watched: Watched, imported: Imported
) -> None:
    """Typing on while a list is on its way: the answer to the older search, coming last,
    does not land on the newer one."""
    imported([f"Latest {n}" for n in range(10, 30)])
    dashboard = watched.open(demo.dashboard)
    names = dashboard.locator("#client-list li button.linklike")
    newer = [f"Latest {n}" for n in range(20, 30)]
    held = Held()
    browser.route(older_search, held.hold)
    try:
        with dashboard.expect_request(lambda request: older_search(request.url)):
            dashboard.get_by_label("Search").fill("Latest 1")
        dashboard.get_by_label("Search").fill("Latest 2")
        expect(names).to_have_count(10)
        assert sorted(names.all_inner_texts()) == newer
        [older_answer] = held
        with dashboard.expect_event("requestfinished", lambda r: older_search(r.url)):
            older_answer.continue_()
    finally:
        browser.unroute(older_search)
    dashboard.wait_for_timeout(300)  # time to draw it, were it drawn
    assert sorted(names.all_inner_texts()) == newer
    watched.check()


def test_every_error_code_has_a_sentence() -> None:
    sentences = (ASSETS / "errors.js").read_text()
    missing = [code.value for code in ErrorCode if f"  {code.value}: " not in sentences]
    assert missing == []


def test_the_demo_paths_are_404_outside_dev() -> None:
    dev = TestClient(create_app(load_settings(dict(os.environ))))  # makes the dev key file
    prod_env = {"APP_ENV": "prod", "WEBHOOK_SECRET_KEY": "a-webhook-secret-key-of-32-chars!"}
    prod = TestClient(create_app(load_settings(dict(os.environ) | prod_env)))
    for path in ("/demo/", "/demo/app", "/demo/mail", "/demo/mail/messages", "/demo/assets/app.js"):
        assert prod.get(path).status_code == 404, path
    for path in ("/demo/", "/demo/app", "/demo/mail", "/demo/assets/app.js"):
        assert dev.get(path).status_code == 200, path
    assert dev.get("/demo/mail/messages").status_code == 401  # a signed-in user only
