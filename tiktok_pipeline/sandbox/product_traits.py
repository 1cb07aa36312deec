"""What does not change about a product once listed: media, brand, logistics, links, bundles.

Get Product and Product Search carry many fields that depend on the product's region and
category but not on time (images, video, certifications, package, delivery options, external
platform links, pre-sale terms, virtual-bundle membership). Their random parts are drawn once
per product from a stream of their own (so the older fields of every product are unchanged) and
kept compact (numbers and flags); :mod:`tiktok_pipeline.sandbox.product_media` turns them into
JSON and :mod:`tiktok_pipeline.sandbox.product_render` adds what depends on the time (status,
audit, stock).

Rare features are tied to a product's place in the catalog so that even a small shop shows each
of them: in every :data:`FEATURE_CYCLE` products, the product at :data:`BUNDLE_SLOT` is a virtual
bundle of the next two products, and those at :data:`PRE_SALE_SLOTS` are sold on pre-sale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.sandbox.product_media import (
    BRANDS,
    CERTIFIED,
    EU_MARKETS,
    MATERIALS,
    brand,
)
from tiktok_pipeline.sandbox.rng import Draws, key

if TYPE_CHECKING:
    from tiktok_pipeline.sandbox.products import Product, ProductCatalog

DAY = 86400
FEATURE_CYCLE = 20
BUNDLE_SLOT = 5
PRE_SALE_SLOTS = (3, 13)
#: Markets where buyers may pay cash on delivery (TikTok's COD markets).
COD_MARKETS = ("ID", "MY", "PH", "TH", "VN")


@dataclass(slots=True)
class BundlePart:
    """One source SKU of a virtual bundle."""

    product_index: int
    sku_number: int
    count: int


@dataclass(slots=True)
class ProductTraits:
    """The time-independent draws of a product (see :mod:`product_media` for their JSON)."""

    region: str
    country: str
    brand: dict
    material: str
    gallery: int
    video: tuple[bool, int] | None
    recommended: bool
    cert_expiry: int | None
    size_chart_template: bool | None
    grams: int
    dims_cm: tuple[int, int, int]
    delivery: tuple[bool, bool] | None
    shipping_template_id: str | None
    synced: bool
    is_cod_allowed: bool
    quality_tier: str | None
    tokopedia: bool
    insurance: str
    minimum_order_quantity: int | None
    pre_approved_reason: str | None
    pre_sale: dict | None
    handling_time: int
    deactivated_skus: frozenset[int]
    bundle: list[BundlePart]
    in_bundle: bool = False
    family: dict | None = None
    is_replicated: bool = False
    replicate_source: tuple[str, str] | None = None
    global_product_id: str | None = None
    subscribe: tuple[bool, int] | None = None


def make_traits(catalog: ProductCatalog, p: Product) -> ProductTraits:
    """The time-independent draws of ``p`` (deterministic per seed, shop and product)."""
    ctx = catalog.ctx
    region = ctx.region.code
    d = Draws(key(ctx.seed, ctx.slot, 0x9D06, p.index))
    brand_id, brand_name = d.pick(BRANDS.get(p.category_id, (("0", "No brand"),)))
    gallery = 1 + d.below(5)
    video = (d.chance(0.3), d.between(2, 48)) if d.chance(0.55) else None
    material = d.pick(MATERIALS.get(p.category_id, ("Mixed",)))
    cert_expiry = None
    if p.category_id in CERTIFIED:
        cert_expiry = p.create_time + d.between(365, 3 * 365) * DAY
    size_chart_template = d.chance(0.5) if p.category_id == "601152" else None
    grams = d.between(80, 2400)
    dims = sorted((d.between(5, 45), d.between(5, 35), d.between(2, 20)), reverse=True)
    delivery = (True, d.chance(0.6)) if d.chance(0.3) else None
    n_skus = len(p.skus)
    traits = ProductTraits(
        region=region,
        country=ctx.region.country,
        brand=brand(brand_id, brand_name),
        material=material,
        gallery=gallery,
        video=video,
        recommended=d.chance(0.2),
        cert_expiry=cert_expiry,
        size_chart_template=size_chart_template,
        grams=grams,
        dims_cm=(dims[0], dims[1], dims[2]),
        delivery=delivery,
        shipping_template_id=f"7301{p.id[-15:]}" if d.chance(0.5) else None,
        synced=d.chance(0.25),
        is_cod_allowed=region in COD_MARKETS and d.chance(0.7),
        quality_tier=d.pick(("GOOD", "GOOD", "FAIR", "POOR")) if region == "US" else None,
        tokopedia=region == "ID" and d.chance(0.6),
        insurance=d.pick(("OPTIONAL", "OPTIONAL", "REQUIRED", "NOT_SUPPORTED")),
        minimum_order_quantity=(1 if d.chance(0.8) else d.between(2, 5))
        if region == "ID"
        else None,
        pre_approved_reason=(
            d.pick(("KYC_PENDING", "RESTRICTED_CATEGORY_PENDING")) if region == "US" else None
        ),
        pre_sale=_pre_sale(region, p, ctx.anchor, d)
        if p.index % FEATURE_CYCLE in PRE_SALE_SLOTS
        else None,
        handling_time=d.between(1, 3),
        deactivated_skus=frozenset({n_skus - 1}) if n_skus > 1 and d.chance(0.08) else frozenset(),
        bundle=_bundle(catalog, p, d),
    )
    if region in ("GB", *EU_MARKETS) and ctx.info.seller_type == "LOCAL":
        traits.is_replicated = d.chance(0.1)
        if not traits.is_replicated and d.chance(0.1):
            traits.replicate_source = (
                f"7494{key(ctx.seed, 0x5EED) % 10**15:015d}",
                f"1729{key(ctx.seed, ctx.slot, p.index) % 10**15:015d}",
            )
    if ctx.info.seller_type == "CROSS_BORDER":
        traits.global_product_id = f"1729{key(ctx.seed, 0x610B, p.index) % 10**15:015d}"
    if region == "US":
        supported = p.category_id in ("601450", "600942")
        enabled = supported and d.chance(0.5)
        traits.subscribe = (supported, 5 * d.between(1, 3) if enabled else 0)
    return traits


def _pre_sale(region: str, p: Product, anchor: int, d: Draws) -> dict:
    """A pre-sale SKU's terms: a US pre-order is released some weeks after the data's end."""
    if region == "US" and p.index % (2 * FEATURE_CYCLE) < FEATURE_CYCLE:
        return {
            "type": "PRE_ORDER",
            "fulfillment_type": {"release_date": anchor + d.between(20, 90) * DAY},
        }
    if region == "US":
        return {"type": "MADE_TO_ORDER", "fulfillment_type": {"handling_duration_days": 7}}
    return {"type": "PRE_ORDER", "fulfillment_type": {"handling_duration_days": d.between(3, 30)}}


def _bundle(catalog: ProductCatalog, p: Product, d: Draws) -> list[BundlePart]:
    """The source SKUs of ``p`` if it is a virtual bundle (the next two products' first SKUs)."""
    if p.index % FEATURE_CYCLE != BUNDLE_SLOT or catalog.count < 3:
        return []
    parts = []
    for step in (1, 2):
        j = (p.index + step) % catalog.count
        parts.append(BundlePart(j, 0, 1 + d.below(2)))
    return parts


def product_families(catalog: ProductCatalog) -> dict[int, dict]:
    """US product families: products of the same kind (the title's noun) grouped, by index."""
    if catalog.ctx.region.code != "US":
        return {}
    groups: dict[str, list[Any]] = {}
    for p in catalog.products:
        groups.setdefault(p.title.split(" ", 1)[-1], []).append(p)
    out: dict[int, dict] = {}
    for noun, members in groups.items():
        if len(members) < 2:
            continue
        seed = key(catalog.ctx.seed, catalog.ctx.slot, len(noun), members[0].index)
        family_id = f"7411{seed % 10**15:015d}"
        family = {"id": family_id, "products": [{"id": m.id} for m in members[:10]]}
        for m in members[:10]:
            out[m.index] = family
    return out
