"""The pipeline's partitions: one per UTC day of ``update_time``.

Shops are not a partition dimension: an agency with 200 shops and 3 years of history would pass
Dagster's advice of 100,000 partitions per asset, and single-run backfills of multi-dimensional
partitions misbehave. Each daily run covers every active shop (or a subset given in run config)
and reports per-shop figures; the per-shop sync ledger keeps per-shop history.
"""

import dagster as dg

#: The first day that can be synced. Earlier history does not exist on TikTok's 202309 API.
HISTORY_START = "2023-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=HISTORY_START,
    timezone="UTC",
    # Include today: the incremental schedule keeps today's partition current.
    end_offset=1,
)
