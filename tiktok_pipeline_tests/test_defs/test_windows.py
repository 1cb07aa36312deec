"""The window arithmetic of the sync: which ``update_time`` spans a partition asks TikTok for.

``daily_windows`` cuts a partition's time window into daily windows that end at the safety
bound (now minus the lag); each entity turns a window into its search filter: orders and returns
with the half-open ``update_time_lt``, products with the inclusive ``update_time_le``. Both must
give every updated object exactly one window, whatever second it was updated at.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tiktok_pipeline.client import ShopAPI, TikTokShopClient
from tiktok_pipeline.defs.ingestion.entities import (
    ENTITIES,
    updated_between,
    updated_between_inclusive,
)
from tiktok_pipeline.defs.ingestion.sync import daily_windows

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    """``2024-12-01T13:45`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spans(windows) -> list[tuple[str, str, str]]:
    """Windows as (start, end, partition key), times as ISO 8601 instants in UTC."""
    return [
        (w.start.isoformat(), w.end.astimezone(UTC).isoformat(), w.partition_key) for w in windows
    ]


@pytest.mark.parametrize(
    ("start", "end", "upper_bound", "expected"),
    [
        pytest.param(
            utc("2024-12-01T00:00"),
            utc("2024-12-02T00:00"),
            FAR_FUTURE,
            [("2024-12-01T00:00:00+00:00", "2024-12-02T00:00:00+00:00", "2024-12-01")],
            id="one_past_day_is_one_whole_window",
        ),
        pytest.param(
            utc("2024-11-29T00:00"),
            utc("2024-12-02T00:00"),
            FAR_FUTURE,
            [
                ("2024-11-29T00:00:00+00:00", "2024-11-30T00:00:00+00:00", "2024-11-29"),
                ("2024-11-30T00:00:00+00:00", "2024-12-01T00:00:00+00:00", "2024-11-30"),
                ("2024-12-01T00:00:00+00:00", "2024-12-02T00:00:00+00:00", "2024-12-01"),
            ],
            id="a_range_of_days_is_one_window_per_day_across_a_month_end",
        ),
        pytest.param(
            utc("2024-12-02T00:00"),
            utc("2024-12-03T00:00"),
            utc("2024-12-02T13:45"),
            [("2024-12-02T00:00:00+00:00", "2024-12-02T13:45:00+00:00", "2024-12-02")],
            id="today_is_cut_at_the_upper_bound",
        ),
        pytest.param(
            utc("2024-12-01T00:00"),
            utc("2024-12-04T00:00"),
            utc("2024-12-02T13:45"),
            [
                ("2024-12-01T00:00:00+00:00", "2024-12-02T00:00:00+00:00", "2024-12-01"),
                ("2024-12-02T00:00:00+00:00", "2024-12-02T13:45:00+00:00", "2024-12-02"),
            ],
            id="days_after_the_bound_are_left_out",
        ),
        pytest.param(
            utc("2024-12-01T00:00"),
            utc("2024-12-03T00:00"),
            utc("2024-12-02T00:00"),
            [("2024-12-01T00:00:00+00:00", "2024-12-02T00:00:00+00:00", "2024-12-01")],
            id="a_window_starting_exactly_at_the_bound_is_left_out",
        ),
        pytest.param(
            utc("2024-12-02T00:00"),
            utc("2024-12-03T00:00"),
            utc("2024-12-01T23:59"),
            [],
            id="a_day_entirely_after_the_bound_has_no_window",
        ),
        pytest.param(
            utc("2024-12-02T00:00"),
            utc("2024-12-03T00:00"),
            utc("2024-12-02T00:00:00.000001"),
            [("2024-12-02T00:00:00+00:00", "2024-12-02T00:00:00.000001+00:00", "2024-12-02")],
            id="a_microsecond_past_the_start_is_a_window",
        ),
        pytest.param(
            utc("2024-12-02T00:00"),
            utc("2024-12-02T00:00"),
            FAR_FUTURE,
            [],
            id="an_empty_range_has_no_window",
        ),
        pytest.param(
            utc("2024-12-01T06:30"),
            utc("2024-12-03T00:00"),
            FAR_FUTURE,
            [
                ("2024-12-01T06:30:00+00:00", "2024-12-02T06:30:00+00:00", "2024-12-01"),
                ("2024-12-02T06:30:00+00:00", "2024-12-03T00:00:00+00:00", "2024-12-02"),
            ],
            id="a_non_midnight_start_gives_24_hour_windows_keyed_by_their_start_day",
        ),
        pytest.param(
            utc("2024-12-01T00:00"),
            utc("2024-12-01T18:15:30"),
            FAR_FUTURE,
            [("2024-12-01T00:00:00+00:00", "2024-12-01T18:15:30+00:00", "2024-12-01")],
            id="a_non_midnight_end_cuts_the_last_window",
        ),
        pytest.param(
            datetime(2024, 3, 10, tzinfo=NEW_YORK),  # the night clocks go forward (23-hour day)
            datetime(2024, 3, 12, tzinfo=NEW_YORK),
            FAR_FUTURE,
            [
                ("2024-03-10T05:00:00+00:00", "2024-03-11T05:00:00+00:00", "2024-03-10"),
                ("2024-03-11T05:00:00+00:00", "2024-03-12T04:00:00+00:00", "2024-03-11"),
            ],
            id="zoned_bounds_become_utc_windows_of_24_hours_across_spring_dst",
        ),
        pytest.param(
            utc("2024-10-27T00:00"),  # Europe's 25-hour day: UTC days stay 24 hours
            utc("2024-10-28T00:00"),
            datetime(2024, 10, 27, 12, 0, tzinfo=LONDON),  # GMT again: 12:00 UTC
            [("2024-10-27T00:00:00+00:00", "2024-10-27T12:00:00+00:00", "2024-10-27")],
            id="a_zoned_upper_bound_cuts_at_the_same_instant_in_utc",
        ),
    ],
)
def test_daily_windows(
    start: datetime, end: datetime, upper_bound: datetime, expected: list[tuple[str, str, str]]
) -> None:
    windows = daily_windows(start, end, upper_bound)

    assert spans(windows) == expected
    assert all(w.start.utcoffset() == timedelta(0) for w in windows)
    assert all(timedelta(0) < w.end - w.start <= timedelta(days=1) for w in windows)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))


@pytest.mark.parametrize(
    ("search_filter", "start", "end", "expected"),
    [
        pytest.param(
            updated_between,
            utc("2024-12-01T00:00"),
            utc("2024-12-02T00:00"),
            {"update_time_ge": 1733011200, "update_time_lt": 1733097600},
            id="orders_and_returns_half_open_lt_at_the_next_midnight",
        ),
        pytest.param(
            updated_between_inclusive,
            utc("2024-12-01T00:00"),
            utc("2024-12-02T00:00"),
            {"update_time_ge": 1733011200, "update_time_le": 1733097599},
            id="products_inclusive_le_one_second_before_the_next_midnight",
        ),
        pytest.param(
            updated_between,
            utc("2024-12-02T00:00"),
            utc("2024-12-02T13:45"),
            {"update_time_ge": 1733097600, "update_time_lt": 1733147100},
            id="orders_and_returns_cut_at_the_bound",
        ),
        pytest.param(
            updated_between_inclusive,
            utc("2024-12-02T00:00"),
            utc("2024-12-02T13:45"),
            {"update_time_ge": 1733097600, "update_time_le": 1733147099},
            id="products_cut_at_the_bound_end_one_second_earlier",
        ),
        pytest.param(
            updated_between,
            utc("2024-12-02T00:00"),
            utc("2024-12-02T13:45:00.750000"),
            {"update_time_ge": 1733097600, "update_time_lt": 1733147100},
            id="orders_and_returns_drop_a_fraction_of_a_second_in_the_bound",
        ),
        pytest.param(
            updated_between_inclusive,
            utc("2024-12-02T00:00"),
            utc("2024-12-02T13:45:00.750000"),
            {"update_time_ge": 1733097600, "update_time_le": 1733147099},
            id="products_drop_a_fraction_of_a_second_in_the_bound",
        ),
        pytest.param(
            updated_between,
            datetime(2024, 12, 1, tzinfo=NEW_YORK),
            datetime(2024, 12, 2, tzinfo=NEW_YORK),
            {"update_time_ge": 1733029200, "update_time_lt": 1733115600},
            id="zoned_bounds_are_the_same_instants_in_epoch_seconds",
        ),
    ],
)
def test_search_filter_of_a_window(search_filter, start: datetime, end: datetime, expected) -> None:
    assert search_filter(start, end) == expected


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(-1, id="last_second_of_the_first_day"),
        pytest.param(0, id="midnight_exactly"),
        pytest.param(1, id="first_second_after_midnight"),
    ],
)
@pytest.mark.parametrize(
    "search_filter",
    [
        pytest.param(updated_between, id="lt"),
        pytest.param(updated_between_inclusive, id="le"),
    ],
)
def test_adjacent_windows_share_no_second_and_miss_none(search_filter, offset: int) -> None:
    first, second = daily_windows(utc("2024-12-01T00:00"), utc("2024-12-03T00:00"), FAR_FUTURE)
    midnight = int(second.start.timestamp())
    searches = [search_filter(window.start, window.end) for window in (first, second)]

    hits = [_matches(search, midnight + offset) for search in searches]

    assert hits == [offset < 0, offset >= 0]


def _matches(search: dict[str, int], update_time: int) -> bool:
    """Whether TikTok's search with these bounds returns an object updated at ``update_time``."""
    if update_time < search["update_time_ge"]:
        return False
    if "update_time_lt" in search:
        return update_time < search["update_time_lt"]
    return update_time <= search["update_time_le"]


#: The id of each entity's objects in TikTok's JSON.
ID_KEYS = {"orders": "id", "products": "id", "returns": "return_id"}


@pytest.fixture(scope="module")
def shop_api(sandbox) -> Iterator[ShopAPI]:
    """The API of the sandbox's first shop, with a token from the real consent exchange."""
    config = sandbox.config
    host = sandbox.base_url
    with TikTokShopClient(
        config.app_key, config.app_secret, base_url=host, auth_base_url=host, qps=None
    ) as client:
        token = client.auth.access_token(sandbox.authorize())["data"]["access_token"]
        shop = sandbox.shops[0]
        yield client.shop(shop.id, access_token=token, cipher=shop.cipher)


@pytest.mark.parametrize("entity", ["orders", "products", "returns"])
@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(0, id="window_boundary_at_an_update_time"),
        pytest.param(1, id="window_boundary_one_second_after_an_update_time"),
    ],
)
def test_each_entity_fetches_every_object_in_exactly_one_window(
    sandbox, shop_api: ShopAPI, entity: str, offset: int
) -> None:
    key = ID_KEYS[entity]
    truth = sandbox.control.truth(entity, shop_api.shop_id)
    target = sorted(truth, key=lambda item: item["update_time"])[len(truth) // 2]
    boundary = datetime.fromtimestamp(target["update_time"] + offset, UTC)
    windows = [(boundary - timedelta(days=1), boundary), (boundary, boundary + timedelta(days=1))]

    fetched = [
        {
            str(item[key])
            for page in ENTITIES[entity].fetch(shop_api, start, end)
            for item in page.items
        }
        for start, end in windows
    ]

    expected = [
        {
            str(item[key])
            for item in truth
            if start.timestamp() <= item["update_time"] < end.timestamp()
        }
        for start, end in windows
    ]
    assert fetched == expected
    in_first, in_second = (str(target[key]) in ids for ids in fetched)
    assert (in_first, in_second) == (offset == 1, offset == 0)
