"""The Clients page: tab counts with the list, sorting, the invitation filters, unknown
parameters refused."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api.logs import Lines
from db.tables import Client, Invitation
from tests.conftest import Runner
from tests.support import Api, Caller, assert_problem, until


def clients_url(partner: str) -> str:
    return f"/api/v1/partners/{partner}/clients"


def all_pages(owner: Caller, partner: str, limit: int = 2, **params: Any) -> list[dict[str, Any]]:
    """Every item of the list, read `limit` at a time."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = owner.ok("GET", clients_url(partner), params=query)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def emails_sent(db: Runner, partner: str) -> None:
    """Wait until the outbox worker has sent the partner's queued invitations (and
    recorded it: a change of the partner, with a new revision)."""

    async def queued() -> int:
        return await Invitation.count().where(
            (Invitation.partner == UUID(partner)) & (Invitation.email_status == "queued")
        )

    until(lambda: db(queued) == 0)


@pytest.fixture
def tabs(api: Api, db: Runner, owner: Caller, partner: str) -> dict[str, dict[str, Any]]:
    """Two inactive clients, two invited, one active."""
    made = {
        name: api.client_row(owner, partner, name=name, email=f"{name.lower()}@x.example")
        for name in ("Anker", "Bakker", "Claes", "Dierickx", "Eeckhout")
    }
    [*_, eeckhout] = api.invite(
        owner, partner, [made[n]["id"] for n in ("Claes", "Dierickx", "Eeckhout")]
    )
    api.accept(api.user("eva"), eeckhout["invitation"])
    emails_sent(db, partner)
    return made


def test_the_list_carries_the_count_of_each_tab(
    tabs: dict[str, Any], owner: Caller, partner: str
) -> None:
    page = owner.ok("GET", clients_url(partner), params={"status": "active"})
    assert [c["name"] for c in page["items"]] == ["Eeckhout"]
    assert page["counts"] == {"inactive": 2, "invited": 2, "active": 1}


def test_counts_follow_the_search_whatever_the_status_filter(
    tabs: dict[str, Any], owner: Caller, partner: str
) -> None:
    page = owner.ok("GET", clients_url(partner), params={"search": "ker", "status": "invited"})
    assert page["items"] == []
    # Anker and Bakker (inactive) contain "ker"; the others do not.
    assert page["counts"] == {"inactive": 2, "invited": 0, "active": 0}


def test_counts_change_with_the_next_write(
    api: Api, tabs: dict[str, Any], owner: Caller, partner: str
) -> None:
    assert owner.ok("GET", clients_url(partner))["counts"]["invited"] == 2
    api.invite(owner, partner, [tabs["Anker"]["id"]])
    assert owner.ok("GET", clients_url(partner))["counts"] == {
        "inactive": 1,
        "invited": 3,
        "active": 1,
    }


def test_counts_are_remembered_until_the_revision_changes(
    api: Api, db: Runner, tabs: dict[str, Any], owner: Caller, partner: str
) -> None:
    first = owner.ok("GET", clients_url(partner), params={"search": "a"})  # every email has one
    assert first["counts"] == {"inactive": 2, "invited": 2, "active": 1}

    async def behind_the_service() -> None:  # a change that takes no revision
        await Client.update({Client.status: "active"}).where(Client.partner == UUID(partner))

    db(behind_the_service)
    again = owner.ok("GET", clients_url(partner), params={"search": "a", "limit": 1})
    assert again["counts"] == first["counts"]  # from memory
    api.client_row(owner, partner, name="Fabry")  # a new revision: counted afresh
    fresh = owner.ok("GET", clients_url(partner), params={"search": "a"})
    assert fresh["counts"] == {"inactive": 1, "invited": 0, "active": 5}


def test_counts_move_an_expired_invitation_to_inactive(
    api: Api, db: Runner, tabs: dict[str, Any], owner: Caller, partner: str
) -> None:
    async def expire_claes() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await Client.update({Client.invitation_expires_at: past}).where(
            Client.id == UUID(tabs["Claes"]["id"])
        )
        await Invitation.update({Invitation.expires_at: past}).where(
            Invitation.client == UUID(tabs["Claes"]["id"])
        )

    db(expire_claes)
    api.client_row(owner, partner, name="Fabry")
    assert owner.ok("GET", clients_url(partner))["counts"] == {
        "inactive": 4,
        "invited": 1,
        "active": 1,
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created", ["Anker", "Bakker", "Claes", "Dierickx", "Eeckhout"]),
        ("-created", ["Eeckhout", "Dierickx", "Claes", "Bakker", "Anker"]),
        ("name", ["Anker", "anna", "bakker", "Bakker", "Émile"]),
        ("-name", ["Émile", "bakker", "Bakker", "anna", "Anker"]),
    ],
)
def test_each_sort_pages_stably(
    api: Api, db: Runner, owner: Caller, partner: str, sort: str, expected: list[str]
) -> None:
    names = ["Anker", "Bakker", "Claes", "Dierickx", "Eeckhout"]
    if "name" in sort:
        names = ["Bakker", "Émile", "anna", "bakker", "Anker"]
    made = [api.client_row(owner, partner, name=n) for n in names]
    same_moment = datetime(2026, 1, 1, tzinfo=UTC)

    async def created_in_order() -> None:  # distinct instants, except the two Bakkers tie
        for i, c in enumerate(made):
            await Client.update({Client.created_at: same_moment + timedelta(minutes=i)}).where(
                Client.id == UUID(c["id"])
            )

    db(created_in_order)
    items = all_pages(owner, partner, sort=sort)
    if "name" in sort:
        bakkers = sorted(c["id"] for c in made if c["name"].lower() == "bakker")
        assert [c["id"] for c in items if c["name"].lower() == "bakker"] == bakkers  # by id
        expected = [
            n if n.lower() != "bakker" else "bakker" for n in expected
        ]  # either case for the tie
        assert [c["name"] if c["name"].lower() != "bakker" else "bakker" for c in items] == expected
    else:
        assert [c["name"] for c in items] == expected


def test_sort_by_invitation_dates_puts_the_never_invited_last(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    made = {
        n: api.client_row(owner, partner, name=n) for n in ("Never", "First", "Second", "Later")
    }
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for name in ("First", "Second", "Later"):
        api.invite(owner, partner, [made[name]["id"]])

    async def dated() -> None:
        for i, name in enumerate(("First", "Second", "Later")):
            await Client.update(
                {
                    Client.invited_at: base + timedelta(days=i),
                    Client.invitation_expires_at: base + timedelta(days=30 - i),
                }
            ).where(Client.id == UUID(made[name]["id"]))

    db(dated)
    assert [c["name"] for c in all_pages(owner, partner, sort="invited_at")] == [
        "First",
        "Second",
        "Later",
        "Never",
    ]
    assert [c["name"] for c in all_pages(owner, partner, sort="-invited_at")] == [
        "Later",
        "Second",
        "First",
        "Never",
    ]
    assert [c["name"] for c in all_pages(owner, partner, sort="expires_at", limit=1)] == [
        "Later",
        "Second",
        "First",
        "Never",
    ]


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_pages_by_name_end_on_the_longest_names(
    api: Api, owner: Caller, partner: str, sort: str
) -> None:
    """A page that ends on a name of 200 characters (each of four UTF-8 bytes: the longest
    cursor there is; or one whose sort key is many times longer, as "㍿" folds into four
    characters and "ﷺ" into eighteen) leads on to the next: one page at a time reads
    what one page of all reads."""
    names = ["\U0001f600" * 200, "\U0001f601" * 200, "㍿" * 200, "\ufdfa" * 200, "B" * 200, "S"]
    for name in names:
        api.client_row(owner, partner, name=name, email=None)
    at_once = owner.ok("GET", clients_url(partner), params={"sort": sort, "limit": 500})
    expected = [c["name"] for c in at_once["items"]]
    assert sorted(expected) == sorted(names)
    latin = [n for n in expected if n[0] in "BS"]  # the order every collation gives these
    assert latin == (["S", "B" * 200] if sort.startswith("-") else ["B" * 200, "S"])
    assert [c["name"] for c in all_pages(owner, partner, limit=1, sort=sort)] == expected


def test_a_cursor_belongs_to_its_sort(api: Api, owner: Caller, partner: str) -> None:
    for n in ("A", "B"):
        api.client_row(owner, partner, name=n)
    cursor = owner.ok("GET", clients_url(partner), params={"limit": 1})["next_cursor"]
    response = owner.get(clients_url(partner), params={"sort": "name", "cursor": cursor})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "forged",
    [
        ["name", "a\u0000b", "00000000-0000-4000-8000-000000000000"],
        ["-name", "line\nbreak", "00000000-0000-4000-8000-000000000000"],
        ["created", "not a time", "00000000-0000-4000-8000-000000000000"],
        ["created", "2026-12-03T10:00:00", "00000000-0000-4000-8000-000000000000"],
        ["name", "A", "not-a-uuid"],
        # Times past the year 9999 in UTC, or before the year 1.
        ["created", "9999-12-31T23:59:59-23:59", "00000000-0000-4000-8000-000000000000"],
        ["-invited_at", "0001-01-01T00:00:00+23:59", "00000000-0000-4000-8000-000000000000"],
    ],
)
def test_a_forged_cursor_is_refused(owner: Caller, partner: str, forged: list[str]) -> None:
    """Cursors are the server's own; one made by hand that no page could have ended at is
    400, on either database."""
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    response = owner.get(clients_url(partner), params={"sort": forged[0], "cursor": cursor})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"] == [
        {"field": "cursor", "message": "not a cursor returned by this endpoint"}
    ]


def test_filters_by_the_latest_invitation(
    api: Api, db: Runner, tabs: dict[str, Any], owner: Caller, partner: str
) -> None:
    claes = tabs["Claes"]["id"]

    async def states() -> None:
        await Invitation.update(
            {Invitation.email_status: "failed", Invitation.opened_at: datetime.now(UTC)}
        ).where(Invitation.client == UUID(claes))
        await Invitation.update({Invitation.email_status: "queued"}).where(
            Invitation.client == UUID(tabs["Eeckhout"]["id"])
        )

    db(states)
    api.client_row(owner, partner, name="Fabry")  # a new revision

    def names(**params: Any) -> list[str]:
        return [c["name"] for c in owner.ok("GET", clients_url(partner), params=params)["items"]]

    assert names(email_status="failed") == ["Claes"]
    assert names(email_status="sent,failed") == ["Claes", "Dierickx"]
    assert names(email_status="queued") == ["Eeckhout"]
    assert names(opened="true") == ["Claes"]
    assert names(opened="false") == ["Dierickx", "Eeckhout"]
    assert names(invitation_status="accepted") == ["Eeckhout"]
    assert names(invitation_status="pending") == ["Claes", "Dierickx"]
    assert names(invitation_status="declined,revoked") == []


def test_an_expired_invitation_filters_as_expired(
    api: Api, db: Runner, owner: Caller, partner: str
) -> None:
    client, invitation = api.invited_client(owner, partner)

    async def past() -> None:
        await Invitation.update(
            {Invitation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
        ).where(Invitation.id == UUID(invitation["id"]))

    db(past)
    api.client_row(owner, partner, name="Other")
    page = owner.ok("GET", clients_url(partner), params={"invitation_status": "expired"})
    assert [c["id"] for c in page["items"]] == [client["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"email_status": "bounced"}, "email_status"),
        ({"invitation_status": "superseded"}, "invitation_status"),
        ({"opened": "maybe"}, "opened"),
        ({"sort": "email"}, "sort"),
        ({"status": "archived"}, "status"),
    ],
)
def test_filter_values_are_checked(
    owner: Caller, partner: str, params: dict[str, str], field: str
) -> None:
    problem = assert_problem(
        owner.get(clients_url(partner), params=params), 400, "validation_failed"
    )
    assert [e["field"] for e in problem["errors"]] == [field]


def test_an_unknown_query_parameter_on_a_get_is_refused(
    owner: Caller, partner: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    response = owner.get(clients_url(partner), params={"email_stauts": "failed"})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "email_stauts"
    # The request log (and so the metrics) see the answer's status, not an error's 500.
    rid = response.headers["x-request-id"]
    [logged] = until(
        lambda: [
            line
            for record in caplog.records
            if isinstance(record, Lines)
            for line in record.each()
            if line.request_id == rid
        ]
    )
    assert "?[redacted]" in logged.getMessage()
    assert logged.status == 400


def test_a_query_parameter_given_twice_is_refused(owner: Caller, partner: str) -> None:
    response = owner.get(f"{clients_url(partner)}?limit=1&status=invited&limit=3")
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"] == [
        {"field": "limit", "message": "given more than once; give it once"}
    ]


def test_an_unknown_query_parameter_on_a_post_is_refused(
    api: Api, owner: Caller, partner: str
) -> None:
    response = owner.post(clients_url(partner), json={"name": "A"}, params={"dry_run": "1"})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "dry_run"
    assert owner.ok("GET", clients_url(partner))["items"] == []


def test_public_pages_ignore_tracking_parameters(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    response = api.http.get(
        invitation["url"].split("invites.banqup.example")[1] + "?utm_source=mail"
    )
    assert response.status_code == 200
    assert api.http.get("/.well-known/jwks.json?utm_source=x").status_code == 200


@pytest.fixture
def searchable(api: Api, owner: Caller, partner: str) -> None:
    api.client_row(owner, partner, name="Bäckerei Müller", email="info@mueller.example")
    api.client_row(owner, partner, name="Jansen & Co", vat_number="BE0123456789")
    api.client_row(owner, partner, name="100% Bio", external_ref="K_7")
    api.client_row(owner, partner, name="1000 Bio", external_ref="K17")
    api.client_row(owner, partner, name="Cœur de Bœuf", email="søren@ørsted.example")


def found(owner: Caller, partner: str, term: str) -> list[str]:
    page = owner.ok("GET", clients_url(partner), params={"search": term})
    return [c["name"] for c in page["items"]]


@pytest.mark.parametrize(
    ("term", "names"),
    [
        ("muller", ["Bäckerei Müller"]),
        ("MÜLLER", ["Bäckerei Müller"]),
        ("backerei", ["Bäckerei Müller"]),
        ("be 0123.456-789", ["Jansen & Co"]),
        ("0123.456", ["Jansen & Co"]),
        ("100%", ["100% Bio"]),
        ("%", ["100% Bio"]),
        ("k_7", ["100% Bio"]),
        ("_", ["100% Bio"]),
        ("mueller.example", ["Bäckerei Müller"]),
        ("!", []),
        ("coeur", ["Cœur de Bœuf"]),
        ("BŒUF", ["Cœur de Bœuf"]),
        ("soren@orsted", ["Cœur de Bœuf"]),
    ],
)
def test_search_ignores_case_accents_and_vat_punctuation_and_takes_wildcards_literally(
    searchable: None, owner: Caller, partner: str, term: str, names: list[str]
) -> None:
    assert found(owner, partner, term) == names


def test_search_follows_an_edit(api: Api, owner: Caller, partner: str) -> None:
    client = api.client_row(owner, partner, name="Old Name")
    owner.ok("PATCH", f"{clients_url(partner)}/{client['id']}", json={"name": "Élodie Dupré"})
    assert found(owner, partner, "elodie dupre") == ["Élodie Dupré"]
    assert found(owner, partner, "old") == []
