"""Describing database failures without leaking the statement's parameters into logs."""

from __future__ import annotations

import sqlalchemy as sa


def db_error_text(exc: BaseException) -> str:
    """A one-line description of a database error without its bound parameters.

    SQLAlchemy's own message lists the parameters (tokens, raw webhook bodies); the driver's
    message does not.
    """
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        return f"{type(exc.orig).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return type(exc).__name__
