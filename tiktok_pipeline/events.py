"""TikTok Shop webhook event types: the numeric ``type`` of a push and its ``event_type`` name.

The numbers and names follow TikTok's numbered webhook pages (see the reference, section 9).
Types we do not know are still stored: :func:`event_name` gives them a stable placeholder name.
:meth:`WebhookEvent.parse` reads an event however a person or a URL names it; the CLI, the
receiver's routes and the listener registry all go through it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class WebhookEvent(IntEnum):
    """A webhook topic; the value is the ``type`` number TikTok sends in the push body."""

    ORDER_STATUS_CHANGE = 1
    REVERSE_STATUS_UPDATE = 2
    RECIPIENT_ADDRESS_UPDATE = 3
    PACKAGE_UPDATE = 4
    PRODUCT_STATUS_CHANGE = 5
    SELLER_DEAUTHORIZATION = 6
    UPCOMING_AUTHORIZATION_EXPIRATION = 7
    CANCELLATION_STATUS_CHANGE = 11
    RETURN_STATUS_CHANGE = 12
    NEW_CONVERSATION = 13
    NEW_MESSAGE = 14
    PRODUCT_INFORMATION_CHANGE = 15
    PRODUCT_CREATION = 16
    SHOPPABLE_CONTENT_POSTING = 17
    PRODUCT_CATEGORY_CHANGE = 18
    SIZE_CHART_CHANGE = 19
    CREATOR_DEAUTHORIZATION = 20
    INBOUND_FBT_ORDER_STATUS_CHANGE = 21
    FBT_MERCHANT_ONBOARDING = 22
    GOODS_MATCH = 23
    FBT_INVENTORY_UPDATE = 24
    OPPORTUNITY_MATCHING_STATUS_CHANGE = 25
    INVENTORY_STATUS_CHANGE = 27
    NEW_MESSAGE_LISTENER = 33
    TOKOPEDIA_MIRROR_STATUS_CHANGE = 35
    INVOICE_STATUS_CHANGE = 36
    PRODUCT_AUDIT_STATUS_CHANGE = 37
    STRIKETHROUGH_PRICE_EXPIRED = 38
    ACTIVITY_STATUS_CHANGE = 39
    COMBINED_LISTING_CHANGE = 42
    IMAGE_TRANSLATION_COMPLETED = 46
    GLOBAL_REPLICATION_STATUS_CHANGE = 51
    GLOBAL_LISTING_METHOD_CHANGE = 52
    VIDEO_PRECHECK_RESULT = 55

    @property
    def slug(self) -> str:
        """The kebab-case name used in per-event webhook URLs, e.g. ``order-status-change``."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_slug(cls, slug: str) -> WebhookEvent | None:
        """The event for a URL segment, or None when there is no such event.

        Takes the kebab-case slug (``order-status-change``), the name, and the names the
        original package used (``auth-expire``, see :data:`ORIGINAL_NAMES`).
        """
        name = slug.upper().replace("-", "_")
        return cls.__members__.get(name) or ORIGINAL_NAMES.get(name)

    @classmethod
    def parse(cls, value: WebhookEvent | int | str) -> WebhookEvent:
        """The event ``value`` names: an event, its ``type`` number (``1`` or ``"1"``), its name
        (``ORDER_STATUS_CHANGE``), its slug (``order-status-change``) or a name the original
        package used (``auth-expire``).

        Raises ValueError listing the known events.
        """
        number = type_number(value)
        try:
            return cls(number)
        except ValueError:
            raise ValueError(
                f"no webhook event has type {number}; use one of: {_known()}"
            ) from None


#: The original package's (laraditz/tiktok) names that differ from TikTok's, so that its users'
#: registered URLs (``/tiktok/webhooks/auth-expire``) and listeners keep working.
ORIGINAL_NAMES: dict[str, WebhookEvent] = {
    "AUTH_EXPIRE": WebhookEvent.UPCOMING_AUTHORIZATION_EXPIRATION,
    "INVOICCE_STATUS_CHANGE": WebhookEvent.INVOICE_STATUS_CHANGE,
    "FBT_SELLER_ONBOARDING": WebhookEvent.FBT_MERCHANT_ONBOARDING,
}


def type_number(value: WebhookEvent | int | str | Any) -> int:
    """The ``type`` number ``value`` names, as :meth:`WebhookEvent.parse` reads it.

    Unlike ``parse``, numbers no event has yet (``58`` or ``"58"``) are returned as they are:
    TikTok adds topics, and their pushes are stored all the same.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    event = WebhookEvent.from_slug(text) if text else None
    if event is None:
        raise ValueError(
            f"unknown webhook event {value!r}: use a WebhookEvent, a type number, or one of: "
            f"{_known()}"
        )
    return int(event)


def _known() -> str:
    return ", ".join(event.name for event in WebhookEvent)


def event_name(type_number: int) -> str:
    """The ``event_type`` name of a push type; unknown numbers get ``UNKNOWN_<n>``."""
    try:
        return WebhookEvent(type_number).name
    except ValueError:
        return f"UNKNOWN_{type_number}"
