import pytest
import xlsxwriter

from perftables.model.roster import RosterError, read_roster

HEADER = "单位编码,单位名称,项目编码,项目名称,预算数,财政资金,其他资金,资金用途,联系人,联系电话,邮箱\n"


def write(tmp_path, text, encoding="utf-8", name="r.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_encodings(tmp_path, encoding):
    r = read_roster(write(tmp_path, HEADER + "001,测试科协,P1,科普经费,10,8,2,科普,王,1,a@b.cn\n", encoding))
    u = r.units[0]
    assert (u.code, u.name, u.email) == ("001", "测试科协", "a@b.cn")   # "001" stays text
    assert (u.projects[0].budget, u.projects[0].fiscal, u.projects[0].other) == (10, 8, 2)


def test_english_aliases_and_unit_without_projects(tmp_path):
    text = "unit_code,unit_name,project_code,project_name,budget\n002,甲单位,,,\n003,乙单位,P9,项目,5\n"
    r = read_roster(write(tmp_path, text))
    assert [len(u.projects) for u in r.units] == [0, 1]
    assert r.units[1].projects[0].fiscal == 5 and r.units[1].projects[0].other == 0


def test_errors_name_row_and_column(tmp_path):
    text = HEADER + ("001,测试科协,P1,科普经费,10,8,1,,,,\n"
                     "001,测试科协,P1,重复项目,5,5,0,,,,\n"
                     "001,测试科协,P2,金额错,abc,,,,,,\n"
                     "002,,P3,无名单位,1,1,0,,,,\n")
    with pytest.raises(RosterError) as exc:
        read_roster(write(tmp_path, text))
    problems = exc.value.problems
    assert any("第2行" in p and "“预算数”列" in p and "≠" in p for p in problems)
    assert any("第3行" in p and "“项目编码”列" in p and "重复" in p for p in problems)
    assert any("第4行" in p and "“预算数”列" in p and "不是数字" in p for p in problems)
    assert any("第5行" in p and "“单位名称”列" in p for p in problems)
    assert len(problems) == 4


def test_xlsx_roster_keeps_codes_as_text(tmp_path):
    p = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["单位编码", "单位名称", "项目编码", "项目名称", "预算数"])
    ws.write_row(1, 0, ["007", "测试科协", "P1", "科普", 3.5])
    ws.write_row(2, 0, [8, "数字编码单位", None, None, None])
    wb.close()
    r = read_roster(p)
    assert [u.code for u in r.units] == ["007", "8"]
    assert r.units[0].projects[0].budget == 3.5


def test_example_roster_figures(roster):
    budgets = {u.code: (len(u.projects), u.budget) for u in roster.units}
    assert budgets == {"306001": (4, 20.48), "405002": (4, 3208.40), "731002": (7, 408.00),
                       "307001": (2, 22.00), "306002": (0, 0)}
