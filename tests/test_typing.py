"""Typed as clerks type: every input cell of every shipped form accepts what a clerk types in Excel or WPS.

A clerk types into the cell; Excel and WPS keep a number typed into a Text (@) cell as text, and a stop-style
validation then judges the stored value. These tests store typed values as the applications do
(`dvcheck.stored`) and judge them with the workbook's own validations (`dvcheck.accepts`); the LibreOffice
test types them through Calc's own input handling and asks Calc's validation.
"""
import io
import json
import subprocess
from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLES, FIXED, libreoffice_available, make_workbook
from dvcheck import accepts, evaluate, list_items, stored, validation_of
from perftables.cycle.collect import collect
from perftables.cli.demo import DEPT_YEAR, dept_roster
from perftables.forms.form import load_form, with_templates
from perftables.cycle.generate import Options, actual_number, number_or_na_rule, workbook_bytes
from perftables.model.roster import Project, Unit
from perftables.cycle.selfeval import generate_selfeval
from perftables.core.value import format_number, parse

FORMS = Path(__file__).with_name("forms")   # user forms of other provinces
UNIT = Unit(code="999001", name="测试县科学技术协会", projects=[
    Project(code="999001P001", name="科普活动经费", budget=12.0, fiscal=10.0, other=2.0, use="开展科普活动")])
# what clerks type as a quantitative actual: numbers, the target's own notation, 不适用
ACTUALS = ["85", "0", "12.5", " 85 ", "1,000", "90%", "≥266米", "≥90%", "≥1000人", "２６６", "＞95%", "不适用",
           "-3"]
NOT_ACTUALS = ["及时", "达成年度指标", "约266米"]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Every shipped form's blank workbook as a clerk receives it: form id → bytes."""
    out = tmp_path_factory.mktemp("typing")
    made = {f: make_workbook(UNIT, f) for f in ("hebei-project", "hunan-project", "tangshan-project")}
    made["hubei-dept"] = workbook_bytes(load_form("hubei-dept"), dept_roster().unit("704001"),
                                        Options(year=DEPT_YEAR, created=FIXED))
    targets = collect([EXAMPLES / "returns"]).accepted
    for form_id in ("hebei-selfeval", "sichuan-selfeval"):
        written = generate_selfeval([t for t in targets if t.unit_code == "307001"], out / form_id,
                                    Options(year=2025, created=FIXED), form_id=form_id)
        made[form_id] = written[0][1].read_bytes()
    dept = collect([EXAMPLES / "dept" / "returns"], roster=dept_roster()).accepted
    made["hubei-dept-selfeval"] = generate_selfeval(dept, out / "dept", Options(year=DEPT_YEAR),
                                                    form_id="hubei-dept-selfeval")[0][1].read_bytes()
    with with_templates([FORMS]):   # the user forms of other provinces in tests/forms
        made["shanghai-selfeval"] = generate_selfeval([t for t in targets if t.unit_code == "307001"], out / "sh",
                                                      Options(year=2025, created=FIXED),
                                                      form_id="shanghai-selfeval")[0][1].read_bytes()
        made["hunan-dept"] = workbook_bytes(load_form("hunan-dept"), Unit(code="430001", name="宁乡市科学技术协会"),
                                            Options(year=2025, created=FIXED))
    return made


def input_cells(wb):
    """(sheet, address) of every unlocked cell under a validation that can refuse (stop style)."""
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        for dv in ws.data_validations.dataValidation:
            if dv.type in (None, "any") or not dv.showErrorMessage:
                continue
            for rng in str(dv.sqref).split():
                for row in ws[rng] if ":" in rng else [[ws[rng]]]:
                    for c in row:
                        if not c.protection.locked:
                            yield ws, c


def samples(wb, ws, dv, address):
    """What a clerk may type into a cell under this validation, and what must be refused."""
    if dv.type == "custom":
        assert "不适用" in dv.formula1, dv.formula1   # the only custom validation: a quantitative actual
        return ACTUALS, NOT_ACTUALS
    if dv.type == "list":
        items = list_items(wb, dv.formula1)   # None: 二级 by INDIRECT, which depends on the row's 一级
        return ([str(i) for i in items], ["不在列表中的字"]) if items else ([], [])
    if dv.type == "textLength":
        n = int(float(dv.formula1))
        return ["字" * n, "abc"], ["字" * (n + 1)]
    _, dr, dc = validation_of(ws, address)
    lo = float(evaluate(dv.formula1, lambda ref: ws[ref].value or 0)) if dv.formula1 else 0.0
    hi = float(evaluate(dv.formula2, lambda ref: ws[ref].value or 0)) if dv.formula2 else max(lo, 0) + 1000
    inside = [format_number(lo), format_number((lo + hi) / 2), format_number(hi)]
    if hi >= 1000 and lo <= 1000:
        inside.append("1,000")
    if lo <= 0.25 <= hi:
        inside.append("25%")
    return inside, ["abc", "不适用"] if dv.type == "decimal" and "不适用" not in (dv.prompt or "") else ["abc"]


@pytest.mark.parametrize("form_id", ["hebei-project", "hunan-project", "tangshan-project", "hubei-dept",
                                     "hebei-selfeval", "sichuan-selfeval", "hubei-dept-selfeval",
                                     "shanghai-selfeval", "hunan-dept"])
def test_every_input_cell_accepts_what_a_clerk_types(books, form_id):
    wb = openpyxl.load_workbook(io.BytesIO(books[form_id]))
    checked = 0
    for ws, c in input_cells(wb):
        dv, _, _ = validation_of(ws, c.coordinate)
        good, bad = samples(wb, ws, dv, c.coordinate)
        for typed in good:
            value = stored(typed, c.number_format)
            assert accepts(wb, ws, c.coordinate, value), \
                f"{form_id} {ws.title}!{c.coordinate} ({c.number_format}, {dv.type}) refuses {typed!r} stored as {value!r}"
        for typed in bad:
            assert not accepts(wb, ws, c.coordinate, stored(typed, c.number_format)), \
                f"{form_id} {ws.title}!{c.coordinate} lets {typed!r} stand"
        checked += 1
    assert checked > 0


def test_the_checker_sees_the_text_cell_trap():
    """A number typed into a Text cell is text: the validation that asked for ISNUMBER refused every actual."""
    old = '=OR(ISNUMBER(F13),F13="不适用")'
    assert evaluate(old, lambda ref: stored("85", "@")) is False
    assert evaluate(old, lambda ref: stored("85", "General")) is True
    new = "=" + number_or_na_rule("F13")
    assert all(evaluate(new, lambda ref, t=t: stored(t, "@")) for t in ACTUALS)
    assert not any(evaluate(new, lambda ref, t=t: stored(t, "@")) for t in NOT_ACTUALS)


@pytest.mark.parametrize("typed, unit, number", [("85", None, 85), ("≥266米", "米", 266), ("90%", "%", 90),
                                                 ("1,000人", "人", 1000), ("２６６", None, 266), ("≥ 2 次", "次", 2),
                                                 ("不适用", None, ""), ("及时", None, ""), ("", "次", "")])
def test_a_score_formula_reads_the_number_typed_with_the_targets_notation(typed, unit, number):
    assert evaluate("=" + actual_number("F13", unit), lambda ref: stored(typed, "@")) == number


# --------------------------------------------------------------------------- in a real application

LO_FILL = Path(__file__).with_name("lo_fill.py")


def typed_actuals(ws, first: int, col: str = "F", target_col: str = "E"):
    """Per quantitative row of the grid, an actual in the target's own notation (≥ the target: full score)."""
    out = []
    r = first
    while ws[f"{target_col}{r}"].value not in (None, "") and ws[f"A{r}"].value != "总分":
        v = parse(ws[f"{target_col}{r}"].value)
        if v.kind == "quant":
            num = v.num if v.op in ("≤", "<") else v.num * 1.2
            out.append((f"{col}{r}", ["", "≥", "＞"][r % 3] + format_number(round(num, 2)) + (v.unit or "")))
        r += 1
    return out


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice (soffice + python3-uno) not installed")
def test_actuals_typed_in_libreoffice_are_valid_scored_and_collected(books, tmp_path):
    """Typed through Calc's own input handling into the built-in self-evaluation: numbers and the target's
    notation are kept as typed (text), pass Calc's validation, are scored by the sheet's formulas, and the
    collector's recomputation agrees with what Calc computed; words in a quantitative cell are refused."""
    src = tmp_path / "自评.xlsx"
    src.write_bytes(books["hebei-selfeval"])
    ws = openpyxl.load_workbook(src)["自评1"]
    entries = [["自评1", a, t] for a, t in typed_actuals(ws, 13)]
    entries.append(["自评1", "F13", "85"])        # a plain number typed into the Text cell
    entries.append(["自评1", "F14", "不适用"])
    words = ["自评1", "F13", "及时"]
    report, out = tmp_path / "typed.json", tmp_path / "typed.xlsx"
    job = {"input": str(src), "keyboard": entries + [words], "report": str(report), "recalculate": True,
           "cells": [["自评1", "D6", 12], ["自评1", "E6", 11]], "outputs": {"xlsx": str(out)}}
    (tmp_path / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(LO_FILL), str(tmp_path / "job.json")], check=True, timeout=300)
    typed = json.loads(report.read_text(encoding="utf-8"))
    assert [t["typed"] for t in typed if t["invalid"]] == ["及时"], typed
    assert all(t["stored"] == "text" for t in typed), typed   # kept as typed: 85 is the text "85"
    assert len(typed) >= 6
    # the last word typed stays in F13: put the number back, as the clerk would after the refusal
    job = {"input": str(out), "keyboard": [["自评1", "F13", "85"]], "report": str(report), "recalculate": True,
           "outputs": {"xlsx": str(out)}}
    (tmp_path / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(LO_FILL), str(tmp_path / "job.json")], check=True, timeout=300)
    ret = collect([out]).returns[0]
    pr = ret.projects[0]
    assert not [f for f in ret.findings if f.rule in ("实际完成值不可比", "得分与复核不符")], \
        [(f.cell, f.message) for f in ret.findings]
    ps = ret.scores[pr.sheet]
    scored = [i.extra.get("score") for i in pr.indicators]
    assert [s for s in scored if isinstance(s, float)] == [r.score for r, s in zip(ps.rows, scored)
                                                           if isinstance(s, float)]
    assert pr.figures["total"] == ps.total


def test_actuals_in_the_targets_notation_score_as_their_numbers(tmp_path):
    """The collector reads an actual with the value grammar of the targets: ≥2.4次 scores as 2.4."""
    targets = [t for t in collect([EXAMPLES / "returns"]).accepted if t.unit_code == "307001"]

    def run(actuals, where):
        fills = {"307001": {"projects": {"自评1": {
            "fields": {"budget_total": 12, "spent_total": 11, "achieved": "完成。"},
            "indicators": [{"actual": a, "score": 14 if a == "达成年度指标" else None} for a in actuals]}}}}
        generate_selfeval(targets, tmp_path / where, Options(year=2025), fills=fills)
        ret = collect([tmp_path / where]).returns[0]
        return ret, ret.scores[ret.projects[0].sheet]

    plain, ps_plain = run([3, 85, "不适用", 13, "达成年度指标", "达成年度指标", 95], "plain")
    typed, ps_typed = run(["≥3次", "85%", "不适用", "＞13万元", "达成年度指标", "达成年度指标", "９５"], "typed")
    assert [r.score for r in ps_typed.rows] == [r.score for r in ps_plain.rows]
    assert ps_typed.total == ps_plain.total and ps_typed.total is not None
    assert not [f for f in typed.findings if f.rule == "实际完成值不可比"], [f.message for f in typed.findings]
    wrong, _ = run(["3米", "及时", "不适用", 13, "达成年度指标", "达成年度指标", 95], "wrong")
    assert [f.cell for f in wrong.findings if f.rule == "实际完成值不可比"] == ["F13", "F14"]
