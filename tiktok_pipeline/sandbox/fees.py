"""What TikTok keeps from a sale, per region: the fee table and the settlement parts' keys.

Each settlement (an order's, or one SKU line of it) is a fixed-order row of signed minor
units, one per breakdown key (:data:`PART_KEYS`): the revenue, fee, tax and shipping keys of
TikTok's ``revenue_breakdown``, ``fee_tax_breakdown{fee,tax}`` and
``shipping_cost_breakdown``. An order's parts are the column sums of its lines' parts, so
every identity between an order and its SKUs holds exactly
(:mod:`~tiktok_pipeline.sandbox.settlements` computes them).
"""

from __future__ import annotations

from dataclasses import dataclass

REVENUE_KEYS = (
    "subtotal_before_discount_amount",
    "seller_discount_amount",
    "refund_subtotal_before_discount_amount",
    "seller_discount_refund_amount",
    "cod_service_fee_amount",
    "refund_cod_service_fee_amount",
)
FEE_KEYS = (
    "platform_commission_amount",
    "referral_fee_amount",
    "transaction_fee_amount",
    "affiliate_commission_amount",
    "affiliate_partner_commission_amount",
    "sfp_service_fee_amount",
    "fee_per_item_sold_amount",
)
#: ``pit_amount`` and ``local_vat_amount``: what the platform withholds from a Vietnamese
#: seller's revenue on the seller's behalf (the seller's own income tax and VAT).
TAX_KEYS = ("vat_amount", "gst_amount", "sst_amount", "pit_amount", "local_vat_amount")
SHIPPING_KEYS = (
    "actual_shipping_fee_amount",
    "customer_paid_shipping_fee_amount",
    "platform_shipping_fee_discount_amount",
    "return_shipping_fee_amount",
    "shipping_fee_subsidy_amount",
)
#: Amounts the model tracks per line that are in no sum: details TikTok shows beside the
#: contributory keys (the commission before the creator's income tax, the buyer's sales tax
#: and platform discounts, the seller's shipping discount). Signs as TikTok's: what the seller
#: or buyer pays out is negative.
INFO_KEYS = (
    "affiliate_commission_amount_before_pit",
    "platform_discount_amount",
    "platform_discount_refund_amount",
    "sales_tax_payment_amount",
    "sales_tax_refund_amount",
    "retail_delivery_fee_payment_amount",
    "seller_shipping_fee_discount_amount",
)
PART_KEYS = REVENUE_KEYS + FEE_KEYS + TAX_KEYS + SHIPPING_KEYS + INFO_KEYS
N_PARTS = len(PART_KEYS)

#: Column ranges of the four groups in a parts list.
REVENUE = slice(0, len(REVENUE_KEYS))
FEES = slice(REVENUE.stop, REVENUE.stop + len(FEE_KEYS))
TAXES = slice(FEES.stop, FEES.stop + len(TAX_KEYS))
SHIPPING = slice(TAXES.stop, TAXES.stop + len(SHIPPING_KEYS))
INFO = slice(SHIPPING.stop, N_PARTS)
FEE_TAX = slice(FEES.start, TAXES.stop)
#: The contributory columns: their sum is the settlement.
SETTLED = slice(0, SHIPPING.stop)
#: The column of each key.
COLUMN = {key: n for n, key in enumerate(PART_KEYS)}


@dataclass(frozen=True)
class FeeSchedule:
    """A region's seller fees. Rates in basis points (1/100 %), fixed fees in minor units.

    Attributes:
        commission_bp: platform commission on the line's revenue (price after seller discount).
        referral_bp: referral fee on the same base (the US name for the commission).
        transaction_bp: payment/transaction fee on what the buyer paid for the line (+ its tax).
        sfp_bp: Shipping Fee Programme service fee on the revenue (South-East Asia).
        per_item: fixed fee per item sold, in the currency's minor units.
        tax_key: the tax TikTok charges on its own fees ("" for none).
        tax_bp: that tax's rate.
        payout_days: days from a statement to its payment being paid out.
        creator_pit_bp: the creator's personal income tax the seller withholds from an
            affiliate commission (the seller pays the creator the rest).
        seller_pit_bp: the seller's personal income tax the platform withholds from revenue.
        seller_vat_bp: the seller's VAT the platform withholds from revenue.
    """

    commission_bp: int
    referral_bp: int
    transaction_bp: int
    sfp_bp: int
    per_item: int
    tax_key: str
    tax_bp: int
    payout_days: int
    creator_pit_bp: int = 0
    seller_pit_bp: int = 0
    seller_vat_bp: int = 0


# APPROXIMATE figures, from TikTok Shop's public seller-fee pages and seller-centre notices
# (2024-2025) as best known: real rates vary by category, seller programme and promotion, so
# these are plausible defaults, not a quotation.
# Columns: commission, referral, transaction (payment) fee, SFP service fee (bp); fixed fee
# per item (minor units); the tax charged on fees and its rate (bp); payout delay (days).
FEE_SCHEDULES: dict[str, FeeSchedule] = {
    "US": FeeSchedule(0, 600, 0, 0, 0, "", 0, 3),  # 6 % referral, payment incl.
    "GB": FeeSchedule(900, 0, 0, 0, 0, "vat_amount", 2000, 2),  # 9 %, +20 % VAT
    "ID": FeeSchedule(450, 0, 180, 400, 1250, "vat_amount", 1100, 1),  # +Rp 1,250/item, PPN
    "MY": FeeSchedule(600, 0, 378, 300, 0, "sst_amount", 800, 2),  # 8 % SST
    "TH": FeeSchedule(500, 0, 321, 300, 0, "vat_amount", 700, 2),
    # Decree 117/2025: 0.5 % PIT + 1 % VAT withheld from household sellers' revenue; the
    # creator's 10 % PIT withheld from affiliate commissions.
    "VN": FeeSchedule(500, 0, 400, 300, 0, "vat_amount", 1000, 2, 1000, 50, 100),
    "PH": FeeSchedule(500, 0, 224, 300, 0, "vat_amount", 1200, 2),
    "SG": FeeSchedule(600, 0, 300, 0, 0, "gst_amount", 900, 2),
    "MX": FeeSchedule(600, 0, 0, 0, 0, "vat_amount", 1600, 3),  # IVA on fees
    "ES": FeeSchedule(900, 0, 0, 0, 0, "vat_amount", 2100, 2),
    "JP": FeeSchedule(800, 0, 0, 0, 0, "vat_amount", 1000, 3),  # consumption tax
    "BR": FeeSchedule(600, 0, 0, 0, 400, "", 0, 3),  # 6 % + R$ 4 per item
}
#: Regions not in the table (synthetic sandbox regions) get a plain 8 % commission.
DEFAULT_SCHEDULE = FeeSchedule(800, 0, 0, 0, 0, "", 0, 2)


def fee_schedule(region_code: str) -> FeeSchedule:
    """The fee schedule of a region."""
    return FEE_SCHEDULES.get(region_code, DEFAULT_SCHEDULE)


def settlement(parts: list[int]) -> int:
    """The settlement of a parts list (its contributory columns)."""
    return sum(parts[SETTLED])


def totals(parts: list[int]) -> tuple[int, int, int]:
    """(revenue, fee_tax, shipping_cost) of a parts list."""
    return sum(parts[REVENUE]), sum(parts[FEE_TAX]), sum(parts[SHIPPING])
