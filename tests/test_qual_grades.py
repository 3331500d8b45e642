"""A province's qualitative words and grades are a file (issue 27, item 3): the 定性 dropdown's own words (及时,
显著提升) scored by the grade they stand for, a province's own grades and bands, and a word that would be
refused at collection refused by the checker first."""
import pytest

from conftest import EXAMPLES
from perftables.cycle.collect import collect
from perftables.cycle.generate import Options
from perftables.cycle.selfeval import generate_selfeval
from perftables.forms.check import DEFAULT_GRADES, DEFAULT_WORDS
from perftables.forms.form import FormError, load_form, with_templates
from perftables.model.scoring import QUAL_ALIASES, QUAL_OPTIONS, Rules

WORDS = '''extends = "hebei-selfeval"

[form]
id = "county-selfeval"
name = "县里的自评表"
version = "1.0"

[lists]
qual = ["及时", "显著提升", "部分达成", "未达成", "不适用"]

[scoring]
qual_words = { "及时" = "达成年度指标", "显著提升" = "达成年度指标" }
'''


@pytest.fixture(scope="module")
def targets():
    return [t for t in collect([EXAMPLES / "returns"]).accepted if t.unit_code == "307001"]


def selfeval_with(tmp_path, targets, description: str, actuals: dict):
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    folder = tmp_path / "forms"
    folder.mkdir(exist_ok=True)
    (folder / "county-selfeval.toml").write_text(description, encoding="utf-8")
    with with_templates([folder]):
        fills = {"307001": {"projects": {"自评1": {
            "fields": {"budget_total": 12, "spent_total": 12, "achieved": "完成。"},
            "indicators": [actuals.get(i, {"actual": 100}) for i in range(7)]}}}}
        generate_selfeval(targets, out, Options(year=2025), form_id="county-selfeval", fills=fills)
        ret = collect([out]).returns[0]
    return ret, ret.scores[ret.projects[0].sheet]


def test_the_forms_own_words_are_scored_by_their_grade(tmp_path, targets):
    # rows 4 and 5 of 丰宁's first project are qualitative (显著提升, 长期), weight 15 each
    ret, ps = selfeval_with(tmp_path, targets, WORDS, {4: {"actual": "显著提升", "score": 15},
                                                       5: {"actual": "及时", "score": 13}})
    assert not [f for f in ret.findings if f.rule in ("实际完成值不可比", "得分超出等级区间")], \
        [(f.rule, f.message) for f in ret.findings]
    assert [r.grade for r in ps.rows[4:6]] == ["达成年度指标", "达成年度指标"] and ps.rows[4].score == 15


def test_a_provinces_own_grades_and_bands(tmp_path, targets):
    text = WORDS.replace('qual = ["及时", "显著提升", "部分达成", "未达成", "不适用"]', 'qual = ["好", "较好", "差", "不适用"]')
    text = text.replace('qual_words = { "及时" = "达成年度指标", "显著提升" = "达成年度指标" }',
                        'qual_grades = { "好" = [0.9, 1.0], "较好" = [0.7, 0.9], "差" = [0.0, 0.7] }')
    ret, ps = selfeval_with(tmp_path, targets, text, {4: {"actual": "较好", "score": 12}, 5: {"actual": "好"}})
    assert ps.rows[4].score == 12 and ps.rows[5].score == 15           # 好 left blank: the top of its band
    bad = [f.message for f in ret.findings if f.rule == "得分超出等级区间"]
    assert not bad
    ret, _ = selfeval_with(tmp_path, targets, text, {4: {"actual": "较好", "score": 14}})   # above 0.9 × 15
    assert [f.cell for f in ret.findings if f.rule == "得分超出等级区间"] == ["H17"]
    ret, _ = selfeval_with(tmp_path, targets, text, {4: {"actual": "达成年度指标", "score": 15}})   # not this form's
    assert [f.message for f in ret.findings if f.rule == "实际完成值不可比"][0].endswith("应为好/较好/差之一，实为“达成年度指标”")


def test_a_word_the_collector_would_not_understand_is_refused_by_the_checker(tmp_path):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "county-selfeval.toml").write_text(WORDS.replace(', "显著提升" = "达成年度指标"', ""), encoding="utf-8")
    with with_templates([folder]), pytest.raises(FormError, match="lists.qual.*显著提升.*qual_words"):
        load_form("county-selfeval")
    (folder / "county-selfeval.toml").write_text(WORDS.replace('"及时" = "达成年度指标"', '"及时" = "满分"'),
                                                 encoding="utf-8")
    with with_templates([folder]), pytest.raises(FormError, match="“满分”不是本表的等级"):
        load_form("county-selfeval")


def test_the_checkers_defaults_are_the_scorers():
    assert list(DEFAULT_GRADES) == QUAL_OPTIONS and set(DEFAULT_WORDS) == set(QUAL_ALIASES)
    assert Rules().top_grade == "达成年度指标" and Rules().grade("部分达成") == "部分达成年度指标并具有一定效果"

