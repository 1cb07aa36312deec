"""Sellers and shops: the public descriptions and the per-shop generation context."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from tiktok_pipeline.sandbox.catalog import SELLER_WORDS, SHOP_WORDS, Region, region
from tiktok_pipeline.sandbox.rng import Draws, IdCodec, key, mix64


@dataclass(frozen=True)
class ShopInfo:
    """A sandbox shop as TikTok's Get Authorized Shops describes it, plus its seller."""

    id: str
    name: str
    code: str
    region: str
    seller_type: str
    cipher: str
    open_id: str

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "code": self.code,
            "region": self.region,
            "seller_type": self.seller_type,
            "cipher": self.cipher,
            "open_id": self.open_id,
        }


@dataclass(frozen=True)
class SellerInfo:
    """A seller (one authorization, ``open_id``) and the ids of its shops."""

    open_id: str
    seller_name: str
    region: str
    shop_ids: tuple[str, ...]

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "open_id": self.open_id,
            "seller_name": self.seller_name,
            "region": self.region,
            "shop_ids": list(self.shop_ids),
        }


@dataclass
class ShopContext:
    """What a shop's generators share: identity, region, warehouses, id codecs, time window."""

    slot: int
    seed: int
    info: ShopInfo
    region: Region
    warehouses: tuple[str, ...]
    start: int
    anchor: int

    def base(self, kind: int) -> int:
        """A 64-bit base key for one kind of entity of this shop."""
        return key(self.seed, self.slot, kind)

    def codec(self, prefix: str, digits: int, kind: int) -> IdCodec:
        """An id codec for one kind of entity of this shop."""
        return IdCodec(prefix, self.slot, digits, self.seed, kind)


def _digits(value: int, n: int) -> str:
    return f"{value % 10**n:0{n}d}"


def make_open_id(seed: int, seller_slot: int) -> str:
    """A seller's open_id: 19 digits, stable for (seed, seller slot)."""
    return "7010" + _digits(key(seed, 0x5E11E5, seller_slot), 15)


def seller_name(seed: int, seller_slot: int) -> str:
    """A seller's display name."""
    d = Draws(key(seed, 0x5E11E6, seller_slot))
    return f"{d.pick(SHOP_WORDS[0])} {d.pick(SELLER_WORDS)} {seller_slot + 1}"


def make_shop(
    seed: int, slot: int, region_code: str, open_id: str, anchor: int, days: int
) -> ShopContext:
    """The generation context of shop number ``slot`` (global over all sellers)."""
    d = Draws(key(seed, 0x5409, slot))
    shop_id = "7494" + _digits(d.bits(), 15)
    cross_border = region_code in ("GB", "ES", "MX") and d.chance(0.5)
    seller_type = "CROSS_BORDER" if cross_border else "LOCAL"
    raw = mix64(d.bits()).to_bytes(8, "big") + mix64(d.bits()).to_bytes(8, "big")
    prefix = "GCP_" if region_code in ("GB", "ES") else "ROW_"
    cipher = prefix + base64.urlsafe_b64encode(raw + bytes([slot % 256])).decode().rstrip("=")
    code_chars = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = (
        ("CN" if cross_border else "")
        + region_code
        + "".join(code_chars[d.below(len(code_chars))] for _ in range(8))
    )
    name = f"{d.pick(SHOP_WORDS[0])} {d.pick(SHOP_WORDS[1])} {region_code}"
    warehouses = tuple(
        "7068" + _digits(key(seed, 0x3A4E, slot, w), 15) for w in range(1 + d.below(3))
    )
    info = ShopInfo(
        id=shop_id,
        name=name,
        code=code,
        region=region_code,
        seller_type=seller_type,
        cipher=cipher,
        open_id=open_id,
    )
    return ShopContext(
        slot=slot,
        seed=seed,
        info=info,
        region=region(region_code),
        warehouses=warehouses,
        start=anchor - days * 86400,
        anchor=anchor,
    )
