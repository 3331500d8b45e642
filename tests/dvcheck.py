"""A workbook's data validations judged as Excel judges them, for values stored as Excel stores typed text.

`stored(typed, number_format)`: what Excel (and WPS) keep when a clerk types `typed` into a cell of that
number format — in a Text (@) cell always the text; elsewhere a number when the text reads as one (25% → 0.25,
1,000 → 1000), else the text. `accepts(wb, ws, cell, value)`: whether the cell's validation lets that value
stand (a stop-style validation refuses it otherwise). Custom formulas are evaluated by a small evaluator
that knows the functions perftables writes into validations; anything else fails loudly.
"""
from __future__ import annotations

import re
import unicodedata

from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?%?")


def stored(typed: str, number_format: str):
    if number_format == "@":
        return typed
    text = typed.strip()
    if any(ch.isdigit() and ch.isascii() for ch in text) and _NUMBER.fullmatch(text):
        value = float(text.rstrip("%").replace(",", ""))
        return value / 100 if text.endswith("%") else value
    return typed


class XlError(Exception):
    """#VALUE! and friends, as a value."""


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"]|"")*")|(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)'
                    r'|(?P<ref>\$?[A-Z]{1,3}\$?\d+)(?![A-Za-z_(])|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)'
                    r'|(?P<op><>|<=|>=|[=<>&+\-*/(),]))')


def _tokens(formula: str):
    pos, out = 0, []
    formula = formula.lstrip("=").strip()
    while pos < len(formula):
        m = _TOKEN.match(formula, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {formula[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _text(v) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v == int(v) else repr(v)
    return "" if v is None else str(v)


def _num(v) -> float:
    if v is None or v == "":
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v).strip().replace(",", ""))
    except ValueError:
        raise XlError("#VALUE!") from None


def _compare(a, b, op: str) -> bool:
    def rank(v):   # Excel orders numbers < text < logicals; text case-insensitively
        if isinstance(v, bool):
            return (2, v)
        if isinstance(v, (int, float)):
            return (0, v)
        return (1, ("" if v is None else str(v)).lower())
    a = "" if a is None and isinstance(b, str) else (0.0 if a is None else a)
    b = "" if b is None and isinstance(a, str) else (0.0 if b is None else b)
    x, y = rank(a), rank(b)
    return {"=": x == y, "<>": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _find(needle, hay, start=1):
    i = _text(hay).find(_text(needle), int(_num(start)) - 1)
    if i < 0:
        raise XlError("#VALUE!")
    return float(i + 1)


def _substitute(text, old, new):
    return _text(text).replace(_text(old), _text(new)) if _text(old) else _text(text)


def _value(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    text = _text(v).strip()
    if _NUMBER.fullmatch(text) and any(ch.isdigit() for ch in text):
        return stored(text, "General")
    raise XlError("#VALUE!")


FUNCTIONS = {
    "ISNUMBER": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "TRIM": lambda v: re.sub(" +", " ", _text(v)).strip(" "),
    "LEFT": lambda v, n=1.0: _text(v)[:int(_num(n))],
    "LEN": lambda v: float(len(_text(v))),
    "FIND": _find,
    "N": lambda v: v if isinstance(v, (int, float)) else 0.0,
    "ASC": lambda v: unicodedata.normalize("NFKC", _text(v)),
    "SUBSTITUTE": _substitute,
    "VALUE": _value,
    "NOT": lambda v: not bool(_num(v)),
}
LAZY = {"OR", "AND", "IF", "IFERROR"}


class _Parser:
    def __init__(self, tokens, cell):
        self.t, self.i, self.cell = tokens, 0, cell

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ValueError(f"expected {value}, got {tok}")
        self.i += 1
        return tok

    def expr(self):
        left = self.concat()
        while self.peek()[1] in ("=", "<>", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.concat()
            left = (lambda a, b, op: lambda: _compare(a(), b(), op))(left, right, op)
        return left

    def concat(self):
        left = self.additive()
        while self.peek()[1] == "&":
            self.take()
            right = self.additive()
            left = (lambda a, b: lambda: _text(a()) + _text(b()))(left, right)
        return left

    def additive(self):
        left = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            left = (lambda a, b, op: lambda: _num(a()) + _num(b()) if op == "+" else _num(a()) - _num(b()))(
                left, right, op)
        return left

    def term(self):
        left = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            left = (lambda a, b, op: lambda: _num(a()) * _num(b()) if op == "*" else _num(a()) / _num(b()))(
                left, right, op)
        return left

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            inner = self.unary()
            return (lambda: -_num(inner())) if op == "-" else (lambda: _num(inner()))
        return self.primary()

    def primary(self):
        kind, text = self.take()
        if kind == "str":
            return lambda: text[1:-1].replace('""', '"')
        if kind == "num":
            return lambda: float(text)
        if kind == "ref":
            return lambda: self.cell(text.replace("$", ""))
        if kind == "op" and text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "name" and text.upper() in ("TRUE", "FALSE") and self.peek()[1] != "(":
            return lambda: text.upper() == "TRUE"
        if kind == "name":
            return self.call(text.upper())
        raise ValueError(f"unexpected {text!r}")

    def call(self, name):
        self.take("(")
        args = []
        while self.peek()[1] != ")":
            args.append(self.expr())
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        if name in LAZY:
            return lambda: _lazy(name, args)
        if name not in FUNCTIONS:
            raise ValueError(f"the evaluator does not know {name}()")

        def run():
            values = []
            for a in args:
                try:
                    values.append(a())
                except XlError:
                    if name == "ISNUMBER":
                        return False
                    raise
            return FUNCTIONS[name](*values)
        return run


def _lazy(name, args):
    if name == "OR":
        return any(bool(_num(a())) if not isinstance(x := a(), bool) else x for a in args)
    if name == "AND":
        return all(bool(_num(a())) if not isinstance(x := a(), bool) else x for a in args)
    if name == "IF":
        cond = args[0]()
        return args[1]() if (cond if isinstance(cond, bool) else _num(cond)) else (args[2]() if len(args) > 2 else False)
    try:   # IFERROR
        return args[0]()
    except (XlError, ZeroDivisionError):
        return args[1]()


def evaluate(formula: str, cell) -> object:
    parser = _Parser(_tokens(formula), cell)
    fn = parser.expr()
    if parser.i != len(parser.t):
        raise ValueError(f"trailing tokens in {formula!r}")
    return fn()


def _shift(formula: str, rows: int, cols: int) -> str:
    """A validation's formula as it applies to a cell rows/cols away from the range's top-left cell."""
    def move(m):
        c_abs, col, r_abs, row = m.groups()
        col = col if c_abs else get_column_letter(column_index_from_string(col) + cols)
        row = row if r_abs else str(int(row) + rows)
        return f"{c_abs}{col}{r_abs}{row}"
    parts = re.split(r'("(?:[^"]|"")*")', formula)   # never inside a string literal
    return "".join(p if p.startswith('"') else re.sub(r"(\$?)([A-Z]{1,3})(\$?)(\d+)(?![A-Za-z_(])", move, p)
                   for p in parts)


def validation_of(ws, address: str):
    """The validation covering a cell, and the cell's offset from the validation's first cell."""
    col, row = re.match(r"([A-Z]+)(\d+)", address).groups()
    c, r = column_index_from_string(col), int(row)
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            c1, r1, c2, r2 = range_boundaries(rng)
            if c1 <= c <= c2 and r1 <= r <= r2:
                return dv, r - r1, c - c1
    return None, 0, 0


def list_items(wb, source: str) -> list | None:
    """The items of a list validation whose source is a defined name or a literal list; None otherwise."""
    source = source.lstrip("=")
    if source.startswith('"'):
        return source.strip('"').split(",")
    if source in wb.defined_names:
        dest = list(wb.defined_names[source].destinations)
        sheet, rng = dest[0]
        return [c.value for row in wb[sheet][rng.replace("$", "")] for c in row if c.value is not None]
    return None


def accepts(wb, ws, address: str, value) -> bool:
    """Whether the validation on ws[address] lets `value` (as stored) stand; True where no validation applies
    or where it only warns."""
    dv, dr, dc = validation_of(ws, address)
    if dv is None or dv.type in (None, "any") or not dv.showErrorMessage or dv.errorStyle in ("warning",
                                                                                                "information"):
        return True
    others = {}

    def cell(ref):
        return value if ref == address else others.setdefault(ref, ws[ref].value)

    def bound(f):
        return evaluate(_shift(f, dr, dc), cell) if f is not None else None
    if dv.type == "custom":
        return bool(bound(dv.formula1))
    if dv.type == "list":
        items = list_items(wb, dv.formula1)
        return True if items is None else _text(value) in [_text(i) for i in items]
    if dv.type in ("decimal", "whole", "textLength"):
        if dv.type == "textLength":
            x = float(len(_text(value)))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            x = float(value)
        else:
            return False   # Excel refuses text in a number validation
        lo, hi = _num(bound(dv.formula1)), _num(bound(dv.formula2)) if dv.formula2 is not None else None
        op = dv.operator or "between"
        return {"between": lambda: lo <= x <= hi, "notBetween": lambda: not lo <= x <= hi,
                "equal": lambda: x == lo, "notEqual": lambda: x != lo, "greaterThan": lambda: x > lo,
                "lessThan": lambda: x < lo, "greaterThanOrEqual": lambda: x >= lo,
                "lessThanOrEqual": lambda: x <= lo}[op]()
    raise ValueError(f"validation type {dv.type} not known to the checker")
