"""指标值 as data: parse the official single string, keep its parts, print it back.

`parse(raw)` never loses text: `IndicatorValue.raw` is the exact cell text and
`render()` returns it, so every seed value round-trips; the parts (op, number,
unit, suffix, note, qualitative text) are what review and scoring use.
"""
from __future__ import annotations

import dataclasses
import math
from enum import StrEnum
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# every spelling of a sign seen in published tables (ASCII, full-width, the ≧/≦ of Japanese fonts, the
# small-form ﹦﹥﹤, ≮/≯, words) → the official sign
OPS = {
    "≥": "≥", "≧": "≥", "⩾": "≥", "≮": "≥", ">=": "≥", "=>": "≥", "＞＝": "≥", "＞=": "≥", ">＝": "≥", "﹥=": "≥",
    "不少于": "≥", "不低于": "≥", "不小于": "≥", "大于等于": "≥", "大于或等于": "≥", "至少": "≥", "达到": "≥",
    "≤": "≤", "≦": "≤", "⩽": "≤", "≯": "≤", "<=": "≤", "=<": "≤", "＜＝": "≤", "＜=": "≤", "<＝": "≤", "﹤=": "≤",
    "不超过": "≤", "不高于": "≤", "不大于": "≤", "不多于": "≤", "小于等于": "≤", "小于或等于": "≤", "至多": "≤",
    "控制在": "≤",
    ">": ">", "＞": ">", "﹥": ">", "大于": ">", "高于": ">", "超过": ">", "多于": ">",
    "<": "<", "＜": "<", "﹤": "<", "小于": "<", "低于": "<", "少于": "<",
    "=": "=", "＝": "=", "﹦": "=", "等于": "=",
    # a band around a value (偏差率 ±3%以内): the deviation, whichever way, is at most the number
    "±": "≤", "≤±": "≤", "<=±": "≤", "+/-": "≤", "+-": "≤", "正负": "≤", "上下浮动": "≤",
}
BAND_SIGNS = ("±", "+/-", "+-", "正负", "上下浮动")
# units written in words that mean a symbol: compared and scored as the symbol, printed as written
UNIT_ALIASES = {"百分比": "%", "％": "%", "百分之": "%", "千分比": "‰", "平米": "平方米", "㎡": "平方米"}
PERCENT_UNITS = tuple(u for u, same in UNIT_ALIASES.items() if same == "%") + ("%",)
SUFFIX_OPS = {"以上": "≥", "以下": "≤", "以内": "≤", "之前": "≤", "前": "≤"}
KNOWN_UNITS = sorted({
    "%", "‰", "次", "人", "人次", "万人次", "个", "家", "种", "份", "场", "场次", "篇", "篇（条）", "篇(条)",
    "册", "万册", "所", "站", "项", "件", "万元", "元", "万", "天", "日", "个月", "月", "年", "周", "小时",
    "平方米", "平米", "㎡", "米", "公里", "台", "套", "期", "批", "条", "名", "户", "座", "处", "间", "本",
    "部", "幅", "块", "张", "分", "个/家", "人/次", "次/年", "百分比", "千分比",
}, key=len, reverse=True)
QUAL_OPTION = "定性"

_DIGITS = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")
_OP_RE = re.compile("|".join(re.escape(k) for k in sorted(OPS, key=len, reverse=True)))
_NUM_RE = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")
_DATE_RE = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*(?:月)?\s*(?:[.\-/]?\s*(\d{1,2})\s*[日号]?)?\s*(底|末)?"
                      r"\s*(之前|以前|前)?$")
# a deadline written before a threshold: “11月30日前≧95%”, “2025年6月底前 ≥ 90%”
_WHEN_RE = re.compile(r"^(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*(?:\d{1,2}\s*[日号])?\s*(?:底|末)?\s*(?:之前|以前|前)\s*[,，:：]?\s*")
_WS = " \t\r\n\u3000\xa0"
WHITESPACE = _WS   # what clean() strips from a cell's text
_UNIT_RE = re.compile(r"[^\d\s（(以之，,；;。]{1,5}(?=$|[（(]|以上|以下|以内|之前)")


def clean(text) -> str:
    """Cell text with outer white space (also full-width) removed."""
    if text is None:
        return ""
    return str(text).strip(_WS)


def format_number(value: float) -> str:
    """90.0 → "90", 98.9 → "98.9", 625.87 → "625.87"."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


class ValueKind(StrEnum):
    """What an indicator's value is, as read (its value is the word the code and the tests write)."""
    QUANT = "quant"                # ≥95%, 30场
    DATE = "date"                  # 2025年11月底前 (a deadline: quantitative too)
    QUAL = "qual"                  # 显著提升
    QUESTION = "question"          # 是否按时完成
    PLACEHOLDER = "placeholder"    # %, *, - left in place of a value
    EMPTY = "empty"

    @property
    def title(self) -> str:
        """As the summary's 指标值类型 prints it."""
        return _VALUE_TITLES[self]


_VALUE_TITLES = {ValueKind.QUANT: "定量", ValueKind.DATE: "定量（时限）", ValueKind.QUAL: "定性", ValueKind.QUESTION: "问句",
                 ValueKind.PLACEHOLDER: "占位符", ValueKind.EMPTY: "空"}


@dataclass(frozen=True)   # shared: the same text is read once (parse)
class IndicatorValue:
    raw: str
    kind: ValueKind
    op: str | None = None          # normalised sign; a postfix 以上/以下 maps here too
    op_text: str = ""              # the sign as written
    num: float | None = None
    num_text: str | None = None
    unit: str | None = None
    suffix: str | None = None
    note: str | None = None
    qual: str | None = None
    date: tuple[int, int] | None = None
    when: str | None = None        # a deadline written before the threshold (“11月30日前”), as written

    @property
    def band(self) -> bool:
        """A band around zero (±3%以内): what is compared is the deviation's size, whichever its sign."""
        return self.kind is ValueKind.QUANT and any(b in self.op_text for b in BAND_SIGNS)

    def render(self) -> str:
        """The official single string, exactly as it was written."""
        return self.raw

    def canonical(self) -> str:
        """Comparable form: normalised sign, no spaces, no note."""
        if self.kind is ValueKind.QUANT:
            return f"{self.when or ''}{self.op or ''}{self.num_text}{self.unit or ''}"
        return re.sub(r"\s+", "", self.raw)

    @property
    def is_quantitative(self) -> bool:
        return self.kind in (ValueKind.QUANT, ValueKind.DATE)


def parse(raw, placeholders=("%", "*", "-", "_", "/"), question_prefix="是否") -> IndicatorValue:
    if type(raw) is str:   # the same few values come back in every return: each is read once
        return _parse_text(raw, tuple(placeholders), question_prefix)
    return _parse(raw, placeholders, question_prefix)


@lru_cache(maxsize=1 << 15)
def _parse_text(raw: str, placeholders: tuple, question_prefix: str) -> IndicatorValue:
    return _parse(raw, placeholders, question_prefix)


def _parse(raw, placeholders, question_prefix) -> IndicatorValue:
    text = clean(raw)
    if not text:
        return IndicatorValue(raw="" if raw is None else str(raw), kind=ValueKind.EMPTY)
    norm = text.translate(_DIGITS)
    if norm in placeholders or not re.search(r"[\w]", norm.replace("_", "")):
        return IndicatorValue(raw=text, kind=ValueKind.PLACEHOLDER)
    if question_prefix and norm.startswith(question_prefix):
        return IndicatorValue(raw=text, kind=ValueKind.QUESTION, qual=text)
    m = _DATE_RE.match(norm)
    if m:
        return IndicatorValue(raw=text, kind=ValueKind.DATE, op="≤", date=(int(m.group(1)), int(m.group(2))),
                              suffix=m.group(5))
    m = _WHEN_RE.match(norm)
    if m and m.end() < len(norm) and _OP_RE.match(norm, m.end()):
        v = _parse_quant(text[m.end():], norm[m.end():])
        if v is not None:
            return dataclasses.replace(v, raw=text, when=text[:m.end()].strip(_WS))
    return _parse_quant(text, norm) or IndicatorValue(raw=text, kind=ValueKind.QUAL, qual=text)


def _parse_quant(text: str, norm: str) -> IndicatorValue | None:
    pos, op, op_text = 0, None, ""
    m = _OP_RE.match(norm)
    if m:
        op_text, op, pos = text[:m.end()], OPS[m.group(0)], m.end()
    while pos < len(norm) and norm[pos] in _WS:
        pos += 1
    m = _NUM_RE.match(norm, pos)
    if not m:
        return None
    num_text = m.group(0).replace(",", "")
    pos = m.end()
    while pos < len(norm) and norm[pos] in _WS:
        pos += 1
    rest = norm[pos:]
    unit = next((u for u in KNOWN_UNITS if rest.startswith(u)), None)
    m2 = _UNIT_RE.match(rest)   # a short word standing alone is the unit (“个工作日”), not 个 and a note
    if m2 and len(m2.group(0)) > len(unit or ""):
        unit = m2.group(0)
    if unit:
        rest = rest[len(unit):].lstrip(_WS)
    suffix = next((s for s in ("以上", "以下", "以内", "之前") if rest.startswith(s)), None)
    if suffix:
        rest = rest[len(suffix):].lstrip(_WS)
        op = op or SUFFIX_OPS[suffix]
    if rest and not (rest[0] in "（(" or unit):
        return None  # a number followed by prose is a qualitative sentence
    # keep the original characters of unit and note
    tail_start = len(text) - len(rest)
    note = text[tail_start:] if rest else None
    if unit:
        u_at = norm.find(unit, len(op_text))
        unit = text[u_at:u_at + len(unit)]
    return IndicatorValue(raw=text, kind=ValueKind.QUANT, op=op, op_text=op_text, num=float(num_text),
                          num_text=num_text, unit=unit, suffix=suffix, note=note)


FULLWIDTH_DIGITS = set("０１２３４５６７８９")
_CN_NUM = "零〇一二三四五六七八九十百千万亿两点"
_CN_RE = None


def chinese_numeral(text: str) -> bool:
    """A quantity whose number is written in Chinese numerals (“≥二十万人次”, “三次”, “百分之九十”)."""
    global _CN_RE
    if _CN_RE is None:
        ops = "|".join(re.escape(k) for k in sorted(OPS, key=len, reverse=True))
        units = "|".join(re.escape(u) for u in KNOWN_UNITS)
        _CN_RE = re.compile(rf"^(?:({ops})\s*)?(?:百分之)?[{_CN_NUM}]+\s*({units})?\s*(?:以上|以下|以内)?$")
    t = clean(text)
    if t.startswith("百分之") and len(t) > 3 and all(ch in _CN_NUM for ch in t[3:]):
        return True
    m = _CN_RE.match(t)
    return bool(m and (m.group(1) or m.group(2) or all(ch in _CN_NUM for ch in t)) and len(t) <= 30)


def unit_key(unit: str | None) -> str:
    """A unit as compared: 百分比 and ％ are %, 平米 and ㎡ are 平方米; spaces and width do not count."""
    u = unicodedata.normalize("NFKC", clean(unit)).replace(" ", "") if unit else ""
    return UNIT_ALIASES.get(u, u)


def same_unit(a: str | None, b: str | None) -> bool:
    return unit_key(a) == unit_key(b)


def compose(op_cell, num_cell, unit_cell, placeholders=("%", "*", "-", "_", "/"),
            question_prefix="是否") -> IndicatorValue:
    """Join the three template cells (符号, 数值/文字, 单位) into one value.

    A clerk who typed the whole string ("≥90%") into the value cell is understood
    too: the text is parsed as it stands. The same few cells come back in every return: each
    combination is read once (keyed by type too: True is 1 to Python, not to a clerk).
    """
    try:
        return _compose_cached(type(op_cell), op_cell, type(num_cell), num_cell, type(unit_cell), unit_cell,
                               tuple(placeholders), question_prefix)
    except TypeError:   # a value that cannot be a key
        return _compose(op_cell, num_cell, unit_cell, placeholders=placeholders, question_prefix=question_prefix)


@lru_cache(maxsize=1 << 15)
def _compose_cached(_t1, op_cell, _t2, num_cell, _t3, unit_cell, placeholders, question_prefix) -> IndicatorValue:
    return _compose(op_cell, num_cell, unit_cell, placeholders=placeholders, question_prefix=question_prefix)


def _compose(op_cell, num_cell, unit_cell, **kw) -> IndicatorValue:
    op = clean(op_cell)
    unit = clean(unit_cell)
    if isinstance(num_cell, bool):
        num_cell = "是" if num_cell else "否"
    if isinstance(num_cell, (int, float)):
        num = format_number(float(num_cell))
    else:
        num = clean(num_cell)
    if op == QUAL_OPTION:
        return parse(num, **kw) if num else IndicatorValue(raw="", kind=ValueKind.EMPTY)
    if not num:
        return parse(op + unit, **kw)
    if _OP_RE.match(num.translate(_DIGITS)):   # the sign typed into the value cell
        op = ""
    if unit and num.endswith(unit):
        unit = ""
    return parse(op + num + unit, **kw)


def value_cells(v: IndicatorValue) -> dict:
    """How a clerk enters a value in the template's 符号 / 数值 / 单位 cells: split where it prints back
    exactly, 定性 for words, else the whole text in the value cell."""
    if v.kind is ValueKind.QUANT and v.op and v.canonical() == v.raw:
        return {"op": v.op, "num": v.num_text, "unit": v.unit or ""}
    if v.kind in (ValueKind.QUAL, ValueKind.QUESTION):
        return {"op": QUAL_OPTION, "num": v.raw}
    return {"num": v.raw}


@dataclass
class Amount:
    """A number read from a cell that should hold one, with what it took to read it."""
    value: float | None
    text: str = ""
    note: str | None = None    # read, but typed as text: say so
    error: str | None = None   # not a number: never read as zero


# what a table's amounts and percentages can sensibly be: no budget line reaches a trillion (in 万元 or in 元)
MAX_AMOUNT = 1e12
_AMOUNT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")


# the money units a form may count in (its [meta] money), each in 元
MONEY_UNITS = {"元": 1.0, "千元": 1e3, "万元": 1e4}
DEFAULT_MONEY = "万元"
_MONEY_TAILS = (("万元", 1e4), ("千元", 1e3), ("万", 1e4), ("元", 1.0))


def money_factor(source: str, target: str) -> float:
    """What an amount in `source` is multiplied by to be in `target` (元 → 万元: 0.0001)."""
    return MONEY_UNITS[source] / MONEY_UNITS[target]


def convert_money(value, source: str, target: str):
    """An amount in `source` as an amount in `target` (None stays None), rounded off float noise."""
    if value is None or source == target or not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    return round(value * money_factor(source, target), 6)


def parse_amount(cell, unit: str = DEFAULT_MONEY, signed: bool = False) -> Amount:
    """Read an amount in `unit` (a form's money unit: 万元 unless it says 元 or 千元): 2000, "2,000", "１２",
    "12.0 ", and written with a unit of its own — "12万元", "120000元" — converted into `unit`. The one reader of
    amounts: a finite number within ±MAX_AMOUNT, not negative unless `signed`; anything else is an error that
    names what was typed (NaN, inf, 1e308, "1_000" are not amounts), never a value."""
    if cell is None or isinstance(cell, bool):
        return Amount(None)
    if isinstance(cell, (int, float)):
        return _bounded(Amount(float(cell)), signed)
    text = clean(cell)
    if not text:
        return Amount(None)
    norm = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").replace("−", "-")
    written = None
    for tail, worth in _MONEY_TAILS:
        if norm.endswith(tail):
            norm, written = norm[: -len(tail)], worth
            break
    if not _AMOUNT_RE.fullmatch(norm):
        return Amount(None, text, error=f"“{text}”不是数字")
    value = float(norm)
    if written is not None and written != MONEY_UNITS[unit]:   # a unit typed with the number: said, and converted where it is not the form's
        value = round(value * written / MONEY_UNITS[unit], 6)
        return _bounded(Amount(value, text, note=f"“{text}”按 {format_number(value)} {unit} 读取"), signed)
    return _bounded(Amount(value, text, note=f"数字“{text}”以文本形式填写，已按 {format_number(value)} 读取"), signed)


def _bounded(amount: Amount, signed: bool) -> Amount:
    value = amount.value
    shown = amount.text or format_number(value)
    if not math.isfinite(value) or abs(value) > MAX_AMOUNT:
        return Amount(None, amount.text, error=f"“{shown}”不是合理的数字（应是有限的数，绝对值小于 1 万亿）")
    if value < 0 and not signed:
        return Amount(None, amount.text, error=f"“{shown}”是负数，这里只能填 0 或正数")
    return amount
