"""Cell addresses and label comparison: what the form language, the writer and the reader share at the
lowest layer (no form, no workbook)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

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
    """"B" → 1, " ab " → 27: the inverse of col_letters, forgiving of case and spaces as descriptions are
    written (xlsxwriter's xl_cell_to_rowcol takes only a whole reference and warns rather than refuses)."""
    n = 0
    for ch in letters.strip().upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letters(index: int) -> str:
    """1 → "B" (xlsxwriter's own naming)."""
    return xl_col_to_name(index)


@lru_cache(maxsize=1 << 16)
def cell_name(row: int, col: int) -> str:
    """0-based (row, col) → "B7" (asked for thousands of times a return: each address made once)."""
    return xl_rowcol_to_cell(row, col)


def span(at: str) -> tuple[int, int]:
    """"B" → (1, 1); "D:H" → (3, 7)."""
    a, _, b = at.partition(":")
    return col_index(a), col_index(b or a)
