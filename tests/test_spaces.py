"""Who am I, and creating partners and businesses."""

from tests.support import Api, assert_problem


def test_me_lists_memberships(api: Api) -> None:
    alice = api.user("alice")
    partner = api.partner(alice, "Acme Accountants")
    business = api.business(alice, "Alice's Bakery")
    me = alice.ok("GET", "/api/v1/me")
    assert me == {
        "user": {"sub": "alice", "email": "alice@example.com", "name": "Alice"},
        "partners": [{"id": partner, "name": "Acme Accountants", "role": "admin"}],
        "businesses": [{"id": business, "name": "Alice's Bakery", "role": "admin"}],
    }


def test_a_new_user_belongs_to_nothing(api: Api) -> None:
    me = api.user("newbie").ok("GET", "/api/v1/me")
    assert me["partners"] == [] and me["businesses"] == []


def test_create_partner_returns_it(api: Api) -> None:
    body = api.user().ok(
        "POST", "/api/v1/partners", 201, json={"name": " Acme ", "vat_number": "BE0123456789"}
    )
    assert body["name"] == "Acme"
    assert body["vat_number"] == "BE0123456789"
    assert set(body) == {"id", "name", "vat_number", "created_at", "reminder_days"}
    assert body["reminder_days"] == [3.0, 10.0]  # INVITATION_REMINDER_DAYS's default


def test_a_partner_shows_its_settings_to_its_members_only(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner, "Acme")
    changed = owner.ok(
        "PATCH", f"/api/v1/partners/{partner}", json={"vat_number": "BE01", "reminder_days": [2]}
    )
    shown = owner.ok("GET", f"/api/v1/partners/{partner}")
    assert shown == changed
    assert (shown["name"], shown["vat_number"], shown["reminder_days"]) == ("Acme", "BE01", [2])
    assert_problem(api.user("mallory").get(f"/api/v1/partners/{partner}"), 404, "not_found")


def test_create_business_returns_it(api: Api) -> None:
    body = api.user().ok(
        "POST",
        "/api/v1/businesses",
        201,
        json={"name": "Bakery", "vat_number": "BE0999", "country": "BE"},
    )
    assert {k: body[k] for k in ("name", "vat_number", "country")} == {
        "name": "Bakery",
        "vat_number": "BE0999",
        "country": "BE",
    }


def test_partner_name_is_required_and_bounded(api: Api) -> None:
    user = api.user()
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": 5},
        {"name": "a\nb"},
    ):
        problem = assert_problem(user.post("/api/v1/partners", json=body), 400, "validation_failed")
        assert problem["errors"] and problem["errors"][0]["field"] == "name"


def test_business_country_must_be_iso(api: Api) -> None:
    response = api.user().post("/api/v1/businesses", json={"name": "B", "country": "Belgium"})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "country"


def test_unknown_fields_are_refused(api: Api) -> None:
    response = api.user().post("/api/v1/partners", json={"name": "A", "colour": "red"})
    problem = assert_problem(response, 400, "validation_failed")
    assert "colour" in problem["detail"]
