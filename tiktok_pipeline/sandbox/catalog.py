"""Static ingredients of the generated data: regions, currencies, names, places, products."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """What the data of a shop in one region looks like.

    Attributes:
        code: the region code (``US``, ``GB`` ...).
        currency: ISO 4217 code.
        decimals: minor-unit digits of the currency (IDR, VND, JPY: 0).
        price_factor: multiplies a USD price to this currency.
        rounding: prices are multiples of this many minor units.
        sales_tax: True when tax is added on top (US); else prices include VAT.
        phone_prefix: shown in masked phone numbers.
        shipping_fee: the usual shipping fee in minor units.
        places: (city, state or province, state code, postal code) tuples.
        country: country name for the address's district info.
    """

    code: str
    currency: str
    decimals: int
    price_factor: float
    rounding: int
    sales_tax: bool
    phone_prefix: str
    shipping_fee: int
    places: tuple[tuple[str, str, str, str], ...]
    country: str


REGIONS: dict[str, Region] = {
    r.code: r
    for r in (
        Region(
            "US",
            "USD",
            2,
            1.0,
            1,
            True,
            "(+1)",
            599,
            (
                ("Los Angeles", "California", "CA", "90012"),
                ("Denver", "Colorado", "CO", "80202"),
                ("Austin", "Texas", "TX", "73301"),
                ("Brooklyn", "New York", "NY", "11201"),
                ("Miami", "Florida", "FL", "33101"),
                ("Seattle", "Washington", "WA", "98101"),
                ("Minneapolis", "Minnesota", "MN", "55401"),
            ),
            "United States",
        ),
        Region(
            "GB",
            "GBP",
            2,
            0.8,
            1,
            False,
            "(+44)",
            399,
            (
                ("London", "Greater London", "LND", "SW1A 1AA"),
                ("Manchester", "Greater Manchester", "MAN", "M1 1AE"),
                ("Preston", "Lancashire", "LAN", "PR1 2HE"),
                ("Leeds", "West Yorkshire", "WYK", "LS1 4AP"),
            ),
            "United Kingdom",
        ),
        Region(
            "ID",
            "IDR",
            0,
            15000.0,
            100,
            False,
            "(+62)",
            15000,
            (
                ("Jakarta Selatan", "DKI Jakarta", "JK", "12190"),
                ("Bandung", "Jawa Barat", "JB", "40111"),
                ("Surabaya", "Jawa Timur", "JI", "60111"),
            ),
            "Indonesia",
        ),
        Region(
            "MY",
            "MYR",
            2,
            4.5,
            10,
            False,
            "(+60)",
            600,
            (
                ("Kuala Lumpur", "Wilayah Persekutuan", "KUL", "50050"),
                ("George Town", "Penang", "PNG", "10200"),
            ),
            "Malaysia",
        ),
        Region(
            "TH",
            "THB",
            2,
            35.0,
            100,
            False,
            "(+66)",
            4000,
            (("Bangkok", "Bangkok", "BKK", "10100"), ("Chiang Mai", "Chiang Mai", "CNX", "50000")),
            "Thailand",
        ),
        Region(
            "VN",
            "VND",
            0,
            24000.0,
            1000,
            False,
            "(+84)",
            30000,
            (
                ("Ho Chi Minh City", "Ho Chi Minh", "SG", "700000"),
                ("Hanoi", "Ha Noi", "HN", "100000"),
            ),
            "Vietnam",
        ),
        Region(
            "PH",
            "PHP",
            2,
            55.0,
            100,
            False,
            "(+63)",
            5000,
            (("Quezon City", "Metro Manila", "MNL", "1100"), ("Cebu City", "Cebu", "CEB", "6000")),
            "Philippines",
        ),
        Region(
            "SG",
            "SGD",
            2,
            1.35,
            10,
            False,
            "(+65)",
            399,
            (("Singapore", "Singapore", "SG", "018956"),),
            "Singapore",
        ),
        Region(
            "MX",
            "MXN",
            2,
            18.0,
            100,
            False,
            "(+52)",
            9900,
            (
                ("Ciudad de Mexico", "CDMX", "CMX", "06000"),
                ("Guadalajara", "Jalisco", "JAL", "44100"),
            ),
            "Mexico",
        ),
        Region(
            "ES",
            "EUR",
            2,
            0.92,
            1,
            False,
            "(+34)",
            399,
            (("Madrid", "Madrid", "MD", "28001"), ("Barcelona", "Catalonia", "CT", "08001")),
            "Spain",
        ),
        Region(
            "JP",
            "JPY",
            0,
            150.0,
            10,
            False,
            "(+81)",
            500,
            (("Shibuya", "Tokyo", "13", "150-0002"), ("Osaka", "Osaka", "27", "530-0001")),
            "Japan",
        ),
        Region(
            "BR",
            "BRL",
            2,
            5.0,
            10,
            False,
            "(+55)",
            1990,
            (
                ("Sao Paulo", "Sao Paulo", "SP", "01001-000"),
                ("Rio de Janeiro", "Rio de Janeiro", "RJ", "20010-000"),
            ),
            "Brazil",
        ),
    )
}

#: US state sales-tax rates in basis points, and the states with a retail delivery fee.
US_TAX_BP = {"CA": 725, "CO": 290, "TX": 625, "NY": 400, "FL": 600, "WA": 650, "MN": 688}
US_RETAIL_DELIVERY_FEE = {"CO": 28, "MN": 50}


def region(code: str) -> Region:
    """The region table entry; unknown codes get USD-like defaults under their own code."""
    known = REGIONS.get(code)
    if known is not None:
        return known
    base = REGIONS["GB"]
    return Region(code, "USD", 2, 1.0, 1, False, base.phone_prefix, 499, base.places, code)


def money(minor: int, decimals: int) -> str:
    """A decimal string from minor units (``1234`` -> ``"12.34"`` for 2 decimals)."""
    if decimals == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    unit = 10**decimals
    return f"{sign}{minor // unit}.{minor % unit:0{decimals}d}"


FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sofia",
    "Lucas",
    "Mia",
    "Ethan",
    "Amelia",
    "Aarav",
    "Siti",
    "Budi",
    "Mei",
    "Hiro",
    "Nur",
    "Chloe",
    "Daniel",
    "Grace",
    "Rizky",
    "Ana",
)
LAST_NAMES = (
    "Smith",
    "Garcia",
    "Nguyen",
    "Tan",
    "Wong",
    "Brown",
    "Lopez",
    "Santos",
    "Lee",
    "Kim",
    "Wilson",
    "Rahman",
    "Putri",
    "Sato",
    "Silva",
    "Taylor",
    "Clark",
    "Lim",
    "Khan",
    "Evans",
)
STREETS = (
    "Maple Ave",
    "Oak Street",
    "High Street",
    "Jalan Sudirman",
    "Station Road",
    "Park Lane",
    "Sunset Blvd",
    "Market Street",
    "Church Road",
    "River Road",
    "Hillcrest Drive",
    "Elm Street",
)
SHOP_WORDS = (
    ("Maple", "Luna", "Coral", "Urban", "Sunny", "Velvet", "Nordic", "Cosmo", "Petal", "Ember"),
    ("Beauty", "Threads", "Home", "Gadgets", "Outdoors", "Studio", "Market", "Kids", "Glow"),
)
SELLER_WORDS = ("Holdings", "Trading", "Group", "Co", "Collective", "Brands")
BUYER_MESSAGES = ("", "", "", "Please ship asap!", "Gift wrap please", "Leave at the front door")
SELLER_NOTES = ("", "", "", "VIP buyer", "Check stock before shipping")
SHIPPING_PROVIDERS = (
    ("6617675021119438849", "TT Virtual express"),
    ("7129736293935007493", "USPS"),
    ("7117858858072016686", "J&T Express"),
    ("7186453812478412550", "Royal Mail"),
)
PAYMENT_METHODS = ("CCDC", "PayPal", "Apple Pay", "Google Pay", "Bank transfer", "Cash on delivery")
DELIVERY_OPTIONS = (
    ("7091146663229654785", "Standard Shipping"),
    ("7091146663229654786", "Express Shipping"),
)
UNPAID_CANCEL_REASONS = ("Payment timeout", "No longer needed", "Need to change payment method")
SELLER_CANCEL_REASONS = ("Out of stock", "Pricing error", "Unable to deliver to buyer address")
BUYER_CANCEL_REASONS = ("Changed my mind", "Better price elsewhere", "Ordered by mistake")
RETURN_REASONS = (
    ("ecom_order_delivered_refund_and_return_reason_damaged", "Damaged product"),
    ("ecom_order_delivered_refund_and_return_reason_wrong_item", "Wrong item sent"),
    ("ecom_order_delivered_refund_and_return_reason_not_as_described", "Not as described"),
    ("ecom_order_delivered_refund_and_return_reason_size", "Size doesn't fit"),
)

#: (category id, category name, product nouns, variant attribute name, variant values)
PRODUCT_KINDS = (
    (
        "601450",
        "Skincare",
        ("Hydrating Face Serum", "Vitamin C Cream", "Clay Mask", "Lip Balm Set"),
        "Size",
        ("30ml", "50ml", "100ml"),
    ),
    (
        "601152",
        "Womenswear",
        ("Crochet Cardigan", "Ribbed Tank Top", "Linen Wide Pants", "Oversized Hoodie"),
        "Size",
        ("S", "M", "L", "XL"),
    ),
    (
        "600942",
        "Kitchen",
        ("Bamboo Cutting Board", "Ceramic Mug", "Glass Food Container"),
        "Color",
        ("White", "Sage", "Charcoal"),
    ),
    (
        "601739",
        "Phone Accessories",
        ("Wireless Earbuds", "Magnetic Phone Stand", "USB-C Fast Charger", "Ring Light"),
        "Color",
        ("Black", "White", "Pink"),
    ),
    (
        "605196",
        "Fitness",
        ("Yoga Mat", "Resistance Bands Set", "Insulated Water Bottle"),
        "Color",
        ("Blue", "Black", "Lilac"),
    ),
    (
        "600024",
        "Toys",
        ("Building Blocks Set", "Plush Bunny", "Puzzle 1000 Pieces"),
        "Edition",
        ("Classic", "Deluxe"),
    ),
)
PRODUCT_ADJECTIVES = ("Premium", "Everyday", "Eco", "Classic", "Mini", "Pro", "Soft", "Travel")
PRODUCT_STATUSES_RARE = (
    ("DRAFT", 40),
    ("SELLER_DEACTIVATED", 50),
    ("PLATFORM_DEACTIVATED", 20),
    ("PENDING", 20),
    ("FAILED", 10),
    ("FREEZE", 10),
)

GRANTED_SCOPES = (
    "seller.authorization.info",
    "seller.shop.info",
    "seller.order.info",
    "seller.product.basic",
    "seller.product.write",
    "seller.return_refund.basic",
    "seller.finance.info",
    "seller.fulfillment.basic",
)
