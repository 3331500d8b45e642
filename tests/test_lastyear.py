"""generate --from: last year's tables as this year's start — goals and indicator rows as editable
suggestions for the projects that continue, new projects empty, dropped projects reported."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import run, EXAMPLES
from perftables.cycle.collect import BLANK, collect
from perftables.model.roster import read_roster


@pytest.fixture(scope="module")
def this_year(tmp_path_factory):
    """2026's roster: 丰宁 goes on with 科学技术普及经费 (its code changed), drops 老科协经费, adds a project."""
    folder = tmp_path_factory.mktemp("roster")
    rows = list(csv.reader((EXAMPLES / "roster.csv").open(encoding="utf-8-sig")))
    head, body = rows[0], rows[1:]
    out = []
    for r in body:
        if r[0] == "307001":
            if r[3] == "老科协经费":
                continue
            r = list(r)
            r[2] = "13082626P002088100001"                         # a new code, the same name
        out.append(r)
    out.append(["307001", body[[r[0] for r in body].index("307001")][1], "13082626P002088100002", "青少年科技创新大赛",
                "5.00", "5.00", "0", "比赛组织", "", "", "", "hebei-project", ""])
    path = folder / "名单2026.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([head, *out])
    return path


def generated(tmp_path, roster, source):
    out = tmp_path / "2026"
    r = run("generate", roster, "-o", out, "--year", 2026, "--from", source)
    assert r.exit_code == 0, r.output
    return out, r.output


def test_continuing_projects_start_from_last_years_goal_and_indicators(tmp_path, this_year, roster):
    out, said = generated(tmp_path, this_year, EXAMPLES / "returns")
    last = {r.unit_code: r for r in collect([EXAMPLES / "returns"], roster=roster).returns}
    [book] = out.glob("307001_*.xlsx")
    ws = openpyxl.load_workbook(book)["项目1"]
    goal = next(ws.cell(r, 2) for r in range(1, 20) if ws.cell(r, 1).value == "绩效目标")
    assert goal.value == last["307001"].projects[0].goal and not goal.protection.locked      # a suggestion
    head = next(r for r in range(1, 30) if ws.cell(r, 1).value == "一级指标")
    names = [ws.cell(r, 3).value for r in range(head + 2, head + 2 + 7)]
    assert names == [i.name for i in last["307001"].projects[0].indicators]
    assert not ws.cell(head + 2, 3).protection.locked and not ws.cell(head + 2, 6).protection.locked
    new = openpyxl.load_workbook(book)["项目2"]                                                 # the new project
    assert next(new.cell(r, 2) for r in range(1, 20) if new.cell(r, 1).value == "绩效目标").value is None
    report = list(csv.reader((out / "去年对照.csv").open(encoding="utf-8-sig")))
    mine = {(r[2], r[5]) for r in report[1:] if r[0] == "307001"}
    assert mine == {("13082626P002088100001", "沿用"), ("13082626P002088100002", "新项目"),
                    ("13082625P00208910005Y", "去年有、今年名单中没有")}
    assert "去年有、今年名单中没有：1 个" in said and "老科协经费" in said


def test_an_untouched_template_is_still_a_blank_one(tmp_path, this_year, roster):
    """Suggestions are not the unit's entries: sent back untouched it is 未填写, and generate may overwrite it;
    one changed cell makes it a return, read with the suggestions as they stand."""
    out, _ = generated(tmp_path, this_year, EXAMPLES / "returns")
    ros = read_roster(this_year)
    col = collect([out], roster=ros)
    assert {f.fate for f in col.files if f.display.endswith(".xlsx")} == {BLANK}
    r = run("generate", this_year, "-o", out, "--year", 2026, "--from", EXAMPLES / "returns", "--overwrite")
    assert r.exit_code == 0, r.output
    [book] = out.glob("306001_*.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["项目1"]
    head = next(r for r in range(1, 30) if ws.cell(r, 1).value == "一级指标")
    ws.cell(head + 2, 6).value = "≥95%"
    changed = tmp_path / "回执.xlsx"
    wb.save(changed)
    [ret] = collect([changed], roster=ros).returns
    last = next(r for r in collect([EXAMPLES / "returns"], roster=roster).returns if r.unit_code == "306001")
    assert [i.value.render() for i in ret.projects[0].indicators] == \
        ["≥95%"] + [i.value.render() for i in last.projects[0].indicators[1:]]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["summary", "export", "published"])
def test_last_year_from_its_summary_export_or_published_documents(tmp_path, this_year, roster, kind):
    """The same suggestions whether last year is its inbox, its summary workbook, its CSV export or the
    documents it published for 预算公开 (Word)."""
    from perftables.outputs.publish import publish
    from perftables.outputs.summary import build_tables, write_csv, write_xlsx
    col = collect([EXAMPLES / "returns"], roster=roster)
    if kind == "summary":
        source = tmp_path / "2025汇总.xlsx"
        write_xlsx(build_tables(col), source)
    elif kind == "export":
        source = tmp_path / "导出"
        write_csv(build_tables(col), source)
    else:
        publish(col, tmp_path / "公开", pdf=False)
        source = tmp_path / "公开文本"
        source.mkdir()
        for p in (tmp_path / "公开").glob("*.docx"):
            if "部门预算绩效文本" in p.name:
                shutil.copy(p, source / p.name)
    a, _ = generated(tmp_path / "a", this_year, EXAMPLES / "returns")
    b, _ = generated(tmp_path / "b", this_year, source)

    def suggestions(folder):
        out = {}
        for book in sorted(Path(folder).glob("*.xlsx")):
            wb = openpyxl.load_workbook(book)
            for ws in wb.worksheets:
                if ws.title.startswith("项目"):
                    out[(book.name, ws.title)] = [[c.value for c in row] for row in ws.iter_rows(max_col=8)]
        return out
    assert suggestions(a) == suggestions(b)
    assert (a / "去年对照.csv").read_bytes() == (b / "去年对照.csv").read_bytes()


def test_from_nothing_usable_is_a_message(tmp_path, this_year):
    (tmp_path / "空").mkdir()
    r = run("generate", this_year, "-o", tmp_path / "o", "--year", 2026, "--from", tmp_path / "空")
    assert r.exit_code == 2 and "没有找到往年的绩效目标表" in r.output and not (tmp_path / "o").exists()


def test_last_years_returns_attach_to_the_projects_that_go_on(this_year):
    """outputs.lastyear as a library: a unit's latest accepted return of an earlier year, matched to this year's
    projects by code, else by name; a new project stays blank, a dropped one is counted."""
    from perftables.cycle.generate import form_for_unit
    from perftables.outputs.lastyear import attach, last_year_returns
    last = last_year_returns([EXAMPLES / "returns"], 2026)
    assert set(last) == {"306001", "307001", "405002", "731002"}
    roster = read_roster(this_year)
    carried = attach(roster, last, lambda unit: form_for_unit(unit, None))
    fengning = roster.unit("307001")
    by_name = {p.name: p for p in fengning.projects}
    assert by_name["科学技术普及经费"].extra["indicators"]           # its code changed: matched by name
    assert "indicators" not in by_name["青少年科技创新大赛"].extra      # new: blank, for the unit to fill
    assert carried.carried >= 1 and carried.new >= 1 and carried.dropped >= 1
    from perftables.outputs.lastyear import LastYearError
    with pytest.raises(LastYearError, match="没有找到往年"):              # nothing of a year before 2025
        last_year_returns([EXAMPLES / "returns"], 2025)
