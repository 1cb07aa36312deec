"""Column types of the warehouse: exact money and the raw JSON of an entity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class Money(sa.types.TypeDecorator):
    """A money amount: ``NUMERIC`` without precision, read back as :class:`~decimal.Decimal`.

    Postgres stores it exactly. SQLite has no decimal type and keeps a binary float; we read
    that float back through its shortest ``repr`` (``12.34`` -> ``Decimal("12.34")``) instead
    of SQLAlchemy's fixed 10-digit scale, which turns large amounts into ``...3399963379``.
    """

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        """``NUMERIC`` everywhere; SQLite gives floats, see :meth:`process_result_value`."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Numeric(asdecimal=False))
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        """A Decimal from the stored value (Decimal on Postgres, float or int on SQLite)."""
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, int):
            return Decimal(value)
        return Decimal(repr(float(value)))

    @property
    def python_type(self) -> type:
        """Amounts come back as Decimal."""
        return Decimal


class RawJSON(sa.types.TypeDecorator):
    """The entity's JSON: ``JSON`` on Postgres and elsewhere.

    Postgres's ``json`` type (not ``jsonb``) keeps the text as it is: the loader's canonical
    JSON, byte for byte, validated but not converted. That is several times cheaper to write
    than ``jsonb`` (see bench/warehouse_load.py), and ``->``/``->>`` work the same; cast to
    ``jsonb`` for containment operators. The loader serialises each entity once (to hash it)
    and binds that text here as it is; Python objects (dicts, lists) are serialised as usual.
    Reads return the parsed JSON.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        """``JSON`` on Postgres, the generic JSON type elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSON())
        return dialect.type_descriptor(sa.JSON())

    def bind_processor(self, dialect: sa.Dialect):
        """Pass pre-serialised :class:`SerializedJSON` through; serialise anything else."""
        inner = self.load_dialect_impl(dialect).bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, SerializedJSON):
                return str(value)
            return inner(value) if inner is not None else value

        return process


class SerializedJSON(str):
    """JSON text that :class:`RawJSON` stores as it is (it is already valid JSON)."""

    __slots__ = ()
