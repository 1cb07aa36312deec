"""The call context handed to endpoint handlers, and parameter validation helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from tiktok_pipeline.sandbox.errors import ApiError, param_error

if TYPE_CHECKING:
    from tiktok_pipeline.sandbox.state import SandboxState
    from tiktok_pipeline.sandbox.world import ShopWorld


class RawData:
    """A handler result that is already serialized JSON (the ``data`` member).

    Held as chunks whose concatenation is the JSON, so that a large answer is copied
    once, into the response.
    """

    __slots__ = ("chunks",)

    def __init__(self, *chunks: bytes) -> None:
        self.chunks: list[bytes] = list(chunks)


@dataclass
class Call:
    """One authenticated Open API call, as handlers see it."""

    state: SandboxState
    open_id: str
    world: ShopWorld | None
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    path_params: dict[str, str] = field(default_factory=dict)
    now: int = 0
    version: str = ""

    @property
    def shop(self) -> ShopWorld:
        """The shop of ``shop_cipher`` (only on shop-scoped endpoints)."""
        assert self.world is not None
        return self.world


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body (empty body: ``{}``)."""
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            36009022, "Invalid request format. The request body is not valid JSON.", 400
        ) from exc
    if not isinstance(value, dict):
        raise ApiError(
            36009022, "Invalid request format. The request body must be a JSON object.", 400
        )
    return value


@overload
def query_int(
    call: Call,
    name: str,
    code: int,
    *,
    default: int | None = None,
    lo: int | None = None,
    hi: int | None = None,
    required: Literal[True],
) -> int: ...
@overload
def query_int(
    call: Call,
    name: str,
    code: int,
    *,
    default: int,
    lo: int | None = None,
    hi: int | None = None,
    required: bool = False,
) -> int: ...
@overload
def query_int(
    call: Call,
    name: str,
    code: int,
    *,
    default: int | None = None,
    lo: int | None = None,
    hi: int | None = None,
    required: bool = False,
) -> int | None: ...
def query_int(
    call: Call,
    name: str,
    code: int,
    *,
    default: int | None = None,
    lo: int | None = None,
    hi: int | None = None,
    required: bool = False,
) -> int | None:
    """An integer query parameter within [lo, hi] (an int when required or defaulted)."""
    raw = call.query.get(name)
    if raw is None or raw == "":
        if required:
            raise param_error(code, f"Invalid parameter. `{name}` is required.")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise param_error(code, f"Invalid parameter. `{name}` must be an integer.") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise param_error(
            code, f"Invalid parameter. `{name}` must be between {lo} and {hi}; got {value}."
        )
    return value


def query_choice(call: Call, name: str, choices: tuple[str, ...], default: str, code: int) -> str:
    """A query parameter restricted to ``choices``."""
    value = call.query.get(name) or default
    if value not in choices:
        raise param_error(code, f"Invalid parameter. `{name}` must be one of {list(choices)}.")
    return value


def body_int(body: dict, name: str, code: int) -> int | None:
    """An optional integer (Unix seconds) body field."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise param_error(code, f"Invalid parameter. `{name}` must be an integer (Unix seconds).")
    if value < 0:
        raise param_error(code, f"Invalid parameter. `{name}` must not be negative.")
    return value


def body_str(
    body: dict, name: str, code: int, choices: tuple[str, ...] | None = None
) -> str | None:
    """An optional string body field, optionally restricted to ``choices``."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise param_error(code, f"Invalid parameter. `{name}` must be a string.")
    if choices is not None and value not in choices:
        raise param_error(code, f"Invalid parameter. `{name}` must be one of {list(choices)}.")
    return value


def body_bool(body: dict, name: str, code: int) -> bool | None:
    """An optional boolean body field."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise param_error(code, f"Invalid parameter. `{name}` must be true or false.")
    return value


def body_str_list(
    body: dict,
    name: str,
    code: int,
    *,
    max_items: int | None = None,
    choices: tuple[str, ...] | None = None,
    max_code: int | None = None,
) -> list[str] | None:
    """An optional list-of-strings body field."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise param_error(code, f"Invalid parameter. `{name}` must be a list of strings.")
    if max_items is not None and len(value) > max_items:
        raise param_error(
            max_code or code, f"Invalid parameter. `{name}` accepts at most {max_items} values."
        )
    if choices is not None:
        bad = [v for v in value if v not in choices]
        if bad:
            raise param_error(
                code,
                f"Invalid parameter. `{name}` has unknown values {bad}; allowed: {list(choices)}.",
            )
    return value


def time_range(body: dict, name: str, code: int) -> tuple[int | None, int | None]:
    """The optional ``{name}_ge`` and ``{name}_lt`` body fields; an inverted range is refused."""
    ge = body_int(body, f"{name}_ge", code)
    lt = body_int(body, f"{name}_lt", code)
    if ge is not None and lt is not None and ge > lt:
        raise param_error(
            code, f"Invalid parameter. `{name}_ge` must not be after the upper bound of `{name}`."
        )
    return ge, lt
