"""The breakdown objects of the finance responses: every key TikTok documents for each
response, filled from a parts list (:mod:`~tiktok_pipeline.sandbox.fees`).

TikTok's totals of a transaction are the sums of the *contributory* keys of its breakdowns
("the sum of all contributory amounts in ``fee_tax_breakdown``"). Some documented keys are
details beside them, in no sum:

- ``shipping_cost_breakdown.supplementary_component``: parts of the actual shipping fee and
  of the shipping discounts;
- ``fee.affiliate_commission_amount_before_pit`` (202507: ``affiliate_commission_before_pit_amount``
  and ``pit_withheld_from_ads_commission_amount``): the commission before the creator's
  income tax, which the seller withholds; ``affiliate_commission_amount`` is what is paid;
- in unsettled transactions, ``fee.retail_delivery_fee_*`` and ``tax.sales_tax_*``: what the
  buyer pays on top (202501 shows the same in the transaction's ``supplementary_component``).

Every documented key is sent; those the sandbox's model does not produce are ``"0"`` (TikTok
sends the full set). The details inside the breakdowns carry their values only with
``details`` on (:data:`SEND_DETAILS`, the default); off, the detail object is left out and
the detail keys are ``"0"``, so that a reader summing every key of a breakdown still gets the
totals. A statement transaction's own
``supplementary_component`` (what the buyer paid, sales tax, platform discounts) is outside
the breakdowns and always filled. The sandbox's contract keeps the shipping discounts under
``shipping_cost_breakdown.platform_shipping_fee_discount_amount`` and
``shipping_fee_subsidy_amount`` (contributory, read by the warehouse), so the documented
contributory ``shipping_fee_discount_amount`` is ``"0"`` and the detail repeats them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable

from tiktok_pipeline.sandbox import fees
from tiktok_pipeline.sandbox.catalog import money

#: Send the breakdowns' details with their values, as TikTok does (a reader must leave them out
#: of the totals; the warehouse's finance mapping does).
SEND_DETAILS = True

_FEES_202501 = (
    "affiliate_ads_commission_amount",
    "affiliate_commission_amount",
    "affiliate_commission_amount_before_pit",
    "affiliate_commission_deposit",
    "affiliate_commission_release",
    "affiliate_partner_commission_amount",
    "bonus_cashback_service_fee_amount",
    "campaign_resource_fee",
    "cofunded_creator_bonus_amount",
    "cofunded_promotion_service_fee_amount",
    "credit_card_handling_fee_amount",
    "dt_handling_fee_amount",
    "dynamic_commission_amount",
    "epr_pob_service_fee_amount",
    "external_affiliate_marketing_fee_amount",
    "fee_per_item_sold_amount",
    "flash_sales_service_fee_amount",
    "installation_service_fee",
    "live_specials_fee_amount",
    "mall_service_fee_amount",
    "platform_commission_amount",
    "pre_order_service_fee_amount",
    "referral_fee_amount",
    "refund_administration_fee_amount",
    "seller_paylater_handling_fee_amount",
    "sfp_service_fee_amount",
    "shipping_fee_guarantee_service_fee",
    "tap_shop_ads_commission",
    "transaction_fee_amount",
    "tsp_commission_amount",
    "vn_fix_infrastructure_fee",
    "voucher_xtra_service_fee_amount",
)
_TAXES_202501 = (
    "anti_dumping_duty_amount",
    "customs_clearance_amount",
    "customs_duty_amount",
    "gst_amount",
    "import_vat_amount",
    "isr_amount",
    "iva_amount",
    "local_vat_amount",
    "pit_amount",
    "sst_amount",
    "vat_amount",
)
_SHIPPING_202501 = (
    "actual_shipping_fee_amount",
    "customer_paid_shipping_fee_amount",
    "exchange_shipping_fee_amount",
    "failed_delivery_subsidy_amount",
    "fbt_free_shipping_fee_amount",
    "fbt_fulfillment_fee_reimbursement_amount",
    "free_return_subsidy_amount",
    "replacement_shipping_fee_amount",
    "return_shipping_fee_amount",
    "return_shipping_fee_paid_buyer_amount",
    "return_shipping_label_fee_amount",
    "seller_self_shipping_service_fee_amount",
    "shipping_fee_discount_amount",
    "shipping_insurance_fee_amount",
    "signature_confirmation_fee_amount",
)
#: The contract's contributory shipping keys TikTok documents only as details.
_CONTRACT_SHIPPING = ("platform_shipping_fee_discount_amount", "shipping_fee_subsidy_amount")
#: Statement transactions document one more top-level shipping key than Get Transactions by
#: Order (which has it in the detail); the SKUs send it too, so that they add up key by key.
_STATEMENT_SHIPPING = (*_SHIPPING_202501, "shipping_fee_guarantee_reimbursement")
_SHIPPING_DETAIL_COMMON = (
    "customer_shipping_fee_offset_amount",
    "fbm_shipping_cost_amount",
    "fbt_fulfillment_fee_amount",
    "fbt_shipping_cost_amount",
    "platform_shipping_fee_discount_amount",
    "promo_shipping_incentive_amount",
    "seller_shipping_fee_discount_amount",
    "shipping_fee_subsidy_amount",
)
_SHIPPING_DETAIL_ORDER = (
    *_SHIPPING_DETAIL_COMMON,
    "fbt_fulfillment_fee_reimbursement_amount",
    "refunded_customer_shipping_fee_amount",
    "return_refund_subsidy_amount",
    "shipping_fee_guarantee_reimbursement",
)
_SHIPPING_DETAIL_STATEMENT = (
    *_SHIPPING_DETAIL_COMMON,
    "customer_shipping_fee",
    "fbt_fulfillment_fee_reimbursement_amount",
    "refund_customer_shipping_fee",
    "refunded_customer_shipping_fee_amount",
    "return_refund_subsidy_amount",
)
_FEES_202507 = (
    "affiliate_ads_commission_amount",
    "affiliate_commission_amount",
    "affiliate_partner_commission_amount",
    "bonus_cashback_service_fee_amount",
    "credit_card_handling_fee_amount",
    # Not documented for 202507, sent as in the contract (contributory in Brazil).
    "fee_per_item_sold_amount",
    "live_specials_fee_amount",
    "mall_service_fee_amount",
    "platform_commission_amount",
    "referral_fee_amount",
    "refund_administration_fee_amount",
    "sfp_service_fee_amount",
    "transaction_fee_amount",
)
_TAXES_202507 = (
    "customs_clearance_amount",
    "customs_duty_amount",
    "gst_amount",
    "import_vat_amount",
    # Not documented for 202507; contributory where withheld (Vietnam).
    "local_vat_amount",
    "pit_amount",
    "sst_amount",
    "vat_amount",
)
_SHIPPING_202507 = (
    "actual_shipping_fee_amount",
    "customer_paid_shipping_fee_amount",
    "exchange_shipping_fee_amount",
    "replacement_shipping_fee_amount",
    "return_shipping_fee_amount",
    "shipping_fee_discount_amount",
    "shipping_insurance_fee_amount",
    "signature_confirmation_fee_amount",
)
_TRANSACTION_DETAIL = (
    "customer_payment_amount",
    "customer_refund_amount",
    "platform_cofunded_discount_amount",
    "platform_cofunded_discount_refund_amount",
    "platform_discount_amount",
    "platform_discount_refund_amount",
    "retail_delivery_fee_amount",
    "retail_delivery_fee_payment_amount",
    "retail_delivery_fee_refund_amount",
    "sales_tax_amount",
    "sales_tax_payment_amount",
    "sales_tax_refund_amount",
    "seller_cofunded_discount_amount",
    "seller_cofunded_discount_refund_amount",
)
_FEES_202507_ALL = (
    *_FEES_202507,
    "affiliate_commission_before_pit_amount",
    "pit_withheld_from_ads_commission_amount",
    "retail_delivery_fee_amount",
    "retail_delivery_fee_payment_amount",
    "retail_delivery_fee_refund_amount",
)
_TAXES_202507_ALL = (
    *_TAXES_202507,
    "sales_tax_amount",
    "sales_tax_payment_amount",
    "sales_tax_refund_amount",
)


#: A node of a response shape: a nested dict whose leaves name a value (a parts key or a
#: derived value of :func:`_values`), or None for a constant zero.
Shape = dict[str, object]


def _values(parts: list[int]) -> dict[str, int]:
    """The parts by key, with the values derived from them."""
    v = dict(zip(fees.PART_KEYS, parts, strict=True))
    before_pit = v["affiliate_commission_amount_before_pit"]
    v["pit_withheld"] = v["affiliate_commission_amount"] - before_pit if before_pit else 0
    v["sales_tax_amount"] = v["sales_tax_payment_amount"] + v["sales_tax_refund_amount"]
    # What the buyer paid (list price - both discounts + tax + shipping + delivery fee) and
    # got back (negative).
    v["customer_payment_amount"] = (
        v["subtotal_before_discount_amount"]
        + v["seller_discount_amount"]
        - v["platform_discount_amount"]
        + v["sales_tax_payment_amount"]
        + v["customer_paid_shipping_fee_amount"]
        + v["retail_delivery_fee_payment_amount"]
    )
    v["customer_refund_amount"] = (
        v["refund_subtotal_before_discount_amount"]
        + v["seller_discount_refund_amount"]
        - v["platform_discount_refund_amount"]
        + v["sales_tax_refund_amount"]
    )
    return v


def _group(keys: tuple[str, ...], sources: dict[str, str]) -> Shape:
    """Documented ``keys``, each from ``sources`` (key -> value name), else zero."""
    return {k: sources.get(k) for k in keys}


def _same(*keys: str) -> dict[str, str]:
    return {k: k for k in keys}


_SHIPPING_SOURCES = _same(*fees.SHIPPING_KEYS)
_DETAIL_SOURCES = {
    "fbm_shipping_cost_amount": "actual_shipping_fee_amount",
    "customer_shipping_fee": "customer_paid_shipping_fee_amount",
    **_same(
        "platform_shipping_fee_discount_amount",
        "shipping_fee_subsidy_amount",
        "seller_shipping_fee_discount_amount",
    ),
}


def _shipping(keys: tuple[str, ...], detail: tuple[str, ...], details: bool) -> Shape:
    shape = _group((*keys, *_CONTRACT_SHIPPING), _SHIPPING_SOURCES)
    if details:
        shape["supplementary_component"] = _group(detail, _DETAIL_SOURCES)
    return shape


def _settled_shape(statement: bool, details: bool) -> Shape:
    """A statement transaction's (``statement``) or an order SKU's breakdowns."""
    fee_sources = _same(*fees.FEE_KEYS)
    if details:
        fee_sources.update(_same("affiliate_commission_amount_before_pit"))
    detail = _SHIPPING_DETAIL_STATEMENT if statement else _SHIPPING_DETAIL_ORDER
    shape: Shape = {
        "revenue_breakdown": _group(fees.REVENUE_KEYS, _same(*fees.REVENUE_KEYS)),
        "fee_tax_breakdown": {
            "fee": _group(_FEES_202501, fee_sources),
            "tax": _group(_TAXES_202501, _same(*fees.TAX_KEYS)),
        },
        "shipping_cost_breakdown": _shipping(_STATEMENT_SHIPPING, detail, details),
    }
    if statement:
        sources = _same(
            "customer_payment_amount",
            "customer_refund_amount",
            "platform_discount_amount",
            "platform_discount_refund_amount",
            "retail_delivery_fee_payment_amount",
            "sales_tax_amount",
            "sales_tax_payment_amount",
            "sales_tax_refund_amount",
        )
        sources["retail_delivery_fee_amount"] = "retail_delivery_fee_payment_amount"
        shape["supplementary_component"] = _group(_TRANSACTION_DETAIL, sources)
    return shape


def _unsettled_shape(details: bool) -> Shape:
    """An unsettled transaction's breakdowns (202507 keys)."""
    fee_sources = _same(*fees.FEE_KEYS)
    tax_sources = _same(*fees.TAX_KEYS)
    if details:
        fee_sources.update(
            affiliate_commission_before_pit_amount="affiliate_commission_amount_before_pit",
            pit_withheld_from_ads_commission_amount="pit_withheld",
            retail_delivery_fee_amount="retail_delivery_fee_payment_amount",
            retail_delivery_fee_payment_amount="retail_delivery_fee_payment_amount",
        )
        tax_sources.update(
            _same("sales_tax_amount", "sales_tax_payment_amount", "sales_tax_refund_amount")
        )
    return {
        "revenue_breakdown": _group(fees.REVENUE_KEYS, _same(*fees.REVENUE_KEYS)),
        "fee_tax_breakdown": {
            "fee": _group(_FEES_202507_ALL, fee_sources),
            "tax": _group(_TAXES_202507_ALL, tax_sources),
        },
        "shipping_cost_breakdown": _shipping(_SHIPPING_202507, _SHIPPING_DETAIL_COMMON, details),
    }


_HOLE = re.compile('"\ue000[0-9]+\ue001"')


def _compile(shape: Shape, dec: int) -> tuple[str, tuple[str, ...]]:
    """(JSON members with ``%s`` holes, the value name of each hole in order)."""
    zero = money(0, dec)
    holes: list[str] = []

    def fill(node: object) -> object:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if node is None:
            return zero
        holes.append(str(node))
        return f"\ue000{len(holes) - 1}\ue001"

    text = json.dumps(fill(shape), separators=(",", ":"), ensure_ascii=False)
    return _HOLE.sub('"%s"', text[1:-1]), tuple(holes)


@functools.cache
def _template(kind: str, dec: int, details: bool) -> tuple[str, tuple[str, ...]]:
    shapes: dict[str, Callable[[], Shape]] = {
        "statement": lambda: _settled_shape(True, details),
        "sku": lambda: _settled_shape(False, details),
        "unsettled": lambda: _unsettled_shape(details),
    }
    return _compile(shapes[kind](), dec)


def members(kind: str, parts: list[int], dec: int, *, details: bool = SEND_DETAILS) -> str:
    """The breakdown members (JSON text, no braces) of a ``statement`` transaction, an order's
    ``sku`` or an ``unsettled`` transaction."""
    fmt, holes = _template(kind, dec, details)
    values = _values(parts)
    zero = money(0, dec)
    return fmt % tuple(money(x, dec) if (x := values[h]) else zero for h in holes)


def join(head: dict, tail: str) -> bytes:
    """The JSON object of ``head``'s fields followed by the members ``tail``."""
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False)
    return f"{text[:-1]},{tail}}}".encode()


def as_objects(kind: str, parts: list[int], dec: int, *, details: bool = SEND_DETAILS) -> dict:
    """:func:`members` as dicts."""
    out: dict = json.loads("{" + members(kind, parts, dec, details=details) + "}")
    return out
