"""The web service: seller authorization (consent link and callback) and the webhook receiver.

>>> from tiktok_pipeline.web import create_app, run_web_service, WebhookHooks
>>> hooks = WebhookHooks()
>>> @hooks.on("order-status-change")
... def changed(event): ...
>>> with run_web_service(hooks=hooks) as service:
...     print(service.base_url)
"""

from tiktok_pipeline.web.app import create_app
from tiktok_pipeline.web.hooks import ReceivedWebhook, WebhookHooks
from tiktok_pipeline.web.server import WebService, run_web_service, serve
from tiktok_pipeline.web.state import InvalidState, StateSigner

__all__ = [
    "InvalidState",
    "ReceivedWebhook",
    "StateSigner",
    "WebService",
    "WebhookHooks",
    "create_app",
    "run_web_service",
    "serve",
]
