"""A local TikTok Shop server: Open API, token endpoints, consent page, webhooks, faults.

TikTok has had no sandbox host since API version 202309. This one lets you run the project
from a fresh clone, and the tests and benchmarks run against it::

    from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox

    with run_sandbox(SandboxConfig(seed=7, shops=2, orders_per_shop=500)) as sandbox:
        sandbox.base_url          # serves both TikTok hosts
        code = sandbox.authorize()
        sandbox.control.advance(3600)

It verifies requests on its own (it imports nothing from ``tiktok_pipeline.client``) so that
a bug in the client cannot hide a bug in the sandbox. See docs/sandbox.md.
"""

from tiktok_pipeline.sandbox.app import create_app
from tiktok_pipeline.sandbox.config import SandboxConfig
from tiktok_pipeline.sandbox.faults import FaultSettings
from tiktok_pipeline.sandbox.runner import RunningSandbox, SandboxControl, run_sandbox
from tiktok_pipeline.sandbox.shops import SellerInfo, ShopInfo
from tiktok_pipeline.sandbox.signing import compute_sign, verify_sign, webhook_signature
from tiktok_pipeline.sandbox.state import SandboxState

__all__ = [
    "FaultSettings",
    "RunningSandbox",
    "SandboxConfig",
    "SandboxControl",
    "SandboxState",
    "SellerInfo",
    "ShopInfo",
    "compute_sign",
    "create_app",
    "run_sandbox",
    "verify_sign",
    "webhook_signature",
]
