"""The pipeline's partitions: one per UTC day of ``update_time``.

Shops are not a partition dimension: an agency with 200 shops and 3 years of history would pass
Dagster's advice of 100,000 partitions per asset, and single-run backfills of multi-dimensional
partitions misbehave. Each daily run covers every active shop (or a subset given in run config)
and reports per-shop figures; the per-shop sync ledger keeps per-shop history.

The first partition is ``TIKTOK_PARTITIONS_START`` (read with the other schedule settings when
the code location loads; default 2023-01-01, before which TikTok's 202309 API keeps no
history). A sandbox or a young agency sets it to its first day, so that the UI does not show
years of partitions that can never hold data as missing.
"""

from datetime import date

import dagster as dg

from tiktok_pipeline.config import DEFAULT_PARTITIONS_START, load_schedule_settings


def daily_partitions(start: date = DEFAULT_PARTITIONS_START) -> dg.DailyPartitionsDefinition:
    """The daily UTC partitions from ``start`` through today (equal for equal starts)."""
    return dg.DailyPartitionsDefinition(
        start_date=start.isoformat(),
        timezone="UTC",
        # Include today: the incremental schedule keeps today's partition current.
        end_offset=1,
    )


def configured_daily_partitions() -> dg.DailyPartitionsDefinition:
    """The daily partitions starting at ``TIKTOK_PARTITIONS_START`` (for code outside the
    definitions, e.g. the CLI checking a range); ConfigurationError if it is malformed."""
    return daily_partitions(load_schedule_settings().partitions_start)
