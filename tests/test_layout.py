"""forms.layout: what the writer and the reader share about a sheet — the names a label may use, what a locked
cell holds, which rows a grid is pre-filled with."""
from perftables.forms.form import Cell, load_form
from perftables.forms.layout import context, grid_rows, header_context, locked_value

PAYLOAD = {"unit_code": "306001", "unit_name": "北戴河区科协", "year": 2025}


def test_the_names_a_label_may_use():
    assert header_context(2025) == {"year": 2025, "y1": 2024, "y2": 2023}
    assert header_context(None)["y1"] == ""                    # read without a stamp: decided later
    ctx = context(PAYLOAD, {"name": "科普经费", "seq": 2})
    assert (ctx["project_name"], ctx["seq"], ctx["y1"]) == ("科普经费", 2, 2024)
    assert context(PAYLOAD, None)["project_name"] == "新增项目"   # a spare sheet


def test_what_a_locked_cell_holds():
    assert locked_value(Cell(0, 0, label="项目名称"), PAYLOAD, None) == "项目名称"
    assert locked_value(Cell(0, 0, value="{unit_name}（{year}年）"), PAYLOAD, {}) == "北戴河区科协（2025年）"
    roster = Cell(1, 3, field="project_name", source="roster")
    assert locked_value(roster, PAYLOAD, {"name": "科普经费"}) == "科普经费"
    assert locked_value(roster, PAYLOAD, None) is None        # a spare sheet: the unit fills it
    assert locked_value(Cell(1, 3, field="goal"), PAYLOAD, {"goal": "x"}) is None   # the unit's own field


def test_a_grid_is_prefilled_with_the_approved_rows_or_the_unit_s():
    form = load_form("hebei-project")
    rows = grid_rows(form, {"name": "科普经费"}, None)
    assert rows and all("level1" in r for r in rows)          # the standard 一级/二级 seeded
    filled = [{"level1": "产出指标", "level2": "数量指标", "name": "场次"}]
    assert grid_rows(form, {"name": "科普经费"}, filled)[0]["name"] == "场次"
