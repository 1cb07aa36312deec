"""One terminal line per run that ends under ``tiktok-pipeline dev``.

A run's own console shows its INFO messages, but a run whose worker cannot even load the code
fails without printing anything; in a quiet terminal that failure must still show.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests

ENDED_RUNS_QUERY = """
query EndedRuns($after: Float) {
  runsOrError(filter: {statuses: [SUCCESS, FAILURE, CANCELED], updatedAfter: $after}, limit: 50) {
    ... on Runs { results { runId jobName status startTime endTime updateTime } }
  }
}
"""
#: Runs updated this long before the newest one seen are asked for again (clocks, slow writes).
OVERLAP_SECONDS = 120.0


class RunEnds:
    """Asks the Dagster UI for runs that ended since the last call, each reported once."""

    def __init__(self, ui_url: str, since: float) -> None:
        self.ui_url = ui_url
        self.since = since
        self.reported: set[str] = set()

    def lines(self) -> list[str]:
        """A line per run that ended since the last call; none while the UI does not answer."""
        try:
            answer = requests.post(
                f"{self.ui_url}/graphql",
                json={"query": ENDED_RUNS_QUERY, "variables": {"after": self.since}},
                timeout=10,
            )
            runs = answer.json()["data"]["runsOrError"]["results"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return []
        found = []
        for run in sorted(runs, key=lambda r: r.get("endTime") or r.get("updateTime") or 0):
            if run["runId"] not in self.reported:
                self.reported.add(run["runId"])
                found.append(describe(run, self.ui_url))
        if runs:
            newest = max(r.get("updateTime") or 0 for r in runs)
            self.since = max(self.since, newest - OVERLAP_SECONDS)
        return found


def describe(run: dict, ui_url: str) -> str:
    """``<time> - tiktok-pipeline - INFO - run 1a2b3c4d of tiktok_sync_job succeeded in 12 s``;
    a failure (ERROR) carries the run's page."""
    ended = run.get("endTime") or run.get("updateTime")
    stamp = datetime.fromtimestamp(ended, UTC) if ended else datetime.now(UTC)
    took = ""
    if run.get("startTime") and ended:
        took = f" {_duration(ended - run['startTime'])}"
    what = f"run {run['runId'][:8]} of {run['jobName']}"
    if run["status"] == "SUCCESS":
        level, outcome = "INFO", f"{what} succeeded{' in' + took if took else ''}"
    elif run["status"] == "CANCELED":
        level, outcome = "INFO", f"{what} was canceled{' after' + took if took else ''}"
    else:
        level = "ERROR"
        outcome = f"{what} failed{' after' + took if took else ''}: {ui_url}/runs/{run['runId']}"
    return f"{stamp:%Y-%m-%d %H:%M:%S} +0000 - tiktok-pipeline - {level} - {outcome}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
