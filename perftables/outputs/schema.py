"""The summary's schema: its tables by name (the sheets of 汇总.xlsx, the files of a CSV export, the views of
the SQLite export), their ASCII ids, and how a summary is told from a return — one place that the writers
(summary, data) and the readers (read_summary, publish and selfeval from a summary, last year, compare) share."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    """What printed outputs are headed with: the round's title, issuer and date; remarks printed under the title
    (a publication made although units were not through review says so)."""
    title: str = ""
    issuer: str = ""
    date: str = ""
    remarks: tuple = ()


class ColumnKind(StrEnum):
    """What a summary column holds: how the workbook formats it, how the exports type it (CSV's _columns.json,
    SQLite, Parquet), how a printed table aligns and sizes it. Table columns are (header, ColumnKind)."""
    TEXT = "text"
    LONG = "long"                  # long text: wrapped, rows as high as it needs
    INT = "int"                    # a count (summed in 合计)
    INT_PLAIN = "int_plain"        # a whole number that is a label (行号, 年度): never summed
    AMOUNT = "amount"              # money, in the header's unit (summed in 合计, #,##0.00)
    AMOUNT_PLAIN = "amount_plain"  # a figure of two decimals that is not money (进度, 得分)
    PCT = "pct"                    # a share (0.25 → 25.0%)
    NUMBER = "number"              # a number as written (指标的数值)
    TIME = "time"

    @property
    def is_float(self) -> bool:
        return self in (ColumnKind.AMOUNT, ColumnKind.AMOUNT_PLAIN, ColumnKind.NUMBER, ColumnKind.PCT)

    @property
    def is_int(self) -> bool:
        return self in (ColumnKind.INT, ColumnKind.INT_PLAIN)

    @property
    def is_amount(self) -> bool:
        return self in (ColumnKind.AMOUNT, ColumnKind.AMOUNT_PLAIN)

    @property
    def summed(self) -> bool:
        """Added up in a table's 合计 row."""
        return self in (ColumnKind.AMOUNT, ColumnKind.INT)

    @property
    def quantity(self) -> bool:
        """Printed to the right (a quantity, not a label)."""
        return self.is_float or self is ColumnKind.INT


class Sheet(StrEnum):
    """A table of the summary, by the name it is printed under."""
    STATUS = "报送情况"
    FILES = "文件清单"
    UNITS = "单位汇总"
    PROJECTS = "项目汇总"
    INDICATORS = "指标明细"
    STRUCTURE = "指标结构"
    FINDINGS = "审核问题"
    UNIT_GOALS = "整体绩效目标"
    NOTES = "单位备注"
    DEPT_FUNDS = "部门资金"
    DEPT_INDICATORS = "部门指标"
    DEPT_PROJECTS = "部门项目"
    DEPT_GOALS = "部门目标"
    DEPT_STRUCTURE = "部门指标结构"
    SCORES = "自评得分"
    SE_PROJECTS = "自评项目"
    SE_INDICATORS = "自评指标"
    UNIT_SCORES = "单位自评"
    GAPS = "偏差分析"
    GRADES = "等级分布"

    @property
    def id(self) -> str:
        """Its ASCII name: the SQLite export's base table."""
        return TABLE_IDS[self]


TABLE_IDS = {Sheet.STATUS: "status", Sheet.FILES: "files", Sheet.UNITS: "units", Sheet.PROJECTS: "projects",
             Sheet.INDICATORS: "indicators", Sheet.STRUCTURE: "structure", Sheet.FINDINGS: "findings",
             Sheet.UNIT_GOALS: "unit_goals", Sheet.DEPT_FUNDS: "dept_funds", Sheet.DEPT_INDICATORS: "dept_indicators",
             Sheet.DEPT_PROJECTS: "dept_projects", Sheet.DEPT_GOALS: "dept_goals",
             Sheet.DEPT_STRUCTURE: "dept_structure", Sheet.SCORES: "scores", Sheet.SE_PROJECTS: "se_projects", Sheet.SE_INDICATORS: "se_indicators",
             Sheet.UNIT_SCORES: "unit_scores",
             Sheet.GAPS: "gaps", Sheet.GRADES: "grades", Sheet.NOTES: "notes"}


def table_names(path) -> set[str]:
    """The sheets of a workbook, or the tables of a CSV export folder (empty when neither or unreadable)."""
    path = Path(path)
    if path.is_dir():
        return {p.stem for p in path.glob("*.csv")}
    try:
        from python_calamine import CalamineWorkbook
        return set(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:
        return set()


def is_summary(path) -> bool:
    """A target summary collect wrote: the workbook (its 文件清单 and 指标明细; no stamp) or its CSV export."""
    path = Path(path)
    if path.is_dir():
        return (path / f"{Sheet.INDICATORS}.csv").is_file()
    return str(path).endswith(".xlsx") and {Sheet.FILES, Sheet.INDICATORS} <= table_names(path)


def is_dept_summary(path) -> bool:
    """A department table's summary (部门指标 beside 文件清单): it holds no cell-by-cell table to publish."""
    return {Sheet.FILES, Sheet.DEPT_INDICATORS} <= table_names(path)
