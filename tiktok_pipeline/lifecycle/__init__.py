"""Token lifecycle: refresh before expiry, flush what is dead, report every shop's health.

Plain Python (no Dagster): the CLI's ``tokens`` commands and the Dagster maintenance jobs
both call these functions.
"""

from tiktok_pipeline.lifecycle.connect import connect_seller
from tiktok_pipeline.lifecycle.durations import format_duration, parse_duration
from tiktok_pipeline.lifecycle.flush import FlushReport, RemovedAuthorization, flush
from tiktok_pipeline.lifecycle.links import (
    AUTHORIZE_PATH,
    AUTHORIZED_PATH,
    reauthorize_url,
    redirect_url,
)
from tiktok_pipeline.lifecycle.refresh import (
    AuthorizationRefresh,
    RefreshOutcome,
    RefreshReport,
    refresh_expiring,
)
from tiktok_pipeline.lifecycle.status import ShopTokenStatus, token_status

__all__ = [
    "AUTHORIZED_PATH",
    "AUTHORIZE_PATH",
    "AuthorizationRefresh",
    "FlushReport",
    "RefreshOutcome",
    "RefreshReport",
    "RemovedAuthorization",
    "ShopTokenStatus",
    "connect_seller",
    "flush",
    "format_duration",
    "parse_duration",
    "reauthorize_url",
    "redirect_url",
    "refresh_expiring",
    "token_status",
]
