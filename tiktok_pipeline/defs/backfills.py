"""Asset backfills of the sync assets, as the Dagster UI launches them, and where they stand.

``submit_backfill`` adds the same ``PartitionBackfill`` as the UI's "Materialize > partition
range" (GraphQL ``launchPartitionBackfill``) to an instance; the daemon then submits its runs
by the assets' backfill policy. The rest reads a backfill's progress and its failures for
``tiktok-pipeline backfill --wait``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.execution.asset_backfill import (
    AssetBackfillStatus,
    PartitionedAssetBackfillStatus,
)
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id
from dagster._time import get_current_timestamp

from tiktok_pipeline.definitions import defs
from tiktok_pipeline.defs.ingestion.entities import ENTITIES
from tiktok_pipeline.defs.ingestion.jobs import sync_run_config

#: Tags on the backfill, which Dagster copies onto each of its runs.
TRIGGER_TAG = "tiktok/trigger"
SHOPS_TAG = "tiktok/shops"
#: The daemon writes a heartbeat every 30 s; four missed ones mean no daemon serves the instance.
DAEMON_SILENCE_SECONDS = 120


def sync_asset_graph() -> BaseAssetGraph:
    """The asset graph of the code location the daemon loads."""
    return defs().resolve_asset_graph()


def submit_backfill(
    instance: dg.DagsterInstance,
    entities: Sequence[str],
    partition_keys: Sequence[str],
    shops: Sequence[str] | None = None,
) -> PartitionBackfill:
    """Add an asset backfill of ``partition_keys`` for ``entities`` to ``instance``, as the UI's
    launchPartitionBackfill does; the daemon submits its runs (BackfillPolicy.multi_run). With
    ``shops``, the run config restricts every sync asset to them and a tag names them."""
    # A sync multi-asset materializes all its tables or none: select every one of them.
    keys = [dg.AssetKey(table) for name in entities for table in ENTITIES[name].tables]
    tags = {TRIGGER_TAG: "cli_backfill"}
    # Dagster refuses titles over 100 characters: every entity's name would not fit.
    what = "all entities" if set(entities) == set(ENTITIES) else "+".join(entities)[:60]
    title = f"{what} {partition_keys[0]} to {partition_keys[-1]}"
    if shops:
        tags[SHOPS_TAG] = ",".join(shops)
        title += f", {len(shops)} shop(s)"
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=sync_asset_graph(),
        partition_names=list(partition_keys),
        asset_selection=keys,
        backfill_timestamp=get_current_timestamp(),
        tags=tags,
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description="Submitted by `tiktok-pipeline backfill`"
        + (f" for shops {', '.join(shops)}" if shops else " for every active shop"),
        run_config=sync_run_config(shops, entities) if shops else None,
    )
    instance.add_backfill(backfill)
    return backfill


@dataclass(frozen=True)
class Progress:
    """Where a backfill stands: its status, per-entity partition counts, its runs by status."""

    status: str
    partitions: dict[str, Counter[str]]
    runs: Counter[str]

    def line(self) -> str:
        """One line for the terminal: status, done/failed partitions per entity, runs."""
        parts = []
        for name, counts in self.partitions.items():
            part = f"{name} {counts['done']}/{counts['targeted']} done"
            if counts["failed"]:
                part += f", {counts['failed']} failed"
            if counts["in_progress"]:
                part += f", {counts['in_progress']} in progress"
            parts.append(part)
        runs = ", ".join(f"{n} {status.lower()}" for status, n in sorted(self.runs.items()))
        return " | ".join([self.status.lower(), *parts, f"runs: {runs or 'none yet'}"])


def backfill_progress(
    instance: dg.DagsterInstance, backfill: PartitionBackfill, asset_graph: BaseAssetGraph
) -> Progress:
    """Partition counts of each entity's parent table and the backfill's runs by status."""
    data = backfill.get_asset_backfill_data(asset_graph)
    by_key = {
        status.asset_key: status
        for status in data.get_backfill_status_per_asset_key(asset_graph)
        if isinstance(status, PartitionedAssetBackfillStatus)
    }
    partitions: dict[str, Counter[str]] = {}
    for name, entity in ENTITIES.items():
        status = by_key.get(dg.AssetKey(entity.tables[0]))
        if status is None:
            continue
        counts = status.partitions_counts_by_status
        partitions[name] = Counter(
            targeted=status.num_targeted_partitions,
            done=counts.get(AssetBackfillStatus.MATERIALIZED, 0),
            failed=counts.get(AssetBackfillStatus.FAILED, 0),
            in_progress=counts.get(AssetBackfillStatus.IN_PROGRESS, 0),
        )
    runs = instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill.backfill_id))
    return Progress(backfill.status.value, partitions, Counter(r.status.value for r in runs))


def failed_partitions(backfill: PartitionBackfill, asset_graph: BaseAssetGraph) -> list[str]:
    """One line per entity with failed partitions, as day ranges."""
    data = backfill.get_asset_backfill_data(asset_graph)
    lines = []
    for name, entity in ENTITIES.items():
        key = dg.AssetKey(entity.tables[0])
        if key not in data.failed_and_downstream_subset.asset_keys:
            continue
        subset = data.failed_and_downstream_subset.get_partitions_subset(key)
        ranges = subset.get_partition_key_ranges(asset_graph.get(key).partitions_def)
        days = ", ".join(r.start if r.start == r.end else f"{r.start}..{r.end}" for r in ranges)
        lines.append(f"{name}: failed partitions {days}")
    return lines


def failed_runs(instance: dg.DagsterInstance, backfill_id: str, ui_url: str) -> list[str]:
    """Each failed or canceled run of the backfill: its days, its link and why it failed."""
    bad = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
    tags = dg.RunsFilter.for_backfill(backfill_id).tags
    runs = instance.get_runs(filters=dg.RunsFilter(tags=tags, statuses=bad))
    lines = []
    for run in runs:
        start = run.tags.get(
            "dagster/asset_partition_range_start", run.tags.get("dagster/partition")
        )
        end = run.tags.get("dagster/asset_partition_range_end", start)
        lines.append(
            f"run {run.run_id} ({start}..{end}) {run.status.value.lower()}: "
            f"{ui_url}/runs/{run.run_id}"
        )
        lines.extend(f"    {reason}" for reason in failure_reasons(instance, run.run_id))
    return lines


def failure_reasons(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The steps' failure descriptions (they name the shops and the fix), else the run's."""
    reasons = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        data = event.step_failure_data if event else None
        if event is None or data is None:
            continue
        if data.user_failure_data and data.user_failure_data.description:
            reasons.append(f"{event.step_key}: {data.user_failure_data.description}")
        elif data.error is not None:
            reasons.append(f"{event.step_key}: {data.error.message.strip()}")
    if not reasons:
        run_failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        reasons.extend(record.message or "the run failed" for record in run_failures)
    return [line for reason in reasons for line in reason.splitlines()[:21]]


def daemon_silence(instance: dg.DagsterInstance, home: str) -> str | None:
    """Why no daemon seems to serve the instance, or None when its heartbeat is recent."""
    heartbeat = instance.get_daemon_heartbeats().get("BACKFILL")
    age = time.time() - heartbeat.timestamp if heartbeat else None
    if age is not None and age < DAEMON_SILENCE_SECONDS:
        return None
    last = f"last seen {age / 60:.0f} min ago" if age is not None else "never seen"
    return (
        f"no dagster-daemon serves DAGSTER_HOME={home} ({last}), so "
        "nothing of the backfill runs: start `dagster-daemon run` in the project folder with "
        "the same DAGSTER_HOME and environment, or `tiktok-pipeline dev`"
    )
