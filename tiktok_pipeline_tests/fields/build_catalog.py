"""Build the field catalog from TikTok's official SDK models and API reference.

Reads two public repositories as git directories (no work tree needed):

- the official TikTok Shop Node SDK, vendored in ``yxiZo/tiktok-partner-backend`` (``sdk/model/
  <resource>/V<version>/*.ts``): every response class lists its fields in ``attributeTypeMap``
  (``baseName`` is the JSON name, ``type`` is ``string``, ``number``, ``boolean``, another class
  or ``Array<...>``);
- TikTok's API reference specs, archived in ``lazykern/ecommerce-api-docs``
  (``data/raw/tiktok/api-reference/<category>/<name>.spec.json``), only to tell integers from
  other numbers (the SDK says ``number`` for both; the reference says ``int``).

Writes ``catalog/<key>.json`` (the source of truth the tests read) and renders
``docs/fields/<key>.md`` from it, plus the index in ``docs/fields/README.md``::

    python -m tiktok_pipeline_tests.fields.build_catalog \\
        --sdk /path/to/tiktok-partner-backend.git --reference /path/to/ecommerce-api-docs.git
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tiktok_pipeline_tests.fields.catalog import (
    CATALOG_DIR,
    DOCS_DIR,
    Field,
    Response,
    render_markdown,
    response_to_json,
)

SDK_REPO = "yxiZo/tiktok-partner-backend"
REFERENCE_REPO = "lazykern/ecommerce-api-docs"
REFERENCE_DIR = "data/raw/tiktok/api-reference"
INDEX_START, INDEX_END = "<!-- index:start -->", "<!-- index:end -->"


@dataclass(frozen=True)
class Spec:
    """One response to catalogue: the client endpoint, its SDK root class, its reference specs."""

    key: str
    title: str
    endpoint: str
    method: str
    path: str
    items_key: str | None
    sdk_root: str  # sdk/model/<this>.ts, the response's `data` class
    references: tuple[str, ...] = ()
    note: str = ""


SPECS = (
    Spec("order-search-202309", "Order search (202309)", "order.list", "POST",
         "/order/202309/orders/search", "orders", "order/V202309/GetOrderListResponseData",
         ("orders/get-order-list",)),
    Spec("order-detail-202309", "Order detail (202309)", "order.detail", "GET",
         "/order/202309/orders", "orders", "order/V202309/GetOrderDetailResponseData",
         ("orders/get-order-list", "orders/get-order-detail"),
         "the reference's detail spec is 202507; integers are read from the 202309 order search "
         "spec (same order object) first"),
    Spec("product-search-202502", "Product search (202502)", "product.list", "POST",
         "/product/202502/products/search", "products",
         "product/V202502/SearchProductsResponseData", ("products/search-products",)),
    Spec("product-get-202309", "Get Product (202309)", "product.get", "GET",
         "/product/202309/products/{product_id}", None, "product/V202309/GetProductResponseData",
         ("products/get-product",)),
    Spec("returns-search-202309", "Returns search (202309)", "returns.list", "POST",
         "/return_refund/202309/returns/search", "return_orders",
         "returnRefund/V202309/SearchReturnsResponseData", ("return-and-refund/search-returns",)),
    Spec("cancellations-search-202309", "Cancellations search (202309)", "returns.cancellations",
         "POST", "/return_refund/202309/cancellations/search", "cancellations",
         "returnRefund/V202309/SearchCancellationsResponseData",
         ("return-and-refund/search-cancellations",)),
    Spec("statements-202309", "Statements (202309)", "finance.statements", "GET",
         "/finance/202309/statements", "statements", "finance/V202309/GetStatementsResponseData",
         ("finance/get-statements",)),
    Spec("payments-202309", "Payments (202309)", "finance.payments", "GET",
         "/finance/202605/payments", "payments", "finance/V202309/GetPaymentsResponseData",
         ("finance/get-payments",),
         "the client calls version 202605, which neither source documents; the sandbox answers "
         "202605 and 202309 alike, so the 202309 model is the reference"),
    Spec("withdrawals-202309", "Withdrawals (202309)", "finance.withdrawals", "GET",
         "/finance/202309/withdrawals", "withdrawals", "finance/V202309/GetWithdrawalsResponseData",
         ("finance/get-withdrawals",)),
    Spec("statement-transactions-202501", "Transactions by statement (202501)",
         "finance.transactions_by_statement", "GET",
         "/finance/202501/statements/{statement_id}/statement_transactions", "transactions",
         "finance/V202501/GetTransactionsbyStatementResponseData",
         ("finance/get-transactions-by-statement",)),
    Spec("order-transactions-202501", "Transactions by order (202501)",
         "finance.transactions_by_order", "GET",
         "/finance/202501/orders/{order_id}/statement_transactions", None,
         "finance/V202501/GetTransactionsbyOrderResponseData",
         ("finance/get-transactions-by-order",)),
    Spec("unsettled-transactions-202507", "Unsettled transactions (202507)",
         "finance.unsettled_transactions", "GET", "/finance/202507/orders/unsettled",
         "transactions", "finance/V202507/GetUnsettledTransactionsResponseData",
         ("finance/get-unsettled-transactions",)),
    Spec("authorized-shops-202309", "Authorized shops (202309)", "authorization.shops", "GET",
         "/authorization/202309/shops", "shops",
         "authorization/V202309/GetAuthorizedShopsResponseData",
         ("authorization/get-authorized-shops",)),
    Spec("seller-shops-202309", "Active (seller) shops (202309)", "seller.shops", "GET",
         "/seller/202309/shops", "shops", "seller/V202309/GetActiveShopsResponseData",
         ("seller/get-active-shops",)),
    Spec("shop-webhooks-202309", "Shop webhooks (202309)", "event.webhook_list", "GET",
         "/event/202309/webhooks", "webhooks", "event/V202309/GetShopWebhooksResponseData",
         ("event/get-shop-webhooks",)),
)  # fmt: skip

_ATTRIBUTE = re.compile(
    r'"name":\s*"(?P<name>\w+)",\s*"baseName":\s*"(?P<json>\w+)",\s*"type":\s*"(?P<type>[^"]+)"'
)
_IMPORT = re.compile(r"import \{ (?P<cls>\w+) \} from '\./(?P<file>\w+)';")
_CLASS = re.compile(r"export class (?P<cls>\w+)")
_PROPERTY_DOC = re.compile(r"/\*\*(?P<doc>(?:(?!\*/).)*)\*/\s*'(?P<name>\w+)'\??:", re.DOTALL)
_SCALARS = {"string": "string", "boolean": "boolean", "number": "number", "object": "object"}
#: Market names as TikTok's field descriptions spell them, and their region codes.
_MARKETS = (
    ("US", r"\bUS\b|United States"),
    ("GB", r"\bUK\b|United Kingdom"),
    ("EU", r"\bEU\b|Europe"),
    ("DE", r"Germany"),
    ("FR", r"France"),
    ("IT", r"Italy"),
    ("IE", r"Ireland"),
    ("ES", r"Spain"),
    ("ID", r"Indonesia"),
    ("MY", r"Malaysia"),
    ("TH", r"Thailand"),
    ("VN", r"Vietnam"),
    ("PH", r"Philippines"),
    ("SG", r"Singapore"),
    ("JP", r"Japan"),
    ("MX", r"Mexico"),
    ("BR", r"Brazil|\bBR\b"),
)


class GitTree:
    """Files of one commit of a git directory."""

    def __init__(self, git_dir: Path, commit: str = "HEAD") -> None:
        self.git_dir = git_dir
        self.commit = self._run("rev-parse", commit).strip()

    def _run(self, *args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.git_dir), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def read(self, path: str) -> str:
        """A file's text at the commit."""
        return self._run("show", f"{self.commit}:{path}")


def markets_named(doc: str) -> tuple[str, ...]:
    """The region codes of the markets a field's description names."""
    return tuple(code for code, pattern in _MARKETS if re.search(pattern, doc))


class SdkWalker:
    """Flattens an SDK response class and the classes it references into field paths."""

    def __init__(self, sdk: GitTree, folder: str) -> None:
        self.sdk = sdk
        self.folder = folder  # sdk/model/<resource>/V<version>

    def walk(self, file: str, prefix: str = "") -> list[Field]:
        """Every field path under the class in ``file`` (without ``.ts``)."""
        text = self.sdk.read(f"{self.folder}/{file}.ts")
        imports = {m["cls"]: m["file"] for m in _IMPORT.finditer(text)}
        docs = {m["name"]: " ".join(m["doc"].split()) for m in _PROPERTY_DOC.finditer(text)}
        out: list[Field] = []
        for attr in _ATTRIBUTE.finditer(text):
            path = f"{prefix}{attr['json']}"
            doc = docs.get(attr["name"], "")
            common = dict(
                model=f"{file}.ts",
                deprecated="deprecated" in doc.lower(),
                markets=markets_named(doc),
            )
            kind = attr["type"]
            inner = re.fullmatch(r"Array<(\w+)>", kind)
            if inner and inner[1] in _SCALARS:
                out.append(Field(path, "array", items=_SCALARS[inner[1]], **common))  # type: ignore[arg-type]
            elif inner:
                out.append(Field(path, "array", items="object", **common))  # type: ignore[arg-type]
                out += self.walk(imports[inner[1]], f"{path}[].")
            elif kind in _SCALARS:
                out.append(Field(path, _SCALARS[kind], **common))  # type: ignore[arg-type]
            elif kind in imports:
                out.append(Field(path, "object", **common))  # type: ignore[arg-type]
                out += self.walk(imports[kind], f"{path}.")
            else:
                raise ValueError(f"{file}: unknown type {kind!r} of {attr['json']}")
        return out


def reference_types(reference: GitTree, name: str) -> dict[str, str]:
    """Path -> type (``int``, ``string``, ``[]object`` ...) of one API reference spec's ``data``."""
    spec = json.loads(reference.read(f"{REFERENCE_DIR}/{name}.spec.json"))
    params = spec["document_api_meta"]["response_param"]
    out: dict[str, str] = {}
    stack: list[str] = []
    inside_data = False
    for param in params:
        depth = len(param["name"]) - len(param["name"].lstrip("^"))
        name = param["name"].lstrip("^")
        if depth == 0:
            inside_data = name == "data"
            continue
        if not inside_data:
            continue
        del stack[depth - 1 :]
        parent = ".".join(stack)
        out[f"{parent}.{name}" if parent else name] = param["type"]
        stack.append(f"{name}[]" if param["type"] == "[]object" else name)
    return out


def refine_numbers(fields: list[Field], refs: list[dict[str, str]]) -> list[Field]:
    """SDK ``number`` fields made ``integer`` where the API reference says ``int``."""
    out = []
    for f in fields:
        numeric = f.type == "number" or f.items == "number"
        said = next((ref[f.path] for ref in refs if f.path in ref), None)
        if numeric and said in ("int", "[]int"):
            if f.type == "array":
                f = Field(**{**f.__dict__, "items": "integer", "type_source": "API reference"})
            else:
                f = Field(**{**f.__dict__, "type": "integer", "type_source": "API reference"})
        out.append(f)
    return out


def build(spec: Spec, sdk: GitTree, reference: GitTree | None) -> Response:
    """One response's catalog entry."""
    folder, _, root = f"sdk/model/{spec.sdk_root}".rpartition("/")
    fields = SdkWalker(sdk, folder).walk(root)
    source: dict[str, object] = {
        "sdk_repo": SDK_REPO,
        "sdk_commit": sdk.commit,
        "sdk_root_file": f"{folder}/{root}.ts",
        "sdk_root_class": _CLASS.search(sdk.read(f"{folder}/{root}.ts"))["cls"],  # type: ignore[index]
    }
    if reference is not None and spec.references:
        refs = [reference_types(reference, name) for name in spec.references]
        fields = refine_numbers(fields, refs)
        source |= {
            "reference_repo": REFERENCE_REPO,
            "reference_commit": reference.commit,
            "reference_files": [f"{REFERENCE_DIR}/{name}.spec.json" for name in spec.references],
        }
    if spec.note:
        source["note"] = spec.note
    return Response(
        key=spec.key,
        title=spec.title,
        endpoint=spec.endpoint,
        method=spec.method,
        path=spec.path,
        items_key=spec.items_key,
        source=source,
        fields=tuple(fields),
    )


def render_index(responses: list[Response]) -> str:
    """The table of responses in ``docs/fields/README.md``."""
    lines = [
        "| Response | Client endpoint | Route | Documented paths |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| [{r.title}]({r.key}.md) | `{r.endpoint}` | `{r.method} {r.path}` | {len(r.fields)} |"
        for r in responses
    ]
    return "\n".join(lines)


def write(responses: list[Response]) -> None:
    """Write the catalog JSON, the markdown tables and the README index."""
    CATALOG_DIR.mkdir(exist_ok=True)
    for r in responses:
        (CATALOG_DIR / f"{r.key}.json").write_text(response_to_json(r))
        (DOCS_DIR / f"{r.key}.md").write_text(render_markdown(r))
    readme = DOCS_DIR / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(INDEX_START)
    _, _, tail = rest.partition(INDEX_END)
    readme.write_text(f"{head}{INDEX_START}\n{render_index(responses)}\n{INDEX_END}{tail}")


def main() -> None:
    """Command line: build the catalog from the two git directories."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk", type=Path, required=True, help=f"git dir of {SDK_REPO}")
    parser.add_argument("--sdk-commit", default="HEAD")
    parser.add_argument("--reference", type=Path, help=f"git dir of {REFERENCE_REPO}")
    parser.add_argument("--reference-commit", default="HEAD")
    args = parser.parse_args()
    sdk = GitTree(args.sdk, args.sdk_commit)
    reference = GitTree(args.reference, args.reference_commit) if args.reference else None
    responses = [build(spec, sdk, reference) for spec in SPECS]
    write(responses)
    for r in responses:
        print(f"{r.key}: {len(r.fields)} paths")


if __name__ == "__main__":
    main()
