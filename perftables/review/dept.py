"""部门整体绩效目标表: the department's own rules, its history, and its example fill.

The layout lives in templates/hubei-dept.toml; this module knows only the meaning of its
fields (income and expenditure parts, totals, shares, the project list) — read from the
description's field keys, never from cell addresses.
"""
from __future__ import annotations


from ..model.rules import rule_named
from ..io.extract import ERROR, WARNING, Finding, UnitReturn
from .checks import _review_indicators
from ..core.value import format_number, parse_amount
from ..forms.form import norm_label

INCOME = ("income_fiscal", "income_special", "income_unit")
EXPENDITURE = ("exp_staff", "exp_operation", "exp_project")
YEARS = (("", "当年"), ("_y1", "上年"), ("_y2", "前年"))


def review_dept(ret: UnitReturn) -> list[Finding]:
    out: list[Finding] = []
    for pr in ret.projects:
        out += _DeptReview(ret.form, pr).run(ret.stamp.year)
    return out


class _DeptReview:
    """The department table's rules over one sheet: the money adds up, 占比 agree, the project list against
    the 特定目标类 line, the project rows, the indicator grids."""

    def __init__(self, form, pr):
        self.form, self.pr = form, pr
        self.params = form.review
        self.tol = self.params.get("amount_tolerance", 0.005)
        self.out: list[Finding] = []

    def add(self, key, rule, severity, message, rule_id="") -> None:
        self.out.append(Finding(self.pr.sheet, self.pr.cells.get(key, ""), rule, severity, message,
                                target=self.form.target_of(key), rule_id=rule_id))

    def run(self, year) -> list[Finding]:
        self.money()
        self.shares()
        self.project_list()
        self.indicators(year)
        return self.out

    def money(self) -> None:
        """Income and expenditure: parts add up to their totals, the two totals agree (each year)."""
        form, v, tol, add = self.form, self.pr.values, self.tol, self.add
        fields = form.fields()
        for suffix, year in YEARS:
            for parts, total, name in ((INCOME, "income_total", "收入"), (EXPENDITURE, "exp_total", "支出")):
                parts = [k for k in parts if k + suffix in fields]   # the parts the form has (by their roles)
                if not parts or total + suffix not in fields:
                    continue   # a form without them: its own [review] sums say what adds up
                given = [v.get(k + suffix) for k in parts]
                whole = v.get(total + suffix)
                if whole is None and all(x is None for x in given):
                    continue
                if whole is None:
                    add(total + suffix, "必填项为空", ERROR, f"{year}{name}合计未填写")
                    continue
                s = round(sum(x or 0 for x in given), 2)
                if abs(s - whole) > tol:
                    labels = " + ".join(f"{form.fields()[k + suffix][1].title} {format_number(x or 0)}"
                                        for k, x in zip(parts, given))
                    add(total + suffix, f"{name}合计不符", ERROR,
                        f"{year}{name}合计 {format_number(whole)} ≠ {labels}（= {format_number(s)}）",
                        rule_id=rule_named("合计不符").id)   # the rule in the table's own words
            income, spend = v.get("income_total" + suffix), v.get("exp_total" + suffix)
            if income is not None and spend is not None and abs(income - spend) > tol:
                add("exp_total" + suffix, "收支合计不符", ERROR,
                    f"{year}支出合计 {format_number(spend)} ≠ 收入合计 {format_number(income)}")

    def shares(self) -> None:
        """占比: recomputed from the amounts; what the file shows must agree within ±0.01 %."""
        share_tol = self.params.get("share_tolerance", 0.0001)
        for key, want in shares(self.pr).items():
            key = key[:-len("_share")]
            shown = _share(self.pr.figures.get(key + "_share"))
            if shown is not None and want is not None and abs(shown - want) > share_tol:
                self.add(key + "_share", "占比与金额不符", WARNING,
                         f"“{self.form.fields()[key + '_share'][1].title}”为 {shown:.2%}，按金额应为 {want:.2%}")

    def project_list(self) -> None:
        """The project list against the 特定目标类 line, then each listed project."""
        form, pr, tol = self.form, self.pr, self.tol
        rows = pr.tables.get("projects", [])
        category = form.meta.get("project_category", "")
        listed = [r for r in rows if (r.get("category") or category) == category]
        spend = pr.values.get("exp_project")
        if listed and spend is not None:
            s = round(sum(r.get("budget") or 0 for r in listed), 2)
            if abs(s - spend) > tol:
                self.add("exp_project", "项目清单与支出不符", WARNING,
                         f"{form.tables['projects'].anchor}中{category}项目的本年度预算合计 {format_number(s)} {form.money}，"
                         f"与“{form.fields()['exp_project'][1].title}” {format_number(spend)} {form.money}不一致")
        grid = form.tables.get("projects")
        for i, r in enumerate(rows):
            where = f"{grid.anchor}第{r['row']}行“{r.get('name') or '（未命名）'}”"

            def add_row(key, rule, severity, message, i=i, r=r):
                self.out.append(Finding(pr.sheet, r["cells"].get(key, ""), rule, severity, message,
                                        target=("table", "projects", i, key)))

            if not r.get("name"):
                add_row("name", "必填项为空", ERROR, f"{where}项目名称未填写")
            if r.get("category") and grid and r["category"] not in form.lists.get("categories", []):
                add_row("category", "不在下拉列表内", ERROR, f"{where}支出项目类别“{r['category']}”不在下拉列表内")
            if r.get("budget") is not None and r.get("total_budget") is not None and r["budget"] > r["total_budget"] + tol:
                add_row("budget", "预算数与分项不符", ERROR,
                        f"{where}本年度预算 {format_number(r['budget'])} 大于项目总预算 {format_number(r['total_budget'])}")
            if not r.get("use"):
                add_row("use", "必填项为空", WARNING, f"{where}未填写主要支出方向和用途")

    def indicators(self, year) -> None:
        """The indicator grids: required, and the project form's indicator rules; 指标分类 from its list."""
        form, pr, out = self.form, self.pr, self.out
        for key in self.params.get("required_grids", []):
            found = pr.indicators if key == "indicators" else pr.tables.get(key, [])
            name = form.grid_anchor if key == "indicators" else form.tables[key].anchor
            if not found:
                out.append(Finding(pr.sheet, "", "必填项为空", ERROR, f"“{name}”没有任何指标",
                                   target=("grid", 0, "level1") if key == "indicators" else ("table", key, 0, "level1")))
        out.extend(_review_indicators(form, pr, owner="年度绩效指标", year=year))
        long_term = pr.tables.get("long_term", [])
        if long_term:
            out.extend(_review_indicators(form, pr, long_term, lambda i, k: ("table", "long_term", i, k), "长期绩效指标"))
        for index, ind in enumerate(pr.indicators + long_term):
            kind = ind.extra.get("category")
            if kind and kind not in form.lists.get("kinds", []):
                target = ("grid", index, "category") if index < len(pr.indicators) else \
                    ("table", "long_term", index - len(pr.indicators), "category")
                out.append(Finding(pr.sheet, ind.cells.get("category", ""), "不在下拉列表内", ERROR,
                                   f"第{ind.row}行指标分类“{kind}”不在下拉列表内", target=target))


def shares(pr) -> dict[str, float | None]:
    """Every 占比 field, recomputed from the amounts (None where the total is missing or 0)."""
    out = {}
    for parts, total in ((INCOME, "income_total"), (EXPENDITURE, "exp_total")):
        whole = pr.values.get(total)
        for key in (*parts, total):
            part = sum(pr.values.get(k) or 0 for k in parts) if key == total else pr.values.get(key)
            out[key + "_share"] = (part or 0) / whole if whole and (part is not None) else None
    return out


def _share(value) -> float | None:
    """A 占比 as the file shows it: the formula's cached fraction, or a typed "56.39%"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        amount = parse_amount(text.rstrip("%％"))
        if amount.value is None:
            return None
        return amount.value / 100 if text.endswith(("%", "％")) else amount.value
    return None


# --------------------------------------------------------------------------- history (近两年指标值)

def indicator_key(level1: str, level2: str, name: str) -> tuple:
    return norm_label(level1), norm_label(level2), norm_label(name)


def attach_history(roster, history: dict, year: int) -> None:
    """Each unit's 年度绩效指标 start from last year's rows, with last year's target as {y1} and the
    year before's as {y2} (from last year's own history, or from that year's table)."""
    for unit in roster.units:
        last = history.get((unit.code, year - 1))
        before = {indicator_key(r["level1"], r["level2"], r["name"]): r["value"]
                  for r in history.get((unit.code, year - 2), [])}
        if not last:
            continue
        rows = []
        for r in last:
            key = indicator_key(r["level1"], r["level2"], r["name"])
            rows.append({"level1": r["level1"], "level2": r["level2"], "name": r["name"],
                         "hist1": r["value"], "hist2": r.get("hist1") or before.get(key, "")})
        unit.extra["history"] = rows


# --------------------------------------------------------------------------- examples

def dept_fill(form, record: dict) -> dict:
    """Generator fill values from a transcribed department table (examples/seed_dept.json)."""
    sheet = form.meta["sheet_name"]
    fields = dict(record.get("texts", {}))
    long_term = [dict(zip(("level1", "level2", "name", "value", "basis", "category"), r)) for r in record["long_term"]]
    annual = [dict(zip(("level1", "level2", "name", "hist2", "hist1", "value", "basis", "category"), r))
              for r in record["annual"]]
    return {"projects": {sheet: {"fields": fields, "indicators": annual,
                                 "tables": {"long_term": long_term,
                                            "projects": [{"name": p["name"], "use": p["use"]}
                                                         for p in record["projects"]]}}}}

