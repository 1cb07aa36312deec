"""A product as Get Product (202309) and Product Search (202309, 202502) serve it at a time.

The time-independent parts come from :mod:`tiktok_pipeline.sandbox.product_traits`; this module
adds what follows the product's state at ``t``: ``status`` and the ``product_status`` /
``audit`` pair TikTok splits it into, audit failure reasons (only for a failed or
platform-deactivated product), each SKU's ``status_info``, stock, and a virtual bundle's source
SKUs (their stock and whether they keep the bundle from being live).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tiktok_pipeline.sandbox import product_media as media
from tiktok_pipeline.sandbox.catalog import money

if TYPE_CHECKING:
    from tiktok_pipeline.sandbox.product_traits import ProductTraits
    from tiktok_pipeline.sandbox.products import Product, ProductCatalog, Sku

#: status -> (product_status: the status without the audit, audit.status).
STATUS_PARTS = {
    "DRAFT": ("DRAFT", "NONE"),
    "PENDING": ("ACTIVATE", "AUDITING"),
    "FAILED": ("ACTIVATE", "FAILED"),
    "ACTIVATE": ("ACTIVATE", "APPROVED"),
    "SELLER_DEACTIVATED": ("SELLER_DEACTIVATED", "NONE"),
    "PLATFORM_DEACTIVATED": ("PLATFORM_DEACTIVATED", "NONE"),
    "FREEZE": ("FREEZE", "NONE"),
    "DELETED": ("DELETED", "NONE"),
}
#: A source product's status -> why it keeps a virtual bundle from being live.
NOT_LIVE_REASONS = {
    "SELLER_DEACTIVATED": "SUB_PRODUCT_DEACTIVATE",
    "PLATFORM_DEACTIVATED": "SUB_PRODUCT_DEACTIVATE",
    "FREEZE": "SUB_PRODUCT_FROZEN",
    "DELETED": "SUB_PRODUCT_DELETE",
}
#: Why an audit failed or the platform deactivated a product: (position, reason, suggestion).
AUDIT_FAILURES = (
    (
        "main_images",
        "The main image contains a watermark or promotional text.",
        "Upload a main image on a plain background without text or watermarks.",
    ),
    (
        "product_attributes",
        "Key product attributes are missing or inconsistent with the description.",
        "Fill in the required attributes of the category and match them to the description.",
    ),
    (
        "title",
        "The title contains exaggerated or misleading claims.",
        "Describe the product plainly: brand, product name, key feature.",
    ),
)


class ProductView:
    """One product's state at one time, rendered in the three shapes the API serves."""

    def __init__(self, catalog: ProductCatalog, p: Product, t: int) -> None:
        self.catalog = catalog
        self.p = p
        self.t = t
        self.traits: ProductTraits = catalog.traits(p)
        n, _, self.update_time = catalog.state(p, t)
        self.n = n
        self.writes = catalog.writes_by(p, t)
        self.status = catalog.status(p, n, t)
        self.reg = catalog.ctx.region
        self._external: tuple | None = None

    def recommended(self) -> list[dict]:
        """``recommended_categories``: a finer leaf for a fifth of the products, else empty."""
        if not self.traits.recommended:
            return []
        return media.recommended_category(self.p.category_id)

    def external(self) -> tuple:
        """(external product id, product page urls, external SKU ids) from Shopify, or empty."""
        if self._external is None:
            ctx = self.catalog.ctx
            self._external = media.external_ids(ctx.seed, self.p, self.traits, ctx.info.code)
        return self._external

    def barcode(self, sku: Sku) -> dict:
        """The SKU's ``identifier_code``."""
        ctx = self.catalog.ctx
        return media.identifier_code(self.reg.code, ctx.seed, ctx.slot, sku)

    # -- status ------------------------------------------------------------------------------

    def audit(self) -> dict:
        """``audit``: the audit status (and, in the US, why a product is only pre-approved)."""
        _, audit_status = STATUS_PARTS.get(self.status, ("ACTIVATE", "NONE"))
        reason = self.traits.pre_approved_reason
        pre_approved = audit_status == "AUDITING" and reason is not None and self.p.index % 2 == 0
        out: dict = {"status": "PRE_APPROVED" if pre_approved else audit_status}
        if self.reg.code == "US":
            out["pre_approved_reasons"] = [reason] if pre_approved else []
        return out

    def audit_failed_reasons(self) -> list[dict]:
        """Why the audit failed (a failed or platform-deactivated product only)."""
        if self.status not in ("FAILED", "PLATFORM_DEACTIVATED"):
            return []
        position, reason, suggestion = AUDIT_FAILURES[self.p.index % len(AUDIT_FAILURES)]
        platform = "TOKOPEDIA" if self.traits.tokopedia and self.p.index % 2 else "TIKTOK_SHOP"
        return [
            {
                "position": position,
                "reasons": [reason],
                "suggestions": [suggestion],
                "listing_platform": platform,
            }
        ]

    def bundle_blockers(self) -> list[str]:
        """Why the bundle's source products keep it from being live (empty: none do)."""
        out = []
        for part in self.traits.bundle:
            source = self.catalog.products[part.product_index]
            n, _, _ = self.catalog.state(source, self.t)
            reason = NOT_LIVE_REASONS.get(self.catalog.status(source, n, self.t))
            if reason is not None and reason not in out:
                out.append(reason)
        return out

    def sku_status(self, sku: Sku, blockers: list[str]) -> dict:
        """``status_info`` of one SKU: deactivated with the product, by the seller, or by a
        bundle's source product."""
        if self.status in ("SELLER_DEACTIVATED", "DELETED"):
            return {"status": "DEACTIVATED", "deactivation_source": "SELLER"}
        if self.status in ("PLATFORM_DEACTIVATED", "FREEZE"):
            return {"status": "DEACTIVATED", "deactivation_source": "PLATFORM"}
        if blockers:
            return {"status": "DEACTIVATED", "deactivation_source": "COMBO_RELATION"}
        if sku.number in self.traits.deactivated_skus:
            return {"status": "DEACTIVATED", "deactivation_source": "SELLER"}
        return {"status": "NORMAL"}

    # -- SKUs --------------------------------------------------------------------------------

    def price(self, sku: Sku, detail: bool) -> dict:
        """A SKU's price: sale price and the price without tax (VAT markets: 1/6 of it is VAT)."""
        dec = self.reg.decimals
        tax_exclusive = sku.price if self.reg.sales_tax else (sku.price * 5) // 6
        out = {
            "currency": self.reg.currency,
            "sale_price": money(sku.price, dec),
            "tax_exclusive_price": money(tax_exclusive, dec),
        }
        if detail:
            out["unit_price"] = money(sku.price, dec)
        return out

    def inventory(self, sku: Sku, full: bool) -> list[dict]:
        """A SKU's stock per warehouse (202502 search and detail add backorders, handling)."""
        catalog = self.catalog
        out = []
        for wh, base_qty in sku.warehouses:
            item: dict = {
                "warehouse_id": wh,
                "quantity": catalog.quantity(sku, wh, base_qty, self.n, self.writes),
            }
            if full:
                item["backorder_quantity"] = 0
                item["handling_time"] = self.traits.handling_time
            out.append(item)
        return out

    def sales_attributes(self, sku: Sku, traits: ProductTraits) -> list[dict]:
        """The variant attribute of a SKU with its image (US: supplementary images too)."""
        attr: dict = {
            "id": "100000",
            "name": sku.attr_name,
            "value_id": str(7000000000000000000 + sku.number),
            "value_name": sku.attr_value,
            "sku_img": media.sku_image(sku),
        }
        if traits.region == "US":
            attr["supplementary_sku_images"] = media.supplementary_images(sku)
        return [attr]

    def list_prices(self, sku: Sku, entry: dict) -> None:
        """``list_price`` and, for a US product synced from Shopify, its compare-at price."""
        dec = self.reg.decimals
        entry["list_price"] = {"amount": money(sku.list_price, dec), "currency": self.reg.currency}
        if self.reg.code == "US" and self.traits.synced:
            compare_at = max(sku.list_price, sku.price + sku.price // 4)
            entry["external_list_prices"] = [
                {
                    "amount": money(compare_at, dec),
                    "currency": "USD",
                    "source": "SHOPIFY_COMPARE_AT_PRICE",
                }
            ]

    def combined_skus(self, blockers: list[str]) -> list[dict]:
        """A virtual bundle's source SKUs as they are at ``t``."""
        out = []
        catalog = self.catalog
        for part in self.traits.bundle:
            source = catalog.products[part.product_index]
            sku = source.skus[part.sku_number]
            traits = catalog.traits(source)
            view = ProductView(catalog, source, self.t)
            out.append(
                {
                    "product_id": source.id,
                    "sku_id": sku.id,
                    "sku_count": part.count,
                    "title": source.title,
                    "seller_sku": sku.seller_sku,
                    "brand": traits.brand,
                    "categories": media.category_chains(source.category_id, source.category_name),
                    "product_main_image": media.main_images(source, traits)[0],
                    "price": view.price(sku, False),
                    "inventory": view.inventory(sku, False),
                    "sales_attributes": self.sales_attributes(sku, traits),
                    "combined_listing_not_live_reasons": [
                        r for r in blockers if r == NOT_LIVE_REASONS.get(view.status)
                    ],
                }
            )
        return out

    def sku(self, sku: Sku, shape: str, blockers: list[str]) -> dict:
        """One SKU in ``shape``."""
        traits = self.traits
        entry: dict = {
            "id": sku.id,
            "seller_sku": sku.seller_sku,
            "price": self.price(sku, shape == "detail"),
            "inventory": self.inventory(sku, shape != "search_202309"),
            "fees": [],
        }
        if shape == "search_202309":
            return entry
        self.list_prices(sku, entry)
        entry["status_info"] = self.sku_status(sku, blockers)
        if traits.pre_sale is not None:
            entry["pre_sale"] = traits.pre_sale
        if shape != "detail":
            return entry
        entry["sales_attributes"] = self.sales_attributes(sku, traits)
        _, urls, sku_ids = self.external()
        entry["external_sku_id"] = sku_ids[sku.number]
        entry["external_urls"] = urls
        entry["identifier_code"] = self.barcode(sku)
        if traits.replicate_source is not None:
            shop_id, product_id = traits.replicate_source
            entry["global_listing_policy"] = {
                "price_sync": True,
                "inventory_type": "SHARED",
                "replicate_source": {
                    "shop_id": shop_id,
                    "product_id": product_id,
                    "sku_id": f"1730{product_id[4:-1]}{sku.number}",
                },
            }
        if traits.bundle:
            entry["combined_skus"] = self.combined_skus(blockers)
        if self.reg.code in media.EU_MARKETS:
            if sku.attr_value.endswith("ml"):
                entry["sku_unit_count"] = sku.attr_value[:-2]
            if traits.bundle:
                products = self.catalog.products
                entry["extra_identifier_codes"] = [
                    self.barcode(products[part.product_index].skus[part.sku_number])["code"]
                    for part in traits.bundle
                ]
        return entry

    # -- products ----------------------------------------------------------------------------

    def render(self, shape: str) -> dict:
        """The product in ``shape``: ``search_202309``, ``search_202502`` or ``detail``."""
        p, traits = self.p, self.traits
        blockers = self.bundle_blockers() if traits.bundle else []
        skus = [self.sku(sku, shape, blockers) for sku in p.skus]
        if shape == "detail":
            return self.detail(skus)
        out: dict = {
            "id": p.id,
            "title": p.title,
            "status": self.status,
            "create_time": p.create_time,
            "update_time": self.update_time,
            "sales_regions": [self.reg.code],
            "skus": skus,
            "recommended_categories": self.recommended(),
            "product_sync_fail_reasons": [],
        }
        if shape == "search_202502":
            out["is_not_for_sale"] = False
            out["has_draft"] = False
            out["audit"] = self.audit()
            self.market_parts(out)
        return out

    def market_parts(self, out: dict) -> None:
        """Fields both search 202502 and detail send only in some markets."""
        traits = self.traits
        if traits.quality_tier is not None:
            out["listing_quality_tier"] = traits.quality_tier
        if traits.tokopedia:
            out["integrated_platform_statuses"] = [{"platform": "TOKOPEDIA", "status": self.status}]
        family = self.catalog.family(self.p)
        if family is not None:
            out["product_families"] = [family]

    def detail(self, skus: list[dict]) -> dict:
        """Get Product's ``data``."""
        p, traits = self.p, self.traits
        weight, dimensions = media.package(traits)
        external_product_id, _, _ = self.external()
        out: dict = {
            "id": p.id,
            "title": p.title,
            "description": media.description(p, traits),
            "status": self.status,
            "product_status": STATUS_PARTS.get(self.status, ("ACTIVATE", "NONE"))[0],
            "audit": self.audit(),
            "audit_failed_reasons": self.audit_failed_reasons(),
            "create_time": p.create_time,
            "update_time": self.update_time,
            "category_chains": media.category_chains(p.category_id, p.category_name),
            "recommended_categories": self.recommended(),
            "brand": traits.brand,
            "main_images": media.main_images(p, traits),
            "skus": skus,
            "package_weight": weight,
            "package_dimensions": dimensions,
            "product_attributes": media.product_attributes(traits.country, traits.material),
            "certifications": media.certifications(p, traits, self.catalog.ctx.slot),
            "delivery_options": media.delivery_options(traits),
            "external_product_id": external_product_id,
            "is_cod_allowed": traits.is_cod_allowed,
            "is_not_for_sale": False,
            "is_pre_owned": False,
            "is_replicated": traits.is_replicated,
            "has_draft": False,
            "prescription_requirement": {"needs_prescription": False},
        }
        video = media.video(p, traits)
        if video is not None:
            out["video"] = video
        size_chart = media.size_chart(p, traits)
        if size_chart is not None:
            out["size_chart"] = size_chart
        if traits.shipping_template_id is not None:
            out["shipping_template_id"] = traits.shipping_template_id
        if traits.bundle:
            out["primary_combined_product_id"] = self.catalog.products[
                traits.bundle[0].product_index
            ].id
        if traits.tokopedia:
            out["shipping_insurance_requirement"] = traits.insurance
        if traits.minimum_order_quantity is not None:
            out["minimum_order_quantity"] = traits.minimum_order_quantity
        subscribe = media.subscribe_info(traits)
        if subscribe is not None:
            out["subscribe_info"] = subscribe
        if traits.global_product_id is not None:
            out["global_product_association"] = media.global_association(self.p, traits)
        if self.reg.code in media.EU_MARKETS:
            ctx = self.catalog.ctx
            out["manufacturer_ids"], out["responsible_person_ids"] = media.eu_ids(
                ctx.seed, ctx.slot, p
            )
            out["product_types"] = self.product_types()
        self.market_parts(out)
        return out

    def product_types(self) -> list[str]:
        """EU: whether the product is a virtual bundle, in one, or synced to global listings."""
        traits = self.traits
        out = []
        if traits.bundle:
            out.append("COMBINED_PRODUCT")
        if traits.in_bundle:
            out.append("IN_COMBINED_PRODUCT")
        if traits.global_product_id is not None:
            out.append("GPR_TARGET_PRODUCT")
        return out
