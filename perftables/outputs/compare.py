"""Year on year: last year's summary against this year's — units and projects added, dropped, renamed;
budget changes; targets set lower than last year's target (or last year's actual); indicator counts by
一级 side by side; a chart of both years' budgets by unit.

Reads summaries as collect wrote them (the workbook or a CSV export folder); needs no pandas.
"""
from __future__ import annotations

from .schema import Sheet
from ..core.errors import PerftablesError, describe_exception
from ..forms.form import norm_label
from .summary import Table, read_summary_tables, summary_amount
from ..core.value import DEFAULT_MONEY, ValueKind, parse, parse_amount, unit_key


class CompareError(PerftablesError):
    """A summary cannot be compared (a Chinese message)."""


def _num(text) -> float | None:
    return parse_amount(text).value if text not in (None, "") else None


def _budget(row: dict | None) -> float | None:
    """A row's 预算数 in 万元, whichever money unit its summary was written in."""
    return summary_amount(row, "预算数（万元）", DEFAULT_MONEY) if row else None


def _tables(source) -> dict:
    try:
        t = read_summary_tables(source)
    except Exception as exc:   # not a workbook at all
        raise CompareError(f"“{source}”不是 collect 写出的汇总（{describe_exception(exc)}）") from None
    if Sheet.PROJECTS not in t or Sheet.INDICATORS not in t:
        raise CompareError(f"“{source}”不是绩效目标表的汇总（没有“项目汇总”“指标明细”表）")
    return t


def _match(old: list[dict], new: list[dict], code: str, name: str):
    """Pairs (old, new) matched by code, then by name; unmatched on either side paired with None."""
    pairs, left = [], list(old)
    rest = []
    for n in new:
        o = next((o for o in left if n.get(code) and o.get(code) == n.get(code)), None)
        if o is None:
            rest.append(n)
            continue
        left.remove(o)
        pairs.append((o, n))
    for n in rest:
        o = next((o for o in left if norm_label(o.get(name)) == norm_label(n.get(name))), None)
        if o is not None:
            left.remove(o)
        pairs.append((o, n))
    pairs += [(o, None) for o in left]
    return pairs


def _state(o, n, code, name) -> str:
    if o is None:
        return "新增"
    if n is None:
        return "取消"
    if o.get(code) != n.get(code):
        return "编码变化"
    if norm_label(o.get(name)) != norm_label(n.get(name)):
        return "改名"
    return "不变"


def _change(a, b):
    if a is None or b is None:
        return None, None
    return round(b - a, 2), (round((b - a) / a, 4) if a else None)


def compare(last_source, this_source, actual_source=None) -> list[Table]:
    last, this = _tables(last_source), _tables(this_source)
    y0 = next((r.get("年度") for r in last.get(Sheet.FILES, []) if r.get("年度")), "去年")
    y1 = next((r.get("年度") for r in this.get(Sheet.FILES, []) if r.get("年度")), "今年")
    a, b = f"{y0}年", f"{y1}年"

    units = Table("单位对比", [("单位编码", "text"), ("单位名称", "text"), (f"{a}名称", "text"), ("变化", "text"),
                             (f"{a}预算（万元）", "amount"), (f"{b}预算（万元）", "amount"), ("增减（万元）", "amount"),
                             ("增减率", "pct"), (f"{a}项目数", "int"), (f"{b}项目数", "int")], total=True,
                  chart=("bar", 1, [4, 5], "各单位预算数（万元）"))
    for o, n in _match(last.get(Sheet.UNITS, []), this.get(Sheet.UNITS, []), "单位编码", "单位名称"):
        ob, nb = _budget(o), _budget(n)
        d, rate = _change(ob, nb)
        units.rows.append([(n or o)["单位编码"], (n or o)["单位名称"], o["单位名称"] if o else None,
                           _state(o, n, "单位编码", "单位名称"), ob, nb, d, rate,
                           int(_num(o.get("项目数")) or 0) if o else None, int(_num(n.get("项目数")) or 0) if n else None])

    projects = Table("项目对比", [("单位编码", "text"), ("单位名称", "text"), ("项目编码", "text"), ("项目名称", "text"),
                                (f"{a}项目编码", "text"), (f"{a}项目名称", "text"), ("变化", "text"),
                                (f"{a}预算（万元）", "amount"), (f"{b}预算（万元）", "amount"), ("增减（万元）", "amount"),
                                ("增减率", "pct")], total=True)
    by_unit: dict[str, tuple[list, list]] = {}
    for r in last[Sheet.PROJECTS]:
        by_unit.setdefault(r["单位编码"], ([], []))[0].append(r)
    for r in this[Sheet.PROJECTS]:
        by_unit.setdefault(r["单位编码"], ([], []))[1].append(r)
    matched_projects = []
    for code in sorted(by_unit):
        old, new = by_unit[code]
        for o, n in _match(old, new, "项目编码", "项目名称"):
            ob, nb = _budget(o), _budget(n)
            d, rate = _change(ob, nb)
            ref = n or o
            projects.rows.append([code, ref["单位名称"], n["项目编码"] if n else None, n["项目名称"] if n else None,
                                  o["项目编码"] if o else None, o["项目名称"] if o else None,
                                  _state(o, n, "项目编码", "项目名称"), ob, nb, d, rate])
            if o and n:
                matched_projects.append((code, o, n))

    actuals = {}
    if actual_source is not None:
        for r in read_summary_tables(actual_source).get(Sheet.GAPS, []):
            actuals[(r["单位编码"], norm_label(r["项目名称"]), norm_label(r["三级指标"]))] = r.get("实际完成值", "")
    lower = Table("目标降低", [("单位编码", "text"), ("单位名称", "text"), ("项目名称", "text"), ("一级指标", "text"),
                              ("二级指标", "text"), ("三级指标", "text"), (f"{a}指标值", "text"), (f"{a}实际完成值", "text"),
                              (f"{b}指标值", "text"), ("说明", "long")])
    old_ind: dict[tuple, list[dict]] = {}
    for r in last[Sheet.INDICATORS]:
        old_ind.setdefault((r["单位编码"], r["项目编码"] or norm_label(r["项目名称"])), []).append(r)
    new_ind: dict[tuple, list[dict]] = {}
    for r in this[Sheet.INDICATORS]:
        new_ind.setdefault((r["单位编码"], r["项目编码"] or norm_label(r["项目名称"])), []).append(r)
    for code, o, n in matched_projects:
        olds = old_ind.get((code, o["项目编码"] or norm_label(o["项目名称"])), [])
        for r in new_ind.get((code, n["项目编码"] or norm_label(n["项目名称"])), []):
            prev = next((x for x in olds if norm_label(x["三级指标"]) == norm_label(r["三级指标"])), None)
            if prev is None:
                continue
            was, now = parse(prev["指标值"]), parse(r["指标值"])
            actual_text = actuals.get((code, norm_label(o["项目名称"]), norm_label(r["三级指标"])), "")
            actual = parse(actual_text) if actual_text else None
            why = _lower(was, now, actual, a)
            if why:
                lower.rows.append([code, r["单位名称"], r["项目名称"], r["一级指标"], r["二级指标"], r["三级指标"],
                                   prev["指标值"], actual_text or None, r["指标值"], why])

    counts: dict[str, list[int]] = {}
    for i, source in enumerate((last, this)):
        for r in source[Sheet.INDICATORS]:
            counts.setdefault(r["一级指标"] or "（未填）", [0, 0])[i] += 1
    structure = Table("指标结构对比", [("一级指标", "text"), (f"{a}指标数", "int"), (f"{b}指标数", "int"), ("增减", "int")],
                      total=True, chart=("bar", 0, [1, 2], "各一级指标的指标数"))
    for name, (c0, c1) in counts.items():
        structure.rows.append([name, c0, c1, c1 - c0])
    return [units, projects, lower, structure]


def _lower(was, now, actual, last_year: str) -> str | None:
    """Why this year's target asks for less than last year's (None: it does not, or they cannot be compared)."""
    if now.kind is not ValueKind.QUANT or now.num is None:
        return None
    same_unit = lambda v: v is not None and v.kind is ValueKind.QUANT and v.num is not None and \
        unit_key(v.unit) == unit_key(now.unit)   # noqa: E731
    up = now.op not in ("≤", "<")          # more is better, unless the target is an upper bound
    notes = []
    if same_unit(was) and (was.op in ("≤", "<")) == (not up):
        if up and now.num < was.num:
            notes.append(f"低于{last_year}目标 {was.raw}")
        elif not up and now.num > was.num:
            notes.append(f"上限高于{last_year}目标 {was.raw}（放宽了）")
    if same_unit(actual):
        if up and now.num < actual.num:
            notes.append(f"低于{last_year}实际完成 {actual.raw}")
        elif not up and now.num > actual.num:
            notes.append(f"上限高于{last_year}实际 {actual.raw}")
    return "；".join(notes) or None
