"""How many SMS segments a body costs (GSM-7 or UCS-2), as carriers count them."""

from __future__ import annotations

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def is_gsm7(body: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body)


def segment_count(body: str) -> int:
    if not body:
        return 1
    if is_gsm7(body):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in body)
        return 1 if units <= 160 else -(-units // 153)
    # UCS-2 counts UTF-16 code units: an emoji is two.
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)
