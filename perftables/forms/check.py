"""The form-description language, checked: every key against its schema, every reference resolved.

A description file is checked when it loads (and by `perftables forms --check FILE…`). A mistake is a
Chinese message naming the file, the line and the key — an unknown key with a "did you mean",
a missing required key, a value of the wrong type, a column beyond the form's columns, two rows with
the same anchor, a list, field, anchor, formula or taxonomy that does not exist — never a description
that silently loses what a clerk types.

The schema below is the language: the manual's form-language page (docs/forms.md) describes the same keys.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.cells import col_index, norm_label
from ..core.kinds import FormKind
from ..core.resources import ID_RE

KINDS = tuple(FormKind)
CELL_TYPES = ("text", "longtext", "amount", "plan")
SOURCES_CELL = ("unit", "roster")
SOURCES_COLUMN = ("unit", "roster", "target", "history")
VALIDATES = ("number", "number_or_na", "score_band")
BUILTIN_LISTS = ("level1", "level2")
STYLES = ("title", "plain", "plain_right", "label", "locked", "input", "note")
# names a label or value template may use ({year}, {y1}…) and what a file name may use
VALUE_NAMES = {"unit_code", "unit_name", "year", "y1", "y2", "seq", "project_name"}
GUIDE_NAMES = {"year", "deadline", "contact", "unit_name", "unit_code", "y1", "y2"}

S, I, N, B, ANY = "str", "int", "num", "bool", "any"
# the default qualitative grades of a self-evaluation (model.scoring) and the words taken for them
DEFAULT_GRADES = ("达成年度指标", "部分达成年度指标并具有一定效果", "未达成年度指标且效果较差")
DEFAULT_WORDS = ("达成预期指标", "达成", "部分达成", "未达成")
# what the roster gives a project (model.roster: its columns, as a project record holds them): on a target form,
# a field that says source = "roster" is pre-filled from one of these, or from nothing at all
ROSTER_PROJECT_FIELDS = ("project_code", "project_name", "budget", "fiscal", "other", "use", "category",
                         "total_budget")
# roles only a self-evaluation's cells have (their meaning comes from the approved table or the execution data)
SELFEVAL_ROLES = ("achieved", "department", "implementer", "start_total", "budget_total", "spent_total",
                  "budget_score", "total")

# What perftables does with a field or a column: its role. A describer names fields freely and says what
# each one is with `role = "…"`; a field named like a role without saying so has that role (the packaged
# forms are written so). docs/forms.md lists the same roles with the same words.
CELL_ROLES = {
    "project_code": "项目编码：识别项目（与名单核对）",
    "project_name": "项目名称",
    "budget": "预算数（万元）：汇总的预算、单位合计",
    "fiscal": "财政资金（万元）",
    "other": "其他资金（万元）",
    "use": "资金用途：审核其中写的金额与预算数是否一致",
    "goal": "绩效目标：退改、公开、下一年的自评表（预期目标）都用它",
    "achieved": "实际完成情况（自评表）：执行率偏低时默认在这里说明原因",
    "department": "主管部门（自评表，由目标表预填）",
    "implementer": "实施单位（自评表，由目标表预填）",
    "start_total": "年初预算数总额（自评表）", "budget_total": "全年（调整后）预算数总额（自评表）：执行率的分母",
    "spent_total": "全年执行数总额（自评表）：执行率的分子",
    "budget_score": "预算执行得分（自评表，公式；收集时重算核对）", "total": "总分（自评表，公式；收集时重算核对）",
    **{f"{base}{suffix}": f"{text}（部门整体表{'，' + year if year != '当年' else ''}）：收支合计审核、部门资金汇总"
       for base, text in (("income_fiscal", "财政拨款收入"), ("income_special", "财政专户管理资金收入"),
                          ("income_unit", "单位资金收入"), ("income_total", "收入合计"),
                          ("exp_staff", "人员类项目支出"), ("exp_operation", "运转类项目支出"),
                          ("exp_project", "特定目标类项目支出：与项目清单合计核对"), ("exp_total", "支出合计"))
       for suffix, year in (("", "当年"), ("_y1", "上年"), ("_y2", "前年"))},
    "functions": "部门职能概述（部门整体表）", "tasks": "年度工作任务（部门整体表）",
    "long_goals": "长期目标（部门整体表）",
    "annual_goals": "年度目标（部门整体表）：部门整体自评表的预期目标取自它",
    "filler": "填报人（部门整体表，部门整体自评表由它预填）", "phone": "联系电话（部门整体表，部门整体自评表由它预填）",
}
# a department table's own: never on a project table (where nothing would use them)
DEPT_ROLES = tuple(k for k in CELL_ROLES if k.startswith(("income_", "exp_")) or k in (
    "functions", "tasks", "long_goals", "annual_goals"))
COLUMN_ROLES = {
    "level1": "一级指标", "level2": "二级指标", "name": "三级指标（指标名称）", "description": "指标描述",
    "op": "符号（计算符号、指标性质）", "num": "数值（指标值）", "unit": "计量单位（度量单位）",
    "value": "指标值（符号、数值、单位写在一格）", "basis": "指标值确定依据",
    "target": "年度指标值（自评表，取自批复并锁定）", "actual": "实际完成值（完成值）", "weight": "分值（权重）",
    "score": "得分", "reason": "偏差原因（未完成原因分析）", "hist1": "上年指标值", "hist2": "前年指标值",
    "category": "指标分类",
    "adjusted": "调整后指标值（自评表：预填批复的数值，可改；留空表示该指标年中取消）",
    "direction": "指标方向性（正向/反向）：与符号核对；没有符号的定量指标自评时按它定正向或反向",
}


def _texts(node):
    """Every label and prompt of a description, as printed."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("label", "prompt", "title", "anchor") and isinstance(value, str):
                yield key, value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def T(fields: dict, required=(), free=None) -> tuple:
    """A table: its keys and their specs, which of them are required, and the spec of any other key."""
    return ("table", fields, set(required), free)


def L(item) -> tuple:
    return ("list", item)


def E(*values) -> tuple:
    return ("enum", values)


AT = "at"   # a column ("B") or a range ("D:H")

CELL = T({"at": AT, "rows": I, "label": S, "value": S, "field": S, "role": E(*CELL_ROLES), "source": E(*SOURCES_CELL),
          "type": E(*CELL_TYPES),
          "required": B, "prompt": S, "style": S, "format": S, "title": S, "formula": S, "approved": S},
         required=["at"])
PLAN = T({"labels": L(S), "at": L(AT), "format": S, "prompt": S}, required=["labels", "at"])
ROW = T({"anchor": S, "height": N, "cells": L(CELL), "plan": PLAN, "table": S})
VARIANT = T({"list": S, "validate": E(*VALIDATES), "prompt": S, "formula": S})
COLUMN = T({"at": AT, "key": S, "role": E(*COLUMN_ROLES), "label": S, "list": S, "strict": B, "prompt": S,
            "source": E(*SOURCES_COLUMN),
            "validate": E(*VALIDATES), "quant": VARIANT, "qual": VARIANT, "joined": B}, required=["at", "label"])
COLUMN[1]["parts"] = L(COLUMN)
GRID = T({"anchor": S, "blank_rows": I, "columns": L(COLUMN), "end_anchor": S, "side": ANY,
          "formulas": T({}, free=S), "kind": S, "seed": ANY, "rows_from": S}, required=["anchor", "columns"])
SCHEMA = T({
    "form": T({"id": S, "name": S, "kind": E(*KINDS), "selfeval": S, "version": (S, N), "taxonomy": S,
               "file_name": S, "sheet_name": S, "spare_sheet_name": S, "extra_projects": I, "columns": L(N),
               "font": S, "seed_all_level2": B, "project_category": S, "money": E("万元", "元", "千元")},
              required=["id", "name", "kind", "version", "taxonomy", "file_name", "sheet_name", "columns"]),
    "lists": T({}, free=L(S)),
    "guide": T({"name": S, "title": S, "lines": L(S), "legend": L(L(S))}),
    "unit_sheet": T({"name": S, "title": S, "unit_line": S, "rows": L(T({"anchor": S, "field": S, "height": N, "prompt": S,
                                                         "source": S}, required=["anchor", "field"]))}),
    "sheet": T({"rows": L(ROW), "grid": GRID, "footer": L(ROW), "tables": T({}, free=GRID)},
               required=["rows", "grid"]),
    "review": T({"amount_tolerance": N, "required_text": L(S), "placeholders": L(S), "question_prefix": S,
                 "max_name_length": I, "over_percent": N, "satisfaction_min": N, "vague_words": L(S),
                 "required_grids": L(S), "score_tolerance": N, "share_tolerance": N, "amount_in_text": ANY,
                 "sums": L(T({"total": S, "parts": L(S)}, required=["total", "parts"])), "weight_total": N}),
    "scoring": T({"budget_weight": N, "block_weights": T({}, free=N), "grades": T({}, free=N),
                  "reverse_rule": E("deduct", "ratio"), "over_completion": N, "rate_reason_below": N,
                  "rate_reason_field": S, "fund_parts": ANY, "weights": E("per_block", "per_indicator"),
                  "indicator_total": N, "dropped_targets": E("reweight", "error"), "decimals": E(0, 1, 2, 3, 4),
                  "missing_blocks": T({}, free=N), "qual_grades": T({}, free=L(N)), "qual_words": T({}, free=S)}),
}, required=["form", "sheet"])


@dataclass
class Problem:
    path: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}" + (f" 第{self.line}行" if self.line else "")
        return f"{where}（{self.key}）：{self.message}" if self.key else f"{where}：{self.message}"


class Checker:
    def __init__(self, sources: list[tuple[Path, str]]):
        self.sources = sources          # (path, text) of the file and the files it extends, child first
        self.problems: list[Problem] = []

    # ---- where
    def line_of(self, key: str, value=None, nth: int = 1) -> tuple[str, int | None]:
        """The file and line where `key = value` (or just `key`) is written (its nth occurrence)."""
        patterns = []
        if value is not None and isinstance(value, (str, int, float)):
            patterns.append(re.compile(rf'(^|[\s{{,]){re.escape(key)}\s*=\s*["\']?{re.escape(str(value))}'))
        patterns.append(re.compile(rf'(^|[\s{{,\[."]){re.escape(key)}"?\s*[=\]]'))
        for pattern in patterns:
            seen = 0
            for path, text in self.sources:
                for n, line in enumerate(text.splitlines(), 1):
                    if pattern.search(line.split("#", 1)[0] if "#" in line and '"' not in line else line):
                        seen += 1
                        if seen == nth:
                            return str(path), n
        return str(self.sources[0][0]), None

    def add(self, key: str, message: str, value=None, where_key: str | None = None, nth: int = 1) -> None:
        path, line = self.line_of(where_key or key.rsplit(".", 1)[-1].split("[")[0], value, nth)
        self.problems.append(Problem(path, line, key, message))

    # ---- types
    def check(self, value, spec, key: str) -> None:
        if isinstance(spec, tuple) and spec and spec[0] == "table":
            _, fields, required, free = spec
            if not isinstance(value, dict):
                self.add(key, f"应为一个表（{{ … }}），实为{_kind(value)}")
                return
            for k, v in value.items():
                if k == "replace" and isinstance(v, list):
                    continue   # a merge directive of `extends`
                if k in fields:
                    self.check(v, fields[k], f"{key}.{k}" if key else k)
                elif free is not None:
                    self.check(v, free, f"{key}.{k}" if key else k)
                else:
                    near = difflib.get_close_matches(k, list(fields), n=1, cutoff=0.6)
                    hint = f"，是不是“{near[0]}”？" if near else f"。可用的键：{'、'.join(fields)}"
                    self.add(f"{key}.{k}" if key else k, f"不认识的键“{k}”{hint}", where_key=k)
            for k in sorted(required - set(value)):
                self.add(f"{key}.{k}" if key else k, f"缺少必需的键“{k}”", where_key=key.rsplit(".", 1)[-1] or k)
            return
        if isinstance(spec, tuple) and spec and spec[0] == "list":
            if not isinstance(value, list):
                self.add(key, f"应为一个列表（[ … ]），实为{_kind(value)}")
                return
            for i, item in enumerate(value):
                self.check(item, spec[1], f"{key}[{i}]")
            return
        if isinstance(spec, tuple) and spec and spec[0] == "enum":
            if value not in spec[1]:
                near = difflib.get_close_matches(str(value), [str(v) for v in spec[1]], n=1, cutoff=0.6)
                hint = f"，是不是“{near[0]}”？" if near else ""
                self.add(key, f"“{value}”不是可用的值（可用：{'、'.join(map(str, spec[1]))}）{hint}", value)
            return
        if isinstance(spec, tuple):   # one of several scalar types
            if not any(_is(value, s) for s in spec):
                self.add(key, f"类型不对：实为{_kind(value)}", value)
            return
        if spec == AT:
            if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{1,2}(:[A-Z]{1,2})?", value.strip()):
                self.add(key, f"列“{value}”的写法不对（应为 \"B\" 或 \"D:H\"）", value)
            return
        if not _is(value, spec):
            self.add(key, f"应为{_NAMES[spec]}，实为{_kind(value)}", value)


_NAMES = {S: "文字", I: "整数", N: "数字", B: "true/false", ANY: "任意值"}


def _is(value, spec) -> bool:
    if spec == ANY:
        return True
    if spec == S:
        return isinstance(value, str)
    if spec == I:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec == N:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if spec == B:
        return isinstance(value, bool)
    return False


def _kind(value) -> str:
    return {dict: "表", list: "列表", str: "文字", bool: "true/false", int: "数字", float: "数字"}.get(
        type(value), type(value).__name__)


def _names(template: str) -> set[str]:
    """{name} references of a text template (not {{ }})."""
    return set(re.findall(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[^{}]*)\}(?!\})", template))


def check(data: dict, sources: list[tuple[Path, str]], form_exists=None, taxonomy_exists=None) -> list[Problem]:
    """All problems of one (merged) description. form_exists / taxonomy_exists: look-ups by id."""
    c = Checker(sources)
    c.check(data, SCHEMA, "")
    if c.problems:
        return c.problems   # the references below assume the shapes are right
    _References(c, data).run(form_exists, taxonomy_exists)
    return c.problems


class _References:
    """The checks that need the whole description: names a part uses are defined by another part."""

    def __init__(self, c: Checker, data: dict):
        self.c, self.data = c, data
        self.meta, self.sheet = data["form"], data["sheet"]
        self.ncols = len(self.meta["columns"])
        self.lists = set(data.get("lists", {})) | set(BUILTIN_LISTS)
        self.tables = self.sheet.get("tables", {})
        self.grid = self.sheet["grid"]
        self.anchors: dict[str, str] = {}
        self.anchor_count: dict[str, int] = {}
        self.fields: dict[str, str] = {}
        self.cell_roles: dict[str, list] = {}
        self.amount_fields: set[str] = set()
        self.used: dict[str, int] = {}
        self.grid_keys: set[str] = set()
        self.roles_of: dict[int, set] = {}

    def run(self, form_exists, taxonomy_exists) -> None:
        self.form_part(form_exists, taxonomy_exists)
        for part in ("rows", "footer"):
            for i, row in enumerate(self.sheet.get(part, [])):
                self.row(part, i, row)
        self.roles()
        self.grid_part()
        self.formulas()
        self.review()
        self.scoring()
        self.unit_sheet()

    def money_labels(self) -> None:
        """A label or prompt that prints a money unit (单位：元, 预算数（千元）) says the form's money unit: the
        collector reads bare numbers in [form] money (万元 unless it says otherwise)."""
        money = self.meta.get("money", "万元")
        if money not in ("万元", "元", "千元"):
            return   # said by the schema
        said = set()
        for key, text in _texts(self.data):
            for unit in re.findall(r"(?:单位[：:]\s*|[（(])(万元|千元|元)(?=[）)]|\s*$|。|，)", text):
                if unit != money and unit not in said:
                    said.add(unit)
                    self.c.add("form.money", f"表上印的是“{unit}”（“{text[:30]}”），但 [form] money 是“{money}”："
                               f"回执里的数字会按“{money}”读取。请在 [form] 写 money = \"{unit}\"，或改正表上的单位",
                               text, key)

    def form_part(self, form_exists, taxonomy_exists) -> None:
        c, meta, data = self.c, self.meta, self.data
        stem = Path(c.sources[0][0]).stem
        if meta["id"] != stem:
            c.add("form.id", f"表式 id “{meta['id']}”应与文件名“{stem}”相同", meta["id"], "id")
        if not ID_RE.match(meta["id"]):
            c.add("form.id", "表式 id 只能用小写字母、数字、-、_", meta["id"], "id")
        if taxonomy_exists and not taxonomy_exists(meta["taxonomy"]):
            c.add("form.taxonomy", f"没有指标体系“{meta['taxonomy']}”", meta["taxonomy"], "taxonomy")
        if meta.get("selfeval") and form_exists and not form_exists(meta["selfeval"]):
            c.add("form.selfeval", f"没有自评表式“{meta['selfeval']}”", meta["selfeval"], "selfeval")
        if not self.ncols:
            c.add("form.columns", "至少要有一列", where_key="columns")
        self.money_labels()
        line = data.get("unit_sheet", {}).get("unit_line")
        if line and _names(line) - {"unit_code", "unit_name", "year"}:
            c.add("unit_sheet.unit_line", f"不认识的名称 {{{'}、{'.join(sorted(_names(line) - {'unit_code', 'unit_name', 'year'}))}}}"
                  "（可用：unit_code、unit_name、year）", line, "unit_line")
        for name in ("file_name",):
            unknown = _names(meta[name]) - VALUE_NAMES
            if unknown:
                c.add(f"form.{name}", f"不认识的名称 {{{'}、{'.join(sorted(unknown))}}}（可用：{'、'.join(sorted(VALUE_NAMES))}）",
                      meta[name], name)
        for key in data.get("lists", {}):
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", key):
                c.add(f"lists.{key}", "列表名只能用小写字母、数字和 _（它会成为工作簿中的名称）", where_key=key)

    def at_range(self, key: str, at: str) -> tuple[int, int]:
        a, _, b = at.strip().partition(":")
        first, last = col_index(a), col_index(b or a)
        if last < first or last >= self.ncols:
            self.c.add(key, f"列“{at}”超出表格的 {self.ncols} 列（A–{chr(64 + min(self.ncols, 26))}）", at, "at")
        return first, last

    def anchor(self, key: str, text: str) -> None:
        norm = norm_label(text)
        self.anchor_count[text] = self.anchor_count.get(text, 0) + 1
        if norm in self.anchors:
            self.c.add(key, f"锚点“{text}”与“{self.anchors[norm]}”重复：收表时无法分辨是哪一行", text, "anchor",
                       nth=self.anchor_count[text])
        else:
            self.anchors[norm] = key

    def row(self, part: str, i: int, row: dict) -> None:
        c, sheet = self.c, self.sheet
        key = f"sheet.{part}[{i}]"
        kinds = [k for k in ("cells", "plan", "table") if k in row]
        if len(kinds) != 1:
            c.add(key, "每行须有且只有 cells、plan、table 之一", where_key="anchor" if "anchor" in row else part)
            return
        if row.get("anchor"):
            self.anchor(f"{key}.anchor", row["anchor"])
        if "plan" in row:
            if not row.get("anchor"):
                c.add(key, "资金支出计划行须有锚点（anchor）", where_key="plan")
            if len(row["plan"]["labels"]) != len(row["plan"]["at"]):
                c.add(f"{key}.plan", "labels 与 at 的个数不同", where_key="labels")
            for j, at in enumerate(row["plan"]["at"]):
                self.at_range(f"{key}.plan.at[{j}]", at)
            for j in range(1, len(row["plan"]["labels"]) + 1):
                self.fields.setdefault(f"plan{j}", key)
        if "table" in row:
            if row["table"] not in self.tables:
                c.add(f"{key}.table", f"没有内嵌表格“{row['table']}”（在 [sheet.tables.{row['table']}] 中描述）",
                      row["table"], "table")
            else:
                self.anchor(f"sheet.tables.{row['table']}.anchor", self.tables[row["table"]]["anchor"])
            nxt = sheet[part][i + 1] if i + 1 < len(sheet[part]) else None
            if nxt is not None and not nxt.get("anchor"):
                c.add(key, "内嵌表格后面的一行须有锚点（表格行数可变，只能靠标签找到它）", where_key="table")
        for j, cell in enumerate(row.get("cells", [])):
            self.cell(f"{key}.cells[{j}]", cell)

    def cell(self, ck: str, cell: dict) -> None:
        c, fields = self.c, self.fields
        self.at_range(ck, cell["at"])
        roles = [k for k in ("label", "value", "field", "formula") if k in cell]
        if not roles:
            c.add(ck, "单元格须有 label（固定文字）、value（预填文字）、field（数据）或 formula（公式）之一",
                  cell["at"], "at")
        if "label" in cell and "field" in cell:
            c.add(ck, "同一单元格不能既是固定文字（label）又是数据（field）", cell["label"], "label")
        if cell.get("field"):
            if cell["field"] in fields:
                self.used[cell["field"]] = self.used.get(cell["field"], 1) + 1
                c.add(f"{ck}.field", f"字段“{cell['field']}”重复（也在 {fields[cell['field']]}）",
                      cell["field"], "field", nth=self.used[cell["field"]])
            fields[cell["field"]] = ck
            if cell.get("type") == "amount":
                self.amount_fields.add(cell["field"])
            if cell.get("role") and cell["role"] != cell["field"]:
                self.cell_roles.setdefault(cell["role"], []).append((ck, cell["field"]))
        elif cell.get("role"):
            c.add(f"{ck}.role", "role 要和 field 一起写：它说明这个字段是什么", cell["role"], "role")
        self.cell_meaning(ck, cell)
        if cell.get("value"):
            unknown = _names(cell["value"]) - VALUE_NAMES
            if unknown:
                c.add(f"{ck}.value", f"不认识的名称 {{{'}、{'.join(sorted(unknown))}}}"
                      f"（可用：{'、'.join(sorted(VALUE_NAMES))}）", cell["value"], "value")

    def cell_meaning(self, ck: str, cell: dict) -> None:
        """What a cell says it is must be something the runtime does: a target form's roster-sourced field is
        one the roster gives, its roles are a target form's; a number format on an amount is the amount's."""
        c, kind = self.c, FormKind(self.meta["kind"])
        key = cell.get("role") or cell.get("field")
        where = (cell["field"], "field") if cell.get("field") else (cell["at"], "at")   # the cell's own line
        if kind.projects_from_roster and cell.get("source") == "roster" and key \
                and key not in ROSTER_PROJECT_FIELDS:
            c.add(f"{ck}.source", f"字段“{cell.get('field')}”写了 source = \"roster\"，但名单里没有它（名单给项目的只有："
                  f"{'、'.join(ROSTER_PROJECT_FIELDS)}）：它不会被预填；由单位填写的请去掉 source", *where)
        if cell.get("approved") and not kind.is_selfeval:
            c.add(f"{ck}.approved", "approved（取自批复的目标表）只用于自评表：目标表没有“批复的目标表”",
                  cell["approved"], "approved")
        elif cell.get("approved") and (not cell.get("field") or cell.get("source") == "unit"):
            c.add(f"{ck}.approved", "approved 要写在由批复的目标表预填的字段上（有 field，不写 source = \"unit\"）",
                  cell["approved"], "approved")
        if kind.is_target and cell.get("role") in SELFEVAL_ROLES:
            c.add(f"{ck}.role", f"角色“{cell['role']}”（{CELL_ROLES[cell['role']]}）只用于自评表", cell["role"], "role")
        if not kind.is_department and cell.get("role") in DEPT_ROLES:
            c.add(f"{ck}.role", f"角色“{cell['role']}”（{CELL_ROLES[cell['role']]}）只用于部门整体表", cell["role"], "role")
        if cell.get("format") and cell.get("type") not in ("amount", "plan") and not cell.get("formula"):
            c.add(f"{ck}.format", "format（数字格式）只用于金额（type = \"amount\"）、资金支出计划和公式格；"
                  "文字格不用它", *where)

    def roles(self) -> None:
        if not self.anchors:
            self.c.add("sheet.rows", "至少要有一行带锚点（anchor）：收表时靠它找到各行", where_key="rows")
        for role, holders in self.cell_roles.items():
            if len(holders) > 1 or role in self.fields:
                names = "、".join(f"“{f}”" for _, f in holders) + (f"、“{role}”" if role in self.fields else "")
                self.c.add(f"{holders[-1][0]}.role", f"角色“{role}”（{CELL_ROLES[role]}）只能有一个字段，现有 {names}",
                           role, "role")

    def columns(self, key: str, cols: list, keys: set) -> None:
        c = self.c
        for i, col in enumerate(cols):
            ck = f"{key}[{i}]"
            self.at_range(ck, col["at"])
            if col.get("parts"):
                self.columns(f"{ck}.parts", col["parts"], keys)
                continue
            if not col.get("key"):
                c.add(ck, f"列“{col['label']}”缺少 key（数据的名称）", col["label"], "label")
                continue
            if col["key"] in keys:
                c.add(f"{ck}.key", f"列的 key “{col['key']}”重复", col["key"], "key")
            keys.add(col["key"])
            role = col.get("role")
            if role and role != col["key"]:
                if role in keys or role in self.roles_of.get(id(keys), set()):
                    c.add(f"{ck}.role", f"列“{col['label']}”的角色“{role}”已被本表另一列占用", role, "role")
                self.roles_of.setdefault(id(keys), set()).add(role)
            for where, spec in (("", col), (".quant", col.get("quant") or {}), (".qual", col.get("qual") or {})):
                self.column_spec(f"{ck}{where}", spec)

    def grid_labels(self, key: str, cols: list) -> None:
        """A grid's columns are found by their labels in a return: two with one label cannot be told apart."""
        seen: dict[str, int] = {}
        for col in cols:
            for part in [col, *col.get("parts", [])]:
                label = norm_label(part.get("label", ""))
                if label and "{" not in label:
                    seen[label] = seen.get(label, 0) + 1
                    if seen[label] == 2:
                        self.c.add(key, f"表头“{part['label']}”出现了两次：收表时按表头找列，无法分辨", part["label"],
                                   "label", nth=2)

    def column_spec(self, key: str, spec: dict) -> None:
        c = self.c
        if spec.get("list") and spec["list"] not in self.lists:
            near = difflib.get_close_matches(spec["list"], sorted(self.lists), n=1, cutoff=0.5)
            c.add(f"{key}.list", f"没有列表“{spec['list']}”（在 [lists] 中定义）"
                  + (f"，是不是“{near[0]}”？" if near else ""), spec["list"], "list")
        if spec.get("formula") and spec["formula"] != "rule":
            c.add(f"{key}.formula", "逐行公式只能是 \"rule\"（按批复的符号选用 [sheet.grid.formulas] 中的规则）",
                  spec["formula"], "formula")
        if spec.get("formula") == "rule" and not self.grid.get("formulas"):
            c.add(f"{key}.formula", "用了 \"rule\"，但没有 [sheet.grid.formulas]", "rule", "formula")

    def grid_part(self) -> None:
        c, sheet, grid = self.c, self.sheet, self.grid
        self.anchor("sheet.grid.anchor", grid["anchor"])
        self.columns("sheet.grid.columns", grid["columns"], self.grid_keys)
        self.grid_labels("sheet.grid.columns", grid["columns"])
        for key, table in self.tables.items():
            self.columns(f"sheet.tables.{key}.columns", table["columns"], set())
            self.grid_labels(f"sheet.tables.{key}.columns", table["columns"])
        if grid.get("end_anchor"):
            below = {norm_label(r.get("anchor", "")) for r in sheet.get("footer", []) if r.get("anchor")}
            if norm_label(grid["end_anchor"]) not in below:
                c.add("sheet.grid.end_anchor", f"结束锚点“{grid['end_anchor']}”不是表尾（footer）任何一行的锚点"
                      + (f"（表尾的锚点：{'、'.join(sorted(below))}）" if below else "（没有表尾行）"),
                      grid["end_anchor"], "end_anchor")
        elif sheet.get("footer"):
            c.add("sheet.grid", "有表尾（footer）时须写 end_anchor：指标表到哪一行为止", where_key="grid")

    def formulas(self) -> None:
        """Formulas name fields ({field}), grid columns ({grid_key}) and scoring parameters."""
        known = set(self.fields) | {f"grid_{k}" for k in self.grid_keys} | {
            "budget_weight", "grades", "total", "missing_points", "missing_weight"}
        for part in ("rows", "footer"):
            for i, row in enumerate(self.sheet.get(part, [])):
                for j, cell in enumerate(row.get("cells", [])):
                    unknown = _names(cell.get("formula") or "") - known
                    if unknown:
                        self.c.add(f"sheet.{part}[{i}].cells[{j}].formula",
                                   f"公式中的 {{{'}、{'.join(sorted(unknown))}}} 不是本表的字段或指标表的列",
                                   cell["formula"], "formula")

    def review(self) -> None:
        c, fields, review = self.c, self.fields, self.data.get("review", {})
        for name in ("required_text",):
            for f in review.get(name, []):
                if f not in fields:
                    c.add(f"review.{name}", f"必填字段“{f}”不是本表的字段", f, name)
        if review.get("weight_total") is not None and \
                "weight" not in self.grid_keys | self.roles_of.get(id(self.grid_keys), set()):
            c.add("review.weight_total", "写了 weight_total，但指标表没有权重列（key 或 role 为 weight）",
                  where_key="weight_total")
        for i, rule in enumerate(review.get("sums", [])):
            for name in [rule.get("total"), *rule.get("parts", [])]:
                if isinstance(name, str) and name not in fields:
                    c.add(f"review.sums[{i}]", f"求和规则中的“{name}”不是本表的字段", name, "sums")
                elif isinstance(name, str) and name not in self.amount_fields:
                    c.add(f"review.sums[{i}]", f"求和规则中的“{name}”不是金额字段（type = \"amount\"）", name, "sums")

    def scoring(self) -> None:
        c, scoring = self.c, self.data.get("scoring", {})
        why = scoring.get("rate_reason_field")
        if isinstance(why, str) and why not in self.fields:
            c.add("scoring.rate_reason_field", f"“{why}”不是本表的字段（执行率偏低时在哪个字段说明原因）", why,
                  "rate_reason_field")
        weights = scoring.get("block_weights", {}) if isinstance(scoring.get("block_weights"), dict) else {}
        for block in scoring.get("missing_blocks", {}) if isinstance(scoring.get("missing_blocks"), dict) else ():
            if block not in weights:
                c.add("scoring.missing_blocks", f"“{block}”不在 block_weights 中（可写：{'、'.join(weights) or '无'}）",
                      block, "missing_blocks")
            elif scoring["missing_blocks"][block] > weights[block]:
                c.add("scoring.missing_blocks", f"“{block}”的分数 {scoring['missing_blocks'][block]} 超过该类权重 "
                      f"{weights[block]}", block, "missing_blocks")
        if scoring.get("missing_blocks") and not any("{missing_points}" in (cell.get("formula") or "")
                                                     for row in self.sheet.get("footer", [])
                                                     for cell in row.get("cells", [])):
            c.add("scoring.missing_blocks", "写了 missing_blocks，但表尾的总分公式没有加上 {missing_points}：表中的总分会与复核不符",
                  where_key="missing_blocks")
        for group in scoring.get("fund_parts", []) if isinstance(scoring.get("fund_parts"), list) else []:
            self.fund_parts(group)
        self.qual_grades(scoring)

    def qual_grades(self, scoring: dict) -> None:
        """A form's own qualitative grades: each a band within the weight, each word naming one of them, and
        every word its 定性 dropdown offers understood (else a clerk's choice would be refused at collection)."""
        c = self.c
        grades = scoring.get("qual_grades") or {}
        for name, band in grades.items():
            if len(band) != 2 or not 0 <= band[0] < band[1] <= 1:
                c.add("scoring.qual_grades", f"等级“{name}”的区间应为 [下限, 上限]，0 ≤ 下限 < 上限 ≤ 1（分值的比例）",
                      name, "qual_grades")
        if grades and not any(band[1] == 1 for band in grades.values() if len(band) == 2):
            c.add("scoring.qual_grades", "须有一个等级的上限为 1（可得满分的等级）", where_key="qual_grades")
        names = set(grades) or set(DEFAULT_GRADES)
        words = scoring.get("qual_words") or {}
        for word, grade in words.items():
            if grade not in names:
                c.add("scoring.qual_words", f"“{word}”对应的等级“{grade}”不是本表的等级（{'、'.join(sorted(names))}）",
                      grade, "qual_words")
        known = names | set(words) | set(DEFAULT_WORDS if not grades else ()) | {"不适用"}
        for item in (self.data.get("lists", {}).get("qual") or []) if FormKind(self.meta["kind"]).is_selfeval else ():
            if item not in known:
                c.add("lists.qual", f"定性完成情况“{item}”不是等级，也没有在 [scoring] qual_words 中说明它属于哪个等级"
                      "（收表时会被当作无法识别）", item, "qual")

    def fund_parts(self, group) -> None:
        parts = group[1] if isinstance(group, list) and len(group) == 2 and isinstance(group[1], list) else None
        if parts is None:
            self.c.add("scoring.fund_parts", "fund_parts 的每一项应为 [\"名称\", [\"部分\", …]]", where_key="fund_parts")
            return
        effective = set(self.fields) | set(self.cell_roles)
        for p in ["total", *parts]:
            missing = [f"{x}_{p}" for x in ("start", "budget", "spent") if f"{x}_{p}" not in effective]
            if len(missing) == 3:
                self.c.add("scoring.fund_parts", f"“{p}”没有对应的金额字段（start_{p}、budget_{p}、spent_{p} 都不存在）",
                           p, "fund_parts")

    def unit_sheet(self) -> None:
        for f in self.data.get("review", {}).get("required_grids", []):
            if f not in self.tables and f != "indicators":
                self.c.add("review.required_grids", f"“{f}”不是本表的内嵌表格", f, "required_grids")
        rows = self.data.get("unit_sheet", {}).get("rows", [])
        for i, spec in enumerate(rows):
            if sum(1 for s in rows if s["anchor"] == spec["anchor"]) > 1:
                self.c.add(f"unit_sheet.rows[{i}].anchor", f"锚点“{spec['anchor']}”重复", spec["anchor"], "anchor")


LEVEL2 = T({"name": S, "aliases": L(S), "seed": B, "pct": B, "reverse": B, "standard": L(S)}, required=["name"])
TAXONOMY = T({"id": S, "name": S, "rename": T({}, free=S),
              "level1": L(T({"name": S, "block": S, "required": B, "aliases": L(S), "level2": L(LEVEL2)},
                            required=["name", "level2"]))}, required=["id", "level1"])


def check_taxonomy(data: dict, path: Path) -> list[Problem]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        text = ""
    c = Checker([(Path(path), text)])
    c.check(data, TAXONOMY, "")
    if c.problems:
        return c.problems
    if data["id"] != Path(path).stem:
        c.add("id", f"指标体系 id “{data['id']}”应与文件名“{Path(path).stem}”相同", data["id"], "id")
    names = [l1["name"] for l1 in data["level1"]]
    for name in names:
        if names.count(name) > 1:
            c.add("level1.name", f"一级指标“{name}”重复", name, "name")
            break
    return c.problems
