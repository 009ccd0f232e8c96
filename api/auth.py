"""Access-token verification and the signed-in user.

Access tokens come from the identity provider: HS256 with a shared secret in
development, or asymmetric keys from a JWKS URL in production. Verification pins the
algorithm list, and requires `exp`, `iss` and `aud`. A token that verified is remembered
until its `exp` (dashboards send the same one with every poll, and verifying costs more
than answering a poll from memory).

The provider's keys (`IdentityKeys`) are fetched from its JWKS, one fetch at a time, and
kept an hour; a token with a `kid` they lack fetches them again, at most every 30 s. While
the provider cannot be reached, or answers something that is no key set, the keys it last
published keep working, and a token that needs a fetch is answered 503 with `Retry-After`
at once (an app signs out on a 401).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import msgspec
from litestar.types import Scope

from api.errors import AppError
from api.lru import LRU
from api.settings import Settings, dev_hs256_secret
from mobile_contract import ErrorCode
from mobile_contract.models import Email, Name, User

log = logging.getLogger("api.auth")
JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
JWKS_KEEP_SECONDS = 3600  # how long the provider's key set is used before it is fetched again
JWKS_COOLDOWN_SECONDS = 30  # between two fetches for a `kid` the set lacks
JWKS_FETCH_SECONDS = 5  # a fetch that takes longer has failed
JWKS_RETRY_SECONDS = 5  # after a failed fetch: 503 at once meanwhile, then one tries again
MAX_ACCESS_TOKEN_LENGTH = 8192
# How far ahead of ours the identity provider's clock may be: a token it has just made is
# accepted though its iat or nbf is that much in our future.
CLOCK_SKEW_SECONDS = 30
MAX_SUB_LENGTH = 255
# Text a claim cannot carry into the database, emails or pages: control characters, and
# lone surrogates (JSON may hold `\ud800`; no database stores it).
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
VERIFIED_CACHE_SIZE = 10_000


class IdentityKeys:
    """The identity provider's signing keys, from its JWKS (see the module's docstring)."""

    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=JWKS_FETCH_SECONDS)
        self._keys: dict[str, Any] = {}  # by kid
        self._fetched = -math.inf  # time.monotonic() of the last fetch that succeeded
        self._tried = -math.inf  # ... and of the last one at all
        self._failed = False  # whether that one failed
        self._fetching = asyncio.Lock()  # one fetch at a time; the others wait for it
        self._threads = ThreadPoolExecutor(1, thread_name_prefix="jwks")  # urllib blocks

    async def key(self, kid: str) -> Any:
        """The public key `kid`: 401 when the provider does not publish it, 503 while the
        provider cannot be reached to tell."""
        if not self._needs_fetch(kid):
            return self._known(kid)
        async with self._fetching:
            if self._needs_fetch(kid):  # (not done meanwhile by the fetch waited for)
                await self._fetch()
        return self._known(kid)

    def _needs_fetch(self, kid: str) -> bool:
        now = time.monotonic()
        if self._failed and now - self._tried < JWKS_RETRY_SECONDS:
            return False
        if now - self._fetched >= JWKS_KEEP_SECONDS:
            return True
        return kid not in self._keys and now - self._tried >= JWKS_COOLDOWN_SECONDS

    async def _fetch(self) -> None:
        self._tried = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            keys = await asyncio.wait_for(
                loop.run_in_executor(self._threads, self._client.get_signing_keys),
                JWKS_FETCH_SECONDS + 1,
            )
        except (jwt.PyJWTError, ValueError, OSError) as exc:
            # Unreachable or timed out, but also an answer that is no key set: a proxy's
            # page (not JSON), a set without one usable key. The last keys stay in use.
            self._failed = True
            log.warning("identity provider keys: %s: %s", type(exc).__name__, exc)
            return
        self._keys = {key.key_id: key.key for key in keys if key.key_id}
        self._fetched, self._failed = self._tried, False

    def _known(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is not None:
            return key  # the last published, while the provider is away
        if self._failed:
            raise AppError(
                ErrorCode.UNAVAILABLE,
                "The identity provider cannot be reached to check the access token; retry.",
                retry_after=JWKS_RETRY_SECONDS,
            )
        raise unauthenticated("access token invalid")


class AccessTokenVerifier:
    """Verifies bearer tokens and turns their claims into a `User`."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.auth_audience
        self._verified: LRU[str, tuple[User, float]] = LRU(VERIFIED_CACHE_SIZE)
        self._jwks: IdentityKeys | None = None
        self._secret: str | None = None
        if settings.auth_jwks_url:
            self._jwks = IdentityKeys(settings.auth_jwks_url)
        else:
            self._secret = dev_hs256_secret(settings)

    def issue(self, sub: str, email: str | None, name: str | None, ttl: int = 12 * 3600) -> str:
        """A development access token (HS256); only where this service knows the secret."""
        if self._secret is None:
            raise RuntimeError("tokens are issued by the identity provider (AUTH_JWKS_URL is set)")
        now = int(time.time())
        claims: dict[str, Any] = {"sub": sub, "iss": self.issuer, "aud": self.audience}
        claims |= {"iat": now, "exp": now + ttl}
        if email:
            claims["email"] = email
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def remembered(self, token: str) -> User | None:
        """The user of `token` if it verified before and has not expired since."""
        known = self._verified.get(token)
        if known is None:
            return None
        user, expires = known
        if time.time() >= expires:
            self._verified.pop(token)
            return None
        return user

    def remembered_caller(self, scope: Scope) -> User | None:
        """The user of a raw ASGI request's bearer token if it verified before: for the
        answers given before the route, which never verify a token themselves."""
        token = bearer_in(scope)
        return None if token is None else self.remembered(token)

    async def verify(self, token: str) -> User:
        user = self.remembered(token)
        if user is not None:
            return user
        user, expires = await self._verify(token)
        self._verified.put(token, (user, expires))
        return user

    async def _verify(self, token: str) -> tuple[User, float]:
        """The user of `token` and when the token expires, or 401."""
        if len(token) > MAX_ACCESS_TOKEN_LENGTH:
            raise unauthenticated("access token too long")
        try:
            if self._jwks is not None:
                kid = jwt.get_unverified_header(token).get("kid")
                if not isinstance(kid, str):
                    raise unauthenticated("access token invalid")
                key: Any = await self._jwks.key(kid)
                algorithms = JWKS_ALGORITHMS
            else:
                key = self._secret
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=CLOCK_SKEW_SECONDS,  # for iat and nbf; exp is held exactly below
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise unauthenticated(_reason(exc)) from None
        exp = claims["exp"]
        # A NumericDate is a JSON number (PyJWT also takes a string of digits); one too
        # large for a float is no time at all.
        if not isinstance(exp, int | float) or isinstance(exp, bool) or not exp < 1e300:
            raise unauthenticated("access token invalid")
        expires = float(exp)
        if expires <= time.time():
            raise unauthenticated("access token expired")
        return user_of(claims), expires


def user_of(claims: dict[str, Any]) -> User:
    """The user a verified token names: 401 without a usable `sub`. An `email` or a `name`
    that is not what the contract takes as one (an `Email`, a one-line `Name`) is left out
    as if the token had none: both are stored, and shown in emails and to partners."""
    sub, name = claims.get("sub"), claims.get("name")
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUB_LENGTH or _UNSTORABLE.search(sub):
        raise unauthenticated("access token has no usable sub")
    return User(
        sub=sub,
        email=_as(Email, claims.get("email")),
        name=_as(Name, name.strip() if isinstance(name, str) else None),
    )


def _as(kind: Any, value: Any) -> str | None:
    """`value` if it is text of the contract's `kind` that can be stored, else None."""
    if not isinstance(value, str) or _UNSTORABLE.search(value):
        return None
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "access token expired"
    if isinstance(exc, jwt.InvalidAudienceError | jwt.InvalidIssuerError):
        return "access token is not for this service"
    return "access token invalid"


def bearer_of(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer …` header value, if it is one."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def header(scope: Scope, name: bytes) -> str | None:
    """An ASGI request's header `name` (lower case), if it has one."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def bearer_in(scope: Scope) -> str | None:
    """The bearer token of an ASGI request's `Authorization` header, if it has one."""
    authorization = header(scope, b"authorization")
    return None if authorization is None else bearer_of(authorization)


def unauthenticated(detail: str = "Sign in with a bearer access token") -> AppError:
    return AppError(ErrorCode.UNAUTHENTICATED, detail)
