"""Benchmark: how fast the sandbox serves order pages, and its peak memory with 1M orders.

Starts the ``sandbox`` CLI command in a subprocess (registered on its own, so it works without
the other command groups) with 1,000,000 orders in one shop, authorizes with the consent
shortcut, then walks Get Order List with 100 orders per page using a raw ``requests`` client
that signs requests itself (this script imports nothing from tiktok_pipeline.client).
Prints ONE JSON line:

    pages_per_s_cold         first walk over orders never served before (generated + serialized);
                             the client only reads next_page_token, so this is serving speed
    pages_per_s_warm         the same walk again (served from the caches)
    parsed_pages_per_s_*     the same, with a client that json-decodes every page (~350 KB)
    update_window_*          an incremental-style walk: orders updated during one day
    server_cpu_ms_per_page_* CPU time of the server process per page (cold, warm walks);
    client_cpu_ms_per_page_* and of this client: steadier than pages/s on a busy machine
    startup_server_mib       VmHWM (peak RSS) of the server process before the walks
    peak_server_mib          and after them

With ``--runs N`` it runs N times (a fresh server each time) and prints one line of
[min, median, max] per figure: the machine is shared, single runs vary.

Usage: .venv/bin/python bench/sandbox_throughput.py [--orders 1000000] [--pages 500] [--runs 1]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._harness import cpu_seconds, peak_rss_mib, sandbox_process

APP_KEY = "bench-app-key"
APP_SECRET = "bench-app-secret"
ANCHOR = 1_767_225_600  # 2026-01-01 00:00 UTC


def sign(secret: str, path: str, query: dict[str, str], body: bytes) -> str:
    """TikTok's request signature, written here from the documented algorithm."""
    parts = [secret, path]
    parts.extend(key + query[key] for key in sorted(query) if key not in ("sign", "access_token"))
    text = "".join(parts).encode() + body + secret.encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


class Client:
    """A minimal signed client."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.session = requests.Session()

    def send(
        self, method: str, path: str, query: dict[str, str], body: dict | None
    ) -> requests.Response:
        """Send a signed call; returns the raw response."""
        q = dict(query, app_key=APP_KEY, timestamp=str(int(time.time())))
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        q["sign"] = sign(APP_SECRET, path, q, raw)
        return self.session.request(
            method,
            self.base + path,
            params=q,
            data=raw or None,
            timeout=120,
            headers={"x-tts-access-token": self.token, "content-type": "application/json"},
        )

    def call(self, method: str, path: str, query: dict[str, str], body: dict | None) -> dict:
        """Send a signed call that must succeed; returns ``data``."""
        payload = self.send(method, path, query, body).json()
        if payload["code"] != 0:
            raise RuntimeError(f"{path}: {payload['code']} {payload['message']}")
        return payload["data"]


def walk(
    client: Client, cipher: str, body: dict, pages: int, parse: bool, server_pid: int
) -> tuple[int, int, float, float, float]:
    """Walk up to ``pages`` pages.

    Returns (pages, total_count, seconds, server CPU seconds, client CPU seconds): the CPU
    times show where a page's time goes, and vary less than wall time on a busy machine.

    ``parse``: decode every page with ``json.loads`` like a real client; otherwise only read
    ``next_page_token`` from the head of the body, so that the figure shows what the server
    can serve rather than how fast this client parses 350 KB of JSON.
    """
    token = ""
    n_pages = total = 0
    server_cpu = cpu_seconds(server_pid)
    client_cpu = time.process_time()
    start = time.perf_counter()
    while n_pages < pages:
        query = {"shop_cipher": cipher, "page_size": "100"}
        if token:
            query["page_token"] = token
        response = client.send("POST", "/order/202309/orders/search", query, body)
        if parse:
            data = response.json()["data"]
            assert len(data["orders"]) == 100 or not data["next_page_token"]
            token, total = data["next_page_token"], data["total_count"]
        else:
            head = response.content[:400]
            assert head.startswith(b'{"code":0,'), head[:200]
            j = head.index(b'"next_page_token":"') + 19
            token = head[j : head.index(b'"', j)].decode()
            k = head.index(b'"total_count":') + 14
            total = int(head[k : head.index(b",", k)])
        n_pages += 1
        if not token:
            break
    elapsed = time.perf_counter() - start
    return (
        n_pages,
        total,
        elapsed,
        cpu_seconds(server_pid) - server_cpu,
        time.process_time() - client_cpu,
    )


def main() -> int:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the shop")
    parser.add_argument("--pages", type=int, default=500, help="pages per walk")
    parser.add_argument("--cache-mb", type=int, default=256, help="server render cache")
    parser.add_argument("--runs", type=int, default=1, help="runs (>1: [min, median, max])")
    args = parser.parse_args()
    runs = [run_once(args) for _ in range(max(1, args.runs))]
    if len(runs) == 1:
        print(json.dumps(runs[0]))
    else:
        print(
            json.dumps(
                {
                    key: [min(values), statistics.median(values), max(values)]
                    for key in runs[0]
                    for values in [[run[key] for run in runs]]
                }
            )
        )
    return 0


def run_once(args: argparse.Namespace) -> dict:
    """Start a server, walk, and return the figures."""
    with sandbox_process(
        "--app-key",
        APP_KEY,
        "--app-secret",
        APP_SECRET,
        "--shops",
        "1",
        "--orders-per-shop",
        str(args.orders),
        "--days",
        "90",
        "--anchor",
        str(ANCHOR),
        "--frozen-clock",
        "--render-cache-mb",
        str(args.cache_mb),
        sandbox_only=True,
        timeout=60,
    ) as server:
        base = server.base_url
        startup_mib = peak_rss_mib(server.pid)
        code = requests.post(base + "/sandbox/authorize", json={}, timeout=10).json()["code"]
        token = requests.get(
            base + "/api/v2/token/get",
            timeout=10,
            params={
                "app_key": APP_KEY,
                "app_secret": APP_SECRET,
                "auth_code": code,
                "grant_type": "authorized_code",
            },
        ).json()["data"]["access_token"]
        client = Client(base, token)
        cipher = client.call("GET", "/authorization/202309/shops", {}, None)["shops"][0]["cipher"]

        # Each cold walk reads orders no earlier walk touched (other create-time windows).
        recent = {"create_time_lt": ANCHOR}
        older = {"create_time_lt": ANCHOR - 30 * 86400}
        day = {"update_time_ge": ANCHOR - 86400, "update_time_lt": ANCHOR}
        pid = server.pid
        serve_cold = walk(client, cipher, recent, args.pages, False, pid)
        serve_warm = walk(client, cipher, recent, args.pages, False, pid)
        parsed_cold = walk(client, cipher, older, args.pages, True, pid)
        parsed_warm = walk(client, cipher, older, args.pages, True, pid)
        upd_cold = walk(client, cipher, day, args.pages, False, pid)
        upd_warm = walk(client, cipher, day, args.pages, False, pid)

        def rate(result: tuple[int, int, float, float, float]) -> float:
            """Pages per second of a walk."""
            return round(result[0] / result[2], 1)

        def per_page_ms(result: tuple[int, int, float, float, float], which: int) -> float:
            """CPU milliseconds per page of a walk (3: server, 4: client)."""
            return round(1000 * result[which] / result[0], 2)

        figures = {
            "orders_in_shop": serve_cold[1],
            "orders_per_page": 100,
            "pages_per_walk": serve_cold[0],
            "pages_per_s_cold": rate(serve_cold),
            "pages_per_s_warm": rate(serve_warm),
            "parsed_pages_per_s_cold": rate(parsed_cold),
            "parsed_pages_per_s_warm": rate(parsed_warm),
            "update_window_orders": upd_cold[1],
            "update_window_pages_per_s_cold": rate(upd_cold),
            "update_window_pages_per_s_warm": rate(upd_warm),
            "server_cpu_ms_per_page_cold": per_page_ms(serve_cold, 3),
            "server_cpu_ms_per_page_warm": per_page_ms(serve_warm, 3),
            "client_cpu_ms_per_page_cold": per_page_ms(serve_cold, 4),
            "client_cpu_ms_per_page_warm": per_page_ms(serve_warm, 4),
            "startup_server_mib": round(startup_mib, 1),
            "peak_server_mib": round(peak_rss_mib(server.pid), 1),
        }
    return figures


if __name__ == "__main__":
    sys.exit(main())
