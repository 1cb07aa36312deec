"""The parts of a return that are not its lifecycle: carriers, addresses, record texts, media.

Everything here is a pure function of a hash, a region or a status, so a return renders the same
at every step of its lifecycle.
"""

from __future__ import annotations

from tiktok_pipeline.sandbox.catalog import STREETS, Region
from tiktok_pipeline.sandbox.rng import Draws, mix64

#: Return carriers by region: (provider id, name, tracking number format).
RETURN_CARRIERS: dict[str, tuple[str, str, str]] = {
    "US": ("7129736293935007493", "USPS", "9400{digits:0>18}"),
    "GB": ("7186453812478412550", "Royal Mail", "RM{digits:0>9}GB"),
}
#: The carrier of every other region.
DEFAULT_CARRIER = ("7117858858072016686", "J&T Express", "{digits:0>12}")

#: What Get Return Records says happened at each status (event ``ORDER_RETURN``).
RECORD_TEXTS = {
    ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND"): "Buyer submitted a refund request",
    ("RETURN_OR_REFUND_REQUEST_PENDING", "RETURN_AND_REFUND"): (
        "Buyer submitted a return and refund request"
    ),
    ("REPLACEMENT_REQUEST_PENDING", "REPLACEMENT"): "Buyer submitted a replacement request",
    ("AWAITING_BUYER_SHIP", "RETURN_AND_REFUND"): "Seller approved the return request",
    ("AWAITING_BUYER_SHIP", "REPLACEMENT"): "Seller approved the replacement request",
    ("BUYER_SHIPPED_ITEM", "RETURN_AND_REFUND"): "Buyer shipped the item back",
    ("BUYER_SHIPPED_ITEM", "REPLACEMENT"): "Buyer shipped the item back",
    ("RETURN_OR_REFUND_REQUEST_SUCCESS", "REFUND"): "Seller approved the refund",
    ("RETURN_OR_REFUND_REQUEST_SUCCESS", "RETURN_AND_REFUND"): (
        "Seller received the package and approved the refund"
    ),
    ("RETURN_OR_REFUND_REQUEST_COMPLETE", "REFUND"): "Refund completed",
    ("RETURN_OR_REFUND_REQUEST_COMPLETE", "RETURN_AND_REFUND"): "Refund completed",
    ("REFUND_OR_RETURN_REQUEST_REJECT", "REFUND"): "Seller rejected the refund request",
    ("REFUND_OR_RETURN_REQUEST_REJECT", "RETURN_AND_REFUND"): "Seller rejected the return request",
    ("RETURN_OR_REFUND_REQUEST_CANCEL", "RETURN_AND_REFUND"): "Buyer cancelled the return request",
    ("REPLACEMENT_REQUEST_COMPLETE", "REPLACEMENT"): "Seller shipped the replacement",
}
#: Reasons for which the buyer's request carries photos (and sometimes a video).
EVIDENCE_REASONS = frozenset(
    {
        "ecom_order_delivered_refund_and_return_reason_damaged",
        "ecom_order_delivered_refund_and_return_reason_wrong_item",
    }
)
MEDIA_HOST = "https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us"
VIDEO_HOST = "https://v16m-default.akamaized.net/tos-maliva-v-d8ca36-us"


def carrier(region: str) -> tuple[str, str, str]:
    """(provider id, name, tracking format) of the return carrier of a region."""
    return RETURN_CARRIERS.get(region, DEFAULT_CARRIER)


def tracking_number(region: str, h: int) -> str:
    """A return tracking number in the region carrier's format, from a hash."""
    fmt = carrier(region)[2]
    width = 18 if fmt.startswith("9400") else 9 if fmt.startswith("RM") else 12
    return fmt.format(digits=mix64(h) % 10**width)


def warehouse_address(region: Region, warehouse_id: str) -> str:
    """The full address of a seller warehouse that takes returns (stable per warehouse)."""
    d = Draws(mix64(int(warehouse_id) ^ 0x3E7A))
    city, state, _code, postal = d.pick(region.places)
    return f"{d.between(10, 999)} {d.pick(STREETS)}, {city}, {state} {postal}, {region.country}"


def record_text(status: str, return_type: str) -> str:
    """The description of a return record for reaching ``status``."""
    return RECORD_TEXTS.get((status, return_type), status.replace("_", " ").capitalize())


def evidence(h: int, reason: str) -> tuple[list[dict], list[dict]]:
    """(images, videos) the buyer attached to a request for ``reason``."""
    if reason not in EVIDENCE_REASONS:
        return [], []
    d = Draws(h)
    images = [
        {"url": f"{MEDIA_HOST}/{mix64(h + n):016x}~tplv-origin.jpeg", "width": 1080, "height": 1440}
        for n in range(1 + d.below(3))
    ]
    videos = []
    if d.chance(0.3):
        name = f"{mix64(h ^ 0x51DE0):016x}"
        videos.append(
            {
                "url": f"{VIDEO_HOST}/{name}",
                "cover": f"{MEDIA_HOST}/{name}~tplv-cover.jpeg",
                "width": 720,
                "height": 1280,
                "duration_millis": 1000 * d.between(5, 30),
            }
        )
    return images, videos
