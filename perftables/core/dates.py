"""Dates as people write them: 2025-01-15, 2025/1/15, 2025.1.15, 2025年1月15日 (full-width digits too).

A date is read once, where it is typed (the round's settings, an option), and kept as a `datetime.date`;
what the outputs print is made from it (`chinese(d)`: 2025年1月15日)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$")
EXAMPLES = "2025-01-15、2025/1/15 或 2025年1月15日"


def parse_date(value) -> dt.date:
    """The date a person wrote; ValueError (Chinese) when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value or ""))
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"“{value}”不是日期，可写 {EXAMPLES}")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"“{value}”不是存在的日期（{m[1]}年{int(m[2])}月{int(m[3])}日）") from None


def chinese(day: dt.date | None) -> str:
    """2025年1月15日 (empty for no date)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""
