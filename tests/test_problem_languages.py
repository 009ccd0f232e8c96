"""Problem documents follow Accept-Language (en, nl, fr, de); `code` never changes."""

from __future__ import annotations

import pytest

from mobile_contract import TITLES, ErrorCode
from mobile_contract.errors import LANGUAGES, TRANSLATIONS, translate
from tests.support import Api, Caller, assert_problem

FAKE_ID = "00000000-0000-4000-8000-000000000000"


def test_a_dutch_caller_gets_a_dutch_title_and_detail(owner: Caller, partner: str) -> None:
    response = owner.get(
        f"/api/v1/partners/{partner}/clients/{FAKE_ID}",
        headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"},
    )
    problem = assert_problem(response, 404, "not_found")
    assert problem["title"] == "Niet gevonden"
    assert problem["detail"] == "Deze klant bestaat niet"
    assert response.headers["content-language"] == "nl"


def test_validation_messages_follow_the_language(owner: Caller, partner: str) -> None:
    response = owner.post(
        f"/api/v1/partners/{partner}/clients",
        json={"name": "x" * 201, "email": "nope"},
        headers={"Accept-Language": "de"},
    )
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["title"] == "Ungültige Anfrage"
    assert problem["errors"][0]["message"] in (
        "darf höchstens 200 Zeichen haben",
        "keine gültige E-Mail-Adresse",
    )
    assert problem["detail"].startswith(problem["errors"][0]["field"] + ": ")


@pytest.mark.parametrize(
    ("body", "language", "words"),
    [
        (b"", "en", "is required: a JSON object"),
        (b"", "nl", "is verplicht: een JSON-object"),
        (b'{"name": "\\ud800"}', "en", "is not valid JSON"),
        (b'{"name": "x"', "fr", "n'est pas du JSON valide"),
        (b'{"name": "x", "reminder_days": [1e400]}', "en", "has a number out of range"),
    ],
)
def test_a_body_that_is_no_json_object_is_said_in_words(
    owner: Caller, body: bytes, language: str, words: str
) -> None:
    response = owner.post(
        "/api/v1/partners",
        content=body,
        headers={"Content-Type": "application/json", "Accept-Language": language},
    )
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"] == [{"field": "body", "message": words}]
    assert problem["detail"] == f"body: {words}"


def test_a_french_app_user_reads_why_a_code_failed(api: Api) -> None:
    response = api.user("ben").post(
        "/api/v1/mobile/invitations/preview",
        json={"user_code": "BBBB-BBBB"},
        headers={"Accept-Language": "fr-BE"},
    )
    problem = assert_problem(response, 404, "not_found")
    assert problem["detail"] == "Aucune invitation n'a ce code ; vérifiez-le et réessayez."


@pytest.mark.parametrize("header", ["es", "", "*", "nl;q=0"])
def test_other_languages_get_english(owner: Caller, partner: str, header: str) -> None:
    response = owner.get(
        f"/api/v1/partners/{partner}/clients/{FAKE_ID}", headers={"Accept-Language": header}
    )
    problem = assert_problem(response, 404, "not_found")
    assert (problem["title"], problem["detail"]) == ("Not found", "No such client")


def test_every_title_is_translated() -> None:
    for code in ErrorCode:
        assert TITLES[code] in TRANSLATIONS, code
    assert all(len(set(t)) == len(LANGUAGES) - 1 for t in TRANSLATIONS.values() if "{" not in t[0])


def test_messages_with_values_keep_them() -> None:
    assert translate("must have at most 200 characters", "nl") == "mag hoogstens 200 tekens hebben"
    assert translate("'x' is not one of queued, sent", "fr") == "'x' n'est pas l'un de queued, sent"
    assert translate("must have at most 200 characters", "en") == "must have at most 200 characters"


def test_the_errors_of_a_bulk_answer_follow_the_language(
    api: Api, owner: Caller, partner: str
) -> None:
    rows = {"clients": [{"name": "Ok"}, {"name": "Bad", "email": "nope"}, 5]}
    url = f"/api/v1/partners/{partner}/clients/import"
    imported = owner.ok("POST", url, json=rows, headers={"Accept-Language": "de"})["results"]
    assert [r.get("error") for r in imported] == [
        None,
        {
            "code": "validation_failed",
            "detail": "email: keine gültige E-Mail-Adresse",
            "field": "email",
        },
        {"code": "validation_failed", "detail": "die Zeile muss ein Objekt sein", "field": None},
    ]
    client = imported[0]["client"]
    invite = {"client_ids": [client["id"], FAKE_ID], "send_email": False}
    key = {"Idempotency-Key": "bulk-languages"}
    url = f"/api/v1/partners/{partner}/invitations"
    first = owner.ok("POST", url, json=invite, headers=key | {"Accept-Language": "nl"})
    assert first["results"][1]["error"] == {
        "code": "not_found",
        "detail": "Deze klant bestaat niet",
        "field": None,
    }
    # A repeat is answered in the repeater's language.
    again = owner.ok("POST", url, json=invite, headers=key | {"Accept-Language": "fr"})
    assert again["results"][1]["error"] == {
        "code": "not_found",
        "detail": "Ce client n'existe pas",
        "field": None,
    }
    assert again["results"][0] == first["results"][0]


def test_the_frameworks_not_found_and_method_not_allowed_follow_the_language(
    owner: Caller, partner: str
) -> None:
    nowhere = owner.get("/api/v1/nowhere", headers={"Accept-Language": "fr"})
    assert assert_problem(nowhere, 404, "not_found")["detail"] == "Introuvable"
    method = owner.request(
        "DELETE", f"/api/v1/partners/{partner}", headers={"Accept-Language": "nl"}
    )
    problem = assert_problem(method, 405, "method_not_allowed")
    assert (
        problem["detail"]
        == problem["title"]
        == translate(TITLES[ErrorCode.METHOD_NOT_ALLOWED], "nl")
    )


def test_every_message_the_service_writes_has_its_translations() -> None:
    """The English texts of problems and item errors, as the code writes them (literal
    messages of `AppError`, `not_found`, `invalid`, `_item_error`, and the `No such …` of
    `found`/`partner_row`), each found in every language."""
    import ast
    from pathlib import Path

    messages: set[str] = set()
    for source in Path("api").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            position = {"AppError": 1, "not_found": 0, "invalid": 1, "_item_error": 1}.get(
                str(name)
            )
            if position is not None and len(node.args) > position:
                argument = node.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    messages.add(argument.value)
            if name in ("found", "partner_row") and isinstance(node.args[-1], ast.Constant):
                messages.add(f"No such {node.args[-1].value}")
    assert len(messages) > 40  # the scan finds them
    for language in LANGUAGES[1:]:
        untranslated = sorted(m for m in messages if translate(m, language) == m)
        assert untranslated == [], language
