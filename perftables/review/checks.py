"""The review rules of a project target table (绩效目标审核), and the checks every form shares (required
fields, the indicator rules) — used by the form kinds' own reviews (dept, selfeval) and dispatched by
perftables.review."""
from __future__ import annotations

import re

from ..model.rules import rule_named
from ..io.extract import ERROR, WARNING, Finding, ProjectReturn
from ..forms.form import Form, norm_label, record_key
from ..core.value import (FULLWIDTH_DIGITS, MONEY_UNITS, QUAL_OPTION, ValueKind, chinese_numeral, clean,
                          convert_money, format_number, parse_amount, unit_key)

_FULL = str.maketrans("０１２３４５６７８９．％", "0123456789.%")

VAGUE = ("有效提升", "进一步", "明显提升", "显著提升", "逐步提高", "不断提高", "有所提高", "较好")
# what an indicator's own name says it measures
COUNT_WORDS = ("次数", "人次", "场次", "人数", "个数", "份数", "册数", "篇数", "期数", "项数", "场数", "户数", "家数",
               "数量", "件数", "批次")
RATE_WORDS = ("率", "满意度", "比例", "占比", "比重")
_COUNT_RE, _RATE_RE = (re.compile("|".join(map(re.escape, words))) for words in (COUNT_WORDS, RATE_WORDS))
COUNT_UNITS = ("次", "人次", "万人次", "场", "场次", "个", "份", "篇", "册", "人", "名", "期", "项", "件", "家", "户",
               "所", "站", "批", "条", "本", "套", "台", "座", "处", "间")
COST_WORDS = ("变动率", "结转结余率", "结余率", "控制率", "成本", "费用", "超支")
# leftovers of a template or of a copied table: never a finished name or value
LEFTOVER = re.compile(r"[XxＸｘ×]{2,}|…{2,}|……|\.{3,}|指标\s*\d+\s*[:：]|[（(]\s*[)）]")
AMOUNT_IN_TEXT = r"([0-9][0-9,]*(?:\.[0-9]+)?)\s*(万元|千元|元)"   # a pattern's second group: its unit


def cost_like(name: str, l2=None) -> bool:
    """A cost-type indicator (smaller is better): its 二级 says so, or its name does."""
    return bool(l2 is not None and l2.reverse) or any(w in (name or "") for w in COST_WORDS)


def direction_of(text) -> str | None:
    """指标方向性 as the form prints it (正向指标, 反向, 越小越好…): "positive", "reverse" or None."""
    if not text:
        return None
    t = str(text)
    if any(w in t for w in ("反向", "逆向", "负向", "越小越好", "越低越好")):
        return "reverse"
    if any(w in t for w in ("正向", "越大越好", "越高越好")):
        return "positive"
    return None


def leftover(text: str) -> str | None:
    """The leftover template text in a name or value (XX, ××, ……, 指标1：, empty brackets), if any."""
    m = LEFTOVER.search(text or "")
    return m.group(0) if m else None


def _edit1(a: str, b: str) -> bool:
    """True when a and b differ by exactly one substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _required(form: Form, pr: ProjectReturn) -> list[Finding]:
    out = []
    fields = form.fields()
    for key, (_, cell) in fields.items():
        if key not in form.review.get("required_text", []) and not (cell.required and cell.type == "amount"):
            continue
        attr = record_key(key)
        value = getattr(pr, attr, None) if hasattr(pr, attr) else pr.values.get(key)
        if value in (None, ""):
            out.append(Finding(pr.sheet, pr.cells.get(key, ""), "必填项为空", ERROR, f"“{cell.title}”未填写",
                               target=form.target_of(key)))
    return out


def review_project(form: Form, pr: ProjectReturn, year: int | None = None) -> list[Finding]:
    out: list[Finding] = []
    params = form.review
    sheet = pr.sheet

    def add(key, rule, severity, message, rule_id=""):
        out.append(Finding(sheet, pr.cells.get(key, ""), rule, severity, message, target=form.target_of(key),
                           rule_id=rule_id))

    # the sums the form declares ([review] sums): a total and the parts it is made of
    tol = params.get("amount_tolerance", 0.005)
    fields = form.fields()

    def title(key):
        return re.sub(r"^其中[：:]\s*", "", fields[key][1].title or key)
    for rule in params.get("sums", []):
        total, parts = pr.values.get(rule["total"]), [pr.values.get(k) for k in rule["parts"]]
        if total is None or all(p is None for p in parts):
            continue
        if abs(total - sum(p or 0 for p in parts)) > tol:
            add(rule["total"], f"{title(rule['total'])}与分项不符", ERROR,
                f"{title(rule['total'])} {format_number(total)} ≠ "
                + " + ".join(f"{title(k)} {format_number(p or 0)}" for k, p in zip(rule["parts"], parts)),
                rule_id=rule_named("预算数与分项不符").id)   # the rule in the form's own words
    if form.has_field("use") and pr.use and pr.budget is not None:
        # the amounts the use text names (the form's own pattern, else every “N 万元”): one of them is the
        # budget, or together they add up to it
        pattern, money = params.get("amount_in_text") or AMOUNT_IN_TEXT, form.money
        amounts = [convert_money(float(m.group(1).replace(",", "")),
                                 m.group(2) if (m.re.groups > 1 and m.group(2) in MONEY_UNITS) else money, money)
                   for m in re.finditer(pattern, pr.use)]
        if amounts and all(abs(a - pr.budget) > tol for a in amounts) and abs(sum(amounts) - pr.budget) > tol:
            named = "、".join(f"{format_number(a)} {money}" for a in amounts)
            add("use", "资金用途与预算数不符", WARNING,
                f"资金用途中写的金额 {named}" + (f"（合计 {format_number(sum(amounts))} {money}）" if len(amounts) > 1 else "")
                + f"与项目预算数 {format_number(pr.budget)} {money}不一致")
    for key in ("goal", "use"):
        left = leftover(getattr(pr, key, "") or "")
        if left and form.has_field(key):
            add(key, "模板占位文字", WARNING, f"“{form.fields()[key][1].title}”中有未替换的模板文字“{left}”")
    out.extend(_review_plan(form, pr))
    out.extend(_review_indicators(form, pr, year=year))
    want = params.get("weight_total")   # 权重 carried per indicator in a target table: their sum is fixed
    if want is not None and form.has_column("weight") and pr.indicators:
        weights = [parse_amount(i.extra.get("weight")).value for i in pr.indicators]
        label = next(c.label for c in form.input_columns if c.key == "weight")
        if any(w is None for w in weights):
            i = weights.index(None)
            ind = pr.indicators[i]
            out.append(Finding(sheet, ind.cells.get("weight", ""), "必填项为空", ERROR,
                               f"第{ind.row}行“{ind.name}”未填{label}", target=("grid", i, "weight")))
        elif abs(sum(weights) - want) > 0.01:
            out.append(Finding(sheet, pr.indicators[0].cells.get("weight", ""), "权重合计不符", ERROR,
                               f"{owner_of(pr)}各指标{label}合计 {format_number(round(sum(weights), 2))}，应为 "
                               f"{format_number(want)}", target=("grid", 0, "weight")))
    return out


def owner_of(pr: ProjectReturn) -> str:
    return f"项目“{pr.name}”"


def _review_plan(form: Form, pr: ProjectReturn) -> list[Finding]:
    out = []
    cells = form.plan_fields()
    if not cells:
        return out
    values = pr.plan
    rule = "资金支出计划"

    def add(i, severity, message):
        out.append(Finding(pr.sheet, pr.cells.get(cells[i].field, ""), rule, severity, message,
                           target=form.target_of(cells[i].field)))

    if all(v is None for v in values):
        add(0, ERROR, "资金支出计划未填写")
        return out
    prev = None
    for i, v in enumerate(values):
        label = cells[i].title
        if v is None:
            if pr.typed.get(cells[i].field) in (None, ""):   # typed but not a number: said when it was read
                add(i, ERROR, f"“{label}”支出进度为空")
            continue
        if v < 0 or v > 100:
            add(i, ERROR, f"“{label}”支出进度 {format_number(v)}% 超出 0–100")
        if prev is not None and v < prev:
            add(i, ERROR, f"“{label}”支出进度 {format_number(v)}% 小于上一期 {format_number(prev)}%（应为累计进度）")
        prev = v
    last = values[-1]
    if last is not None and abs(last - 100) > 1e-9:
        add(len(values) - 1, ERROR, f"“{cells[-1].title}”累计支出进度应为 100%，实为 {format_number(last)}%")
    return out


def _review_indicators(form: Form, pr: ProjectReturn, indicators=None, target=None, owner=None,
                       year: int | None = None) -> list[Finding]:
    """The indicator rules over the main grid (or over an inline table of indicators: its rows,
    where its findings point, and what to call it in the 缺少一级指标 message)."""
    review = _IndicatorReview(form, pr, target or (lambda i, key: ("grid", i, key)), year)
    for index, ind in enumerate(pr.indicators if indicators is None else indicators):
        review.row(index, ind)
    first = pr.cells.get("goal", "")
    for l1 in form.taxonomy.level1:
        if l1.required and l1.name not in review.seen_blocks:
            review.out.append(Finding(pr.sheet, first, "缺少一级指标", ERROR, f"{owner or owner_of(pr)}没有{l1.name}",
                                      target=review.target(0, "level1")))
    return review.out


class _IndicatorReview:
    """The rules of one grid of indicators, row by row; the 一级 seen, for the blocks that must be there."""

    def __init__(self, form: Form, pr: ProjectReturn, target, year: int | None):
        self.form, self.pr, self.target, self.year = form, pr, target, year
        self.out: list[Finding] = []
        self.params, self.tax = form.review, form.taxonomy
        self.basis_known = {norm_label(b) for b in form.lists.get("basis", [])}
        self.has_basis = next((c.label for c in form.input_columns if c.key == "basis"), "")
        self.max_len = self.params.get("max_name_length", 100)
        self.seen_blocks: set[str] = set()
        self.ops = form.lists.get("ops", [])
        self.placeholders = {norm_label(p) for p in self.params.get("placeholders", [])}

    def row(self, index: int, ind) -> None:
        def add(key, rule, severity, message):
            key = key if key in ind.cells else "num" if "num" in ind.cells else "value"
            self.out.append(Finding(self.pr.sheet, ind.cells.get(key, ""), rule, severity, message,
                                    target=self.target(index, key)))

        where = f"第{ind.row}行“{ind.name or ind.level2 or '（未命名）'}”"
        l1, l2 = self.levels(ind, where, add)
        if not ind.name:
            add("name", "必填项为空", ERROR, f"第{ind.row}行三级指标名称未填写")
        elif len(ind.name) > self.max_len:
            add("name", "指标名称过长", ERROR, f"{where}三级指标名称超过{self.max_len}字")
        if ind.op_cell and self.ops and ind.op_cell not in self.ops:
            add("op", "不在下拉列表内", ERROR, f"{where}符号“{ind.op_cell}”不在下拉列表内（可能是粘贴覆盖了下拉框）")
        self.written(ind, where, add)
        self.meaning(ind, l1, l2, where, add)
        self.value(ind, l1, l2, where, add)
        self.basis(ind, where, add)

    def levels(self, ind, where: str, add):
        """一级 in the taxonomy, 二级 under it (its only 二级 when blank)."""
        tax = self.tax
        l1 = tax.find_level1(ind.level1) if ind.level1 else None
        l2 = None
        if not ind.level1:
            add("level1", "必填项为空", ERROR, f"{where}未选择一级指标")
        elif l1 is None:
            add("level1", "一级指标不在列表内", ERROR, f"{where}一级指标“{ind.level1}”不是{tax.name}中的一级指标")
        else:
            self.seen_blocks.add(l1.name)
        if not ind.level2 and l1 is not None and len(l1.level2) == 1:
            l2 = l1.level2[0]   # its only 二级: a blank cell (or the 一级 merged across both) means it
        elif not ind.level2:
            add("level2", "必填项为空", ERROR, f"{where}未选择二级指标")
        elif l1 is not None:
            l2 = tax.find_level2(l1, ind.level2)
            if l2 is None:
                other = tax.any_level2(ind.level2)
                hint = f"，它属于“{other[0].name}”" if other else ""
                add("level2", "二级指标与一级不符", ERROR, f"{where}二级指标“{ind.level2}”不属于“{l1.name}”{hint}")
        return l1, l2

    def written(self, ind, where: str, add) -> None:
        """How the value is written: Chinese or full-width digits, template leftovers, a date out of the year."""
        v, year = ind.value, self.year
        text = v.raw
        if v.kind is ValueKind.QUAL and chinese_numeral(text):
            add("num", "数字格式", ERROR, f"{where}指标值“{text}”的数字是中文数字，请改写成阿拉伯数字（如“≥20万人次”“3次”）")
        elif not text.isascii() and FULLWIDTH_DIGITS & set(text):
            add("num", "数字格式", WARNING, f"{where}指标值“{text}”用了全角数字，已按“{text.translate(_FULL)}”读取")
        for key, text_ in (("name", ind.name), ("description", ind.description), ("num", text)) \
                if LEFTOVER.search(f"{ind.name}\0{ind.description}\0{text}") else ():   # (most rows: none at all)
            left = leftover(text_)
            if left:
                add(key, "模板占位文字", WARNING if left.startswith(("（", "(")) else ERROR,
                    f"{where}{'指标值' if key == 'num' else '名称' if key == 'name' else '描述'}“{text_}”中有"
                    f"{'空括号' if left.startswith(('（', '(')) else '未替换的模板文字'}“{left}”")
        if v.kind is ValueKind.DATE and v.date and isinstance(year, int):
            y, _m = v.date
            if y < year:
                add("num", "时效目标早于年度", WARNING, f"{where}时效目标“{text}”早于预算年度 {year} 年（是沿用了往年的表？）")
            elif y > year:
                add("num", "时效目标晚于年度", WARNING, f"{where}时效目标“{text}”晚于 {year} 年底，年度目标应在当年内完成")

    def meaning(self, ind, l1, l2, where: str, add) -> None:
        """The value against what the indicator says: a count or a rate, its direction, a cost without a sign."""
        v, tax = ind.value, self.tax
        text = v.raw
        if v.kind is ValueKind.QUANT and v.unit:
            name = ind.name or ""
            has_count, has_rate = _COUNT_RE.search(name) is not None, _RATE_RE.search(name) is not None
            counts, rates = has_count and not has_rate, has_rate and not has_count
            if counts and unit_key(v.unit) == "%":
                add("unit", "单位与指标不符", WARNING, f"{where}是计数（次数、人次、场次……），指标值“{text}”却用了“{v.unit}”")
            elif rates and v.unit in COUNT_UNITS and not (l2 is not None and l2.pct):   # else 应为百分比 says it
                add("unit", "单位与指标不符", WARNING, f"{where}是比率（率、满意度……），指标值“{text}”却用了“{v.unit}”")
        direction = direction_of(ind.extra.get("direction"))
        if direction and v.kind is ValueKind.QUANT and (direction == "reverse" and v.op in ("≥", ">") or
                                                direction == "positive" and v.op in ("≤", "<")):
            add("direction", "方向与符号不一致", WARNING,
                f"{where}指标方向为“{ind.extra.get('direction')}”，指标值“{text}”的符号却是“{v.op}”")
        if v.kind is ValueKind.QUANT and not v.op and not direction and cost_like(
                ind.name, tax.find_level2(l1, ind.level2) if l1 and ind.level2 else None):
            add("op", "成本类指标无符号", WARNING, f"{where}是成本类指标，指标值“{text}”没有写“≤”：自评时会按正向"
                "（越大越好）打分")

    def value(self, ind, l1, l2, where: str, add) -> None:
        """The value by its kind: filled, a target rather than a question, its unit and size, or words."""
        v, params = ind.value, self.params
        text = v.raw
        typed = ind.typed
        sign, unit = clean(typed.get("op")), clean(typed.get("unit"))
        if v.kind is ValueKind.EMPTY:
            add("num", "指标值为占位符", ERROR, f"{where}指标值未填写")
        elif "num" in ind.cells and not clean(typed.get("num")) and (sign not in ("", QUAL_OPTION) or unit):
            # 符号 and 单位 chosen, the number left out: “≥场” is no target (not words to be quantified)
            add("num", "指标值为占位符", ERROR, f"{where}数值未填写（已填{'符号“' + sign + '”' if sign else ''}"
                f"{'、' if sign and unit else ''}{'单位“' + unit + '”' if unit else ''}）")
        elif v.kind is ValueKind.PLACEHOLDER or norm_label(text) in self.placeholders:
            add("num", "指标值为占位符", ERROR, f"{where}指标值“{text}”是占位符，不是目标值")
        elif v.kind is ValueKind.QUESTION:
            add("num", "指标值不是目标值", ERROR, f"{where}指标值“{text}”是一个问句，应写明目标（如“按时完成”“≤预算数”）")
        elif v.kind is ValueKind.QUANT:
            if not v.unit and not (l2 and l2.pct):
                add("unit", "缺少计量单位", WARNING, f"{where}指标值“{text}”没有计量单位")
            if l2 is not None and l2.pct and v.unit and unit_key(v.unit) != "%":   # 百分比 is %
                add("unit", "应为百分比", WARNING, f"{where}是{l2.name}，指标值“{text}”宜用百分比（%）表述")
            if l2 is not None and l2.pct and not v.unit:
                add("unit", "缺少计量单位", WARNING, f"{where}指标值“{text}”缺少“%”")
            if l2 is not None and l2.reverse and v.op in ("≥", ">"):
                add("op", "成本指标无上限", WARNING, f"{where}是成本类指标，“{text}”没有上限，宜用“≤”")
            if unit_key(v.unit) == "%" and v.num is not None and v.num > params.get("over_percent", 100):
                add("num", "百分比超过100", WARNING, f"{where}指标值“{text}”超过100%")
            sat_min = params.get("satisfaction_min")
            if sat_min and l1 is not None and l1.block == "satisfaction" and v.num is not None and v.num < sat_min \
                    and unit_key(v.unit) in ("", "%"):
                add("num", "满意度目标偏低", WARNING, f"{where}满意度目标 {text} 低于 {sat_min}%")
        elif v.kind is ValueKind.QUAL and l1 is not None and l1.block in ("output", "cost"):
            vague = any(w in text for w in params.get("vague_words", VAGUE))
            kind = "成本" if l1.block == "cost" else "产出"
            add("num", "宜量化", WARNING, f"{where}{kind}类指标“{text}”为定性表述{'且较笼统' if vague else ''}，宜细化量化")
        elif v.kind is ValueKind.QUAL and any(w in text for w in params.get("vague_words", VAGUE)):
            add("num", "宜量化", WARNING, f"{where}指标值“{text}”表述笼统，宜细化量化")

    def basis(self, ind, where: str, add) -> None:
        if ind.basis and self.basis_known:
            b = norm_label(ind.basis)
            near = None if b in self.basis_known else next(
                (k for k in self.form.lists["basis"] if _edit1(b, norm_label(k))), None)
            if near:
                add("basis", "疑似错别字", WARNING, f"{where}指标值确定依据“{ind.basis}”疑为“{near}”")
        elif not ind.basis and self.has_basis:
            add("basis", "必填项为空", WARNING, f"{where}未填写{self.has_basis}")
