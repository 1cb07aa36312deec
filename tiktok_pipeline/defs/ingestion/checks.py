"""Asset checks: ids unique across shops, no orphan children, complete windows, fresh shops,
and the finance reconciliations (statements and payments that add up to the cent).

Freshness is judged per shop from the sync ledger, so one stale shop cannot hide behind a
table that other shops keep fresh.
"""

from collections.abc import Callable
from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.ingestion.entities import ENTITIES, Entity
from tiktok_pipeline.defs.resources import StoreResource, WarehouseResource
from tiktok_pipeline.warehouse import quality
from tiktok_pipeline.warehouse.finance_quality import FinanceMismatch

#: A shop is stale when its newest synced window ends longer ago than this.
FRESHNESS_LIMIT = timedelta(hours=2)


def _unique_ids_check(entity: Entity) -> dg.AssetChecksDefinition:
    parent = entity.tables[0]

    @dg.asset_check(
        asset=parent,
        name="ids_unique_across_shops",
        description=f"Every {parent} id belongs to one shop; a repeat means a shop/cipher mix-up.",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get().engine.connect() as connection:
            repeated = quality.ids_in_several_shops(connection, parent)
        return dg.AssetCheckResult(
            passed=not repeated,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"ids_in_several_shops": dg.MetadataValue.json(repeated)},
            description=(
                f"ids stored under several shops: {', '.join(repeated)}" if repeated else None
            ),
        )

    return check


def _orphans_check(child: str) -> dg.AssetChecksDefinition:
    parent, link = quality.CHILD_LINKS[child]

    @dg.asset_check(
        asset=child,
        name="no_orphans",
        description=f"Every row of {child} has its {parent} row (matched on shop_id, {link}).",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get().engine.connect() as connection:
            count, sample = quality.orphan_children(connection, child)
        return dg.AssetCheckResult(
            passed=count == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"orphan_rows": count, "sample": dg.MetadataValue.json(sample)},
        )

    return check


def _total_count_check(entity: Entity) -> dg.AssetChecksDefinition:
    parent = entity.tables[0]

    @dg.asset_check(
        asset=parent,
        name="landed_matches_total_count",
        description=(
            "For every (shop, day) window synced in this run (or, run alone, in the last day), "
            "the distinct items landed equal TikTok's total_count for the window."
        ),
    )
    def check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.get().engine.connect() as connection:
            checked, mismatches = quality.count_mismatches(
                connection, entity.name, context.run.run_id
            )
            if checked == 0:
                checked, mismatches = quality.count_mismatches(
                    connection, entity.name, None, since=utcnow() - timedelta(days=1)
                )
        details = [
            f"shop {m.shop_id} {m.window_start.date()}: landed {m.items_received}, "
            f"TikTok total_count {m.api_total_count}"
            for m in mismatches[:20]
        ]
        return dg.AssetCheckResult(
            passed=not mismatches,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "windows_checked": checked,
                "mismatched_windows": len(mismatches),
                "mismatches": dg.MetadataValue.json(details),
            },
        )

    return check


def _freshness_check(entity: Entity) -> dg.AssetChecksDefinition:
    parent = entity.tables[0]
    limit_text = f"{int(FRESHNESS_LIMIT.total_seconds() // 3600)} hours"

    @dg.asset_check(
        asset=parent,
        name="fresh_for_every_shop",
        description=(
            f"Every active shop has {entity.label} synced up to less than {limit_text} ago, "
            "judged per shop from the sync ledger: a window synced with nothing in it counts, "
            f"so a shop with no {entity.label} yet is fresh as long as its syncs run."
        ),
    )
    def check(warehouse: WarehouseResource, store: StoreResource) -> dg.AssetCheckResult:
        shop_ids = [shop.id for shop in store.active_shops()]
        with warehouse.get().engine.connect() as connection:
            synced = quality.last_successful_sync(connection, entity.name, shop_ids)
        cutoff = utcnow() - FRESHNESS_LIMIT
        stale = {
            shop_id: (when.isoformat() if when else "never")
            for shop_id, when in synced.items()
            if when is None or when < cutoff
        }
        return dg.AssetCheckResult(
            passed=not stale,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "active_shops": len(shop_ids),
                "stale_shops": dg.MetadataValue.json(stale),
                "synced_up_to": dg.MetadataValue.json(
                    {k: v.isoformat() if v else None for k, v in synced.items()}
                ),
            },
            description=(
                "stale shops (last synced up to): "
                + ", ".join(f"{k} ({v})" for k, v in stale.items())
                if stale
                else None
            ),
        )

    return check


def _reconciliation_check(
    asset: str,
    parts: str,
    name: str,
    description: str,
    find: Callable[[sa.Connection], tuple[int, list[FinanceMismatch]]],
    what: str,
) -> dg.AssetChecksDefinition:
    # Depending on the parts' table too, the check runs after both are synced in a run.
    @dg.asset_check(asset=asset, name=name, description=description, additional_deps=[parts])
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get().engine.connect() as connection:
            count, sample = find(connection)
        lines = [
            f"shop {m.shop_id} {what} {m.id}: {m.stated} {m.currency or ''} stated, "
            f"{m.summed} summed (off by {m.difference})"
            for m in sample
        ]
        return dg.AssetCheckResult(
            passed=count == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"mismatches": count, "sample": dg.MetadataValue.json(lines)},
            description=(
                f"{count} {what}(s) do not add up; e.g. " + "; ".join(lines[:3]) if count else None
            ),
        )

    return check


def build_finance_checks() -> list[dg.AssetChecksDefinition]:
    """The reconciliations an analyst relies on: statement = its transactions, payment = its
    statements, exactly."""
    return [
        _reconciliation_check(
            "tiktok_statements",
            "tiktok_statement_transactions",
            "statement_matches_transactions",
            "Every statement's settlement_amount equals, to the cent, the sum of the "
            "settlement_amount of its transactions in tiktok_statement_transactions "
            "(statements with no transaction loaded are not judged).",
            quality.statement_mismatches,
            "statement",
        ),
        _reconciliation_check(
            "tiktok_payments",
            "tiktok_statements",
            "payment_matches_statements",
            "Every payment's amount plus its reserve equals, to the cent, the sum of the "
            "settlement_amount of the statements it pays out (payments with no statement "
            "loaded are not judged).",
            quality.payment_mismatches,
            "payment",
        ),
    ]


def build_checks() -> list[dg.AssetChecksDefinition]:
    """Every asset check of the sync assets."""
    checks = []
    for entity in ENTITIES.values():
        checks += [_unique_ids_check(entity), _total_count_check(entity), _freshness_check(entity)]
        checks += [_orphans_check(child) for child in entity.tables[1:]]
    return checks + build_finance_checks()


sync_checks = build_checks()
