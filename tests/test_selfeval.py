"""Self-evaluation: generated from the approved targets, locked where approved, scored by the rules."""
import io

import openpyxl
import pytest

from conftest import EXAMPLES, FIXED, patch_zip
from perftables.cycle.collect import collect
from perftables.cli.demo import WORKED_EXAMPLE
from perftables.cycle.generate import Options
from perftables.io.book import read_book
from perftables.cycle.selfeval import generate_selfeval
from perftables.io.stamp import fingerprint, read_stamp


@pytest.fixture(scope="module")
def targets(roster):
    return collect([EXAMPLES / "returns"], roster=roster).accepted


@pytest.fixture(scope="module")
def fengning(targets, tmp_path_factory):
    out = tmp_path_factory.mktemp("se")
    rec = next(t for t in targets if t.unit_code == "307001")
    [(unit, path)] = generate_selfeval([rec], out, Options(year=2025, created=FIXED))
    return rec, path


def test_prefilled_from_the_approved_target_and_linked(fengning):
    rec, path = fengning
    data = path.read_bytes()
    payload = read_stamp(read_book(data).sheets["_stamp"])
    assert payload["kind"] == "project_selfeval"
    assert payload["links"]["target_fingerprint"] == fingerprint(rec.payload)
    assert payload["links"]["target_file_sha256"] == rec.sha256
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["自评1"]
    assert ws["B3"].value == "科学技术普及经费" and ws["B3"].protection.locked
    assert ws["C6"].value == 12 and ws["C6"].protection.locked          # 年初预算数 from the target
    assert ws["D6"].protection.locked is False                          # 全年预算数: the unit fills it
    assert ws["B11"].value.startswith("1.开展丰富多彩") and ws["B11"].protection.locked
    # the grid: approved rows locked, exactly as approved; 分值 pre-split per block
    grid = [[ws.cell(r, c).value for c in range(2, 8)] for r in range(13, 20)]
    assert [row[3] for row in grid] == ["≥2 次", "≥90%", "≥90%", "≤12 万元", "显著提升", "长期", "≥90"]
    assert [row[5] for row in grid] == [12.5, 12.5, 12.5, 12.5, 15, 15, 10]
    assert all(ws.cell(r, c).protection.locked for r in range(13, 20) for c in (2, 3, 4, 5))
    assert not any(ws.cell(r, c).protection.locked for r in range(13, 20) for c in (6, 7, 9))
    # 得分: a formula on quantitative rows (rule by sign), an input within the band on qualitative rows
    assert ws["H13"].value.startswith("=IF(") and ws["H16"].value.count("2*12") == 1   # 反向 (deduct)
    assert ws["H17"].protection.locked is False and ws["H17"].data_type != "f"
    assert ws["H20"].value.startswith("=IF(") and "优" in ws["I20"].value and ws["A20"].value == "总分"
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert dvs["F17"].type == "list" and dvs["F17"].formula1 == "PT_QUAL"
    assert dvs["F13"].type == "custom" and "不适用" in dvs["F13"].formula1


def test_worked_example_recomputed_through_the_workbook(targets, tmp_path):
    rec = next(t for t in targets if t.unit_code == "307001")
    generate_selfeval([rec], tmp_path, Options(year=2025), fills={"307001": {"projects": {"自评1": WORKED_EXAMPLE}}})
    ret = collect([tmp_path]).returns[0]
    ps = ret.scores["自评1"]
    assert ps.budget_score == 9.67
    assert [r.score for r in ps.rows] == [12.5, 11.81, 12.5, 12.5, 14.0, 10.0, 9.78]
    assert (ps.total, ps.grade) == (92.76, "优")
    assert not [f for f in ret.findings if f.sheet == "自评1"]


def test_reverse_rule_is_selectable(targets, tmp_path):
    from perftables.forms.form import load_form
    form = load_form("hebei-selfeval")
    rec = next(t for t in targets if t.unit_code == "307001")
    fill = {"fields": dict(WORKED_EXAMPLE["fields"]), "indicators": [dict(r) for r in WORKED_EXAMPLE["indicators"]]}
    fill["indicators"][3] = {"actual": 13.2, "reason": "物价上涨"}
    generate_selfeval([rec], tmp_path, Options(year=2025), fills={"307001": {"projects": {"自评1": fill}}})
    ret = collect([tmp_path]).returns[0]
    assert ret.scores["自评1"].rows[3].score == 11.25
    from perftables.model.scoring import Rules
    from perftables.review.selfeval import score_project
    ps, _ = score_project(form, ret.projects[0], ret.payload["projects"][0]["indicators"],
                          Rules.from_form(form.scoring, reverse_rule="ratio"))
    assert ps.rows[3].score == 11.36


def test_review_findings(targets, tmp_path):
    rec = next(t for t in targets if t.unit_code == "307001")
    rows = [dict(r) for r in WORKED_EXAMPLE["indicators"]]
    rows[1] = {"actual": 85}                                        # short, no reason
    rows[4] = {"actual": "部分达成年度指标并具有一定效果", "score": 14, "reason": "x"}   # above its band
    rows[6] = {"actual": "88人", "weight": 12, "reason": "x"}         # unit mismatch; 满意度 block sums to 12
    rows[0] = {"actual": "三次"}                                      # text where a number is due
    fill = {"fields": {"budget_total": 12.0, "spent_total": 9.0}, "indicators": rows}   # 75 %, no explanation
    generate_selfeval([rec], tmp_path, Options(year=2025), fills={"307001": {"projects": {"自评1": fill}}})
    ret = collect([tmp_path]).returns[0]
    got = {(f.cell, f.rule) for f in ret.findings if f.sheet == "自评1"}
    assert ("I14", "缺少偏差原因") in got
    assert ("H17", "得分超出等级区间") in got
    assert ("F19", "实际完成值不可比") in got and ("F13", "实际完成值不可比") in got
    assert any(rule == "分值合计不符" for _, rule in got)
    assert ("F11", "执行率偏低未说明") in got


def test_approved_indicator_altered_is_detected(fengning, tmp_path):
    _, path = fengning
    data = patch_zip(path.read_bytes(), "xl/sharedStrings.xml", "<t>≤12 万元</t>".encode(), "<t>≤20 万元</t>".encode())
    (tmp_path / "a.xlsx").write_bytes(data)
    ret = collect([tmp_path / "a.xlsx"]).returns[0]
    assert any(f.rule == "批复指标被改动" and f.cell == "E16" and "≤20 万元" in f.message for f in ret.findings)


def test_demo_selfeval_examples(roster):
    col = collect([EXAMPLES / "selfeval_returns"], roster=roster)
    assert len(col.accepted) == 4 and col.kind == "project_selfeval"
    fn = next(r for r in col.returns if r.unit_code == "307001")
    assert (fn.scores["自评1"].total, fn.scores["自评1"].grade) == (92.76, "优")
    from perftables.outputs.summary import build_tables
    names = [t.name for t in build_tables(col)]
    assert names == ["报送情况", "文件清单", "单位自评", "自评得分", "自评项目", "自评指标", "偏差分析", "等级分布", "审核问题"]


def test_cli_from_the_tidy_export_with_an_execution_roster(tmp_path):
    from click.testing import CliRunner

    from perftables.cli.main import cli
    runner = CliRunner()
    r = runner.invoke(cli, ["collect", str(EXAMPLES / "returns"), "-o", str(tmp_path / "s.xlsx"),
                            "--export", str(tmp_path / "export")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    (tmp_path / "exec.csv").write_text(
        "项目编码,全年预算数,全年执行数,当年财政拨款全年执行数,主管部门\n"
        "13082625P002088100059,12,11.6,11.6,丰宁满族自治县科学技术协会\n", encoding="utf-8")
    for source in (str(tmp_path / "export"), str(EXAMPLES / "returns")):
        out = tmp_path / ("from-export" if "export" in source else "from-returns")
        r = runner.invoke(cli, ["selfeval", source, "-o", str(out), "--year", "2025", "--execution",
                                str(tmp_path / "exec.csv")], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert "共 4 个单位的自评表" in r.output
    a = openpyxl.load_workbook(next((tmp_path / "from-export").glob("307001_*.xlsx")))["自评1"]
    b = openpyxl.load_workbook(next((tmp_path / "from-returns").glob("307001_*.xlsx")))["自评1"]
    for addr in ("B3", "B4", "C6", "D6", "E6", "E7", "B11", "E13", "E16", "D19", "G19"):
        assert a[addr].value == b[addr].value, addr
    assert (a["D6"].value, a["E6"].value, a["E7"].value) == (12, 11.6, 11.6)
    assert a["D6"].protection.locked and a["D7"].protection.locked is False


def test_feedback_for_a_selfeval_keeps_the_units_entries(targets, tmp_path):
    from perftables.outputs.feedback import write_feedback
    rec = next(t for t in targets if t.unit_code == "307001")
    rows = [dict(r) for r in WORKED_EXAMPLE["indicators"]]
    rows[1] = {"actual": 85}                                       # short, no reason: a finding
    fill = {"fields": dict(WORKED_EXAMPLE["fields"]), "indicators": rows}
    generate_selfeval([rec], tmp_path / "in", Options(year=2025), fills={"307001": {"projects": {"自评1": fill}}})
    col = collect([tmp_path / "in"])
    [path] = write_feedback(col, tmp_path / "fb")
    again = collect([path]).returns[0]
    first = col.returns[0]
    assert [i.extra["actual"] for i in again.projects[0].indicators] == \
        [i.extra["actual"] for i in first.projects[0].indicators]
    assert again.projects[0].values["spent_total"] == 11.6
    assert again.scores["自评1"].total == first.scores["自评1"].total
    ws = openpyxl.load_workbook(path)["自评1"]
    assert "偏差原因" in ws["I14"].comment.text
