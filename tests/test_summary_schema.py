"""outputs.schema: the summary's tables are named once; a summary (workbook or CSV export) is told from a return
in the library, not in the command line."""
import pytest

from conftest import EXAMPLES, run
from perftables.cycle.collect import collect
from perftables.outputs.schema import TABLE_IDS, Sheet, is_dept_summary, is_summary
from perftables.outputs.summary import build_tables


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema")
    assert run("collect", EXAMPLES / "returns", "-o", out / "汇总.xlsx", "--export", out / "导出", "--no-cache").exit_code == 0
    assert run("collect", EXAMPLES / "dept" / "returns", "-o", out / "部门" / "汇总.xlsx", "--no-cache").exit_code == 0
    return out


def test_every_table_the_summary_writes_is_in_the_schema():
    names = {t.name for t in build_tables(collect([EXAMPLES / "returns"]))}
    assert names and names <= set(Sheet)
    assert set(TABLE_IDS) == set(Sheet) and Sheet.INDICATORS.id == "indicators"


def test_a_summary_is_told_from_a_return(written):
    assert is_summary(written / "汇总.xlsx") and is_summary(written / "导出")
    assert is_dept_summary(written / "部门" / "汇总.xlsx") and not is_dept_summary(written / "汇总.xlsx")
    a_return = next((EXAMPLES / "returns").glob("*.xlsx"))
    assert not is_summary(a_return) and not is_summary(EXAMPLES / "returns") and not is_dept_summary(a_return)


def test_a_column_kind_is_a_member_and_a_mistyped_one_is_refused():
    import pytest
    from perftables.outputs.schema import ColumnKind
    from perftables.outputs.summary import Table
    t = Table("单位汇总", [("单位编码", "text"), ("预算数（万元）", "amount"), ("项目数", "int"), ("行号", "int_plain")],
              [["001", 1.5, 2, 7], ["002", 2.0, 3, 8]], total=True)
    assert [k for _, k in t.columns] == [ColumnKind.TEXT, ColumnKind.AMOUNT, ColumnKind.INT, ColumnKind.INT_PLAIN]
    assert t.sum_columns == [1, 2] and t.total_row() == ["合计", 3.5, 5, None]   # 行号 is a label: never summed
    with pytest.raises(ValueError):
        Table("单位汇总", [("单位编码", "txet")])
    assert {k for k in ColumnKind if k.is_float} == {ColumnKind.AMOUNT, ColumnKind.AMOUNT_PLAIN, ColumnKind.NUMBER,
                                                     ColumnKind.PCT}
