"""TikTok objects shaped like the API's (reference §6-§8), for tests and the benchmark.

Each builder returns a fresh dict with the documented fields (amounts as decimal strings,
times as Unix seconds, ids as strings); keyword arguments override top-level fields.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

T0 = 1_717_200_000  # 2024-06-01 00:00:00 UTC


def line_item(
    item_id: str,
    *,
    sale_price: str = "19.99",
    original_price: str = "24.99",
    seller_discount: str = "3.00",
    platform_discount: str = "2.00",
    sku_id: str = "1729385730000000001",
    product_id: str = "1729385720000000001",
    currency: str = "USD",
    **overrides: Any,
) -> dict[str, Any]:
    """One order line item (v202309 shape: no quantity field, one entry per unit)."""
    item = {
        "id": item_id,
        "sku_id": sku_id,
        "product_id": product_id,
        "product_name": "Glow Serum 30ml",
        "sku_name": "Rose, 30ml",
        "sku_image": "https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/abc~tplv.jpg",
        "seller_sku": "GLOW-ROSE-30",
        "sale_price": sale_price,
        "original_price": original_price,
        "platform_discount": platform_discount,
        "seller_discount": seller_discount,
        "currency": currency,
        "display_status": "AWAITING_SHIPMENT",
        "package_id": "1153004541925951234",
        "package_status": "TO_FULFILL",
        "tracking_number": "",
        "shipping_provider_id": "6617675021119438849",
        "shipping_provider_name": "USPS",
        "rts_time": 0,
        "cancel_reason": "",
        "cancel_user": "",
        "is_gift": False,
        "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": "1.60", "tax_rate": "0.08"}],
        "combined_listing_skus": [],
        "sku_type": "NORMAL",
        "retail_delivery_fee": "0",
        "buyer_service_fee": "0",
        "small_order_fee": "0",
        "is_dangerous_good": False,
        "needs_prescription": False,
    }
    item.update(overrides)
    return item


def order(
    order_id: str,
    *,
    update_time: int = T0 + 3600,
    create_time: int = T0,
    status: str = "AWAITING_SHIPMENT",
    line_items: list[dict[str, Any]] | None = None,
    currency: str = "USD",
    **overrides: Any,
) -> dict[str, Any]:
    """One order (Get Order Detail v202309) whose payment adds up like TikTok's."""
    if line_items is None:
        line_items = [line_item(f"{order_id}1"), line_item(f"{order_id}2")]
    original = sum((Decimal(i["original_price"]) for i in line_items), Decimal("0"))
    seller = sum((Decimal(i["seller_discount"]) for i in line_items), Decimal("0"))
    platform = sum((Decimal(i["platform_discount"]) for i in line_items), Decimal("0"))
    sub_total = original - seller - platform
    shipping = Decimal("5.99")
    tax = (sub_total * Decimal("0.08")).quantize(Decimal("0.01"))
    data = {
        "id": order_id,
        "status": status,
        "create_time": create_time,
        "update_time": update_time,
        "paid_time": create_time + 60,
        "rts_time": 0,
        "rts_sla_time": create_time + 3 * 86400,
        "tts_sla_time": create_time + 5 * 86400,
        "cancel_time": 0,
        "delivery_time": 0,
        "collection_time": 0,
        "cancel_order_sla_time": create_time + 86400,
        "shipping_due_time": create_time + 3 * 86400,
        "user_id": "7494582356417495306",
        "buyer_email": "v2x6k1n0@scs.tiktokw.us",
        "buyer_message": "",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "shipping_type": "TIKTOK",
        "delivery_type": "HOME_DELIVERY",
        "warehouse_id": "7068517275539719942",
        "tracking_number": "",
        "shipping_provider": "USPS",
        "shipping_provider_id": "6617675021119438849",
        "delivery_option_id": "7091146663229654785",
        "delivery_option_name": "Standard shipping",
        "payment_method_name": "CARD",
        "cancel_reason": "",
        "cancellation_initiator": "",
        "seller_note": "",
        "split_or_combine_tag": "",
        "order_type": "NORMAL",
        "is_cod": False,
        "is_sample_order": False,
        "is_on_hold_order": False,
        "is_replacement_order": False,
        "is_exchange_order": False,
        "is_buyer_request_cancel": False,
        "has_updated_recipient_address": False,
        "commerce_platform": "TIKTOK_SHOP",
        "packages": [{"id": "1153004541925951234"}],
        "payment": {
            "currency": currency,
            "sub_total": str(sub_total),
            "shipping_fee": str(shipping),
            "seller_discount": str(seller),
            "platform_discount": str(platform),
            "total_amount": str(sub_total + shipping + tax),
            "original_total_product_price": str(original),
            "original_shipping_fee": "7.99",
            "shipping_fee_seller_discount": "2.00",
            "shipping_fee_platform_discount": "0.00",
            "shipping_fee_cofunded_discount": "0.00",
            "tax": str(tax),
            "product_tax": str(tax),
            "shipping_fee_tax": "0.00",
            "small_order_fee": "0.00",
            "retail_delivery_fee": "0.00",
            "buyer_service_fee": "0.00",
            "handling_fee": "0.00",
            "shipping_insurance_fee": "0.00",
            "item_insurance_fee": "0.00",
            "item_insurance_tax": "0.00",
        },
        "recipient_address": {
            "full_address": "123 Main St, Los Angeles, CA 90001, US",
            "name": "J*** D**",
            "first_name": "J***",
            "last_name": "D**",
            "phone_number": "(+1)213-***-1234",
            "address_detail": "Apt 4",
            "address_line1": "123 Main St",
            "address_line2": "Apt 4",
            "address_line3": "",
            "address_line4": "",
            "postal_code": "90001",
            "region_code": "US",
            "district_info": [
                {
                    "address_level_name": "Country",
                    "address_name": "United States",
                    "address_level": "L0",
                },
                {
                    "address_level_name": "State",
                    "address_name": "California",
                    "address_level": "L1",
                },
            ],
            "delivery_preferences": {"drop_off_location": ""},
        },
        "line_items": line_items,
    }
    data.update(overrides)
    return data


def product(
    product_id: str,
    *,
    update_time: int = T0 + 7200,
    skus: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One product (Search Products 202502 shape) with two SKUs in two warehouses."""
    if skus is None:
        skus = [
            sku(f"{product_id}1", stock={"7068517275539719942": 100, "7068517275539719943": 25}),
            sku(f"{product_id}2", stock={"7068517275539719942": 5}, sale_price="21.50"),
        ]
    data = {
        "id": product_id,
        "title": "Glow Serum with Rosehip Oil",
        "status": "ACTIVATE",
        "create_time": T0 - 86400 * 30,
        "update_time": update_time,
        "sales_regions": ["US"],
        "skus": skus,
        "is_not_for_sale": False,
        "has_draft": False,
        "listing_quality_tier": "GOOD",
        "product_sync_fail_reasons": [],
        "recommended_categories": [],
        "audit": {"status": "APPROVED"},
    }
    data.update(overrides)
    return data


def sku(
    sku_id: str,
    *,
    stock: dict[str, int] | None = None,
    sale_price: str = "19.99",
    currency: str = "USD",
    **overrides: Any,
) -> dict[str, Any]:
    """One product SKU with its per-warehouse inventory."""
    stock = {"7068517275539719942": 10} if stock is None else stock
    data = {
        "id": sku_id,
        "seller_sku": f"SKU-{sku_id[-4:]}",
        "price": {
            "currency": currency,
            "sale_price": sale_price,
            "tax_exclusive_price": sale_price,
        },
        "inventory": [
            {"warehouse_id": warehouse, "quantity": quantity}
            for warehouse, quantity in stock.items()
        ],
    }
    data.update(overrides)
    return data


def return_(
    return_id: str,
    *,
    order_id: str = "576461413038785752",
    update_time: int = T0 + 86400,
    create_time: int = T0 + 86000,
    return_status: str = "RETURN_OR_REFUND_REQUEST_SUCCESS",
    refund_total: str = "21.59",
    currency: str = "USD",
    lines: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One return (Search Returns v202309 ``return_orders`` element)."""
    if lines is None:
        lines = [return_line(f"{return_id}1", refund_total=refund_total, currency=currency)]
    data = {
        "return_id": return_id,
        "order_id": order_id,
        "return_type": "REFUND",
        "return_status": return_status,
        "role": "BUYER",
        "create_time": create_time,
        "update_time": update_time,
        "return_reason": "ecom_order_delivered_refund_and_return_reason_damaged",
        "return_reason_text": "Package or item damaged",
        "arbitration_status": None,
        "shipment_type": "PLATFORM",
        "handover_method": "DROP_OFF",
        "return_method": "PLATFORM_SHIPPED",
        "return_tracking_number": "",
        "return_provider_name": "",
        "return_provider_id": "",
        "can_buyer_keep_item": True,
        "seller_next_action_response": [],
        "refund_amount": {
            "currency": currency,
            "refund_total": refund_total,
            "refund_subtotal": refund_total,
            "refund_shipping_fee": "0.00",
            "refund_tax": "0.00",
            "retail_delivery_fee": "0.00",
            "buyer_service_fee": "0.00",
        },
        "discount_amount": [],
        "shipping_fee_amount": [],
        "return_line_items": lines,
        "is_combined_return": False,
        "combined_return_id": "",
        "return_warehouse_address": {"full_address": "1 Warehouse Rd, Carson, CA 90745"},
    }
    data.update(overrides)
    return data


def return_line(
    line_id: str,
    *,
    order_line_item_id: str = "5764614130387857521",
    refund_total: str = "21.59",
    currency: str = "USD",
) -> dict[str, Any]:
    """One return line item."""
    return {
        "return_line_item_id": line_id,
        "order_line_item_id": order_line_item_id,
        "sku_id": "1729385730000000001",
        "sku_name": "Rose, 30ml",
        "product_name": "Glow Serum 30ml",
        "seller_sku": "GLOW-ROSE-30",
        "product_image": {"url": "https://example.invalid/i.jpg", "width": 100, "height": 100},
        "refund_amount": {
            "currency": currency,
            "refund_total": refund_total,
            "refund_subtotal": refund_total,
            "refund_shipping_fee": "0.00",
            "refund_tax": "0.00",
        },
    }


def changed(data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with top-level fields replaced."""
    copied = copy.deepcopy(data)
    copied.update(overrides)
    return copied
