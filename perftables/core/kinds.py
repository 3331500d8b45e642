"""Meaning as types: the kinds of forms, the fates of files, the severities of findings, the coordinator's decisions.

Each is a StrEnum whose values are the words the outputs print (and the descriptions write), so a member
compares, hashes, formats and pickles as its text: the CSV and the workbook are unchanged, while the code
asks a member what it means (`kind.is_department`, `fate.accepted`) instead of comparing strings.
"""
from __future__ import annotations

from enum import StrEnum


class FormKind(StrEnum):
    """What an official table is (a form description's `kind`)."""
    PROJECT_TARGET = "project_target"      # 项目支出绩效目标表
    PROJECT_SELFEVAL = "project_selfeval"  # 项目支出绩效自评表
    DEPT_TARGET = "dept_target"            # 部门整体绩效目标表
    DEPT_SELFEVAL = "dept_selfeval"        # 部门整体支出绩效自评表

    @property
    def title(self) -> str:
        """The table's official name."""
        return {"project_target": "项目支出绩效目标表", "project_selfeval": "项目支出绩效自评表",
                "dept_target": "部门整体绩效目标表", "dept_selfeval": "部门整体支出绩效自评表"}[self.value]

    @property
    def is_target(self) -> bool:
        return self in (FormKind.PROJECT_TARGET, FormKind.DEPT_TARGET)

    @property
    def is_selfeval(self) -> bool:
        return self in (FormKind.PROJECT_SELFEVAL, FormKind.DEPT_SELFEVAL)

    @property
    def is_department(self) -> bool:
        return self in (FormKind.DEPT_TARGET, FormKind.DEPT_SELFEVAL)

    @property
    def projects_from_roster(self) -> bool:
        """Its sheets are the roster's projects, one a sheet, pre-filled from last year's approved table
        (carry-last-year) and summarised row by row in the worker that reads it (summary.own_rows)."""
        return self is FormKind.PROJECT_TARGET

    @property
    def takes_department_data(self) -> bool:
        """Its amounts and history come from the department's data (generate --department / --history)."""
        return self is FormKind.DEPT_TARGET


TARGET_KINDS = frozenset(k for k in FormKind if k.is_target)
SELFEVAL_KINDS = frozenset(k for k in FormKind if k.is_selfeval)


class Fate(StrEnum):
    """What became of an input file in a collection (文件清单's 处理结果)."""
    ACCEPTED = "已采用"
    ACCEPTED_FINDINGS = "已采用（有问题）"
    SUPERSEDED = "已被替代"
    REJECTED = "未采用"
    BLANK = "未填写"        # our template came back as it was sent: the unit still has to fill it in
    PENDING = "待确认"      # its stamp names another unit than the one it came from: the coordinator decides
    VOIDED = "已作废"       # the coordinator voided it (perftables void)

    @property
    def accepted(self) -> bool:
        return self in (Fate.ACCEPTED, Fate.ACCEPTED_FINDINGS)


ACCEPTED_FATES = frozenset(f for f in Fate if f.accepted)


class Severity(StrEnum):
    """How much a finding matters (审核问题's 级别)."""
    ERROR = "错误"
    WARNING = "警告"


class Action(StrEnum):
    """What the coordinator can decide about a version (a round's decisions, cycle.state)."""
    VOID = "作废"          # not this unit's return, whatever it says
    ACCEPT = "采用"        # the unit's current return (a 待确认 file confirmed; an older file preferred)
