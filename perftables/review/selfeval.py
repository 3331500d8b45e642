"""Self-evaluation review (绩效自评): the approved rows as the self-evaluation shows them, and every score
recomputed by the form's rules (model.scoring) and compared with the file."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..io.extract import ERROR, WARNING, Finding, ProjectReturn, UnitReturn, _text
from ..forms.form import Form
from ..model.scoring import (NOT_APPLICABLE, Rules, budget_score, grade_of, indicator_weight_total, missing_block_award,
                      qual_band, qual_default, quant_score, r2, total_score)
from .checks import cost_like, direction_of
from ..core.value import ValueKind, format_number, parse, parse_amount, same_unit, value_cells

# --------------------------------------------------------------------------- generate

def split_target(form: Form) -> list[str]:
    """The parts the approved value is shown in when the form splits it (op, num, unit), else []."""
    keys = [c.key for c in form.input_columns if c.source == "target"]
    return [k for k in ("op", "num", "unit") if k in keys]


def sign_of(ref: dict) -> str | None:
    """The scoring sign of an approved row (files made before 2026-11 kept it as "op")."""
    return ref["sign"] if "sign" in ref else ref.get("op")


def approved_rows(target: UnitReturn, pr: ProjectReturn, form: Form) -> list[dict]:
    """The approved indicators as the self-evaluation grid shows them, with default 分值 per block."""
    tax = target.form.taxonomy
    rules = Rules.from_form(form.scoring)
    split = split_target(form)
    adjusted = form.has_column("adjusted")
    rows = []
    for ind in pr.indicators:
        v = ind.value
        quant = v.kind is ValueKind.QUANT and v.num is not None
        l1 = tax.find_level1(ind.level1)
        # the scoring sign: the value's own, else what the row's 指标方向性 says (反向: smaller is better)
        sign = (v.op or {"reverse": "≤", "positive": "≥"}.get(direction_of(ind.extra.get("direction")))) \
            if quant else None
        row = {"level1": ind.level1, "level2": ind.level2, "name": ind.name, "target": v.render(),
               "kind": ValueKind.QUANT if quant else ValueKind.QUAL, "sign": sign,
               "t": v.num if quant else None, "block": l1.block if l1 else ""}
        if split:   # the grid shows the approved value in its parts (指标性质 / 指标值 / 度量单位)
            cells = value_cells(v)
            row.update({k: cells.get(k, "") for k in split})
        if adjusted:   # 调整后指标值 starts as the approved one; the unit changes it, or clears it if dropped
            row["adjusted"] = v.num if quant else v.render()
        rows.append(row)
    # the default 分值: each block's weight shared by its rows, or (weights carried per indicator) the
    # indicators' total shared by all of them
    groups = [(indicator_weight_total(rules), rows)] if rules.weights == "per_indicator" else \
        [(weight, [r for r in rows if r["block"] == block]) for block, weight in rules.block_weights.items()]
    for weight, members in groups:
        if not members:
            continue
        share = r2(weight / len(members))
        for r in members:
            r["weight"] = share
        members[-1]["weight"] = r2(weight - share * (len(members) - 1))
    return rows



@dataclass
class RowScore:
    score: float | None
    weight: float | None
    applicable: bool
    grade: str = ""           # qualitative grade chosen
    short: bool = False       # 得分 below 分值


@dataclass
class ProjectScore:
    rate: float | None = None
    budget_score: float | None = None
    rows: list[RowScore] = field(default_factory=list)
    total: float | None = None
    grade: str = ""
    file_total: float | None = None


def _number(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = _text(value).rstrip("%％")
    if not text:
        return None
    return parse_amount(text).value


def actual_number(value) -> float | None:
    """An actual as typed — a number, or text in the targets' own notation (85, ≥266米, 90%, １，０００) — as the
    number it states; None for words and blanks."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = _text(value)
    negative = text[:1] in ("-", "－", "−")   # a deviation below the mark (−2%)
    parsed = parse(text[1:] if negative else text)
    if parsed.kind is not ValueKind.QUANT or (negative and parsed.op):
        return None
    return -parsed.num if negative else parsed.num


def score_project(form: Form, pr: ProjectReturn, approved: list[dict], rules: Rules) -> tuple[ProjectScore, list[Finding]]:
    """One project's scores recomputed by the rules, and what the unit must fix."""
    scorer = _ProjectScorer(form, pr, rules)
    scorer.budget()
    for i, ind in enumerate(pr.indicators):
        scorer.row(i, ind, approved[i] if i < len(approved) else None)
    scorer.weights(approved)
    scorer.total(approved)
    return scorer.ps, scorer.out


class _ProjectScorer:
    """The state of scoring one project: its findings, its rows' scores, the weights per block."""

    def __init__(self, form: Form, pr: ProjectReturn, rules: Rules):
        self.form, self.pr, self.rules = form, pr, rules
        self.tol = form.review.get("score_tolerance", 0.1)
        self.ps = ProjectScore()
        self.out: list[Finding] = []
        self.block_sum: dict[str, float] = {}
        labels = {c.key: c.label for c in form.input_columns}
        for key, default in (("adjusted", "调整后指标值"), ("actual", "实际完成值"), ("weight", "分值"), ("score", "得分"),
                             ("reason", "偏差原因分析及改进措施"), ("name", "三级指标")):
            labels.setdefault(key, default)
        self.labels = labels
        self.split = split_target(form)
        self.target_keys = self.split or ["target"]
        self.target_label = labels.get("target") or labels.get("num") or "年度指标值"   # split: 指标值 names the value

    def add(self, target, cell, rule, severity, message):
        self.out.append(Finding(self.pr.sheet, cell, rule, severity, message, target=target))

    def budget(self) -> None:
        """预算执行率 and its score, the fund parts' sums, the file's own budget score."""
        form, pr, rules, ps, add = self.form, self.pr, self.rules, self.ps, self.add
        v = pr.values
        ps.rate, ps.budget_score = budget_score(v.get("budget_total"), v.get("spent_total"), rules)
        if ps.rate is not None:
            if ps.rate > 1:
                add(form.target_of("spent_total"), pr.cells.get("spent_total", ""), "执行数超过预算", WARNING,
                    f"全年执行数 {format_number(v['spent_total'])} 大于全年预算数 {format_number(v['budget_total'])}")
            why = form.scoring.get("rate_reason_field", "achieved")   # where a low rate is explained
            if ps.rate < rules.rate_reason_below and not v.get(why) and form.has_field(why):
                add(form.target_of(why), pr.cells.get(why, ""), "执行率偏低未说明", ERROR,
                    f"预算执行率 {ps.rate:.2%} 低于 {rules.rate_reason_below:.0%}，须在“{form.fields()[why][1].title or why}”中说明原因")
        elif v.get("budget_total") == 0:
            add(form.target_of("budget_total"), pr.cells.get("budget_total", ""), "预算执行率", ERROR, "全年预算数为 0，无法计算执行率")
        for group, keys in form.scoring.get("fund_parts", [["资金来源", ["fiscal", "carry", "other"]]]):
            for part in ("start", "budget", "spent"):
                total = v.get(f"{part}_total")
                parts = [v.get(f"{part}_{k}") for k in keys]
                if total is not None and any(p is not None for p in parts) and abs(total - sum(p or 0 for p in parts)) > 0.005:
                    add(form.target_of(f"{part}_total"), pr.cells.get(f"{part}_total", ""), "资金合计不符", ERROR,
                        f"年度资金总额 {format_number(total)} ≠ {group}各项之和 {format_number(sum(p or 0 for p in parts))}")
        fig = _number(pr.figures.get("budget_score"))
        if fig is not None and ps.budget_score is not None and abs(fig - ps.budget_score) > self.tol:
            add(form.target_of("budget_score"), pr.cells.get("budget_score", ""), "得分与复核不符", ERROR,
                f"预算执行得分：文件中为 {format_number(fig)}，复核为 {format_number(ps.budget_score)}")

    def row(self, i: int, ind, ref: dict | None) -> None:
        """One indicator row: as approved, its weight, its actual scored by its kind, a reason if short."""
        labels, e = self.labels, ind.extra
        where = f"第{ind.row}行“{ind.name}”"

        def cell(key):
            return ind.cells.get(key, "")

        def add(key, rule, severity, message):
            self.add(("grid", i, key), cell(key), rule, severity, message)

        if ref is None:
            add("name", "批复指标被改动", ERROR, f"{where}不是批复的指标（多出的行）")
            return
        self.as_approved(i, ind, ref, where)
        sign, t = sign_of(ref), ref["t"]
        if self.form.has_column("adjusted"):   # the target as adjusted during the year; blank: dropped
            t = _adjusted_target(e.get("adjusted"), ref, t, self.rules,
                                 lambda rule, sev, msg: add("adjusted", rule, sev, f"{where}{msg}"), labels["adjusted"])
            if t is DROPPED:   # dropped mid-year: no score, its weight still counts towards its block
                weight = _number(e.get("weight"))
                if weight is not None:
                    self.block_sum[ref["block"]] = self.block_sum.get(ref["block"], 0) + weight
                self.ps.rows.append(RowScore(None, weight, False))
                return
        if ref["kind"] == ValueKind.QUANT and not sign and cost_like(ref["name"]):
            add(self.target_keys[0], "成本类指标无符号", WARNING,
                f"{where}是成本类指标，批复的{self.target_label}“{ref['target']}”没有符号，按正向规则（越大越好）打分；"
                "如应越小越好，下年度的目标请写明“≤”")
        weight = _number(e.get("weight"))
        actual_text = _text(e.get("actual"))
        applicable = actual_text != NOT_APPLICABLE
        if weight is None:
            add("weight", "必填项为空", ERROR, f"{where}未填{labels['weight']}")
            self.ps.rows.append(RowScore(None, None, applicable))
            return
        # the weights are set before knowing what applies: every row counts towards its block's sum
        self.block_sum[ref["block"]] = self.block_sum.get(ref["block"], 0) + weight
        score, grade = None, ""
        if not applicable:
            pass
        elif not actual_text:
            add("actual", "必填项为空", ERROR, f"{where}未填{labels['actual']}")
        elif ref["kind"] == ValueKind.QUANT:
            score = self.quant(e, ref, sign, t, weight, actual_text, where, add)
        else:
            score, grade = self.qual(e, weight, actual_text, where, add)
        short = score is not None and score < weight - 1e-9
        if short and not _text(e.get("reason")):
            add("reason", "缺少偏差原因", ERROR,
                f"{where}{labels['score']} {format_number(score)} 低于{labels['weight']} {format_number(weight)}，须填写{labels['reason']}")
        self.ps.rows.append(RowScore(score, weight, applicable, grade, short))

    def as_approved(self, i: int, ind, ref: dict, where: str) -> None:
        """The approved parts of a row (一级, 二级, 三级, the target) are as approved."""
        labels, split = self.labels, self.split
        for key in ("level1", "level2", "name"):
            if _text(getattr(ind, key)) != _text(ref[key]):
                self.add(("grid", i, key), ind.cells.get(key, ""), "批复指标被改动", ERROR,
                         f"{where}的{labels[key]}被改动：批复为“{ref[key]}”，实为“{_text(getattr(ind, key))}”")
        if _text(ind.value.render()) != _text(ref["target"]):
            key = "op" if "op" in split and _text(ind.op_cell) != _text(ref.get("op", "")) else \
                "num" if "num" in split else self.target_keys[0]
            self.add(("grid", i, key), ind.cells.get(key, ""), "批复指标被改动", ERROR,
                     f"{where}的{self.target_label}被改动：批复为“{ref['target']}”，实为“{_text(ind.value.render())}”")

    def quant(self, e: dict, ref: dict, sign, t, weight: float, actual_text: str, where: str, add) -> float | None:
        """A quantitative row's score by the rule of its sign; its unit and its file score checked."""
        labels, rules = self.labels, self.rules
        actual = actual_number(e.get("actual"))
        if actual is None:
            add("actual", "实际完成值不可比", ERROR,
                f"{where}{labels['actual']}“{actual_text}”不是数字，无法与{self.target_label}“{ref['target']}”比较")
            return None
        parsed, target = parse(actual_text), parse(ref["target"])
        target_unit = target.unit
        if target.band:   # ±3%以内: the deviation's size, whichever its sign
            actual = abs(actual)
        if parsed.unit and not (target_unit and same_unit(parsed.unit, target_unit)):
            add("actual", "实际完成值不可比", ERROR,
                f"{where}{labels['actual']}的单位“{parsed.unit}”与{self.target_label}“{ref['target']}”不一致")
        score = quant_score(sign, t, actual, weight, rules)
        if sign not in ("≤", "<") and t and actual > rules.over_completion * t:
            add("actual", "超额完成", WARNING,
                f"{where}{labels['actual']} {actual_text} 远超{self.target_label} {ref['target']}，请核实目标是否定得过低")
        fig = _number(e.get("score"))
        if fig is not None and abs(fig - score) > self.tol:
            add("score", "得分与复核不符", ERROR,
                f"{where}{labels['score']}：文件中为 {format_number(fig)}，复核为 {format_number(score)}")
        return score

    def qual(self, e: dict, weight: float, actual_text: str, where: str, add) -> tuple[float | None, str]:
        """A qualitative row's grade (the form's grades and words) and the score the unit gave within its band."""
        labels, rules = self.labels, self.rules
        grade = rules.grade(actual_text) or ""
        if not grade:
            add("actual", "实际完成值不可比", ERROR,
                f"{where}定性指标的{labels['actual']}应为{'/'.join(rules.bands)}之一，实为“{actual_text}”")
            return None, grade
        lo, hi = qual_band(grade, weight, rules)
        given = _number(e.get("score"))
        top = grade == rules.top_grade
        if given is None:
            score = qual_default(grade, weight, rules)
            add("score", "定性指标未打分", WARNING, f"{where}未打分，按“{grade}”区间上限计 {format_number(score)} 分")
        elif not (lo - 1e-9 <= given <= hi + 1e-9) or (not top and given >= hi - 1e-9 and hi > 0):
            score = min(max(given, lo), qual_default(grade, weight, rules))
            add("score", "得分超出等级区间", ERROR,
                f"{where}“{grade}”的得分应在 {format_number(lo)}–{format_number(hi)}"
                f"{'' if top else '（不含上限）'} 之间，实为 {format_number(given)}")
        else:
            score = given
        return score, grade

    def weights(self, approved: list[dict]) -> None:
        """The weights add up: per block, or (weights per indicator) in all; blocks the unit set nothing in."""
        rules, labels, block_sum, add = self.rules, self.labels, self.block_sum, self.add
        if rules.weights == "per_indicator":   # the unit sets each 权重; only their sum is fixed
            total, want = sum(block_sum.values()), indicator_weight_total(rules)
            if block_sum and abs(total - want) > 0.01:
                add(("grid", 0, "weight"), "", "分值合计不符", ERROR,
                    f"各指标{labels['weight']}合计 {format_number(r2(total))}，应为 {format_number(want)}")
        for block, weight in rules.block_weights.items() if rules.weights != "per_indicator" else ():
            if block in block_sum and abs(block_sum[block] - weight) > 0.01:
                add(("grid", 0, "weight"), "", "分值合计不符", ERROR,
                    f"{block_name(self.form, block)}各指标{labels['weight']}合计 {format_number(r2(block_sum[block]))}，"
                    f"应为 {format_number(weight)}")
        present = {r["block"] for r in approved}
        for block in rules.missing_blocks if rules.weights != "per_indicator" else ():
            if block not in present and block in rules.block_weights:
                add(("grid", 0, "name"), "", "未设置该类指标", WARNING,
                    f"未设置{block_name(self.form, block)}（{format_number(rules.block_weights[block])}分），"
                    f"按 {format_number(rules.missing_blocks[block])} 分计")

    def total(self, approved: list[dict]) -> None:
        rules, ps, pr = self.rules, self.ps, self.pr
        present = {r["block"] for r in approved}
        award = missing_block_award(present, rules) if rules.weights != "per_indicator" else (0.0, 0.0)
        ps.total = total_score(ps.budget_score, [(r.score, r.weight or 0, r.applicable) for r in ps.rows], rules, award)
        ps.grade = grade_of(ps.total, rules)
        ps.file_total = _number(pr.figures.get("total"))
        if ps.file_total is not None and ps.total is not None and abs(ps.file_total - ps.total) > self.tol:
            self.add(self.form.target_of("total"), pr.cells.get("total", ""), "得分与复核不符", ERROR,
                     f"总分：文件中为 {format_number(ps.file_total)}，复核为 {format_number(ps.total)}")


DROPPED = object()   # a row whose target was dropped mid-year


def _adjusted_target(value, ref: dict, t, rules: Rules, say, label: str):
    """The target a row is scored against when the form keeps 调整后指标值 apart: the adjusted number (said),
    the approved one, or DROPPED when the row was dropped mid-year (dropped_targets = "reweight")."""
    text = _text(value)
    if not text:
        if rules.dropped_targets == "reweight":
            say("指标年中取消", WARNING, f"的{label}为空，视为年中取消：不计分，其余指标按比例折算；请核实调整是否经过批准")
            return DROPPED
        say("必填项为空", ERROR, f"未填{label}")
    elif ref["kind"] != ValueKind.QUANT:
        if text != _text(ref["target"]):
            say("指标值已调整", WARNING, f"的{label}由“{ref['target']}”调整为“{text}”；请核实调整是否经过批准")
    elif (adjusted := _number(value)) is None:
        say("实际完成值不可比", ERROR, f"{label}“{text}”不是数字")
    elif abs(adjusted - t) > 1e-9:
        say("指标值已调整", WARNING, f"的{label}由 {format_number(t)} 调整为 {format_number(adjusted)}，"
            "按调整后的值计分；请核实调整是否经过批准")
        return adjusted
    return t


def block_name(form: Form, block: str) -> str:
    return next((l1.name for l1 in form.taxonomy.level1 if l1.block == block), block)


def review_selfeval(ret: UnitReturn) -> list[Finding]:
    """Every project scored by the form's rules (model.scoring), with what the unit must fix."""
    rules = Rules.from_form(ret.form.scoring)
    approved = {p["sheet"]: p.get("indicators", []) for p in ret.stamp.projects}
    findings = []
    ret.scores = {}
    for pr in ret.projects:
        ps, found = score_project(ret.form, pr, approved.get(pr.sheet, []), rules)
        ret.scores[pr.sheet] = ps
        findings += found
    return findings
