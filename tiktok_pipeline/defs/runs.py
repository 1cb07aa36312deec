"""What the schedules ask of the Dagster instance before they request a run."""

from collections.abc import Mapping

import dagster as dg

#: Run statuses of a run that is queued or running: a schedule skips its tick meanwhile.
IN_FLIGHT = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)


def run_in_flight(
    instance: dg.DagsterInstance, job_name: str, tags: Mapping[str, str] | None = None
) -> bool:
    """True while a run of ``job_name`` (with ``tags``, if given) is queued or running."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=job_name, statuses=list(IN_FLIGHT), tags=tags),
        limit=1,
    )
    return bool(runs)
