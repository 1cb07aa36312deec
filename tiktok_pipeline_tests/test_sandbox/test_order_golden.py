"""The order endpoints serve what they served when the golden fixtures were captured.

Every case of ``golden_orders.CASES`` is replayed against a real sandbox over HTTP: the same
pages (order ids, in order, page after page), the same ``total_count``, the same orders (a
digest of each, and a few whole orders compared field by field), from Get Order List, Get
Order Detail and the truth endpoint, and the same price details. A failure names the orders
and fields that changed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tiktok_pipeline_tests.test_sandbox.golden_orders import CASES, Case, fixture_path, observe


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as readable paths (``line_items[1].sale_price: ...``)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{path}.{k}: missing" for k in want if k not in got]
        out += [f"{path}.{k}: unexpected" for k in got if k not in want]
        for k in want:
            if k in got:
                out += differences(want[k], got[k], f"{path}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path}: {len(want)} entries expected, got {len(got)}"]
        return [
            d
            for n, (w, g) in enumerate(zip(want, got, strict=True))
            for d in differences(w, g, f"{path}[{n}]")
        ]
    if type(want) is not type(got) or want != got:
        return [f"{path}: expected {want!r}, got {got!r}"]
    return []


@pytest.fixture(scope="module", params=CASES, ids=[case.name for case in CASES])
def replay(request: pytest.FixtureRequest) -> tuple[dict, dict]:
    """(fixture, what the sandbox serves now) of one case."""
    case: Case = request.param
    want = json.loads(fixture_path(case).read_text())
    return want, observe(case)


def test_pages_hold_the_same_orders_in_the_same_order(replay):
    want, got = replay
    assert len(got["walks"]) == len(want["walks"])
    for w, g in zip(want["walks"], got["walks"], strict=True):
        where = f"shop {w['shop']} body {w['body']} query {w['query']}"
        assert g["total_count"] == w["total_count"], where
        assert [len(p) for p in g["pages"]] == [len(p) for p in w["pages"]], where
        assert g["pages"] == w["pages"], where


def test_sampled_orders_are_the_same_field_by_field(replay):
    want, got = replay
    served = {order["id"]: order for order in got["orders"]}
    assert list(served) == [order["id"] for order in want["orders"]]
    problems = [
        f"order {order['id']}{d}"
        for order in want["orders"]
        for d in differences(order, served[order["id"]])
    ]
    assert not problems, "\n".join(problems[:40])


def test_every_order_has_the_same_content(replay):
    want, got = replay
    assert got["digests"].keys() == want["digests"].keys()
    changed = sorted(k for k, v in want["digests"].items() if got["digests"][k] != v)
    assert not changed, f"{len(changed)} orders changed, e.g. {changed[:5]}"


def test_order_detail_and_truth_serve_the_same_orders(replay):
    want, got = replay
    assert got["detail"] == want["detail"]
    assert got["truth"] == want["truth"]
    for detail in got["detail"]:
        assert detail["digests"] == [got["digests"][i] for i in detail["ids"]]


def test_price_details_are_the_same_field_by_field(replay):
    want, got = replay
    assert list(got["price_detail"]) == list(want["price_detail"])
    problems = [
        f"order {order_id}{d}"
        for order_id, detail in want["price_detail"].items()
        for d in differences(detail, got["price_detail"][order_id])
    ]
    assert not problems, "\n".join(problems[:40])
