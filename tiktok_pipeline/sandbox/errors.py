"""TikTok's error codes and messages as the sandbox answers them.

Messages of the common (gateway) errors are TikTok's own texts from the "Common errors" page.
HTTP statuses are only documented for 429 and 503; the others are assumptions listed in
docs/sandbox.md.
"""

from __future__ import annotations

# Gateway errors: (code, HTTP status, message).
INVALID_APP_KEY = (36009004, 400, "Invalid credentials. Invalid `app_key` query parameter.")
MISSING_SIGN = (
    36009004,
    400,
    "Missing credentials. The request does not include a required signature in the query.",
)
TIMESTAMP_MISSING = (
    36009004,
    400,
    "Invalid timestamp. The `timestamp` query parameter is missing or is not an integer "
    "(Unix seconds).",
)
TIMESTAMP_NEGATIVE = (
    36009004,
    400,
    "Invalid timestamp. The value of the `timestamp` query parameter must not be lesser than 0.",
)
TIMESTAMP_TOO_OLD = (
    36009004,
    400,
    "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than "
    "5 minutes before the current time.",
)
TIMESTAMP_IN_FUTURE = (
    36009004,
    400,
    "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current "
    "time by more than 30 seconds.",
)
BAD_SIGN = (106001, 401, "Invalid credentials. The `sign` query parameter is invalid.")
MISSING_TOKEN_HEADER = (
    36009004,
    401,
    "Invalid credentials. The `x-tts-access-token` header is invalid.",
)
INVALID_TOKEN = (
    105001,
    401,
    "Invalid credentials. The access token is invalid; detail: the token is unknown or has "
    "been deauthorized.",
)
EXPIRED_TOKEN = (
    105002,
    401,
    "Expired credentials. The `access_token` or `x-tts-access-token` header has expired.",
)
SHOP_MISMATCH = (
    101000,
    401,
    "Invalid query or header. The `x-tts-access-token` header is invalid: the token is not "
    "associated with the shop of the `shop_cipher` query parameter.",
)
MISSING_CIPHER = (
    106013,
    400,
    "Missing identifier. The `shop_cipher` query parameter is required to identify the target "
    "shop.",
)
UNEXPECTED_CIPHER = (
    36009004,
    400,
    "Unexpected identifier. The `shop_cipher` query parameter is not required for this request.",
)
INVALID_PATH = (
    36009009,
    404,
    "Invalid path. The specified path does not match any available endpoint.",
)
INVALID_METHOD = (
    36009010,
    405,
    "Invalid method. The HTTP method used is not supported by this endpoint.",
)
INVALID_VERSION = (36009014, 400, "The version name is invalid, please check and retry.")
BAD_BODY = (
    36009022,
    400,
    "Invalid request format. The request body format must be `application/json` for structured "
    "data or `multipart/form-data` for binary files.",
)
RATE_LIMITED = (
    36009002,
    429,
    "Too many requests. You've made too many requests in a short period of time.",
)
INTERNAL_ERROR = (
    36009003,
    200,
    "Internal error. Please try again. If the issue persists after multiple attempts, please "
    "contact platform support.",
)
UNAVAILABLE = (
    36009003,
    503,
    "Service unavailable. The service is overloaded or under maintenance, please try again later.",
)

# Token endpoint errors (HTTP 200 with a code).
AUTH_RECORD_NOT_FOUND = 36004005, "can not find related auth record"
REFRESH_TOKEN_EXPIRED = 36004001, "rt has expired"
INVALID_GRANT_TYPE = 36004002, "invalid grant_type"
INVALID_APP_CREDENTIALS = 36004003, "invalid app_key or app_secret"

# Endpoint (business) parameter errors, HTTP 200. TikTok documents no code for some
# endpoints; those use 36009004 ("invalid parameter") as an assumption.
ORDER_PARAM = 36009004
ORDER_NOT_OF_SELLER = 21008111
PRODUCT_PAGE_SIZE = 12019109
PRODUCT_INVALID_INPUT = 12052910
PRODUCT_RESULT_WINDOW = 12052180
PRODUCT_TOO_MANY_SELLER_SKUS = 12019027
PRODUCT_TOO_MANY_SKU_IDS = 12019087
PRODUCT_TIME_INVALID = 12019119
PRODUCT_NOT_FOUND = 12052260
PRODUCT_OTHER_SHOP = 12052048
PRODUCT_STOCK_INVALID = 12019024
PRODUCT_ALL_WAREHOUSES = 12019028
PRODUCT_SKU_ID_REQUIRED = 12052036
PRODUCT_TOO_MANY_SKUS = 12052050
PRODUCT_CHECK_FAILED = 12052990
PRODUCT_WAREHOUSE_UNKNOWN = 12052097
PRODUCT_SKU_UNKNOWN = 12052037
RETURN_PARAM = 25001001
RETURN_NOT_FOUND = 25020005
FINANCE_PARAM = 36009004
EVENT_PARAM = 36009004


class ApiError(Exception):
    """A TikTok-style error answer: ``code``, ``message``, HTTP status and optional ``data``."""

    def __init__(
        self, code: int, message: str, http_status: int = 200, data: object | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.data = data

    @classmethod
    def of(cls, triple: tuple[int, int, str]) -> ApiError:
        """Build from one of the (code, HTTP status, message) constants above."""
        code, status, message = triple
        return cls(code, message, status)


def param_error(code: int, message: str) -> ApiError:
    """A business parameter error (HTTP 200 with a non-zero code)."""
    return ApiError(code, message, 200)
