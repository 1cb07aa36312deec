"""``tiktok-pipeline tokens new-key|rotate-key``: the key that encrypts seller tokens at rest.

To change the key: make a new one (``tokens new-key``), set
``TIKTOK_TOKEN_KEY=<new key>,<old key>`` everywhere, run ``tokens rotate-key``, then drop the
old key from ``TIKTOK_TOKEN_KEY``.
"""

from __future__ import annotations

import argparse
import json
import sys


def register_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``new-key`` and ``rotate-key`` to the ``tokens`` command group."""
    new_key = commands.add_parser(
        "new-key",
        help="print a new key for TIKTOK_TOKEN_KEY (encrypts seller tokens at rest)",
    )
    new_key.set_defaults(handler=run_new_key)

    rotate = commands.add_parser(
        "rotate-key",
        help="re-encrypt every stored token with the first key of TIKTOK_TOKEN_KEY",
        description=(
            "Re-encrypt every seller token with the first key of TIKTOK_TOKEN_KEY; the keys "
            "after it (comma-separated) decrypt the tokens stored before. Running it again "
            "changes nothing. Tokens stored unencrypted are encrypted."
        ),
    )
    rotate.add_argument("--url", help="database URL (default: TIKTOK_DATABASE_URL)")
    rotate.add_argument("--json", action="store_true", help="print JSON instead of a sentence")
    rotate.set_defaults(handler=run_rotate_key)


def run_new_key(args: argparse.Namespace) -> int:
    """Print a new Fernet key on stdout, and how to use it on stderr."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode("ascii"))
    print(
        "Set it as TIKTOK_TOKEN_KEY and keep it secret. To replace a key in use, set "
        "TIKTOK_TOKEN_KEY=<this key>,<the old key> and run `tiktok-pipeline tokens rotate-key`.",
        file=sys.stderr,
    )
    return 0


def run_rotate_key(args: argparse.Namespace) -> int:
    """Re-encrypt every stored token with the first key; print how many rows changed."""
    from tiktok_pipeline.cli.db import open_store
    from tiktok_pipeline.store.key_rotation import rotate_token_key

    with open_store(args.url) as store:
        cipher = store.tokens.cipher
        result = rotate_token_key(store.engine, cipher)
    if args.json:
        print(json.dumps(result.to_dict() | {"key_source": cipher.source}, indent=2))
        return 0
    plaintext = f" ({result.encrypted} of them stored unencrypted)" if result.encrypted else ""
    print(
        f"re-encrypted the tokens of {result.reencrypted} of {result.total} authorization(s) "
        f"with the first key of {cipher.source}{plaintext}; {result.current} already used it"
    )
    if cipher.key_count > 1:
        print(
            "every token now uses the first key: the old key(s) after it in TIKTOK_TOKEN_KEY "
            "can be removed once every process runs with the new key first"
        )
    return 0
