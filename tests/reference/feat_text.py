"""Pure-Python references for text features: MurmurHash3 x86_32 and the default tokeniser."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def murmurhash3_32(data: bytes, seed: int = 0) -> int:
    """Signed 32-bit MurmurHash3 (x86), written from the algorithm's description."""
    c1, c2, m = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & m
    n = len(data)
    for i in range(0, n - n % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & m
        k = ((k << 15) | (k >> 17)) & m
        k = (k * c2) & m
        h ^= k
        h = ((h << 13) | (h >> 19)) & m
        h = (h * 5 + 0xE6546B64) & m
    tail = data[n - n % 4:]
    k = 0
    for i, b in enumerate(tail):
        k |= b << (8 * i)
    if tail:
        k = (k * c1) & m
        k = ((k << 15) | (k >> 17)) & m
        k = (k * c2) & m
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & m
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & m
    h ^= h >> 16
    return h - (1 << 32) if h >= 1 << 31 else h


def tokens(doc: str, lowercase: bool = True) -> list[str]:
    return _TOKEN.findall(doc.lower() if lowercase else doc)


def hashed_counts(docs, n_features, alternate_sign=True):
    """Per document: {column: summed signed count}."""
    rows = []
    for d in docs:
        row = {}
        for t in tokens(d or ""):
            h = murmurhash3_32(t.encode("utf-8"))
            col = abs(h) % n_features
            row[col] = row.get(col, 0.0) + (-1.0 if (alternate_sign and h < 0) else 1.0)
        rows.append(row)
    return rows
