"""Get Price Detail's answer for one order: its amounts, broken down, as decimal strings."""

from __future__ import annotations

from tiktok_pipeline.sandbox.catalog import money
from tiktok_pipeline.sandbox.orders.book import OrderBook


def price_detail(book: OrderBook, i: int) -> dict:
    """Get Price Detail's data for order ``i``."""
    b = book.base(i)
    dec = book.region.decimals
    currency = book.region.currency
    zero = money(0, dec)
    tax_rate = f"{b.tax_rate_bp / 10000:.4f}"
    total = money(b.total, dec)
    sub_total = money(b.sub_total, dec)
    lines = [
        {
            "id": it.id,
            "currency": currency,
            "sku_list_price": money(it.original, dec),
            "sku_sale_price": money(it.sale, dec),
            "subtotal": money(it.sale, dec),
            "subtotal_deduction_seller": money(it.seller_discount, dec),
            "subtotal_deduction_platform": money(it.platform_discount, dec),
            "subtotal_tax_amount": money(it.tax, dec),
            "tax_amount": money(it.tax, dec),
            "tax_rate": tax_rate,
            "voucher_deduction_seller": zero,
            "voucher_deduction_platform": zero,
            "net_price_amount": money(it.sale + it.tax, dec),
            "payment": money(it.sale + it.tax, dec),
            "total": money(it.sale + it.tax, dec),
            "cod_fee": zero,
            "cod_fee_net_amount": zero,
            "sku_gift_original_price": zero,
            "sku_gift_net_price": zero,
        }
        for it in b.items
    ]
    return {
        "currency": currency,
        "total": total,
        "payment": total,
        "sku_list_price": money(b.original_total, dec),
        "sku_sale_price": sub_total,
        "subtotal": sub_total,
        "subtotal_deduction_seller": money(b.seller_discount, dec),
        "subtotal_deduction_platform": money(b.platform_discount, dec),
        "subtotal_tax_amount": money(b.product_tax, dec),
        "voucher_deduction_seller": zero,
        "voucher_deduction_platform": zero,
        "shipping_list_price": money(b.shipping_original, dec),
        "shipping_sale_price": money(b.shipping_fee, dec),
        "shipping_fee_deduction_seller": money(b.shipping_seller_discount, dec),
        "shipping_fee_deduction_platform": money(b.shipping_platform_discount, dec),
        "shipping_fee_deduction_platform_voucher": zero,
        "tax_amount": money(b.tax, dec),
        "tax_rate": tax_rate,
        "net_price_amount": total,
        "cod_fee": zero,
        "cod_fee_net_amount": zero,
        "sku_gift_original_price": zero,
        "sku_gift_net_price": zero,
        "line_items": lines,
    }
