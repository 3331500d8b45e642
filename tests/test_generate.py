import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import make_workbook
from perftables.forms.form import load_form
from perftables.io.book import read_book
from perftables.io.stamp import read_stamp

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def generated(request):
    from perftables.model.roster import Project, Unit
    unit = Unit(code="999001", name="测试县科学技术协会", projects=[
        Project(code="999001P001", name="科普活动经费", budget=12.0, fiscal=10.0, other=2.0, use="开展科普活动"),
        Project(code="999001P002", name="学会服务经费", budget=5.5, fiscal=5.5, other=0.0, use=""),
    ])
    data = make_workbook(unit, extra_projects=1)
    return unit, data, openpyxl.load_workbook(io.BytesIO(data))


def expected_unlocked(form, project, grid_rows):
    """Input cells of a project sheet, from the form description alone."""
    from perftables.cycle.generate import locked_value
    cells, r = set(), 0
    payload = {"unit_code": "999001", "unit_name": "测试县科学技术协会", "year": 2025}
    for row in form.rows:
        for cell in row.cells:
            if cell.label is None and cell.value is None and locked_value(cell, payload, project) is None:
                cells.add((r + 1, cell.col + 1))
        r += 1
    first = r + form.grid_header_rows
    for i in range(grid_rows):
        for col in form.input_columns:
            cells.add((first + i + 1, col.col + 1))
    return cells


def test_protection_everywhere(generated):
    _, _, wb = generated
    assert wb.security is not None and wb.security.lockStructure
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        # rows and columns stay resizable, rows can be inserted (a project with more indicators than the
        # spare rows); columns cannot, nor can rows be deleted (openpyxl: False = allowed)
        assert ws.protection.formatColumns is False and ws.protection.formatRows is False
        assert ws.protection.insertRows is False and ws.protection.deleteRows is not False
        assert ws.protection.insertColumns is not False
    assert [ws.sheet_state for ws in wb.worksheets[-2:]] == ["veryHidden", "veryHidden"]
    assert wb.active.title == "填报说明"


def test_exactly_the_input_cells_are_unlocked(generated):
    unit, _, wb = generated
    form = load_form("hebei-project")
    seeded = len(form.taxonomy.seed_rows(False))
    grid_rows = seeded + form.grid_blank_rows
    for name, project in [("项目1", dict(unit.projects[0].as_dict(), seq=1)),
                          ("项目2", dict(unit.projects[1].as_dict(), seq=2)), ("新增项目1", None)]:
        ws = wb[name]
        unlocked = {(c.row, c.column) for row in ws.iter_rows() for c in row
                    if not isinstance(c, openpyxl.cell.cell.MergedCell) and c.protection.locked is False}
        assert unlocked == expected_unlocked(form, project, grid_rows), name
    # 项目2 has no 资金用途 in the roster: that cell is the unit's to fill
    assert wb["项目2"]["B5"].protection.locked is False
    assert wb["项目1"]["B5"].protection.locked is True and wb["项目1"]["B5"].value == "开展科普活动"
    # roster amounts are pre-filled and locked
    assert (wb["项目1"]["C4"].value, wb["项目1"]["E4"].value, wb["项目1"]["H4"].value) == (12, 10, 2)
    assert wb["项目1"]["C4"].protection.locked is True


def test_validations_and_dependent_lists_resolve(generated):
    _, _, wb = generated
    ws = wb["项目1"]
    dvs = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    grid = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    by_col = {str(dv.sqref)[0]: dv for dv in grid}
    assert by_col["A"].formula1 == "PT_L1" and by_col["A"].showErrorMessage
    assert by_col["B"].formula1.startswith("INDIRECT(VLOOKUP($A")
    assert by_col["E"].formula1 == "PT_OPS" and by_col["E"].showErrorMessage
    assert by_col["G"].formula1 == "PT_UNITS" and not by_col["G"].showErrorMessage   # free text allowed
    assert by_col["H"].formula1 == "PT_BASIS" and not by_col["H"].showErrorMessage
    assert all(not dv.showDropDown for dv in grid)   # showDropDown=1 would hide the arrow
    # every input cell explains itself
    assert dvs["C11"].prompt and dvs["B7"].prompt and "累计" in dvs["B7"].prompt
    assert dvs["B7"].type == "decimal" and "C4" not in dvs   # C4 is locked roster data
    # resolve the dependent lists the way Excel does: 一级 → PT_MAP → name → range
    lists = wb["_lists"]

    def resolve(name):
        ref = wb.defined_names[name].attr_text
        sheet, rng = ref.split("!")
        assert sheet.strip("'") == "_lists"
        return [c.value for row in lists[rng.replace("$", "")] for c in row]

    tax = load_form("hebei-project").taxonomy
    level1 = resolve("PT_L1")
    assert level1 == [l.name for l in tax.level1]
    mapping = dict(zip(level1, resolve("PT_MAP")[1::2]))
    for l1 in tax.level1:
        assert resolve(mapping[l1.name]) == [l2.name for l2 in l1.level2]
    assert len(",".join(resolve("PT_UNITS"))) > 0


def test_stamp_readable_and_fingerprinted(generated):
    unit, data, wb = generated
    book = read_book(data)
    payload = read_stamp(book.sheets["_stamp"])
    assert (payload["form"], payload["year"], payload["unit_code"]) == ("hebei-project", 2025, "999001")
    assert [p["sheet"] for p in payload["projects"]] == ["项目1", "项目2"]
    assert payload["spares"] == ["新增项目1"]
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["perftables_unit_code"] == "999001" and props["perftables_form"] == "hebei-project"


def test_print_setup(generated):
    _, _, wb = generated
    ws = wb["项目1"]
    assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToHeight == 0 and ws.page_setup.fitToWidth in (None, 1)
    assert ws.print_title_rows == "$9:$10"
    assert "$A$1:$H$" in ws.print_area
    assert ws["A1"].font.name == "宋体"
    assert "A1:H1" in {str(m) for m in ws.merged_cells.ranges}


def test_plan_turns_red_rules(generated):
    _, data, _ = generated
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet3.xml").decode()
    # compared as percentages whether 25 or 0.25 (25% typed) was entered
    assert "IF(AND(N($E$7)&gt;0,N($E$7)&lt;=1),N($E$7)*100,N($E$7))&lt;&gt;100" in xml
    assert "IF(AND(N($C$7)&gt;0,N($C$7)&lt;=1),N($C$7)*100,N($C$7))&lt;IF(AND(N($B$7)&gt;0" in xml
    assert "AND(ISNUMBER($B$7),$B$7&gt;0,$B$7&lt;=1)" in xml          # a fraction shown as a percentage


def test_tangshan_variant_keeps_all_eight_level2(roster):
    unit = roster.unit("405002")
    wb = openpyxl.load_workbook(io.BytesIO(make_workbook(unit, "tangshan-project")))
    ws = wb["项目1"]
    assert ws["A3"].value == "项目资金主要用途" and ws["A4"].value == "资金支出计划(累计进度%)"
    assert [ws.cell(5, c).value for c in range(2, 6)] == [None] * 4
    assert [ws.cell(4, c).value for c in (2, 3, 4, 5)] == ["第一季度", "第二季度", "第三季度", "第四季度"]
    level2 = [ws.cell(r, 2).value for r in range(9, 18)]
    assert level2 == ["数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标",
                      "生态效益指标", "可持续影响指标", "服务对象满意度指标"]
    assert ws.cell(13, 1).value == "效果指标"


def test_mof2021_taxonomy_selectable(small_unit):
    form = load_form("hebei-project").with_taxonomy("mof2021")
    from perftables.cycle.generate import Options, workbook_bytes
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(form, small_unit, Options(year=2025))))
    assert wb["项目1"]["A11"].value == "成本指标"


def test_file_names_are_safe(tmp_path, small_unit):
    from perftables.cycle.generate import Options, generate
    from perftables.model.roster import Roster
    small_unit.name = '测试/县:科协*"?'
    written = generate(Roster([small_unit]), tmp_path, Options(year=2025))
    assert written[0][1].name == "999001_测试_县_科协____2025年绩效目标表.xlsx"
    assert (tmp_path / "发送清单.csv").read_text(encoding="utf-8-sig").count("\n") == 2


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet3.xml", "xl/sharedStrings.xml"])
def test_golden_xml(generated, part):
    """Layout regressions show here first; refresh with PERFTABLES_UPDATE_GOLDEN=1."""
    _, data, _ = generated
    body = zipfile.ZipFile(io.BytesIO(data)).read(part).decode("utf-8").replace("><", ">\n<")
    golden = GOLDEN / (part.replace("/", "__"))
    if os.environ.get("PERFTABLES_UPDATE_GOLDEN"):
        golden.write_text(body, encoding="utf-8")
    assert body == golden.read_text(encoding="utf-8"), f"{part} changed; if intended: PERFTABLES_UPDATE_GOLDEN=1 pytest"


def test_the_unit_line_spans_the_page(generated):
    """The unit's name stands on its own line across the sheet: a long name is not cut by column A."""
    _, _, wb = generated
    ws = wb["部门整体绩效目标"]
    assert ws["A2"].value == "填报单位：测试县科学技术协会"
    assert "A2:B2" in {str(r) for r in ws.merged_cells.ranges}
