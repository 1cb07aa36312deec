"""Argument types shared by the commands: each turns text into a value or a clear error."""

from __future__ import annotations

import argparse
from datetime import timedelta

from tiktok_pipeline.lifecycle.durations import parse_duration


def positive_duration(text: str) -> timedelta:
    """A duration such as ``90m``, ``48h`` or ``7d`` that is more than zero."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive duration; use e.g. 48h or 90m"
        )
    return value
