"""Which fields of a TikTok order are the buyer's personal data, and the order without them.

Pure functions: no database. :func:`without_buyer_data` is what both the retention purge and
the loader (for an order already purged) store instead of the order as TikTok sent it.

Removed: the buyer's e-mail, message, nickname, avatar (a link to their TikTok profile
picture) and tax id (``cpf``, ``cpf_name``), and from
``recipient_address`` everything but coarse geography. Kept: the ``user_id`` (TikTok's
pseudonymous buyer id, which names nobody outside TikTok and counts repeat buyers), the
region, post town and the district levels down to the city, and every id, amount, status,
time and line item.
"""

from __future__ import annotations

from typing import Any

#: Top-level order fields that identify or describe the buyer.
BUYER_FIELDS = (
    "buyer_email",
    "buyer_message",
    "buyer_nickname",
    "buyer_avatar",
    "cpf",
    "cpf_name",
)
#: The only ``recipient_address`` fields kept: country/region and city-level geography.
KEPT_ADDRESS_FIELDS = ("region_code", "post_town", "district_info")
#: ``district_info`` levels kept: L0 country, L1 state or province, L2 county or city,
#: L3 city or district; deeper levels (neighbourhood, street) go.
KEPT_ADDRESS_LEVELS = ("L0", "L1", "L2", "L3")
#: Order statuses after which an order no longer changes on its own.
FINAL_ORDER_STATUSES = ("COMPLETED", "CANCELLED")


def _district_info(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [
        level
        for level in value
        if isinstance(level, dict) and level.get("address_level") in KEPT_ADDRESS_LEVELS
    ]


def without_buyer_data(order: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``order`` without the buyer's personal data (``order`` is not changed).

    Applying it again changes nothing, so a purged order hashes the same however often it
    is purged or synced again.
    """
    stripped = {key: value for key, value in order.items() if key not in BUYER_FIELDS}
    address = order.get("recipient_address")
    if isinstance(address, dict):
        kept = {key: address[key] for key in KEPT_ADDRESS_FIELDS if key in address}
        if "district_info" in kept:
            kept["district_info"] = _district_info(kept["district_info"])
        stripped["recipient_address"] = kept
    elif address is not None:
        # Not the documented object: nothing in it can be told apart from the buyer's data.
        stripped["recipient_address"] = None
    return stripped
