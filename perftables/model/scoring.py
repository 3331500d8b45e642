"""Self-evaluation scoring (reference §5): the collector's own recomputation of every score.

Pure functions over numbers; the rule parameters (weights, reverse rule, qualitative
bands, grades) come from the form description's [scoring] table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ACHIEVED, PARTIAL, MISSED = "达成年度指标", "部分达成年度指标并具有一定效果", "未达成年度指标且效果较差"
NOT_APPLICABLE = "不适用"
QUAL_OPTIONS = [ACHIEVED, PARTIAL, MISSED]
QUAL_ALIASES = {"达成预期指标": ACHIEVED, "达成": ACHIEVED, "部分达成": PARTIAL, "未达成": MISSED}


@dataclass
class Rules:
    budget_weight: float = 10
    block_weights: dict = field(default_factory=lambda: {"output": 50, "benefit": 30, "satisfaction": 10})
    weights: str = "per_block"          # "per_indicator": each indicator's own 权重, only their sum is fixed
    indicator_total: float | None = None   # that sum (per_indicator); default: the block weights' sum
    reverse_rule: str = "deduct"        # "deduct" (Longtu: 1 − (B−A)/A, 0 from 2A) or "ratio" (A/B)
    bands: dict = field(default_factory=lambda: {ACHIEVED: (0.8, 1.0), PARTIAL: (0.6, 0.8), MISSED: (0.0, 0.6)})
    grades: list = field(default_factory=lambda: [(90, "优"), (80, "良"), (60, "中"), (0, "差")])
    rate_reason_below: float = 0.9      # 执行率 below this needs a reason
    over_completion: float = 1.5        # B above this × A is flagged for the reviewer
    dropped_targets: str = "reweight"   # 调整后指标值 left blank: "reweight" (excluded, the rest rescaled) or "error"
    missing_blocks: dict = field(default_factory=dict)   # block → points it scores when no indicator is in it
    decimals: int = 2                   # scores rounded half up to this many places, as the 评分办法 prints them
    # the words a qualitative actual may be written in → its grade ([scoring] qual_words; the defaults always)
    words: dict = field(default_factory=lambda: dict(QUAL_ALIASES))

    def round(self, x: float) -> float:
        """A score rounded as the form's 评分办法 rounds it (half up, `decimals` places)."""
        return r2(x, self.decimals)

    @property
    def top_grade(self) -> str:
        """The grade whose band reaches the full weight (its upper bound included; the others' excluded)."""
        return max(self.bands, key=lambda g: self.bands[g][1])

    def grade(self, text: str) -> str | None:
        """The grade a qualitative actual states (a grade's name, or a word of the form's), 不适用, or None."""
        text = (text or "").strip()
        if text in self.bands or text == NOT_APPLICABLE:
            return text
        return self.words.get(text)

    @classmethod
    def from_form(cls, params: dict, reverse_rule: str | None = None) -> "Rules":
        rules = cls()
        for key in ("budget_weight", "reverse_rule", "rate_reason_below", "over_completion", "weights",
                    "indicator_total", "dropped_targets", "decimals"):
            if key in params:
                setattr(rules, key, params[key])
        if "block_weights" in params:
            rules.block_weights = dict(params["block_weights"])
        if "missing_blocks" in params:
            rules.missing_blocks = dict(params["missing_blocks"])
        if "grades" in params:
            rules.grades = sorted(((float(v), k) for k, v in params["grades"].items()), reverse=True)
        if "qual_grades" in params:   # a province's own qualitative grades: name → [lower, upper] share of weight
            rules.bands = {name: (float(lo), float(hi)) for name, (lo, hi) in params["qual_grades"].items()}
            rules.words = {w: g for w, g in rules.words.items() if g in rules.bands}
        rules.words.update(params.get("qual_words", {}))
        if reverse_rule:
            rules.reverse_rule = reverse_rule
        return rules


def indicator_weight_total(rules: Rules) -> float:
    """What the indicators' weights add up to: the stated total, else the block weights' sum."""
    return rules.indicator_total if rules.indicator_total is not None else sum(rules.block_weights.values())


def r2(x: float, decimals: int = 2) -> float:
    """Round half up (to 2 decimals unless told), as the official tables print scores."""
    from decimal import ROUND_HALF_UP, Decimal
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def budget_score(budget: float | None, spent: float | None, rules: Rules) -> tuple[float | None, float | None]:
    """(执行率, 得分): score = weight × min(B/A, 1). A = 全年预算数, B = 全年执行数."""
    if not budget or spent is None:
        return None, None
    rate = spent / budget
    return rate, rules.round(rules.budget_weight * min(rate, 1.0))


def quant_score(op: str | None, target: float, actual: float, weight: float, rules: Rules) -> float:
    """正向 (≥ > or no sign), 反向 (≤ <) and 等于 (=) rules of §5.3, rounded to 2 decimals."""
    a, b, w = target, actual, weight
    if op in ("≤", "<"):
        if b <= a:
            return rules.round(w)
        if a <= 0:
            return 0.0
        if rules.reverse_rule == "ratio":
            return rules.round(w * a / b)
        return rules.round(w * (1 - (b - a) / a)) if b < 2 * a else 0.0
    if op == "=" and a == 0:
        return rules.round(w) if b <= 0 else 0.0
    if a <= 0 or b >= a:
        return rules.round(w) if b >= a else 0.0
    return rules.round(w * max(b, 0) / a)


def qual_band(grade: str, weight: float, rules: Rules) -> tuple[float, float]:
    lo, hi = rules.bands[grade]
    return rules.round(weight * lo), rules.round(weight * hi)


def qual_default(grade: str, weight: float, rules: Rules) -> float:
    """The score a qualitative row gets when the unit leaves it blank: the top of its band."""
    lo, hi = qual_band(grade, weight, rules)
    return hi if grade == rules.top_grade else rules.round(hi - 10 ** -rules.decimals)


def normalise_grade(text: str, rules: Rules | None = None) -> str | None:
    """The grade a qualitative actual states, by the form's rules (the default grades without them)."""
    return (rules or Rules()).grade(text)


def grade_of(total: float | None, rules: Rules) -> str:
    if total is None:
        return ""
    for bound, name in rules.grades:
        if total >= bound - 1e-9:
            return name
    return rules.grades[-1][1]


def missing_block_award(blocks_present, rules: Rules) -> tuple[float, float]:
    """(points, weight) of the blocks without any indicator that the rules still score (missing_blocks):
    e.g. 成本指标 set by none of the unit's own indicators scores at most 5 of its 10."""
    points = weight = 0.0
    for block, award in rules.missing_blocks.items():
        if block not in blocks_present and block in rules.block_weights:
            points += award
            weight += rules.block_weights[block]
    return points, weight


def total_score(budget: float | None, rows: list[tuple[float | None, float, bool]], rules: Rules,
                award: tuple[float, float] = (0.0, 0.0)) -> float | None:
    """Σ scores; with 不适用 (or dropped) rows excluded, rescaled to 100 over the applicable weights (§5.5).

    rows: (score, weight, applicable); award: (points, weight) of blocks scored without indicators.
    """
    applicable = [(s, w) for s, w, ok in rows if ok]
    if budget is None and all(s is None for s, _ in applicable):
        return None
    got = (budget or 0) + sum(s or 0 for s, _ in applicable) + award[0]
    possible = rules.budget_weight + sum(w for _, w in applicable) + award[1]
    if len(applicable) == len(rows):
        return rules.round(got)
    return rules.round(got / possible * 100) if possible else None
