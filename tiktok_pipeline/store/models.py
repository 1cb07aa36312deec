"""Plain value objects the store hands out (immutable; tokens hidden from ``repr``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ShopStatus(StrEnum):
    """Whether the store can get tokens for a shop or an authorization.

    ``needs_reauth`` and ``deauthorized`` need the seller to authorize the app again;
    ``departed`` (shops only) means the seller's authorization no longer lists the shop (the
    seller removed it from the app, or it left the seller): nothing to fix, it becomes active
    again when a shop list names it.
    """

    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DEAUTHORIZED = "deauthorized"
    DEPARTED = "departed"

    @classmethod
    def parse(cls, value: str) -> ShopStatus:
        """The status named ``value``, or a ValueError listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown status {value!r}; use one of: {valid}") from None


class InboxStatus(StrEnum):
    """Where a webhook row of the inbox is in its processing."""

    PENDING = "pending"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Authorization:
    """One seller authorization (``open_id``) and its tokens; shops point at it."""

    id: int
    open_id: str
    seller_name: str | None
    seller_base_region: str | None
    user_type: int | None
    granted_scopes: list[str]
    access_token: str = field(repr=False)
    access_token_expires_at: datetime | None
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: datetime | None
    status: ShopStatus
    status_reason: str | None
    authorized_at: datetime
    last_refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    #: When TikTok says the seller's authorization expires (webhook 7); None until it says so.
    authorization_expires_at: datetime | None = None


@dataclass(frozen=True)
class Shop:
    """A TikTok shop the app is (or was) authorized for."""

    id: str
    name: str | None
    code: str | None
    region: str | None
    seller_type: str | None
    cipher: str | None
    authorization_id: int | None
    status: ShopStatus
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
    deauthorized_at: datetime | None


@dataclass(frozen=True)
class ShopCredentials:
    """What a signed call for one shop needs: its cipher and a valid access token."""

    shop_id: str
    cipher: str | None
    access_token: str = field(repr=False)
    expires_at: datetime | None
    authorization_id: int


@dataclass(frozen=True)
class InboxRow:
    """One received webhook push, as stored in ``tiktok_webhooks``."""

    id: int
    dedupe_key: str
    tts_notification_id: str | None
    type: int
    event_type: str
    shop_id: str | None
    push_timestamp: int | None
    data: Any
    route: str
    received_at: datetime
    status: str
    attempts: int
    run_id: str | None
    error: str | None


@dataclass(frozen=True)
class EventWebhook:
    """A webhook address registered with TikTok for one shop and event type."""

    id: int
    shop_id: str
    event_type: str
    address: str
    created_at: datetime
    updated_at: datetime
