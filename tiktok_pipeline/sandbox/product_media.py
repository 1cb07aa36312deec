"""The JSON parts of a product built from its compact traits: images, video, description,
categories, attributes, certifications, size chart, package, delivery options, barcodes.

Traits (:mod:`tiktok_pipeline.sandbox.product_traits`) keep only the numbers and flags drawn for
a product, so a catalog of many thousands of products stays small in memory; these functions
turn them into what Get Product sends, the same way every time. Parts that depend only on the
category or the market are made once and shared.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

from tiktok_pipeline.sandbox.rng import key

if TYPE_CHECKING:
    from tiktok_pipeline.sandbox.product_traits import ProductTraits
    from tiktok_pipeline.sandbox.products import Product, Sku

IMAGE_HOST = "https://p16-oec-va.ibyteimg.com"
#: The EU markets (EU-only fields: manufacturers, unit counts, extra barcodes...).
EU_MARKETS = ("ES", "DE", "FR", "IT", "IE")
#: category id -> (root category id, root name, a recommended leaf (id, name)).
CATEGORY_TREE: dict[str, tuple[str, str, tuple[str, str]]] = {
    "601450": ("824328", "Beauty & Personal Care", ("601461", "Serums & Essences")),
    "601152": ("601151", "Womenswear & Underwear", ("601265", "Knitwear")),
    "600942": ("600001", "Home Supplies", ("600947", "Drinkware")),
    "601739": ("601728", "Phones & Electronics", ("601744", "Phone Stands")),
    "605196": ("601840", "Sports & Outdoor", ("605208", "Yoga Equipment")),
    "600024": ("600019", "Toys & Hobbies", ("600044", "Building Toys")),
}
BRANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "601450": (("7082427311584347905", "Glowa"), ("7082427311584347906", "Dermanova")),
    "601152": (("7082427311584347911", "Linea"), ("7082427311584347912", "Hearth & Knit")),
    "600942": (("7082427311584347921", "Kinfolk Kitchen"),),
    "601739": (("7082427311584347931", "Voltix"), ("7082427311584347932", "Chargewell")),
    "605196": (("7082427311584347941", "Strideon"),),
    "600024": (("7082427311584347951", "Brickford"), ("7082427311584347952", "Cuddle Co")),
}
MATERIALS: dict[str, tuple[str, ...]] = {
    "601450": ("Hyaluronic Acid", "Vitamin C", "Kaolin Clay", "Shea Butter"),
    "601152": ("Cotton", "Linen", "Polyester", "Viscose"),
    "600942": ("Bamboo", "Ceramic", "Borosilicate Glass"),
    "601739": ("ABS Plastic", "Aluminium", "Silicone"),
    "605196": ("TPE", "Natural Latex", "Stainless Steel"),
    "600024": ("ABS Plastic", "Polyester Fibre"),
}
#: Categories that need a certificate: category id -> (certification type id, title).
CERTIFIED = {
    "601450": ("7133271519235343141", "Cosmetic Product Safety Report"),
    "600024": ("7133271519235343142", "Toy Safety Certificate"),
    "601739": ("7133271519235343143", "Declaration of Conformity"),
}
#: (id, name) of the delivery options a product may override, US and elsewhere.
DELIVERY_OPTIONS = {
    "US": (("7129736880813753093", "Standard shipping"), ("7129736880813753094", "Express")),
    "default": (
        ("7129736880813753101", "Standard delivery"),
        ("7129736880813753102", "Economy delivery"),
    ),
}
SUBSCRIBE_LEVELS = ("REGULAR", "FIRST_ORDER", "RETENTION")


def image(uri: str, width: int = 800, height: int = 800) -> dict:
    """An image as TikTok sends it: uri, full-size and thumbnail urls, size in px."""
    return {
        "uri": uri,
        "urls": [f"{IMAGE_HOST}/{uri}~tplv-o3syd03w52-origin-jpeg.jpeg"],
        "thumb_urls": [f"{IMAGE_HOST}/{uri}~tplv-o3syd03w52-resize-jpeg:300:300.jpeg"],
        "width": width,
        "height": height,
    }


def main_images(p: Product, traits: ProductTraits) -> list[dict]:
    """The product's gallery (1-5 images)."""
    return [image(f"tos-maliva-i-o3syd03w52-us/{p.id}-{k}") for k in range(traits.gallery)]


def first_image_url(p: Product) -> str:
    """The url of the product's first gallery image (video cover, description)."""
    return f"{IMAGE_HOST}/tos-maliva-i-o3syd03w52-us/{p.id}-0~tplv-o3syd03w52-origin-jpeg.jpeg"


def sku_image(sku: Sku) -> dict:
    """The image of a SKU's variant."""
    return image(f"tos-sku-{sku.id}")


def supplementary_images(sku: Sku) -> list[dict]:
    """A US SKU's two extra images."""
    return [image(f"tos-sku-{sku.id}-{k}") for k in (1, 2)]


def video(p: Product, traits: ProductTraits) -> dict | None:
    """The product video (portrait, or landscape when ``wide``), or None."""
    if traits.video is None:
        return None
    wide, size_mb = traits.video
    return {
        "id": f"v09044g40000{p.id[-12:]}",
        "url": f"https://v16m-default.akamaized.net/{p.id}/video.mp4",
        "cover_url": first_image_url(p),
        "format": "MP4",
        "width": 1280 if wide else 720,
        "height": 720 if wide else 1280,
        "size": size_mb,
    }


def description(p: Product, traits: ProductTraits) -> str:
    """The HTML description: title and brand, material, origin and the first image."""
    first = first_image_url(p)
    return (
        f"<p>{p.title} by {traits.brand['name']}.</p><ul><li>Material: {traits.material}</li>"
        f"<li>Made in {traits.country}</li></ul>"
        f'<p><img src="{first}" width="800" height="800"></p>'
    )


@lru_cache(maxsize=64)
def brand(brand_id: str, name: str) -> dict:
    """The brand object (shared by every product of the brand)."""
    return {"id": brand_id, "name": name}


@lru_cache(maxsize=64)
def category_chains(category_id: str, name: str) -> list[dict]:
    """The category from its root to the leaf."""
    root_id, root_name, _ = CATEGORY_TREE.get(category_id, ("600000", "Other", ("", "")))
    return [
        {"id": root_id, "parent_id": "0", "local_name": root_name, "is_leaf": False},
        {"id": category_id, "parent_id": root_id, "local_name": name, "is_leaf": True},
    ]


@lru_cache(maxsize=64)
def recommended_category(category_id: str) -> list[dict]:
    """A finer leaf TikTok recommends for products of this category."""
    leaf = CATEGORY_TREE.get(category_id)
    return [] if leaf is None else [{"id": leaf[2][0], "local_name": leaf[2][1]}]


def _value(name: str) -> dict:
    return {"id": str(1_000_000 + zlib.crc32(name.encode()) % 9_000_000), "name": name}


@lru_cache(maxsize=256)
def product_attributes(country: str, material: str) -> list[dict]:
    """Country of origin and material."""
    return [
        {"id": "100107", "name": "Country of Origin", "values": [_value(country)]},
        {"id": "100157", "name": "Material", "values": [_value(material)]},
    ]


def certifications(p: Product, traits: ProductTraits, slot: int) -> list[dict]:
    """The certificate a certified category needs (file, scan and expiry), or none."""
    cert = CERTIFIED.get(p.category_id)
    if cert is None or traits.cert_expiry is None:
        return []
    cert_id, title = cert
    doc = f"{cert_id[:8]}{slot:03d}{p.index:08d}"
    return [
        {
            "id": cert_id,
            "title": title,
            "files": [
                {
                    "id": f"v10b2{doc}",
                    "name": f"{title} {p.id}.pdf",
                    "format": "PDF",
                    "urls": [f"{IMAGE_HOST}/tos-cert/{doc}.pdf"],
                }
            ],
            "images": [image(f"tos-cert/{doc}", 1240, 1754)],
            "expiration_date": traits.cert_expiry,
        }
    ]


def size_chart(p: Product, traits: ProductTraits) -> dict | None:
    """A womenswear product's size chart: a template of the seller's, or an image."""
    if traits.size_chart_template is None:
        return None
    if traits.size_chart_template:
        return {"template": {"id": f"7214{p.id[-15:]}"}}
    return {"image": image(f"tos-maliva-i-o3syd03w52-us/{p.id}-size-chart", 1000, 1400)}


def package(traits: ProductTraits) -> tuple[dict, dict]:
    """Package weight and dimensions (US: pounds and inches; elsewhere kilograms and cm)."""
    length, width, height = traits.dims_cm
    if traits.region == "US":
        return (
            {"value": f"{traits.grams / 453.6:.2f}", "unit": "POUND"},
            {
                "length": f"{length / 2.54:.1f}",
                "width": f"{width / 2.54:.1f}",
                "height": f"{height / 2.54:.1f}",
                "unit": "INCH",
            },
        )
    return (
        {"value": f"{traits.grams / 1000:.2f}", "unit": "KILOGRAM"},
        {"length": str(length), "width": str(width), "height": str(height), "unit": "CENTIMETER"},
    )


def delivery_options(traits: ProductTraits) -> list[dict]:
    """The delivery options the product overrides (empty: the warehouse's defaults apply)."""
    if traits.delivery is None:
        return []
    options = DELIVERY_OPTIONS.get(traits.region, DELIVERY_OPTIONS["default"])
    return [
        {"id": oid, "name": name, "is_available": available}
        for (oid, name), available in zip(options, traits.delivery, strict=True)
    ]


def subscribe_info(traits: ProductTraits) -> dict | None:
    """US Subscribe and Save: supported for consumables; the discount when it is on."""
    if traits.subscribe is None:
        return None
    supported, discount = traits.subscribe
    return {
        "support_subscribe": supported,
        "subscribe_status": "ENABLED" if discount else "NOT_ENABLED",
        "subscribe_discount_details": (
            [{"discount_level": "REGULAR", "discount_value": discount}] if discount else []
        ),
        "subscribe_promotion_config": (
            [
                {
                    "discount_level": level,
                    "discount_options": [5, 10, 15, 20],
                    "min_discount": 5,
                    "max_discount": 20,
                }
                for level in SUBSCRIBE_LEVELS
            ]
            if supported
            else []
        ),
    }


def check_digit(digits: str) -> str:
    """The GS1 check digit of a GTIN body (UPC-A, EAN-13 and JAN share it)."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def identifier_code(region: str, seed: int, slot: int, sku: Sku) -> dict:
    """A valid barcode of the market's usual kind for one SKU (US: UPC, JP: JAN, else EAN)."""
    number = key(seed, slot, sku.product_index, sku.number) % 10**10
    if region == "US":
        body = f"8{number:010d}"
        return {"code": body + check_digit(body), "type": "UPC"}
    prefix = "45" if region == "JP" else "84" if region in EU_MARKETS else "50"
    body = f"{prefix}{number:010d}"
    return {"code": body + check_digit(body), "type": "JAN" if region == "JP" else "EAN"}


def external_ids(seed: int, p: Product, traits: ProductTraits, shop_code: str) -> tuple:
    """(external product id, the product page's url list, one external id per SKU) of a
    product synced from Shopify; empty values otherwise."""
    if not traits.synced:
        return "", [], [""] * len(p.skus)
    handle = p.title.lower().replace(" ", "-")
    return (
        str(8_000_000_000_000 + key(seed, p.index) % 10**12),
        [f"https://{shop_code.lower()}.myshopify.com/products/{handle}"],
        [str(44_000_000_000_000 + key(seed, p.index, s) % 10**12) for s in range(len(p.skus))],
    )


def eu_ids(seed: int, slot: int, p: Product) -> tuple[list[str], list[str]]:
    """EU manufacturer and responsible-person ids (certified categories only)."""
    if p.category_id not in CERTIFIED:
        return [], []
    return (
        [f"7265{key(seed, 0x3A1, int(p.category_id)) % 10**15:015d}"],
        [f"7265{key(seed, 0x3A2, slot) % 10**15:015d}"],
    )


def global_association(p: Product, traits: ProductTraits) -> dict:
    """A cross-border product's global product and the mapping of its SKUs."""
    global_id = traits.global_product_id or ""
    return {
        "global_product_id": global_id,
        "sku_mappings": [
            {
                "global_sku_id": f"1730{global_id[4:-1]}{sku.number}",
                "local_sku_id": sku.id,
                "sales_attribute_mappings": [
                    {
                        "local_attribute_id": "100000",
                        "global_attribute_id": "100000",
                        "local_value_id": str(7000000000000000000 + sku.number),
                        "global_value_id": str(7100000000000000000 + sku.number),
                    }
                ],
            }
            for sku in p.skus
        ],
    }
