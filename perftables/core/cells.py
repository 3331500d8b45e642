"""Cell addresses and label comparison: what the form language, the writer and the reader share at the
lowest layer (no form, no workbook)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WS_RE = re.compile(r"\s+")


def norm_label(text) -> str:
    """Normalise a label for comparison: NFKC, no white space of any width."""
    if text is None:
        return ""
    return _norm_str(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=1 << 16)
def _norm_str(text: str) -> str:
    return _WS_RE.sub("", unicodedata.normalize("NFKC", text))


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.strip().upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letters(index: int) -> str:
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def cell_name(row: int, col: int) -> str:
    """0-based (row, col) → "B7"."""
    return f"{col_letters(col)}{row + 1}"


def span(at: str) -> tuple[int, int]:
    """"B" → (1, 1); "D:H" → (3, 7)."""
    a, _, b = at.partition(":")
    return col_index(a), col_index(b or a)
