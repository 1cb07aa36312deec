"""Handlers: product search and detail, inventory update and inventory search."""

from __future__ import annotations

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.api_common import list_data, paginate
from tiktok_pipeline.sandbox.errors import ApiError, param_error
from tiktok_pipeline.sandbox.params import (
    Call,
    RawData,
    body_int,
    body_str,
    body_str_list,
    query_int,
)
from tiktok_pipeline.sandbox.products import Product
from tiktok_pipeline.sandbox.search import ProductQuery, select_products

PRODUCT_STATUSES = (
    "ALL",
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)
#: TikTok's cap on a product search's results (the sandbox's default ``product_search_window``).
SEARCH_WINDOW = 10_000
MAX_QUANTITY = 99_999


def search_products(call: Call) -> RawData:
    """POST /product/202309/products/search and /product/202502/products/search."""
    code = errors.PRODUCT_INVALID_INPUT
    page_size = query_int(call, "page_size", errors.PRODUCT_PAGE_SIZE, lo=1, hi=100, required=True)
    b = call.body
    status = body_str(b, "status", code, PRODUCT_STATUSES) or "ALL"
    seller_skus = body_str_list(
        b, "seller_skus", code, max_items=10, max_code=errors.PRODUCT_TOO_MANY_SELLER_SKUS
    )
    sku_ids = None
    if call.version >= "202502":
        sku_ids = body_str_list(
            b, "sku_ids", code, max_items=10, max_code=errors.PRODUCT_TOO_MANY_SKU_IDS
        )
    create_ge = body_int(b, "create_time_ge", 12019118)
    create_le = body_int(b, "create_time_le", 12019118)
    update_ge = body_int(b, "update_time_ge", errors.PRODUCT_TIME_INVALID)
    update_le = body_int(b, "update_time_le", errors.PRODUCT_TIME_INVALID)
    if create_ge is not None and create_le is not None and create_ge > create_le:
        raise param_error(
            12019118, "The create time range is invalid: create_time_ge is after create_time_le."
        )
    if update_ge is not None and update_le is not None and update_ge > update_le:
        raise param_error(
            errors.PRODUCT_TIME_INVALID,
            "The update time range is invalid: update_time_ge is after update_time_le.",
        )
    query = ProductQuery(
        status=None if status == "ALL" else status,
        seller_skus=frozenset(seller_skus) if seller_skus is not None else None,
        sku_ids=frozenset(sku_ids) if sku_ids is not None else None,
        create_ge=create_ge,
        create_le=create_le,
        update_ge=update_ge,
        update_le=update_le,
    )
    world = call.shop
    page = paginate(
        call,
        "products",
        code,
        query,
        page_size,
        lambda t: select_products(world, query, t),
        max_window=call.state.config.product_search_window,
        window_code=errors.PRODUCT_RESULT_WINDOW,
    )
    shape = "search_202502" if call.version >= "202502" else "search_202309"
    state = call.state
    parts = [state.product_bytes(world, j, page.snapshot, shape) for j in page.ids]
    return list_data(
        {"total_count": page.total, "next_page_token": page.next_token}, "products", parts
    )


def _product(call: Call, product_id: str) -> Product:
    product = call.shop.catalog.by_id(product_id)
    if product is not None:
        return product
    for world in call.state.worlds:
        if world is not call.shop and world.catalog.by_id(product_id) is not None:
            raise ApiError(
                errors.PRODUCT_OTHER_SHOP, "The product does not belong to the current shop."
            )
    raise ApiError(errors.PRODUCT_NOT_FOUND, f"The product {product_id} does not exist.")


def get_product(call: Call) -> dict:
    """GET /product/202309/products/{product_id} (a deleted product: status ``DELETED``)."""
    p = _product(call, call.path_params["product_id"])
    return call.shop.catalog.render(p, call.now, "detail")


def update_inventory(call: Call) -> dict:
    """POST /product/202309/products/{product_id}/inventory/update.

    Partial failures (a SKU or warehouse that does not belong to the product) come back in
    ``data.errors`` with code 0, like TikTok's; the valid SKUs are updated.
    """
    catalog = call.shop.catalog
    p = _product(call, call.path_params["product_id"])
    if catalog.deleted_by(p, call.now):
        # TikTok answers a deleted product's inventory update like an unknown product.
        raise ApiError(errors.PRODUCT_NOT_FOUND, f"The product {p.id} does not exist.")
    n, _, _ = catalog.state(p, call.now)
    if catalog.status(p, n) != "ACTIVATE":
        raise ApiError(
            errors.PRODUCT_CHECK_FAILED,
            "Check failed: the product is not ACTIVATE; "
            "only active products' inventory can be updated.",
        )
    skus = call.body.get("skus")
    if not isinstance(skus, list) or not skus:
        raise param_error(
            errors.PRODUCT_SKU_ID_REQUIRED,
            "The SKU ID is required: send skus[] with id and inventory.",
        )
    if len(skus) > 100:
        raise param_error(errors.PRODUCT_TOO_MANY_SKUS, "At most 100 SKUs per request.")
    by_id = {s.id: s for s in p.skus}
    quantities: dict[tuple[int, str], int] = {}
    failures = []
    for entry in skus:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise param_error(errors.PRODUCT_SKU_ID_REQUIRED, "The SKU ID is required.")
        inventory = entry.get("inventory")
        if not isinstance(inventory, list) or not inventory:
            raise param_error(
                errors.PRODUCT_STOCK_INVALID,
                f"The stock of SKU {entry['id']} is invalid: send inventory[].",
            )
        for inv in inventory:
            qty = inv.get("quantity") if isinstance(inv, dict) else None
            if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= MAX_QUANTITY:
                raise param_error(
                    errors.PRODUCT_STOCK_INVALID,
                    f"The stock count is invalid: quantity must be an integer in "
                    f"[0, {MAX_QUANTITY}].",
                )
        sku = by_id.get(entry["id"])
        if sku is None:
            failures.append(
                {
                    "code": errors.PRODUCT_CHECK_FAILED,
                    "message": "Check failed",
                    "detail": {
                        "sku_id": entry["id"],
                        "extra_errors": [
                            {
                                "code": errors.PRODUCT_SKU_UNKNOWN,
                                "message": "The SKU does not belong to this product",
                            }
                        ],
                    },
                }
            )
            continue
        sku_warehouses = [wh for wh, _ in sku.warehouses]
        given = [inv.get("warehouse_id") for inv in inventory]
        if any(w is None for w in given):
            if len(sku_warehouses) > 1 or len(inventory) > 1:
                raise param_error(
                    errors.PRODUCT_ALL_WAREHOUSES,
                    f"SKU {sku.id} has multiple warehouses: give warehouse_id for "
                    "each and include all of them.",
                )
            given = [sku_warehouses[0]]
        unknown = [w for w in given if w not in sku_warehouses]
        if unknown:
            failures.append(
                {
                    "code": errors.PRODUCT_CHECK_FAILED,
                    "message": "Check failed",
                    "detail": {
                        "sku_id": sku.id,
                        "extra_errors": [
                            {
                                "warehouse_id": w,
                                "code": errors.PRODUCT_WAREHOUSE_UNKNOWN,
                                "message": "The warehouse does not exist",
                            }
                            for w in unknown
                        ],
                    },
                }
            )
            continue
        if set(given) != set(sku_warehouses):
            raise param_error(
                errors.PRODUCT_ALL_WAREHOUSES,
                f"SKU {sku.id} has multiple warehouses: include all of them.",
            )
        for wh, inv in zip(given, inventory, strict=True):
            quantities[(sku.number, wh)] = inv["quantity"]
    if quantities:
        catalog.write_inventory(p, call.now, quantities)
    return {"errors": failures} if failures else {}


def inventory_search(call: Call) -> dict:
    """POST /product/202309/inventory/search (``sku_ids`` win over ``product_ids``)."""
    code = errors.PRODUCT_INVALID_INPUT
    sku_ids = body_str_list(call.body, "sku_ids", code, max_items=600)
    product_ids = body_str_list(call.body, "product_ids", code, max_items=100)
    catalog = call.shop.catalog
    out = []
    if sku_ids:
        wanted = set(sku_ids)
        seen: list[int] = []
        for sku_id in sku_ids:
            sku = catalog.sku_by_id(sku_id)
            if sku is not None and sku.product_index not in seen:
                seen.append(sku.product_index)
        out = [catalog.inventory_entry(catalog.products[j], call.now, wanted) for j in seen]
    elif product_ids:
        for product_id in product_ids:
            p = catalog.by_id(product_id)
            if p is not None:
                out.append(catalog.inventory_entry(p, call.now))
    else:
        raise param_error(
            code, "Invalid input: give product_ids (up to 100) or sku_ids (up to 600)."
        )
    return {"inventory": out}
