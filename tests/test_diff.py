"""cycle.diff: a version's snapshot (every input cell as typed) and what changed between two versions."""
from conftest import EXAMPLES
from perftables.cycle.collect import collect
from perftables.cycle.diff import Change, changes, snapshot


def test_a_snapshot_holds_every_input_cell_as_typed():
    ret = collect([EXAMPLES / "returns" / next(p.name for p in (EXAMPLES / "returns").iterdir()
                                                if p.name.startswith("307001"))]).returns[0]
    snap = snapshot(ret)
    pr = ret.projects[0]
    ref = f"{pr.sheet}!{pr.indicators[0].cells['name']}"
    assert snap[ref][1] == pr.indicators[0].name and "·" in snap[ref][0]     # what the cell is: 指标·三级指标
    assert all(isinstance(v, list) and len(v) == 2 for v in snap.values())


def test_changes_are_new_cleared_or_changed_in_sheet_and_row_order():
    before = {"项目1!F12": ["数值", "85"], "项目1!B5": ["项目名称", "甲 乙"], "项目2!C9": ["备注", "旧"]}
    after = {"项目1!F12": ["数值", "90"], "项目1!B5": ["项目名称", "甲\n乙"], "项目2!C9": ["备注", ""],
             "项目1!F13": ["数值", "3"]}
    got = changes(before, after)
    assert got == [Change("项目1", "F12", "数值", "85", "90"), Change("项目1", "F13", "数值", "", "3"),
                   Change("项目2", "C9", "备注", "旧", "")]
    assert [c.kind for c in got] == ["修改", "新填", "清空"]          # 甲 乙 / 甲⏎乙: a run of white space is one
    assert changes(before, before) == []
