"""Feedback workbooks (issue 29): they annotate what the clerk typed and never rewrite it; the row a finding names is
the row of its marked cell; a percentage typed as text is read, not sent back."""
from __future__ import annotations

import re

import openpyxl
import pytest

from conftest import make_workbook
from perftables.cycle.collect import collect
from perftables.outputs.feedback import write_feedback

BLANK = {"level1": "", "level2": "", "name": "", "op": "", "num": "", "unit": "", "basis": ""}
ROWS = [
    {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "op": "约", "num": "90", "unit": "人次", "basis": "年度工作计划"},
    BLANK, BLANK,
    {"level1": "产出指标", "level2": "质量指标", "name": "合格率", "op": "≥", "num": "25%", "unit": "%", "basis": "年度工作计划"},
    {"level1": "产出指标", "level2": "时效指标", "name": "完成时间", "op": "≤", "num": "12月底", "unit": "", "basis": "年度工作计划"},
    BLANK,
    {"level1": "效益指标", "level2": "社会效益指标", "name": "影响", "op": "定性", "num": "显著", "unit": "", "basis": "调查"},
]


@pytest.fixture
def returned(tmp_path, roster):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    fill = {"projects": {"项目1": {"fields": {"goal": "提高全民科学素质", "plan1": "25%", "plan2": "50%", "plan3": "75%",
                                              "plan4": "100%"}, "indicators": ROWS}}}
    (inbox / "a.xlsx").write_bytes(make_workbook(roster.unit("307001"), fill=fill))
    col = collect([inbox], roster=roster, year=2025)
    [feedback] = write_feedback(col, tmp_path / "退改")
    return inbox / "a.xlsx", feedback, col.files[0]


def test_feedback_never_rewrites_what_the_clerk_typed(returned):
    original, feedback, _ = returned
    typed = openpyxl.load_workbook(original)["项目1"]
    back = openpyxl.load_workbook(feedback)["项目1"]
    for r in range(1, typed.max_row + 1):
        assert [c.value for c in back[r]] == [c.value for c in typed[r]], r


def test_the_row_a_finding_names_is_the_row_of_its_cell(returned):
    _, feedback, rec = returned
    ws = openpyxl.load_workbook(feedback)["项目1"]
    named = [f for f in rec.result.findings if f.sheet == "项目1" and re.search(r"第(\d+)行", f.message)]
    assert named                                                    # 约 is not in the list: said with its row
    for f in named:
        row = int(re.search(r"第(\d+)行", f.message)[1])
        comments = [c.comment.text for c in ws[row] if c.comment]
        assert any(f.message in text for text in comments), (row, f.message)


def test_a_percentage_typed_as_text_is_read_not_sent_back(returned):
    _, _, rec = returned
    ret = rec.result
    assert ret.projects[0].plan == [25.0, 50.0, 75.0, 100.0]
    assert not [f for f in ret.findings if f.sheet == "项目1" and ("计划" in f.rule or "合格率" in f.message)]
