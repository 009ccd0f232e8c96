"""Request bodies decode strictly: a value of the wrong JSON type is refused, not coerced."""

from tests.support import Api, Caller, assert_problem


def test_a_number_in_a_string_is_not_an_integer(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token"
    problem = assert_problem(owner.post(url, json={"ttl_seconds": "300"}), 400, "validation_failed")
    assert problem["errors"] == [{"field": "ttl_seconds", "message": "must be a whole number"}]
    assert owner.post(url, json={"ttl_seconds": 300}).status_code == 201


def test_strings_are_not_booleans_nor_numbers_in_nested_fields(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    response = owner.post(f"/api/v1/partners/{partner}/registration-links", json={"max_uses": "10"})
    assert_problem(response, 400, "validation_failed")
    response = api.user("ben").post(
        "/api/v1/mobile/invitations/confirm",
        json={"token": "a.b.c", "new_business": {"name": 5}},
    )
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "new_business.name"


def test_a_missing_field_still_names_the_field(api: Api, owner: Caller) -> None:
    problem = assert_problem(owner.post("/api/v1/partners", json={}), 400, "validation_failed")
    assert problem["errors"] == [{"field": "name", "message": "is required"}]


def test_dates_and_ids_in_strings_still_decode(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    link = owner.ok(
        "POST",
        f"/api/v1/partners/{partner}/registration-links",
        201,
        json={"expires_at": "2099-01-31T23:59:59Z", "max_uses": 10},
    )
    assert link["max_uses"] == 10
    assert link["expires_at"].startswith("2099-01-31T23:59:59")


def test_a_caller_without_a_token_gets_401_whatever_the_body(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token"
    assert_problem(api.http.post(url, json={"ttl_seconds": "300"}), 401, "unauthenticated")
    forged = {"Authorization": "Bearer not-a-token"}
    refused = api.http.post(url, json={"ttl_seconds": "300"}, headers=forged)
    assert_problem(refused, 401, "unauthenticated")
    assert_problem(owner.post(url, json={"ttl_seconds": "300"}), 400, "validation_failed")
