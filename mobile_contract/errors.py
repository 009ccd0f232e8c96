"""Stable error codes of the HTTP API and the status each one answers with.

Codes are never renamed or reused; a new code gets a new name.
"""

import re
from enum import StrEnum

from mobile_contract.events import EventType


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    VALIDATION_FAILED = "validation_failed"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_SUPERSEDED = "invitation_superseded"
    INVITATION_DECLINED = "invitation_declined"
    INVITATION_ALREADY_ACCEPTED = "invitation_already_accepted"
    NOT_BUSINESS_ADMIN = "not_business_admin"
    BUSINESS_ALREADY_LINKED = "business_already_linked"
    CLIENT_ALREADY_ACTIVE = "client_already_active"
    CLIENT_ALREADY_INVITED = "client_already_invited"
    CLIENT_MISSING_EMAIL = "client_missing_email"
    REGISTRATION_LINK_REVOKED = "registration_link_revoked"
    REGISTRATION_LINK_EXPIRED = "registration_link_expired"
    REGISTRATION_LINK_EXHAUSTED = "registration_link_exhausted"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL_ERROR = "internal_error"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    USER_CODE_EXPIRED = "user_code_expired"
    PAYLOAD_TOO_LARGE = "payload_too_large"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.VALIDATION_FAILED: 400,
    ErrorCode.TOKEN_INVALID: 400,
    ErrorCode.TOKEN_EXPIRED: 410,
    ErrorCode.INVITATION_EXPIRED: 410,
    ErrorCode.INVITATION_REVOKED: 410,
    ErrorCode.INVITATION_SUPERSEDED: 410,
    ErrorCode.INVITATION_DECLINED: 410,
    ErrorCode.INVITATION_ALREADY_ACCEPTED: 409,
    ErrorCode.NOT_BUSINESS_ADMIN: 403,
    ErrorCode.BUSINESS_ALREADY_LINKED: 409,
    ErrorCode.CLIENT_ALREADY_ACTIVE: 409,
    ErrorCode.CLIENT_ALREADY_INVITED: 409,
    ErrorCode.CLIENT_MISSING_EMAIL: 409,
    ErrorCode.REGISTRATION_LINK_REVOKED: 410,
    ErrorCode.REGISTRATION_LINK_EXPIRED: 410,
    ErrorCode.REGISTRATION_LINK_EXHAUSTED: 410,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.USER_CODE_EXPIRED: 410,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
}

TITLES: dict[ErrorCode, str] = {
    ErrorCode.UNAUTHENTICATED: "Sign-in required",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ErrorCode.VALIDATION_FAILED: "Invalid request",
    ErrorCode.TOKEN_INVALID: "Invalid invitation token",
    ErrorCode.TOKEN_EXPIRED: "Invitation token expired",
    ErrorCode.INVITATION_EXPIRED: "Invitation expired",
    ErrorCode.INVITATION_REVOKED: "Invitation revoked",
    ErrorCode.INVITATION_SUPERSEDED: "Invitation replaced by a newer one",
    ErrorCode.INVITATION_DECLINED: "Invitation declined",
    ErrorCode.INVITATION_ALREADY_ACCEPTED: "Invitation already accepted",
    ErrorCode.NOT_BUSINESS_ADMIN: "Not an administrator of this business",
    ErrorCode.BUSINESS_ALREADY_LINKED: "Business already linked to this partner",
    ErrorCode.CLIENT_ALREADY_ACTIVE: "Client already active",
    ErrorCode.CLIENT_ALREADY_INVITED: "Client already invited",
    ErrorCode.CLIENT_MISSING_EMAIL: "Client has no email address",
    ErrorCode.REGISTRATION_LINK_REVOKED: "Registration link revoked",
    ErrorCode.REGISTRATION_LINK_EXPIRED: "Registration link expired",
    ErrorCode.REGISTRATION_LINK_EXHAUSTED: "Registration link used up",
    ErrorCode.RATE_LIMITED: "Too many requests",
    ErrorCode.UNAVAILABLE: "Service temporarily unavailable",
    ErrorCode.INTERNAL_ERROR: "Internal error",
    ErrorCode.IDEMPOTENCY_CONFLICT: "Idempotency key used for another request",
    ErrorCode.USER_CODE_EXPIRED: "Code no longer valid",
    ErrorCode.PAYLOAD_TOO_LARGE: "Request body too large",
}


def problem_type(code: ErrorCode) -> str:
    """The `type` URI of a problem document for `code`."""
    return f"urn:banqup:problem:{code.value}"


LANGUAGES = ("en", "nl", "fr", "de")

_EVENT_TYPES = ", ".join(EventType)
EVENT_TYPES_MESSAGE = f"must be an event type: {_EVENT_TYPES}"

# Every title, detail and field message the API writes in English, in Dutch, French and
# German: (nl, fr, de). `{name}` marks a part copied from the English text (a number, a
# list of values). `code` is never translated.
TRANSLATIONS: dict[str, tuple[str, str, str]] = {
    # titles
    "Sign-in required": ("Aanmelden vereist", "Connexion requise", "Anmeldung erforderlich"),
    "Not found": ("Niet gevonden", "Introuvable", "Nicht gefunden"),
    "Method not allowed": (
        "Methode niet toegestaan",
        "Méthode non autorisée",
        "Methode nicht erlaubt",
    ),
    "Invalid request": ("Ongeldige aanvraag", "Requête invalide", "Ungültige Anfrage"),
    "Invalid invitation token": (
        "Ongeldige uitnodigingscode",
        "Jeton d'invitation invalide",
        "Ungültiges Einladungstoken",
    ),
    "Invitation token expired": (
        "Uitnodigingscode verlopen",
        "Jeton d'invitation expiré",
        "Einladungstoken abgelaufen",
    ),
    "Invitation expired": ("Uitnodiging verlopen", "Invitation expirée", "Einladung abgelaufen"),
    "Invitation revoked": (
        "Uitnodiging ingetrokken",
        "Invitation révoquée",
        "Einladung widerrufen",
    ),
    "Invitation replaced by a newer one": (
        "Uitnodiging vervangen door een nieuwere",
        "Invitation remplacée par une plus récente",
        "Einladung durch eine neuere ersetzt",
    ),
    "Invitation declined": ("Uitnodiging geweigerd", "Invitation refusée", "Einladung abgelehnt"),
    "Invitation already accepted": (
        "Uitnodiging al aanvaard",
        "Invitation déjà acceptée",
        "Einladung bereits angenommen",
    ),
    "Not an administrator of this business": (
        "Geen beheerder van dit bedrijf",
        "Pas administrateur de cette entreprise",
        "Kein Administrator dieses Unternehmens",
    ),
    "Business already linked to this partner": (
        "Bedrijf al gekoppeld aan deze partner",
        "Entreprise déjà liée à ce partenaire",
        "Unternehmen bereits mit diesem Partner verbunden",
    ),
    "Client already active": ("Klant al actief", "Client déjà actif", "Kunde bereits aktiv"),
    "Client already invited": (
        "Klant al uitgenodigd",
        "Client déjà invité",
        "Kunde bereits eingeladen",
    ),
    "Client has no email address": (
        "Klant heeft geen e-mailadres",
        "Le client n'a pas d'adresse e-mail",
        "Kunde hat keine E-Mail-Adresse",
    ),
    "Registration link revoked": (
        "Registratielink ingetrokken",
        "Lien d'inscription révoqué",
        "Registrierungslink widerrufen",
    ),
    "Registration link expired": (
        "Registratielink verlopen",
        "Lien d'inscription expiré",
        "Registrierungslink abgelaufen",
    ),
    "Registration link used up": (
        "Registratielink opgebruikt",
        "Lien d'inscription épuisé",
        "Registrierungslink aufgebraucht",
    ),
    "Too many requests": ("Te veel aanvragen", "Trop de requêtes", "Zu viele Anfragen"),
    "Service temporarily unavailable": (
        "Dienst tijdelijk niet beschikbaar",
        "Service temporairement indisponible",
        "Dienst vorübergehend nicht verfügbar",
    ),
    "Internal error": ("Interne fout", "Erreur interne", "Interner Fehler"),
    "Idempotency key used for another request": (
        "Idempotency-sleutel al gebruikt voor een andere aanvraag",
        "Clé d'idempotence utilisée pour une autre requête",
        "Idempotenzschlüssel für eine andere Anfrage verwendet",
    ),
    "Code no longer valid": (
        "Code niet meer geldig",
        "Code plus valable",
        "Code nicht mehr gültig",
    ),
    "Request body too large": (
        "Aanvraag te groot",
        "Corps de requête trop volumineux",
        "Anfrage zu groß",
    ),
    # details
    "is nested too deeply": (
        "is te diep genest",
        "est imbriqué trop profondément",
        "ist zu tief verschachtelt",
    ),
    "did not arrive in time": (
        "kwam niet op tijd aan",
        "n'est pas arrivé à temps",
        "kam nicht rechtzeitig an",
    ),
    "Sign in with a bearer access token": (
        "Meld u aan met een bearer-toegangstoken",
        "Connectez-vous avec un jeton d'accès bearer",
        "Melden Sie sich mit einem Bearer-Zugriffstoken an",
    ),
    "access token expired": (
        "toegangstoken verlopen",
        "jeton d'accès expiré",
        "Zugriffstoken abgelaufen",
    ),
    "access token invalid": (
        "toegangstoken ongeldig",
        "jeton d'accès invalide",
        "Zugriffstoken ungültig",
    ),
    "No such client": (
        "Deze klant bestaat niet",
        "Ce client n'existe pas",
        "Diesen Kunden gibt es nicht",
    ),
    "No such partner": (
        "Deze partner bestaat niet",
        "Ce partenaire n'existe pas",
        "Diesen Partner gibt es nicht",
    ),
    "No such invitation": (
        "Deze uitnodiging bestaat niet",
        "Cette invitation n'existe pas",
        "Diese Einladung gibt es nicht",
    ),
    "No such business": (
        "Dit bedrijf bestaat niet",
        "Cette entreprise n'existe pas",
        "Dieses Unternehmen gibt es nicht",
    ),
    "No such link": (
        "Deze koppeling bestaat niet",
        "Ce lien n'existe pas",
        "Diese Verbindung gibt es nicht",
    ),
    "No such registration link": (
        "Deze registratielink bestaat niet",
        "Ce lien d'inscription n'existe pas",
        "Diesen Registrierungslink gibt es nicht",
    ),
    "No such webhook": (
        "Deze webhook bestaat niet",
        "Ce webhook n'existe pas",
        "Diesen Webhook gibt es nicht",
    ),
    "No such delivery": (
        "Deze levering bestaat niet",
        "Cette livraison n'existe pas",
        "Diese Zustellung gibt es nicht",
    ),
    "This partner may send {cap} invitations a day in its first week; {left} remain today.": (
        "Deze partner mag in zijn eerste week {cap} uitnodigingen per dag versturen;"
        " vandaag blijven er {left} over.",
        "Ce partenaire peut envoyer {cap} invitations par jour pendant sa première semaine ;"
        " il en reste {left} aujourd'hui.",
        "Dieser Partner darf in seiner ersten Woche {cap} Einladungen pro Tag senden;"
        " heute bleiben {left}.",
    ),
    "This partner may send {cap} invitations a day; {left} remain today.": (
        "Deze partner mag {cap} uitnodigingen per dag versturen; vandaag blijven er {left} over.",
        "Ce partenaire peut envoyer {cap} invitations par jour ; il en reste {left} aujourd'hui.",
        "Dieser Partner darf {cap} Einladungen pro Tag senden; heute bleiben {left}.",
    ),
    "This partner may send {cap} invitations a day in its first week;"
    " send these {count} in parts of at most {most}.": (
        "Deze partner mag in zijn eerste week {cap} uitnodigingen per dag versturen;"
        " verstuur deze {count} in delen van hoogstens {most}.",
        "Ce partenaire peut envoyer {cap} invitations par jour pendant sa première semaine ;"
        " envoyez ces {count} en parties de {most} au plus.",
        "Dieser Partner darf in seiner ersten Woche {cap} Einladungen pro Tag senden;"
        " senden Sie diese {count} in Teilen von höchstens {most}.",
    ),
    "This partner may send {cap} invitations a day;"
    " send these {count} in parts of at most {most}.": (
        "Deze partner mag {cap} uitnodigingen per dag versturen;"
        " verstuur deze {count} in delen van hoogstens {most}.",
        "Ce partenaire peut envoyer {cap} invitations par jour ;"
        " envoyez ces {count} en parties de {most} au plus.",
        "Dieser Partner darf {cap} Einladungen pro Tag senden;"
        " senden Sie diese {count} in Teilen von höchstens {most}.",
    ),
    "Too many long-polls held at once; poll again shortly.": (
        "Te veel long-polls tegelijk; vraag straks opnieuw.",
        "Trop de long-polls en attente à la fois ; réessayez sous peu.",
        "Zu viele gleichzeitig gehaltene Long-Polls; fragen Sie gleich erneut.",
    ),
    "The metrics token is missing or wrong.": (
        "Het metrics-token ontbreekt of is fout.",
        "Le jeton des métriques est absent ou erroné.",
        "Das Metrik-Token fehlt oder ist falsch.",
    ),
    "The database is unreachable.": (
        "De databank is onbereikbaar.",
        "La base de données est injoignable.",
        "Die Datenbank ist nicht erreichbar.",
    ),
    "The change listener is disconnected.": (
        "De luisteraar naar wijzigingen is niet verbonden.",
        "L'écouteur de changements est déconnecté.",
        "Der Änderungs-Listener ist getrennt.",
    ),
    "App links are not configured": (
        "App-links zijn niet ingesteld",
        "Les liens d'application ne sont pas configurés",
        "App-Links sind nicht eingerichtet",
    ),
    "Universal links are not configured": (
        "Universele links zijn niet ingesteld",
        "Les liens universels ne sont pas configurés",
        "Universelle Links sind nicht eingerichtet",
    ),
    "No invitation has this code; check it and try again.": (
        "Geen uitnodiging heeft deze code; controleer hem en probeer opnieuw.",
        "Aucune invitation n'a ce code ; vérifiez-le et réessayez.",
        "Keine Einladung hat diesen Code; prüfen Sie ihn und versuchen Sie es erneut.",
    ),
    "This code is no longer valid; ask for a new one.": (
        "Deze code is niet meer geldig; vraag een nieuwe.",
        "Ce code n'est plus valable ; demandez-en un nouveau.",
        "Dieser Code ist nicht mehr gültig; fordern Sie einen neuen an.",
    ),
    "This code was already used; ask for a new one.": (
        "Deze code is al gebruikt; vraag een nieuwe.",
        "Ce code a déjà été utilisé ; demandez-en un nouveau.",
        "Dieser Code wurde bereits verwendet; fordern Sie einen neuen an.",
    ),
    "Too many wrong codes; try again later.": (
        "Te veel foute codes; probeer het later opnieuw.",
        "Trop de codes erronés ; réessayez plus tard.",
        "Zu viele falsche Codes; versuchen Sie es später erneut.",
    ),
    "This is not a valid invitation token.": (
        "Dit is geen geldige uitnodigingscode.",
        "Ce n'est pas un jeton d'invitation valide.",
        "Dies ist kein gültiges Einladungstoken.",
    ),
    "This QR code has expired; ask for a new one.": (
        "Deze QR-code is verlopen; vraag een nieuwe.",
        "Ce code QR a expiré ; demandez-en un nouveau.",
        "Dieser QR-Code ist abgelaufen; fordern Sie einen neuen an.",
    ),
    "This invitation has expired.": (
        "Deze uitnodiging is verlopen.",
        "Cette invitation a expiré.",
        "Diese Einladung ist abgelaufen.",
    ),
    "This invitation was withdrawn.": (
        "Deze uitnodiging werd ingetrokken.",
        "Cette invitation a été retirée.",
        "Diese Einladung wurde zurückgezogen.",
    ),
    "A newer invitation replaced this one.": (
        "Een nieuwere uitnodiging verving deze.",
        "Une invitation plus récente a remplacé celle-ci.",
        "Eine neuere Einladung hat diese ersetzt.",
    ),
    "This invitation was declined.": (
        "Deze uitnodiging werd geweigerd.",
        "Cette invitation a été refusée.",
        "Diese Einladung wurde abgelehnt.",
    ),
    "This invitation was already accepted.": (
        "Deze uitnodiging werd al aanvaard.",
        "Cette invitation a déjà été acceptée.",
        "Diese Einladung wurde bereits angenommen.",
    ),
    "You must administer this business.": (
        "U moet dit bedrijf beheren.",
        "Vous devez administrer cette entreprise.",
        "Sie müssen dieses Unternehmen verwalten.",
    ),
    "This business is already linked to the partner.": (
        "Dit bedrijf is al aan de partner gekoppeld.",
        "Cette entreprise est déjà liée au partenaire.",
        "Dieses Unternehmen ist bereits mit dem Partner verbunden.",
    ),
    "The client is linked; disconnect it first.": (
        "De klant is gekoppeld; ontkoppel hem eerst.",
        "Le client est lié ; déconnectez-le d'abord.",
        "Der Kunde ist verbunden; trennen Sie ihn zuerst.",
    ),
    "The client is already linked.": (
        "De klant is al gekoppeld.",
        "Le client est déjà lié.",
        "Der Kunde ist bereits verbunden.",
    ),
    "The client has a pending invitation.": (
        "De klant heeft een openstaande uitnodiging.",
        "Le client a une invitation en attente.",
        "Der Kunde hat eine offene Einladung.",
    ),
    "The client has no email address.": (
        "De klant heeft geen e-mailadres.",
        "Le client n'a pas d'adresse e-mail.",
        "Der Kunde hat keine E-Mail-Adresse.",
    ),
    "This client was invited less than a minute ago; try again shortly.": (
        "Deze klant werd minder dan een minuut geleden uitgenodigd; probeer zo meteen opnieuw.",
        "Ce client a été invité il y a moins d'une minute ; réessayez dans un instant.",
        "Dieser Kunde wurde vor weniger als einer Minute eingeladen; versuchen Sie es gleich erneut.",
    ),
    "This registration link was withdrawn.": (
        "Deze registratielink werd ingetrokken.",
        "Ce lien d'inscription a été retiré.",
        "Dieser Registrierungslink wurde zurückgezogen.",
    ),
    "This registration link has expired.": (
        "Deze registratielink is verlopen.",
        "Ce lien d'inscription a expiré.",
        "Dieser Registrierungslink ist abgelaufen.",
    ),
    "This registration link has been used up.": (
        "Deze registratielink is opgebruikt.",
        "Ce lien d'inscription est épuisé.",
        "Dieser Registrierungslink ist aufgebraucht.",
    ),
    "This Idempotency-Key was used for a different request; use a new key.": (
        "Deze Idempotency-Key werd voor een andere aanvraag gebruikt; gebruik een nieuwe sleutel.",
        "Cette Idempotency-Key a servi pour une autre requête ; utilisez une nouvelle clé.",
        "Dieser Idempotency-Key wurde für eine andere Anfrage verwendet; nutzen Sie einen neuen.",
    ),
    "The answer under this Idempotency-Key showed a client since deleted; use a new key.": (
        "Het antwoord onder deze Idempotency-Key toonde een klant die sindsdien is"
        " verwijderd; gebruik een nieuwe sleutel.",
        "La réponse sous cette Idempotency-Key montrait un client supprimé depuis ;"
        " utilisez une nouvelle clé.",
        "Die Antwort unter diesem Idempotency-Key zeigte einen inzwischen gelöschten"
        " Kunden; verwenden Sie einen neuen Schlüssel.",
    ),
    "The request with this Idempotency-Key was carried out, but its answer was lost;"
    " its changes are in the partner's events. Use a new key.": (
        "De aanvraag met deze Idempotency-Key is uitgevoerd, maar het antwoord ging verloren;"
        " de wijzigingen staan in de gebeurtenissen van de partner. Gebruik een nieuwe sleutel.",
        "La requête avec cette Idempotency-Key a été exécutée, mais sa réponse a été perdue ;"
        " ses modifications figurent dans les événements du partenaire."
        " Utilisez une nouvelle clé.",
        "Die Anfrage mit diesem Idempotency-Key wurde ausgeführt, aber ihre Antwort ging"
        " verloren; ihre Änderungen stehen in den Ereignissen des Partners."
        " Verwenden Sie einen neuen Schlüssel.",
    ),
    "This request took so long that a repeat with its Idempotency-Key was carried out"
    " instead; nothing of this one was kept.": (
        "Deze aanvraag duurde zo lang dat een herhaling met dezelfde Idempotency-Key in haar"
        " plaats is uitgevoerd; van deze is niets bewaard.",
        "Cette requête a pris tant de temps qu'une répétition avec la même Idempotency-Key a"
        " été exécutée à sa place ; rien de celle-ci n'a été conservé.",
        "Diese Anfrage dauerte so lange, dass eine Wiederholung mit demselben Idempotency-Key"
        " an ihrer Stelle ausgeführt wurde; von dieser wurde nichts übernommen.",
    ),
    "The first request with this Idempotency-Key is still being processed; retry.": (
        "De eerste aanvraag met deze Idempotency-Key loopt nog; probeer opnieuw.",
        "La première requête avec cette Idempotency-Key est en cours ; réessayez.",
        "Die erste Anfrage mit diesem Idempotency-Key läuft noch; versuchen Sie es erneut.",
    ),
    "A concurrent change got in the way; retry.": (
        "Een gelijktijdige wijziging kwam tussenbeide; probeer opnieuw.",
        "Une modification simultanée a interféré ; réessayez.",
        "Eine gleichzeitige Änderung kam dazwischen; versuchen Sie es erneut.",
    ),
    "The database is unreachable; retry later.": (
        "De databank is onbereikbaar; probeer later opnieuw.",
        "La base de données est injoignable ; réessayez plus tard.",
        "Die Datenbank ist nicht erreichbar; versuchen Sie es später erneut.",
    ),
    "The identity provider cannot be reached to check the access token; retry.": (
        "De identiteitsprovider is onbereikbaar om het toegangstoken te controleren;"
        " probeer opnieuw.",
        "Le fournisseur d'identité est injoignable pour vérifier le jeton d'accès ; réessayez.",
        "Der Identitätsanbieter ist zur Prüfung des Zugriffstokens nicht erreichbar;"
        " versuchen Sie es erneut.",
    ),
    # field messages (api.field_messages and the services' own)
    "is required": ("is verplicht", "est obligatoire", "ist erforderlich"),
    "is not a field of this request": (
        "is geen veld van deze aanvraag",
        "n'est pas un champ de cette requête",
        "ist kein Feld dieser Anfrage",
    ),
    "not a valid email address": (
        "geen geldig e-mailadres",
        "adresse e-mail invalide",
        "keine gültige E-Mail-Adresse",
    ),
    "not a valid VAT number (letters, digits, spaces, dots and dashes)": (
        "geen geldig btw-nummer (letters, cijfers, spaties, punten en streepjes)",
        "numéro de TVA invalide (lettres, chiffres, espaces, points et tirets)",
        "keine gültige USt-IdNr. (Buchstaben, Ziffern, Leerzeichen, Punkte und Bindestriche)",
    ),
    "must be one line of text": (
        "moet één regel tekst zijn",
        "doit être une seule ligne de texte",
        "muss eine Textzeile sein",
    ),
    "must not contain control characters": (
        "mag geen stuurtekens bevatten",
        "ne doit pas contenir de caractères de contrôle",
        "darf keine Steuerzeichen enthalten",
    ),
    "must be a two-letter country code such as BE": (
        "moet een landcode van twee letters zijn, zoals BE",
        "doit être un code pays de deux lettres, comme BE",
        "muss ein zweistelliger Ländercode wie BE sein",
    ),
    "not an invitation token": (
        "geen uitnodigingscode",
        "pas un jeton d'invitation",
        "kein Einladungstoken",
    ),
    "must be 1 to 255 printable ASCII characters": (
        "moet 1 tot 255 afdrukbare ASCII-tekens zijn",
        "doit compter de 1 à 255 caractères ASCII imprimables",
        "muss 1 bis 255 druckbare ASCII-Zeichen lang sein",
    ),
    "is not in the form this field takes": (
        "heeft niet de vorm die dit veld aanneemt",
        "n'a pas la forme attendue pour ce champ",
        "hat nicht die Form, die dieses Feld annimmt",
    ),
    "is not one of the values this field takes": (
        "is geen van de waarden die dit veld aanneemt",
        "n'est pas une des valeurs acceptées par ce champ",
        "ist keiner der Werte, die dieses Feld annimmt",
    ),
    "must be one of {values}": (
        "moet een van {values} zijn",
        "doit être l'un de {values}",
        "muss einer von {values} sein",
    ),
    "must be a web address (https://…)": (
        "moet een webadres zijn (https://…)",
        "doit être une adresse web (https://…)",
        "muss eine Webadresse sein (https://…)",
    ),
    "must be enabled or disabled": (
        "moet enabled of disabled zijn",
        "doit être enabled ou disabled",
        "muss enabled oder disabled sein",
    ),
    EVENT_TYPES_MESSAGE: (
        f"moet een gebeurtenistype zijn: {_EVENT_TYPES}",
        f"doit être un type d'événement : {_EVENT_TYPES}",
        f"muss ein Ereignistyp sein: {_EVENT_TYPES}",
    ),
    "must be full or read_only": (
        "moet full of read_only zijn",
        "doit être full ou read_only",
        "muss full oder read_only sein",
    ),
    "must not be empty": ("mag niet leeg zijn", "ne doit pas être vide", "darf nicht leer sein"),
    "must have at least {n} characters": (
        "moet minstens {n} tekens hebben",
        "doit avoir au moins {n} caractères",
        "muss mindestens {n} Zeichen haben",
    ),
    "must have at most {n} characters": (
        "mag hoogstens {n} tekens hebben",
        "doit avoir au plus {n} caractères",
        "darf höchstens {n} Zeichen haben",
    ),
    "must have at least {n} items": (
        "moet minstens {n} elementen hebben",
        "doit avoir au moins {n} éléments",
        "muss mindestens {n} Einträge haben",
    ),
    "must have at most {n} items": (
        "mag hoogstens {n} elementen hebben",
        "doit avoir au plus {n} éléments",
        "darf höchstens {n} Einträge haben",
    ),
    "must be at least {n}": (
        "moet minstens {n} zijn",
        "doit valoir au moins {n}",
        "muss mindestens {n} sein",
    ),
    "must be at most {n}": (
        "mag hoogstens {n} zijn",
        "doit valoir au plus {n}",
        "darf höchstens {n} sein",
    ),
    "must be more than {n}": (
        "moet meer dan {n} zijn",
        "doit dépasser {n}",
        "muss größer als {n} sein",
    ),
    "must be less than {n}": (
        "moet minder dan {n} zijn",
        "doit être inférieur à {n}",
        "muss kleiner als {n} sein",
    ),
    "must be a date and time such as 2027-01-31T23:59:59Z": (
        "moet een datum en tijd zijn, zoals 2027-01-31T23:59:59Z",
        "doit être une date et une heure, comme 2027-01-31T23:59:59Z",
        "muss Datum und Uhrzeit sein, etwa 2027-01-31T23:59:59Z",
    ),
    "must be text": ("moet tekst zijn", "doit être du texte", "muss Text sein"),
    "must be a whole number": (
        "moet een geheel getal zijn",
        "doit être un nombre entier",
        "muss eine ganze Zahl sein",
    ),
    "must be a number": ("moet een getal zijn", "doit être un nombre", "muss eine Zahl sein"),
    "must be true or false": (
        "moet true of false zijn",
        "doit être true ou false",
        "muss true oder false sein",
    ),
    "must be a list": ("moet een lijst zijn", "doit être une liste", "muss eine Liste sein"),
    "must be an object": ("moet een object zijn", "doit être un objet", "muss ein Objekt sein"),
    "must be an id (UUID)": (
        "moet een id (UUID) zijn",
        "doit être un identifiant (UUID)",
        "muss eine ID (UUID) sein",
    ),
    "has the wrong type": ("heeft het verkeerde type", "a le mauvais type", "hat den falschen Typ"),
    "is required: a JSON object": (
        "is verplicht: een JSON-object",
        "est obligatoire : un objet JSON",
        "ist erforderlich: ein JSON-Objekt",
    ),
    "is not valid JSON": (
        "is geen geldige JSON",
        "n'est pas du JSON valide",
        "ist kein gültiges JSON",
    ),
    "has a number out of range": (
        "bevat een getal buiten bereik",
        "contient un nombre hors limites",
        "enthält eine Zahl außerhalb des zulässigen Bereichs",
    ),
    "is not a JSON body this route takes": (
        "is geen JSON-inhoud die deze route aanneemt",
        "n'est pas un corps JSON accepté par cette route",
        "ist kein JSON-Inhalt, den diese Route annimmt",
    ),
    "the row must be an object": (
        "de rij moet een object zijn",
        "la ligne doit être un objet",
        "die Zeile muss ein Objekt sein",
    ),
    "{value} is not one of {values}": (
        "{value} is geen van {values}",
        "{value} n'est pas l'un de {values}",
        "{value} ist keiner von {values}",
    ),
    "given more than once; give it once": (
        "meer dan eens gegeven; geef het één keer",
        "donné plus d'une fois ; donnez-le une seule fois",
        "mehr als einmal angegeben; geben Sie ihn einmal an",
    ),
    "unknown query parameter; this route takes: {names}": (
        "onbekende queryparameter; deze route neemt: {names}",
        "paramètre de requête inconnu ; cette route accepte : {names}",
        "unbekannter Abfrageparameter; diese Route nimmt: {names}",
    ),
    "not a code: 8 letters shown as XXXX-XXXX": (
        "geen code: 8 letters, getoond als XXXX-XXXX",
        "pas un code : 8 lettres affichées comme XXXX-XXXX",
        "kein Code: 8 Buchstaben, angezeigt als XXXX-XXXX",
    ),
    "give exactly one of token or user_code": (
        "geef precies één van token of user_code",
        "donnez exactement l'un de token ou user_code",
        "geben Sie genau eines von token oder user_code an",
    ),
    "give exactly one of business_id or new_business": (
        "geef precies één van business_id of new_business",
        "donnez exactement l'un de business_id ou new_business",
        "geben Sie genau eines von business_id oder new_business an",
    ),
    "not a cursor returned by this endpoint": (
        "geen cursor van dit endpoint",
        "pas un curseur renvoyé par ce point d'accès",
        "kein Cursor dieses Endpunkts",
    ),
    "not a cursor returned by this endpoint, nor `latest`": (
        "geen cursor van dit endpoint, noch `latest`",
        "ni un curseur renvoyé par ce point d'accès, ni `latest`",
        "weder ein Cursor dieses Endpunkts noch `latest`",
    ),
    "beyond the newest event ({n}); use a cursor from this feed": (
        "voorbij de nieuwste gebeurtenis ({n}); gebruik een cursor uit deze feed",
        "au-delà de l'événement le plus récent ({n}) ; utilisez un curseur de ce flux",
        "jenseits des neuesten Ereignisses ({n}); nutzen Sie einen Cursor dieses Feeds",
    ),
    "this cursor belongs to another sort; start again without it": (
        "deze cursor hoort bij een andere sortering; begin opnieuw zonder",
        "ce curseur appartient à un autre tri ; recommencez sans lui",
        "dieser Cursor gehört zu einer anderen Sortierung; beginnen Sie ohne ihn neu",
    ),
    "each must be below the invitation lifetime ({ttl} days)": (
        "elk moet onder de levensduur van de uitnodiging liggen ({ttl} dagen)",
        "chacun doit être inférieur à la durée de vie de l'invitation ({ttl} jours)",
        "jeder muss unter der Gültigkeitsdauer der Einladung liegen ({ttl} Tage)",
    ),
    "must increase, each day once": (
        "moet stijgen, elke dag één keer",
        "doit croître, chaque jour une seule fois",
        "muss ansteigen, jeder Tag nur einmal",
    ),
    "a partner has at most {count} webhooks": (
        "een partner heeft hoogstens {count} webhooks",
        "un partenaire a au plus {count} webhooks",
        "ein Partner hat höchstens {count} Webhooks",
    ),
    "the host did not resolve in time": (
        "de host werd niet op tijd opgezocht",
        "l'hôte n'a pas été résolu à temps",
        "der Host wurde nicht rechtzeitig aufgelöst",
    ),
    "must be before the year 10000 in UTC": (
        "moet in UTC vóór het jaar 10000 liggen",
        "doit être avant l'an 10000 en UTC",
        "muss in UTC vor dem Jahr 10000 liegen",
    ),
    "must be in the future": (
        "moet in de toekomst liggen",
        "doit être dans le futur",
        "muss in der Zukunft liegen",
    ),
    "give a time zone, e.g. 2027-01-31T23:59:59Z": (
        "geef een tijdzone, bv. 2027-01-31T23:59:59Z",
        "indiquez un fuseau horaire, p. ex. 2027-01-31T23:59:59Z",
        "geben Sie eine Zeitzone an, z. B. 2027-01-31T23:59:59Z",
    ),
}


def _template(english: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", english)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(pattern + r"\Z")


_TEMPLATES = [(_template(en), en) for en in TRANSLATIONS if "{" in en]


def translate(text: str, language: str) -> str:
    """`text` (a title, detail or field message written in English) in `language`; the
    English text itself when the language is English or the text has no translation."""
    if language not in LANGUAGES[1:]:
        return text
    column = LANGUAGES.index(language) - 1
    found = TRANSLATIONS.get(text)
    if found is not None:
        return found[column]
    for pattern, english in _TEMPLATES:
        if match := pattern.match(text):
            return TRANSLATIONS[english][column].format(**match.groupdict())
    return text
