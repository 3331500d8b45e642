"""Layouts of other provinces, described as files only (templates/), each with its example returns: they
generate, collect, review and score like the packaged Hebei forms, every value back exactly.

sichuan-selfeval: 预算执行情况 10 分 with 财政资金 / 财政专户管理资金 / 单位资金 / 其他资金, the approved value in
three cells (指标性质 / 指标值 / 度量单位), 完成值 / 权重 / 得分 / 未完成原因分析 (reference S6)."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLES, make_workbook
from perftables.cycle.collect import collect
from perftables.cycle.generate import Options
from perftables.cycle.selfeval import generate_selfeval

SICHUAN = EXAMPLES / "sichuan" / "selfeval_returns"


def scores(folder) -> dict:
    return {(rec.unit_code, sheet): ps.total for rec in collect([folder]).accepted
            for sheet, ps in rec.result.scores.items()}


def test_sichuan_examples_score_as_the_national_form():
    """The same entries in the Sichuan layout and in the 财预〔2020〕10号 layout: the same scores (the worked
    example of reference §5.6, 92.76, among them), the same findings."""
    here, there = scores(SICHUAN), scores(EXAMPLES / "selfeval_returns")
    assert here == there and here[("307001", "自评1")] == 92.76
    col = collect([SICHUAN])
    findings = [(f.rule, f.message) for rec in col.accepted for f in rec.result.findings]
    assert findings == [("成本类指标无符号", "第17行“年运营成本”是成本类指标，批复的指标值“625.87万元”没有符号，"
                                            "按正向规则（越大越好）打分；如应越小越好，下年度的目标请写明“≤”")]


VALUES = [  # (approved 指标值 as the unit wrote it, the three cells the self-evaluation shows)
    ("≥95%", ("≥", "95", "%")),
    ("≤3天", ("≤", "3", "天")),
    ("=100百分比", ("=", "100", "百分比")),
    ("≧90%", (None, "≧90%", None)),                    # written otherwise than the sign: printed whole
    ("11月30日前≧95%", (None, "11月30日前≧95%", None)),
    ("显著提升", ("定性", "显著提升", None)),
]


@pytest.fixture
def sichuan_books(tmp_path, small_unit):
    rows = [{"level1": "产出指标", "level2": "数量指标", "name": f"指标{i}", "num": raw, "basis": "年度工作计划"}
            for i, (raw, _) in enumerate(VALUES)]
    rows.append({"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "满意度", "num": "≥90%",
                 "basis": "年度工作计划"})
    fill = {"projects": {"项目1": {"fields": {"goal": "1.开展科普活动"}, "indicators": rows}}}
    (tmp_path / "t.xlsx").write_bytes(make_workbook(small_unit, fill=fill))
    targets = [r for r in collect([tmp_path / "t.xlsx"]).accepted]
    assert targets

    def fills(unit, form):
        return {"projects": {"自评1": {"fields": {"budget_total": 12, "spent_total": 9, "achieved": "完成。",
                                                  "conclusion": "基本完成。"},
                                       "indicators": [{"actual": 85}, {"actual": 4}, {"actual": 100}, {"actual": 81},
                                                      {"actual": 95}, {"actual": "达成年度指标", "score": 5},
                                                      {"actual": 92}]}}}
    [(unit, path)] = generate_selfeval(targets, tmp_path / "自评", Options(year=2025), form_id="sichuan-selfeval",
                                       fills=fills)
    return path


def test_the_approved_value_in_its_three_locked_cells(sichuan_books):
    ws = openpyxl.load_workbook(sichuan_books)["自评1"]
    head = next(r for r in range(1, 40) if ws.cell(r, 5).value == "指标性质")
    assert [ws.cell(head, c).value for c in range(2, 12)] == [
        "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分", "未完成原因分析"]
    for i, (raw, cells) in enumerate(VALUES):
        got = tuple(ws.cell(head + 1 + i, c).value for c in (5, 6, 7))
        assert got == cells, raw
        assert all(ws.cell(head + 1 + i, c).protection.locked for c in (5, 6, 7))
        assert not ws.cell(head + 1 + i, 8).protection.locked          # 完成值 is the unit's
    assert ws.protection.sheet


def test_sichuan_scores_and_messages_in_its_own_words(sichuan_books):
    [rec] = collect([sichuan_books]).accepted
    ret = rec.result
    rows = ret.scores["自评1"].rows
    w = [r.weight for r in rows]
    # 85 of ≥95 %: in proportion; 4 of ≤3 天: deducted; ≧90 % read as ≥ 90; 11月30日前≧95 % scored on 95
    assert [r.score for r in rows[:5]] == [round(w[0] * 85 / 95, 2), round(w[1] * (1 - 1 / 3), 2), w[2],
                                           round(w[3] * 81 / 90, 2), w[4]]
    messages = {f.cell: f.message for f in ret.findings}
    assert any("须在“原因”中说明原因" in m for m in messages.values())           # 9 of 12: 75 %
    short = [m for m in messages.values() if "须填写" in m]
    assert short and all("低于权重" in m and "未完成原因分析" in m for m in short)
    assert not any("分值" in m or "实际完成值" in m or "偏差原因" in m for m in messages.values()), messages


def test_a_changed_approved_cell_is_found_where_it_was_changed(sichuan_books):
    from perftables.io.extract import extract
    from perftables.forms.form import load_form
    from perftables.io.book import read_book
    from perftables.review.dispatch import review
    from perftables.io.stamp import read_stamp
    book = read_book(Path(sichuan_books).read_bytes())
    rows = book.sheets["自评1"]
    head = next(r for r, row in enumerate(rows) if len(row) > 4 and row[4] == "指标性质")
    rows[head + 1][5] = "80"                      # 指标值 95 → 80: an easier target
    ret = extract(book, load_form("sichuan-selfeval"), read_stamp(book.sheets["_stamp"]))
    found = [f for f in review(ret) if f.rule == "批复指标被改动"]
    assert [(f.cell, f.message) for f in found] == [
        (f"F{head + 2}", "第{}行“指标0”的指标值被改动：批复为“≥95%”，实为“≥80%”".format(head + 2))]


# ------------------------------------------------------------------------- 湖南 88号式申报表 (hunan-project)

HUNAN = EXAMPLES / "hunan"


def test_hunan_example_comes_back_exactly():
    """Every value the clerk entered — the key/value header, the amounts and their sums, the schedule,
    长期 and 年度 indicators (满意度 merged over 二级), the form's own 备注 column — read back as entered."""
    import json

    from perftables.model.roster import read_roster
    record = json.loads((HUNAN / "回执内容.json").read_text(encoding="utf-8"))
    col = collect([HUNAN / "returns"], roster=read_roster(HUNAN / "名单.csv"))
    [rec] = col.accepted
    ret = rec.result
    want = record["units"]["430124"]["projects"]
    assert [p.sheet for p in ret.projects] == list(want)
    for p in ret.projects:
        w = want[p.sheet]
        for key, value in w["fields"].items():
            got = p.values.get(key)
            assert (got if not isinstance(value, (int, float)) else float(got)) == value, (p.sheet, key)
        assert [{k: r[k] for k in ("content", "start", "finish")} for r in p.tables["schedule"]] == \
            w["tables"]["schedule"]
        assert [(i.level1, i.level2, i.name, i.value.render()) for i in p.tables.get("long_term", [])] == \
            [(r["level1"], r["level2"], r["name"], r["value"]) for r in w["tables"].get("long_term", [])]
        assert [(i.level1, i.level2, i.name, i.value.render(), i.extra.get("note") or "") for i in p.indicators] == \
            [(r["level1"], r["level2"], r["name"], r["value"], r.get("note", "")) for r in w["indicators"]]
    # nothing but one honest warning: no 二级 missing, no 依据 asked for, the sums hold
    assert [(f.rule, f.message) for f in ret.findings] == [
        ("宜量化", "第33行“乡村振兴示范效应”指标值“显著提升”表述笼统，宜细化量化")]


def test_hunan_summary_speaks_the_forms_words(tmp_path):
    from perftables.model.roster import read_roster
    from perftables.outputs.summary import build_tables
    col = collect([HUNAN / "returns"], roster=read_roster(HUNAN / "名单.csv"))
    tables = {t.name: t for t in build_tables(col)}
    head = [c[0] for c in tables["项目汇总"].columns]
    assert {"总额（万元）", "财政拨款（万元）", "上级财政资金（万元）", "本级财政（万元）", "自有资金（万元）", "其他（万元）",
            "项目属性", "项目起止时间", "主管部门", "项目概况", "项目立项的依据", "长期目标", "年度目标"} <= set(head)
    assert not {"累计支出进度1（%）", "财政资金（万元）", "资金用途", "预算数（万元）"} & set(head)
    rows = [dict(zip(head, r)) for r in tables["项目汇总"].rows]
    assert [(r["总额（万元）"], r["上级财政资金（万元）"], r["本级财政（万元）"]) for r in rows] == \
        [(10606.7522, 6923.3552, 0), (500, 300, 200)]
    detail = [c[0] for c in tables["指标明细"].columns]
    assert detail[-1] == "备注" and tables["指标明细"].rows[0][-1] == "集镇主街"


def test_hunan_sums_are_checked_in_its_words(tmp_path):
    import json

    from perftables.forms.form import load_form
    from perftables.cycle.generate import Options, workbook_bytes
    from perftables.model.roster import read_roster
    record = json.loads((HUNAN / "回执内容.json").read_text(encoding="utf-8"))
    fill = record["units"]["430124"]
    fill["projects"]["项目2"]["fields"].update(upper=300, local=150, own=5)
    unit = read_roster(HUNAN / "名单.csv").unit("430124")
    (tmp_path / "a.xlsx").write_bytes(workbook_bytes(load_form("hunan-project"), unit, Options(year=2021), fill))
    ret = collect([tmp_path / "a.xlsx"]).returns[0]
    found = {(f.sheet, f.rule, f.message) for f in ret.findings}
    assert ("项目2", "总额与分项不符", "总额 500 ≠ 财政拨款 500 + 自有资金 5 + 其他 0") in found
    assert ("项目2", "财政拨款与分项不符", "财政拨款 500 ≠ 上级财政资金 300 + 本级财政 150") in found


@pytest.mark.slow
@pytest.mark.libreoffice
def test_hunan_return_resaved_by_libreoffice_in_three_formats(tmp_path):
    """The clerk opens the Hunan return in LibreOffice, corrects two cells and saves it as xlsx, xls and ods:
    all three read back the same, equal to the original but for the two corrections."""
    import json
    import subprocess

    from conftest import libreoffice_available
    from perftables.io.extract import extract
    from perftables.forms.form import load_form
    from perftables.io.book import read_book
    from perftables.io.stamp import read_stamp
    if not libreoffice_available():
        pytest.skip("LibreOffice (soffice + python3-uno) not installed")
    [original] = (HUNAN / "returns").glob("*.xlsx")
    form = load_form("hunan-project")

    def read(path):
        book = read_book(Path(path).read_bytes())
        return extract(book, form, read_stamp(book.sheets["_stamp"]))
    before = read(original)
    p2 = before.projects[1]
    typed = [["项目2", p2.cells["own"], 5], ["项目2", p2.indicators[1].cells["note"], "以县环境监测站数据为准"]]
    outputs = {fmt: str(tmp_path / f"return.{fmt}") for fmt in ("xlsx", "xls", "ods")}
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"input": str(original), "cells": typed, "outputs": outputs}, ensure_ascii=False),
                   encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_fill.py")), str(job)], check=True, timeout=300)

    def view(ret):
        return [(p.sheet, {k: v for k, v in p.values.items()},
                 [(r["content"], r["start"], r["finish"]) for r in p.tables["schedule"]],
                 [(i.level1, i.level2, i.name, i.value.render()) for i in p.tables.get("long_term", [])],
                 [(i.level1, i.level2, i.name, i.value.render(), i.extra.get("note") or "") for i in p.indicators])
                for p in ret.projects]
    got = [view(read(path)) for path in outputs.values()]
    assert got[0] == got[1] == got[2]
    want = view(before)
    want[1][1]["own"] = 5.0
    want[1][4][1] = want[1][4][1][:4] + ("以县环境监测站数据为准",)
    assert got[0] == want


PER_INDICATOR = '''extends = "sichuan-selfeval"
[form]
id = "per-indicator"
name = "自评表（权重按指标）"
version = "1.0"
[scoring]
weights = "per_indicator"
indicator_total = 90
'''


def test_weights_carried_per_indicator(tmp_path, sichuan_books):
    """Regional rule as a parameter: each indicator carries its own 权重 and only their sum (90) is fixed —
    no block sums; the defaults share 90 over all rows."""
    from perftables.forms.form import with_templates
    folder = tmp_path / "表式"
    folder.mkdir()
    (folder / "per-indicator.toml").write_text(PER_INDICATOR, encoding="utf-8")
    [target] = collect([Path(sichuan_books).parent.parent / "t.xlsx"]).accepted

    def fills(weights):
        def fill(unit, form):
            rows = [{"actual": a, "weight": w} for a, w in zip([95, 3, 100, 90, 95, "达成年度指标", 92], weights)]
            rows[5]["score"] = weights[5]
            return {"projects": {"自评1": {"fields": {"budget_total": 12, "spent_total": 12, "achieved": "完成。",
                                                      "conclusion": "完成。"}, "indicators": rows}}}
        return fill
    with with_templates([folder]):
        [(_, path)] = generate_selfeval([target], tmp_path / "a", Options(year=2025), form_id="per-indicator")
        defaults = [r["weight"] for r in collect([path]).files[0].payload["projects"][0]["indicators"]]
        assert sum(defaults) == pytest.approx(90) and len(set(defaults[:-1])) == 1     # 90 shared by the rows
        uneven = [30, 20, 10, 5, 5, 10, 10]                                           # blocks 70/10/10: allowed
        [(_, path)] = generate_selfeval([target], tmp_path / "b", Options(year=2025), form_id="per-indicator",
                                        fills=fills(uneven))
        found = [(f.rule, f.message) for f in collect([path]).accepted[0].result.findings if f.sheet == "自评1"]
        assert not [f for f in found if f[0] == "分值合计不符"], found
        [(_, path)] = generate_selfeval([target], tmp_path / "c", Options(year=2025), form_id="per-indicator",
                                        fills=fills([30, 20, 10, 5, 5, 10, 5]))
        found = [(f.rule, f.message) for f in collect([path]).accepted[0].result.findings if f.sheet == "自评1"]
        assert ("分值合计不符", "各指标权重合计 85，应为 90") in found


# ------------------------------------------------------------------------- 年初 / 调整后指标值, 成本指标 not set

FORMS = Path(__file__).with_name("forms")


def adjusted_books(tmp_path, sichuan_books, entries):
    """The Sichuan target (7 approved rows, no 成本指标) self-evaluated in tests/forms/adjusted-selfeval.toml."""
    from perftables.forms.form import with_templates
    [target] = collect([Path(sichuan_books).parent.parent / "t.xlsx"]).accepted

    def fill(unit, form):
        return {"projects": {"自评1": {"fields": {"budget_total": 12, "spent_total": 12, "achieved": "完成。",
                                                  "conclusion": "完成。"}, "indicators": entries}}}
    with with_templates([FORMS]):
        [(_, path)] = generate_selfeval([target], tmp_path / "adj", Options(year=2025), form_id="adjusted-selfeval",
                                        fills=fill)
        [rec] = collect([path]).accepted
        return path, rec.result


ADJUSTED_ENTRIES = [  # 产出 40 over rows 0–5, 满意度 10 on row 6 (the target has no 效益 row and no 成本 row)
    {"adjusted": 90, "actual": 85, "weight": 8, "reason": "天气"},    # ≥95% adjusted to 90: 85 of 90
    {"actual": 3, "weight": 8},                                          # ≤3天 as approved
    {"adjusted": "", "weight": 8},                                       # =100百分比 dropped mid-year
    {"actual": 90, "weight": 8},
    {"actual": 95, "weight": 4},
    {"actual": "达成年度指标", "score": 4, "weight": 4},
    {"actual": 92, "weight": 10},
]


def test_adjusted_targets_and_dropped_rows_are_scored_by_the_descriptions_rules(tmp_path, sichuan_books):
    """调整后指标值 pre-filled with the approved number and editable: a changed value is scored against and
    flagged; a cleared one drops the row (no score, the rest rescaled) with a notice; the block the unit set no
    indicator in (成本指标) scores the description's 5 of its 10 points."""
    path, ret = adjusted_books(tmp_path, sichuan_books, ADJUSTED_ENTRIES)
    ws = openpyxl.load_workbook(path)["自评1"]
    head = next(r for r in range(1, 40) if ws.cell(r, 7).value == "调整后指标值")
    assert ws.cell(head, 5).value == "年初指标值" and ws.cell(head + 1, 5).value == "≥95%"
    assert not ws.cell(head + 1, 7).protection.locked and ws.cell(head + 1, 5).protection.locked
    assert f"G{head + 1}" in ws.cell(head + 1, 10).value                  # the score formula reads 调整后指标值
    ps = ret.scores["自评1"]
    assert [r.score for r in ps.rows] == [round(8 * 85 / 90, 2), 8, None, 8, 4, 4, 10]
    assert [r.applicable for r in ps.rows] == [True, True, False, True, True, True, True]
    # (执行 10 + 7.56 + 8 + 8 + 4 + 4 + 10 + 成本 5) / (10 + 产出 40 − 8 dropped + 满意度 10 + 成本 10) × 100
    assert ps.total == round((10 + round(8 * 85 / 90, 2) + 8 + 8 + 4 + 4 + 10 + 5) / 62 * 100, 2) == 91.23
    found = {(f.rule, f.cell): f.message for f in ret.findings if f.sheet == "自评1"}
    assert found[("指标值已调整", f"G{head + 1}")].startswith("第{}行“指标0”的调整后指标值由 95 调整为 90".format(head + 1))
    assert "视为年中取消" in found[("指标年中取消", f"G{head + 3}")]
    assert found[("未设置该类指标", "")] == "未设置成本指标（10分），按 5 分计"
    assert not [k for k in found if k[0] in ("必填项为空", "分值合计不符", "缺少偏差原因")], found


def test_a_cleared_adjusted_target_is_an_error_where_the_description_says_so(tmp_path, sichuan_books):
    from perftables.forms.form import with_templates
    folder = tmp_path / "表式"
    folder.mkdir()
    (folder / "strict.toml").write_text('extends = "adjusted-selfeval"\n[form]\nid = "strict"\nname = "严格"\n'
                                        'version = "1"\n[scoring]\ndropped_targets = "error"\n', encoding="utf-8")
    [target] = collect([Path(sichuan_books).parent.parent / "t.xlsx"]).accepted
    fill = {"projects": {"自评1": {"fields": {}, "indicators": ADJUSTED_ENTRIES}}}
    with with_templates([folder, FORMS]):
        [(_, path)] = generate_selfeval([target], tmp_path / "s", Options(year=2025), form_id="strict",
                                        fills=lambda unit, form: fill)
        ret = collect([path]).accepted[0].result
    assert [f.message for f in ret.findings if f.rule == "必填项为空" and "调整后指标值" in f.message] == [
        "第{}行“指标2”未填调整后指标值".format(ret.projects[0].indicators[2].row)]


# ------------------------------------------------------------------------- 权重 and 指标方向性 in a target table

WEIGHTED = [  # (level1, level2, name, op, num, unit, 权重, 指标方向性)
    ("产出指标", "数量指标", "举办讲座次数", "≥", "12", "次", 30, "正向指标"),
    ("产出指标", "成本指标", "讲座成本", "", "12", "万元", 20, "反向指标"),     # no sign: the direction says ≤
    ("产出指标", "质量指标", "听众到课率", "≤", "90", "%", 20, "正向指标"),     # the sign contradicts the direction
    ("效益指标", "社会效益指标", "公众科学素质提升", "定性", "显著提升", "", 20, "正向指标"),
    ("满意度指标", "服务对象满意度指标", "听众满意度", "≥", "90", "%", 5, "正向指标"),
]


def test_weights_and_directions_declared_in_a_target_table(tmp_path, small_unit):
    """A target table carrying each indicator's 权重 and 指标方向性 (tests/forms/weighted-project.toml): the
    weights must add up to the description's weight_total, a sign against the direction is flagged, and the
    self-evaluation scores an unsigned 反向 target by the reverse rule."""
    from perftables.forms.form import with_templates
    keys = ("level1", "level2", "name", "op", "num", "unit", "weight", "direction")
    rows = [dict(zip(keys, r)) for r in WEIGHTED]
    fill = {"projects": {"项目1": {"fields": {"goal": "1.开展科普讲座"}, "indicators": rows}}}
    with with_templates([FORMS]):
        (tmp_path / "t.xlsx").write_bytes(make_workbook(small_unit, "weighted-project", fill=fill))
        [rec] = collect([tmp_path / "t.xlsx"]).accepted
        ret = rec.result
        found = {(f.rule, f.message) for f in ret.findings if f.sheet == "项目1"}
        assert ("权重合计不符", "项目“科普活动经费”各指标权重合计 95，应为 100") in found
        assert any(r == "方向与符号不一致" and "听众到课率" in m and "正向指标" in m for r, m in found)
        assert not any(r == "成本类指标无符号" for r, _ in found)           # its direction says ≤
        assert [i.extra["direction"] for i in ret.projects[0].indicators] == [r[7] for r in WEIGHTED]

        def fills(unit, form):
            actual = [{"actual": 12}, {"actual": 13.2}, {"actual": 95}, {"actual": "达成年度指标", "score": 30},
                      {"actual": 92}]
            return {"projects": {"自评1": {"fields": {"budget_total": 12, "spent_total": 12, "achieved": "完成。",
                                                      "conclusion": "完成。"}, "indicators": actual}}}
        [(_, path)] = generate_selfeval([rec], tmp_path / "自评", Options(year=2025), form_id="hebei-selfeval",
                                        fills=fills)
        [se] = collect([path]).accepted
        rows_ = se.result.scores["自评1"].rows
    w = rows_[1].weight
    assert rows_[1].score == round(w * (1 - 1.2 / 12), 2)          # 13.2 against ≤12: the deduct rule
