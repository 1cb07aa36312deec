"""Per-call cost of the client (signing, building, parsing, request log) over a raw call.

Both sides call the same sandbox endpoint (GET /seller/202309/shops) in another process, over
one keep-alive connection: the raw side with ``requests`` and a sign computed once, the client
side through ``TikTokShopClient`` with its request log writing to SQLite. Blocks of calls
alternate so that machine noise hits both alike. Run twice: an endpoint that answers at once,
and one that takes 1 ms (sandbox latency fault). Prints one JSON line.

Targets (issue 2): overhead under 0.3 ms per call and under 5 % of a 1 ms endpoint.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bench._harness import sandbox_process
from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.client.signing import sign_request
from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.store import Store

APP_KEY, APP_SECRET = "bench-key", "bench-secret"
PATH = "/seller/202309/shops"
BLOCK, ROUNDS = 200, 12


def _timed(call, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1000


def measure(base_url: str, access_token: str, store: Store) -> dict:
    """Median per-call milliseconds of the raw call, the client, and the client without log."""
    session = requests.Session()
    # The same session settings as the client's (environment read once, not per request), so
    # that the difference is the client's own work.
    session.trust_env = False
    query = {"app_key": APP_KEY, "timestamp": str(int(time.time()))}
    query["sign"] = sign_request(APP_SECRET, PATH, query)
    headers = {"x-tts-access-token": access_token, "content-type": "application/json"}

    def raw() -> None:
        response = session.get(base_url + PATH, params=query, headers=headers, timeout=10)
        assert response.json()["code"] == 0

    logged = TikTokShopClient(
        APP_KEY, APP_SECRET, base_url=base_url, request_log=store.request_log, qps=None
    )
    unlogged = TikTokShopClient(APP_KEY, APP_SECRET, base_url=base_url, qps=None)
    apis = {
        "client": logged.shop(access_token=access_token),
        "client_no_log": unlogged.shop(access_token=access_token),
    }
    for call in (raw, *(api.seller.shops for api in apis.values())):
        _timed(call, 50)  # warm up connections and caches
    samples: dict[str, list[float]] = {"raw": [], "client": [], "client_no_log": []}
    for _ in range(ROUNDS):
        samples["raw"].append(_timed(raw, BLOCK))
        for name, api in apis.items():
            samples[name].append(_timed(api.seller.shops, BLOCK))
    store.request_log.flush()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    """Run both endpoint speeds and print the figures."""
    figures: dict[str, object] = {"calls_per_side": BLOCK * ROUNDS}
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_process(
            "--app-key", APP_KEY, "--app-secret", APP_SECRET, "--orders-per-shop", "100"
        ) as sandbox,
    ):
        base_url = sandbox.base_url
        store = Store.from_url(sqlite_url(Path(tmp) / "bench.db"))
        probe = TikTokShopClient(APP_KEY, APP_SECRET, base_url=base_url, auth_base_url=base_url)
        code = requests.post(f"{base_url}/sandbox/authorize", json={}, timeout=10).json()["code"]
        token = probe.auth.access_token(code)["data"]["access_token"]
        for label, latency_ms in (("instant", 0), ("1ms", 1)):
            requests.post(
                f"{base_url}/sandbox/faults", json={"latency_ms": latency_ms}, timeout=10
            ).raise_for_status()
            result = measure(base_url, token, store)
            overhead = result["client"] - result["raw"]
            figures[label] = {
                "raw_ms": round(result["raw"], 4),
                "client_ms": round(result["client"], 4),
                "client_without_log_ms": round(result["client_no_log"], 4),
                "overhead_ms": round(overhead, 4),
                "overhead_pct_of_raw_call": round(100 * overhead / result["raw"], 2),
            }
        figures["request_log_rows_written"] = store.request_log.written
        store.close()
    target = figures["1ms"]
    figures["meets_target"] = (
        figures["instant"]["overhead_ms"] < 0.3 and target["overhead_pct_of_raw_call"] < 5
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
