"""What the services need from the running app: settings, keys, the event bus, caches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec

from api import addresses
from api.auth import AccessTokenVerifier
from api.lru import LRU
from api.services.bus import Caps, EventBus
from api.services.revisions import RevisionCache
from api.settings import Settings, webhook_secret_key
from api.tokens import KeyRing
from api.webhooks.secrets import SecretBox
from mobile_contract import links, models


def utcnow() -> datetime:
    return datetime.now(UTC)


class Context(msgspec.Struct, kw_only=True):
    settings: Settings
    keys: KeyRing
    bus: EventBus
    verifier: AccessTokenVerifier
    webhook_secrets: SecretBox
    proxies: addresses.TrustedProxies = msgspec.field(
        default_factory=lambda: addresses.TrustedProxies(())
    )
    # Set when an email is queued, so the outbox worker looks at once.
    mail_queued: asyncio.Event = msgspec.field(default_factory=asyncio.Event)
    # Set when webhook deliveries are queued (or a sender has room), so the worker looks.
    webhooks_queued: asyncio.Event = msgspec.field(default_factory=asyncio.Event)
    # The ETag of each client-list query last answered (partner, user, parameters).
    list_etags: RevisionCache[Any, str] = msgspec.field(default_factory=RevisionCache)
    # The (email, language) this process last recorded of each user (api.services.users).
    known_users: LRU[str, tuple[str | None, str | None]] = msgspec.field(
        default_factory=lambda: LRU(10_000)
    )
    # The tab counts of each partner's client list, per search, and when its next
    # invitation expires.
    client_counts: RevisionCache[Any, tuple[models.ClientCounts, float]] = msgspec.field(
        default_factory=RevisionCache
    )
    # Until when each recently checked invitation token stays usable.
    token_states: RevisionCache[str, datetime] = msgspec.field(default_factory=RevisionCache)

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        """The context of a process with these settings (the app's, the CLI's, the demo's);
        raises ConfigError for an unreadable key file or identity provider setting."""
        keys = KeyRing.from_files(
            settings.invite_signing_key_file,
            settings.invite_previous_key_files,
            create=settings.app_env == "dev",
        )
        return cls(
            settings=settings,
            keys=keys,
            bus=EventBus(
                Caps(
                    settings.longpolls_per_user,
                    settings.longpolls_per_partner,
                    settings.longpolls_per_process,
                )
            ),
            verifier=AccessTokenVerifier(settings),
            webhook_secrets=SecretBox(webhook_secret_key(settings)),
            proxies=addresses.TrustedProxies(settings.trusted_proxies),
        )

    def urls(self, token: str) -> dict[str, str]:
        base, scheme = self.settings.public_base_url, self.settings.app_scheme
        return {
            "url": links.universal_link(base, token),
            "app_url": links.app_link(scheme, token),
            "qr_svg_url": links.qr_image_url(base, token, "svg"),
            "qr_png_url": links.qr_image_url(base, token, "png"),
        }
