"""TikTok's order members that follow a rule of the region, payment or SKU (constants only).

The renderer turns these into pre-encoded texts once per shop
(:mod:`~tiktok_pipeline.sandbox.orders.shop_tables`): nothing here runs per order.
Values TikTok's reference names but does not enumerate are the sandbox's choice, marked [L]
in ``docs/sandbox.md``.
"""

from __future__ import annotations

from tiktok_pipeline.sandbox.orders.lifecycle import STATUS_NAMES

#: Standard VAT / GST rate (basis points) included in the shipping fee of regions whose prices
#: include tax; the US adds sales tax on top instead, Brazil and Malaysia have no VAT on
#: shipping. Unknown regions: none.
SHIPPING_VAT_BP = {
    "GB": 2000,
    "ID": 1100,
    "TH": 700,
    "VN": 1000,
    "PH": 1200,
    "SG": 900,
    "MX": 1600,
    "ES": 2100,
    "JP": 1000,
}

#: ``payment_method_code`` of each of ``catalog.PAYMENT_METHODS`` (by name).
PAYMENT_METHOD_CODES = {
    "CCDC": "CCDC",
    "PayPal": "PAYPAL",
    "Apple Pay": "APPLE_PAY",
    "Google Pay": "GOOGLE_PAY",
    "Bank transfer": "BANK_TRANSFER",
    "Cash on delivery": "COD",
}
#: Card brands of card payments (``payment_card_type``; other methods send ""). [L]
CARD_TYPES = ("VISA", "MASTERCARD", "AMEX", "DISCOVER")
#: Payment methods whose provider may fund a discount (``payment_platform_discount``).
DISCOUNTING_METHODS = ("CCDC", "PayPal", "Apple Pay", "Google Pay")
#: Percent of those orders that get one, its rate (percent of the total, rounded down to the
#: currency's price unit) and its cap (in shipping fees of the region).
PAYMENT_DISCOUNT_SHARE = 12
PAYMENT_DISCOUNT_PERCENT = 5
PAYMENT_DISCOUNT_CAP_FEES = 1

#: The seller's handling time: ``rts_sla_time`` is paid_time + 2 days.
HANDLING_DAYS = 2
#: Fast dispatch (the markets TikTok documents it for): orders with this delivery option (index
#: into ``catalog.DELIVERY_OPTIONS``, "Express Shipping") must be ready to ship within a day of
#: payment (``fast_dispatch_sla_time``); every paid order is recommended to ship within that
#: day too (``recommended_shipping_time``, all markets).
FAST_DISPATCH_REGIONS = ("TH", "PH")
FAST_DISPATCH_OPTION = 1

#: Brazil's ``need_upload_invoice`` by order status: the seller uploads the nota fiscal before
#: arranging shipment; nothing to upload before payment nor for cancelled orders.
INVOICE_BY_STATUS = tuple(
    "NEED_INVOICE"
    if name == "AWAITING_SHIPMENT"
    else "NO_NEED"
    if name in ("UNPAID", "ON_HOLD", "CANCELLED")
    else "INVOICE_UPLOADED"
    for name in STATUS_NAMES
)

#: One sellable SKU in this many is a combined listing (its line items carry
#: ``combined_listing_skus``: the two SKUs that follow it in the shop's sellable list, one of
#: each); the others send an empty list.
COMBINED_LISTING_EVERY = 13
COMBINED_LISTING_PARTS = 2

#: The buyer's TikTok avatar (``buyer_avatar``): CDN path around the buyer's digits.
AVATAR_HEAD = "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/"
AVATAR_TAIL = "~c5_100x100.jpeg"


def is_combined_listing(sellable_index: int) -> bool:
    """Whether the sellable SKU at this index is a combined listing."""
    return sellable_index % COMBINED_LISTING_EVERY == COMBINED_LISTING_EVERY - 1


#: Japanese recipients' names in katakana (``first_name_local_script``,
#: ``last_name_local_script``), by the Latin name the catalog draws.
KATAKANA_NAMES = {
    "Olivia": "オリビア",
    "Liam": "リアム",
    "Emma": "エマ",
    "Noah": "ノア",
    "Ava": "エイヴァ",
    "Mateo": "マテオ",
    "Sofia": "ソフィア",
    "Lucas": "ルーカス",
    "Mia": "ミア",
    "Ethan": "イーサン",
    "Amelia": "アメリア",
    "Aarav": "アーラヴ",
    "Siti": "シティ",
    "Budi": "ブディ",
    "Mei": "メイ",
    "Hiro": "ヒロ",
    "Nur": "ヌル",
    "Chloe": "クロエ",
    "Daniel": "ダニエル",
    "Grace": "グレース",
    "Rizky": "リズキー",
    "Ana": "アナ",
    "Smith": "スミス",
    "Garcia": "ガルシア",
    "Nguyen": "グエン",
    "Tan": "タン",
    "Wong": "ウォン",
    "Brown": "ブラウン",
    "Lopez": "ロペス",
    "Santos": "サントス",
    "Lee": "リー",
    "Kim": "キム",
    "Wilson": "ウィルソン",
    "Rahman": "ラーマン",
    "Putri": "プトリ",
    "Sato": "サトウ",
    "Silva": "シルバ",
    "Taylor": "テイラー",
    "Clark": "クラーク",
    "Lim": "リム",
    "Khan": "カーン",
    "Evans": "エヴァンス",
}
