"""Reference §5: the worked example (丰宁 科学技术普及经费 → 92.76, 优) and the rules around it."""
import pytest

from perftables.model.scoring import (ACHIEVED, MISSED, PARTIAL, Rules, budget_score, grade_of, qual_band, qual_default,
                                quant_score, total_score)

RULES = Rules()


def test_worked_example_of_reference_5_6():
    rate, budget = budget_score(12.00, 11.60, RULES)
    assert round(rate, 4) == 0.9667 and budget == 9.67
    rows = [
        quant_score("≥", 2, 3, 12.5, RULES),        # 数量 ≥2 次, 3 次
        quant_score("≥", 90, 85, 12.5, RULES),      # 质量 ≥90%, 85%
        quant_score("≥", 90, 100, 12.5, RULES),     # 时效 ≥90%, 100%
        quant_score("≤", 12, 11.6, 12.5, RULES),    # 成本 ≤12 万元, 11.6
        14.0,                                       # 社会效益: 达成, the unit picks 14 in [12, 15]
        10.0,                                       # 可持续: 部分达成, 10 in [9, 12)
        quant_score("≥", 90, 88, 10, RULES),        # 满意度 ≥90, 88%
    ]
    assert rows == [12.5, 11.81, 12.5, 12.5, 14.0, 10.0, 9.78]
    assert qual_band(ACHIEVED, 15, RULES) == (12, 15) and qual_band(PARTIAL, 15, RULES) == (9, 12)
    total = total_score(budget, [(s, w, True) for s, w in zip(rows, [12.5] * 4 + [15, 15, 10])], RULES)
    assert total == 92.76 and grade_of(total, RULES) == "优"


def test_reverse_rule_variants():
    assert quant_score("≤", 12, 13.2, 12.5, RULES) == 11.25                          # Longtu deduction
    assert quant_score("≤", 12, 13.2, 12.5, Rules(reverse_rule="ratio")) == 11.36    # A/B
    assert quant_score("≤", 12, 24, 12.5, RULES) == 0.0
    assert quant_score("<", 12, 12, 12.5, RULES) == 12.5


@pytest.mark.parametrize("op,a,b,w,score", [
    ("=", 0, 0, 10, 10), ("=", 0, 1, 10, 0), ("=", 4, 3, 10, 7.5), ("=", 4, 5, 10, 10),
    (None, 100, 90, 10, 9), (">", 95, 96, 10, 10), ("≥", 90, 0, 10, 0),
])
def test_quantitative_rules(op, a, b, w, score):
    assert quant_score(op, a, b, w, RULES) == score


def test_budget_capped_and_zero_budget():
    assert budget_score(10, 12, RULES) == (1.2, 10.0)
    assert budget_score(0, 5, RULES) == (None, None)


def test_not_applicable_rows_rescale_the_total():
    # 90 of 100 applicable points: a 20-point row is 不适用 → (8 + 60) / (10 + 70) × 100
    rows = [(60, 70, True), (0, 20, False)]
    assert total_score(8, rows, RULES) == 85.0


def test_qualitative_defaults_and_grades():
    assert qual_default(ACHIEVED, 15, RULES) == 15 and qual_default(PARTIAL, 15, RULES) == 11.99
    assert qual_default(MISSED, 10, RULES) == 5.99
    assert [grade_of(x, RULES) for x in (90, 89.99, 80, 60, 59.99)] == ["优", "良", "良", "中", "差"]


@pytest.mark.parametrize("decimals, want", [(2, 6.67), (1, 6.7), (0, 7.0)])
def test_scores_are_rounded_as_the_forms_rules_say(decimals, want):
    """[scoring] decimals: a province that prints scores to one decimal (or whole points) is recomputed so."""
    from perftables.model.scoring import Rules, quant_score, total_score
    rules = Rules.from_form({"decimals": decimals})
    assert quant_score("≥", 3, 2, 10, rules) == want
    assert total_score(None, [(want, 10, True), (None, 10, False)], rules) == \
        Rules.from_form({"decimals": decimals}).round(want / (10 + 10) * 100)
