"""List a shop's orders of the last day with the signed TikTok Shop client.

Run it from the project's folder (nothing else to start, no TikTok account needed)::

    .venv/bin/python examples/client_call.py

It starts the local TikTok Shop sandbox in this process, lets its seller consent, exchanges the
auth code for tokens and lists the orders updated in the last 24 hours with a signed call. With
your own app, build it with ``TikTokShopClient.from_env(credentials=store.tokens,
request_log=store.request_log)`` (``store = Store.from_url()``) and take ``client.shop(id)``.
"""

from datetime import UTC, datetime

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox

DAY = 86_400

with run_sandbox(SandboxConfig(seed=7, shops=1, orders_per_shop=300, days=7)) as sandbox:
    with TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,  # the sandbox serves the Open API and the token host
        auth_base_url=sandbox.base_url,
    ) as client:
        token = client.auth.access_token(auth_code=sandbox.authorize())["data"]["access_token"]
        shop = client.shop(access_token=token).authorization.shops()["data"]["shops"][0]
        api = client.shop(shop["id"], access_token=token, cipher=shop["cipher"])

        now = sandbox.control.now()
        window = {"update_time_ge": now - DAY, "update_time_lt": now}
        found = api.order.list(query={"page_size": 5}, body=window)["data"]
        print(f"shop {shop['id']} ({shop['name']}): {found['total_count']} orders updated in 24 h")
        for order in found["orders"]:
            updated = datetime.fromtimestamp(order["update_time"], UTC)
            payment = order["payment"]
            print(
                f"  {order['id']}  {order['status']:<20} updated {updated:%Y-%m-%d %H:%M} UTC  "
                f"{payment['total_amount']} {payment['currency']}"
            )
