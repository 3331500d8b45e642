"""generate: one locked workbook per unit, written with xlsxwriter from the form description."""
from __future__ import annotations

import datetime as dt
import functools
import io
import types
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
import xlsxwriter.worksheet

from ..model.stamp import Stamp
from ..core.kinds import FormKind, Severity
from ..core.files import OutputError, fit_name, safe_file_name, unguard, write_bytes, write_csv
from ..core.cells import col_letters
from ..forms.form import Form, load_form, span
from ..model.roster import ROSTER_MONEY, Roster, Unit, read_rows
from ..model.scoring import Rules, missing_block_award
from ..io.stamp import FINDINGS_SHEET, LISTS_SHEET, read_stamp, stamp_rows, STAMP_SHEET
from ..forms.layout import (LOCKED_KEYS, context, grid_rows, header_context, join_given, locked_value,  # noqa: F401
                     row_names, table_rows)
from ..core.value import clean, convert_money, format_number, parse, value_cells
from ..core.parallel import fewer_gc_passes, parallel_map
from ..io.book import read_book
from ..io.extract import extract
from ..io.keys import require_key

COLORS = {"locked": "#E7E6E6", "input": "#FFF2CC", "error": "#FFC7CE", "error_font": "#9C0006",
          "repeat_font": "#A6A6A6", "header": "#F2F2F2"}
PROTECT_OPTIONS = {
    "objects": False, "scenarios": False, "format_cells": False, "format_columns": True, "format_rows": True,
    "insert_columns": False, "insert_rows": True, "insert_hyperlinks": False, "delete_columns": False,
    "delete_rows": False, "select_locked_cells": True, "sort": False, "autofilter": False,
    "pivot_tables": False, "select_unlocked_cells": True,
}


@dataclass
class Options:
    year: int
    password: str | None = None
    extra_projects: int | None = None
    indicator_rows: int | None = None
    deadline: str = ""
    contact: str = ""
    created: dt.datetime | None = None
    issue: int = 1                       # stamp version: feedback workbooks count up
    links: dict | None = None            # what this workbook was made from (self-evaluation: the target returns)
    key: object = None                   # the signing key (io.keys.Key); None: the coordinator's own

    def signing_key(self):
        return self.key if self.key is not None else require_key("生成模板")


# --------------------------------------------------------------------------- payload

def grid_rows_for(form: Form, opts: Options, rows: list) -> int:
    if any(c.source == "target" for c in form.input_columns):
        return max(len(rows), 1)   # exactly the approved indicators
    seeded = len(form.taxonomy.seed_rows(form.meta.get("seed_all_level2", False)))
    return max(opts.indicator_rows or 0, seeded + form.grid_blank_rows, len(rows) + 2)


def project_sheets(form: Form, unit: Unit, opts: Options) -> tuple[list[dict], list[str]]:
    """A sheet a roster project (its record), and the spare sheets for projects the roster does not have."""
    extra = form.meta.get("extra_projects", 0) if opts.extra_projects is None else opts.extra_projects
    names = [form.meta["sheet_name"].format(seq=i) for i in range(1, len(unit.projects) + 1)]
    spares = [form.meta["spare_sheet_name"].format(seq=i) for i in range(1, extra + 1)]
    return [dict(p.as_dict(), sheet=s, seq=i) for i, (s, p) in enumerate(zip(names, unit.projects), 1)], spares


def dept_record(form: Form, unit: Unit) -> dict:
    """The department as the one "project" of its sheet: its figures and texts from the department
    roster, its project list from the project roster, its indicators' history from earlier years."""
    category = form.meta.get("project_category", "")
    rows = [{"name": p.name, "category": p.extra.get("category") or category,
             "total_budget": p.extra.get("total_budget", p.budget), "budget": p.budget, "use": p.use}
            for p in unit.projects]
    record = {"code": unit.code, "name": unit.name, **unit.extra.get("dept", {}), "tables": {"projects": rows}}
    if unit.extra.get("history"):
        record["indicators"] = unit.extra["history"]
    return record


def dept_sheets(form: Form, unit: Unit, opts: Options) -> tuple[list[dict], list[str]]:
    """One sheet: the department itself (no spares)."""
    return [dict(dept_record(form, unit), sheet=form.meta["sheet_name"], seq=1)], []


# how each kind's workbook is laid out from the roster: (records, one a sheet; spare sheets)
KIND_SHEETS = {FormKind.DEPT_TARGET: dept_sheets}   # every other kind: project_sheets


def in_form_money(form: Form, record: dict) -> dict:
    """A roster record (its amounts in the roster's 万元) with its amounts in the form's money unit: what the
    workbook prints and the stamp keeps (a return is read, compared and fed back in the form's unit)."""
    if form.money == ROSTER_MONEY:
        return record
    amounts = {"budget", "fiscal", "other", "total_budget"} | {
        k for k, (_, c) in form.fields().items() if c.type == "amount"}
    out = {k: convert_money(v, ROSTER_MONEY, form.money) if k in amounts else v for k, v in record.items()}
    if isinstance(out.get("tables"), dict):
        out["tables"] = {name: [in_form_money(form, row) if isinstance(row, dict) else row for row in rows]
                         for name, rows in out["tables"].items()}
    return out


def build_payload(form: Form, unit: Unit, opts: Options) -> dict:
    records, spares = KIND_SHEETS.get(form.kind, project_sheets)(form, unit, opts)
    records = [in_form_money(form, r) for r in records]
    return Stamp(form.id, form.version, opts.year, unit.code, unit.name, form.kind, form.taxonomy_id,
                 issue=opts.issue, projects=records, spares=spares, links=opts.links or None).payload()


# --------------------------------------------------------------------------- styles

class Styles:
    def __init__(self, wb, font: str):
        self.wb, self.cache = wb, {}
        self.base = {"font_name": font, "font_size": 10, "valign": "vcenter", "text_wrap": True}

    def __call__(self, **kw):
        key = tuple(sorted(kw.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format({**self.base, **kw})
        return self.cache[key]

    def label(self, **kw):
        return self(border=1, align="center", **kw)

    def locked(self, **kw):
        return self(border=1, bg_color=COLORS["locked"], **kw)

    def input(self, **kw):
        return self(border=1, bg_color=COLORS["input"], locked=False, **kw)


def _prompt(title: str, text: str) -> dict:
    return {"input_title": title[:32], "input_message": text[:255]} if text else {}


# --------------------------------------------------------------------------- writer

class WorkbookWriter:
    def __init__(self, form: Form, unit: Unit, opts: Options, fill: dict | None = None, marks=None):
        self.form, self.unit, self.opts, self.fill = form, unit, opts, fill or {}
        self.key = opts.signing_key()
        self.payload = {**build_payload(form, unit, opts), "key_id": self.key.id}
        self.marks = marks or []   # findings to show on the cells (feedback workbooks)

    def write(self) -> bytes:
        buf = io.BytesIO()
        wb = LockedWorkbook(buf, {"in_memory": True, "strings_to_numbers": False,
                                  "strings_to_formulas": False, "strings_to_urls": False})
        wb.structure_password = self.opts.password
        self.wb, self.st = wb, Styles(wb, self.form.meta.get("font", "宋体"))
        created = self.opts.created or dt.datetime.now().replace(microsecond=0)
        wb.set_properties({"title": f"{self.opts.year}年{self.form.name}", "subject": self.unit.name,
                           "author": "perftables", "company": self.unit.name, "created": created,
                           "comments": "由 perftables 生成；请勿删除隐藏的标识页。"})
        for key, value in stamp_rows(self.payload):
            if key not in ("payload", "signature"):
                wb.set_custom_property(f"perftables_{key}", value)
        findings_sheet = self._findings_sheet() if self.marks else None
        guide = self._guide_sheet()
        if self.form.unit_sheet:
            self._unit_sheet()
        stamp = Stamp.of(self.payload)
        for project in stamp.projects:
            self._project_sheet(project["sheet"], project)
        for i, sheet in enumerate(stamp.spares, 1):
            self._project_sheet(sheet, None, seq=len(stamp.projects) + i)
        self._lists_sheet()
        self._stamp_sheet()
        (findings_sheet or guide).activate()
        wb.close()
        return buf.getvalue()

    # ---- sheets
    def _protect(self, ws):
        ws.protect(self.opts.password or "", PROTECT_OPTIONS)

    def _page(self, ws, last_row: int, last_col: int, repeat=None, landscape=False):
        ws.set_paper(9)
        ws.set_landscape() if landscape else ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.print_area(0, 0, last_row, last_col)
        if repeat:
            ws.repeat_rows(*repeat)
        ws.hide_gridlines(2)
        ws.set_footer("&C第 &P 页，共 &N 页")

    def _guide_sheet(self):
        g, st = self.form.guide, self.st
        ws = self.wb.add_worksheet(g["name"])
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 96)
        ctx = {"year": self.opts.year, "deadline": self.opts.deadline or "（见通知）",
               "contact": self.opts.contact or "（见通知）"}
        ws.merge_range(0, 0, 0, 1, g.get("title", "").format(**ctx), st(bold=True, font_size=14, align="center"))
        ws.set_row(0, 30)
        ws.write_string(1, 0, "填报单位", st(bold=True))
        ws.write_string(1, 1, f"{self.unit.code} {self.unit.name}", st())
        row = 3
        for line in g.get("lines", []):
            ws.merge_range(row, 0, row, 1, line.format(**ctx), st())
            ws.set_row(row, 30)
            row += 1
        row += 1
        ws.write_string(row, 0, "颜色说明", st(bold=True))
        row += 1
        fills = {"locked": st.locked(), "input": st(border=1, bg_color=COLORS["input"]),
                 "error": st(border=1, bg_color=COLORS["error"], font_color=COLORS["error_font"])}
        for text, key in g.get("legend", []):
            ws.write_blank(row, 0, None, fills[key])
            ws.write_string(row, 1, text, st())
            row += 1
        self._page(ws, row, 1)
        self._protect(ws)
        return ws

    def _unit_sheet(self):
        spec, st = self.form.unit_sheet, self.st
        ws = self.wb.add_worksheet(spec["name"])
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 96)
        ws.merge_range(0, 0, 0, 1, spec["title"].format(year=self.opts.year), st(bold=True, font_size=14, align="center"))
        ws.set_row(0, 30)
        if spec.get("unit_line"):   # across the page: a long name is not cut by column A
            ws.merge_range(1, 0, 1, 1, spec["unit_line"].format(unit_name=self.unit.name, unit_code=self.unit.code,
                                                                year=self.opts.year), st())
        texts = self.fill.get("texts", {})
        at, i = {}, 2
        for row in spec["rows"]:
            text = texts.get(row["field"], "")
            # as high as a text sent back needs; one longer than Excel's highest row spans merged rows
            need = max(row.get("height", 120), text_height(text, 96))
            k = -(-int(need) // 409)
            label, field = st.label(bold=True), st.input(valign="top")
            if k > 1:
                ws.merge_range(i, 0, i + k - 1, 0, row["anchor"], label)
                ws.merge_range(i, 1, i + k - 1, 1, text, field)
            else:
                ws.write_string(i, 0, row["anchor"], label)
                ws.write_string(i, 1, text, field)
            ws.data_validation(i, 1, i, 1, {"validate": "any", **_prompt(row["anchor"], row.get("prompt", ""))})
            for j in range(k):
                ws.set_row(i + j, need / k)
            at[row["field"]] = i
            i += k
        self._mark(ws, spec["name"], lambda t: (at[t[1]], 1) if t[0] == "text" else None)
        self._page(ws, i - 1, 1)
        self._protect(ws)

    def _project_sheet(self, name: str, project: dict | None, seq: int | None = None):
        form = self.form
        ws = self.wb.add_worksheet(name)
        for i, width in enumerate(form.meta["columns"]):
            ws.set_column(i, i, width)
        filled = self.fill.get("projects", {}).get(name, {})
        # what the unit entered (feedback), over what is suggested to it (last year's goal: generate --from)
        values = {**(project or {}).get("suggested", {}), **filled.get("fields", {})}
        rows = grid_rows(form, project, filled.get("indicators"))
        n = grid_rows_for(form, self.opts, rows)
        tables = {key: table_rows(g, project, filled.get("tables", {}).get(key), form.taxonomy)
                  for key, g in form.tables.items()}
        sizes = {key: len(t) + form.tables[key].blank_rows for key, t in tables.items()}
        pos, r = [], 0
        for row in form.rows:   # inline tables push the rows below them down
            pos.append(r)
            r += form.tables[row.table].header_rows + sizes[row.table] if row.table else 1
        header = r
        first = header + form.grid_header_rows
        last = first + n - 1
        pos += [last + 1 + i for i in range(len(form.footer))]
        refs = self._refs(pos, first, last)
        refs["missing_points"], refs["missing_weight"] = (format_number(x) for x in missing_block_award(
            {row.get("block") for row in rows}, Rules.from_form(form.scoring)))
        for row, r in zip(form.rows + form.footer, pos):
            if row.table:
                self._grid(ws, r, tables[row.table], sizes[row.table], refs, form.tables[row.table])
                continue
            texts = [(values.get(c.field) or (project or {}).get(c.field), self._width(c)) for c in row.cells if c.field]
            height = fit_height(texts, row.height or 15)
            if height != 15:
                ws.set_row(r, height)
            for cell in row.cells:
                self._write_cell(ws, r, cell, locked_value(cell, self.payload, project, seq), values.get(cell.field),
                                 refs)
        self._grid(ws, header, rows, n, refs, form.main_grid)
        cols = {c.key: c.col for c in form.input_columns}
        table_at = {row.table: pos[i] + form.tables[row.table].header_rows for i, row in enumerate(form.rows)
                    if row.table}
        table_cols = {key: {c.key: c.col for c in g.input_columns} for key, g in form.tables.items()}
        self._mark(ws, name, lambda t: (pos[t[1]], t[2]) if t[0] == "at" else
                   (first + t[1], cols.get(t[2], 0)) if t[0] == "grid" else
                   (pos[len(form.rows) + t[1]], t[2]) if t[0] == "footer" else
                   (table_at[t[1]] + t[2], table_cols[t[1]].get(t[3], 0)) if t[0] == "table" else
                   (table_at[t[1]] - form.tables[t[1]].header_rows + t[2], t[3]) if t[0] == "table_head" else None)
        self._page(ws, pos[-1] if form.footer else last, form.ncols - 1, repeat=(header, first - 1))
        self._protect(ws)

    def _refs(self, pos: list[int], first: int, last: int) -> dict:
        """Addresses a formula may name: every field, each grid column's range, scoring parameters."""
        form, refs = self.form, {}
        for row, r in zip(form.rows + form.footer, pos):
            for cell in row.cells:
                if cell.field:
                    refs[cell.field] = f"${_col(cell.col)}${r + 1}"
        for col in form.input_columns:
            refs[f"grid_{col.key}"] = f"${_col(col.col)}${first + 1}:${_col(col.col)}${last + 1}"
        scoring = form.scoring
        refs["budget_weight"] = scoring.get("budget_weight", 10)
        grades = sorted(((v, k) for k, v in scoring.get("grades", {}).items()), reverse=True)
        text = f'"{grades[-1][1]}"' if grades else '""'
        for bound, name in reversed(grades[:-1]):
            text = f'IF({{total}}>={bound},"{name}",{text})'
        refs["grades"] = text
        return refs

    def _findings_sheet(self):
        st = self.st
        ws = self.wb.add_worksheet(FINDINGS_SHEET)
        heads = (("序号", 6), ("工作表", 14), ("单元格", 8), ("级别", 8), ("问题", 60), ("怎么改", 50))
        for c, (_, width) in enumerate(heads):
            ws.set_column(c, c, width)
        # the letter first: whose table, how many problems, what to do, by when, whom to call
        errors = sum(f.severity == Severity.ERROR for f in self.marks)
        warnings = len(self.marks) - errors
        o = self.opts
        letter = [
            (f"{self.unit.name}：{o.year}年{self.form.name} 审核意见（第{max(o.issue - 1, 1)}轮）", st(bold=True, font_size=14)),
            (f"贵单位报送的表已审核，发现 {errors} 个错误、{warnings} 个警告，逐条列在下表，问题单元格在各工作表中标红并附批注。"
             "错误必须修改；警告请核实，确有依据的可以不改。", None),
            ("怎么改：直接在本工作簿中修改标红的单元格（不要另存为其他模板，不要删改工作表；文件名可以改），"
             "保存后把本文件发回" + (f"，截止时间：{o.deadline}" if o.deadline else "") + "。", None),
            ("联系人：" + (o.contact or "见通知或发文邮件"), None),
        ]
        plain = st(text_wrap=True, valign="top")
        for i, (text, fmt) in enumerate(letter):
            ws.merge_range(i, 0, i, len(heads) - 1, text, fmt or plain)
            ws.set_row(i, 24 if i == 0 else fit_height([(text, sum(w for _, w in heads))], 18))
        top = len(letter) + 1
        self._findings_top = top
        for c, (head, _) in enumerate(heads):
            ws.write_string(top, c, head, st.label(bold=True, bg_color=COLORS["header"]))
        wrap = st(border=1, text_wrap=True, valign="top")
        for i, f in enumerate(self.marks, 1):
            ws.write_number(top + i, 0, i, st(border=1, align="center"))
            ws.write_string(top + i, 1, f.sheet, st(border=1))
            ws.write_blank(top + i, 2, None, st(border=1, align="center"))
            ws.write_string(top + i, 3, f.severity, st(border=1, align="center"))
            ws.write_string(top + i, 4, f.message, wrap)
            ws.write_string(top + i, 5, f.fix, wrap)
            ws.set_row(top + i, fit_height([(f.message, 60), (f.fix, 50)], 15))
        self._findings_ws = ws
        self._page(ws, top + len(self.marks), len(heads) - 1, repeat=(top, top), landscape=True)
        self._protect(ws)
        return ws

    def _mark(self, ws, sheet: str, locate):
        """Colour and comment every cell a finding points at; fill in its address on 审核意见."""
        by_cell: dict[tuple[int, int], list] = {}
        for f in self.marks:
            if f.sheet == sheet and f.target:
                where = locate(f.target)
                if where is not None:
                    by_cell.setdefault(where, []).append(f)
        for (r, c), found in by_cell.items():
            ws.write_comment(r, c, "\n".join(f"【{f.severity}】{f.message}" + (f"\n怎么改：{f.fix}" if f.fix else "")
                                             for f in found),
                             {"author": "审核", "x_scale": 3, "y_scale": 2})
            ws.conditional_format(r, c, r, c, {"type": "formula", "criteria": "=TRUE",
                                               "format": self.st(bg_color=COLORS["error"], font_color=COLORS["error_font"])})
            for f in found:
                row = self._findings_top + self.marks.index(f) + 1
                self._findings_ws.write_string(row, 2, _col(c) + str(r + 1), self.st(border=1, align="center"))

    def _write_cell(self, ws, r, cell, locked_value, fill_value, refs=None):
        st = self.st
        if cell.formula:
            fmt = st.locked(align="center", num_format=cell.fmt or "General")
            if cell.col != cell.last_col or cell.rows > 1:
                ws.merge_range(r, cell.col, r + cell.rows - 1, cell.last_col, "", fmt)
            ws.write_formula(r, cell.col, "=" + resolve(cell.formula, refs or {}), fmt, "")
            return
        align = "center" if cell.type in ("amount", "plan") else "left"
        if cell.label is not None:
            fmt = st.label()
        elif cell.style in ("title", "plain", "plain_right", "plain_center"):
            fmt = {"title": st(bold=True, font_size=14, align="center"), "plain": st(align="left"),
                   "plain_right": st(align="right"), "plain_center": st(align="center")}[cell.style]
        elif locked_value is not None:
            fmt = st.locked(align=align, num_format=self._num_format(cell))
        else:
            fmt = st.input(align=align, num_format=self._num_format(cell), valign="top" if cell.type == "longtext" else "vcenter")
        value = locked_value if locked_value is not None else fill_value
        last_row = r + cell.rows - 1
        if cell.col != cell.last_col or cell.rows > 1:
            ws.merge_range(r, cell.col, last_row, cell.last_col, "", fmt)
        self._put(ws, r, cell.col, value, fmt)
        if cell.label is None and cell.value is None and locked_value is None:
            self._validate_input(ws, r, cell)

    def _width(self, cell) -> float:
        return sum(self.form.meta["columns"][cell.col:cell.last_col + 1])

    @staticmethod
    def _num_format(cell) -> str:
        if cell.type == "amount":
            return cell.fmt or "0.00"   # the description's own format, else two decimals
        return cell.fmt or ("@" if cell.type in ("text", "longtext") else "General")

    def _put(self, ws, r, c, value, fmt):
        if value is None or value == "":
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(r, c, value, fmt)
        elif isinstance(value, (dt.date, dt.datetime)):   # a clerk's date entry, sent back as it was
            ws.write_datetime(r, c, value, self.st.input(num_format="yyyy-mm-dd"))
        else:
            ws.write_string(r, c, str(value), fmt)

    def _validate_input(self, ws, r, cell):
        prompt = _prompt(cell.title, cell.prompt)
        if cell.type == "amount":
            ws.data_validation(r, cell.col, r, cell.col, {
                "validate": "decimal", "criteria": ">=", "value": 0, **prompt,
                "error_title": "金额有误", "error_message": f"请填写不小于0的数字（单位：{self.form.money}）。"})
        elif cell.type == "plan":
            ws.data_validation(r, cell.col, r, cell.col, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100, **prompt,
                "error_title": "进度有误", "error_message": "请填写0到100之间的数字，如 25 表示 25%。"})
            self._plan_alarm(ws, r, cell)
        elif prompt:
            ws.data_validation(r, cell.col, r, cell.col, {"validate": "any", **prompt})

    def _plan_alarm(self, ws, r, cell):
        """Turn a plan cell red when it is out of range, decreasing, or the last one is not 100.

        A clerk types 25, 25% or 0.25: Excel, WPS and LibreOffice store 25% as 0.25, so a value in (0, 1]
        is a fraction — shown as a percentage by a conditional number format, compared as ×100 here, and
        read as ×100 (with a notice) by the collector."""
        plan = self.form.plan_fields()
        i = next(k for k, c in enumerate(plan) if c.field == cell.field)
        ref = f"${_col(cell.col)}${r + 1}"

        def pct(x):
            return f"IF(AND(N({x})>0,N({x})<=1),N({x})*100,N({x}))"

        rules = [f"{pct(ref)}<0", f"{pct(ref)}>100"]
        if i > 0:
            prev = f"${_col(plan[i - 1].col)}${r + 1}"
            rules.append(f"AND(ISNUMBER({ref}),ISNUMBER({prev}),{pct(ref)}<{pct(prev)})")
        if i == len(plan) - 1:
            first = f"${_col(plan[0].col)}${r + 1}"
            rules.append(f"AND(COUNT({first}:{ref})>0,{pct(ref)}<>100)")
        ws.conditional_format(r, cell.col, r, cell.last_col, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({ref}),{ref}>0,{ref}<=1)",
            "format": self.st(num_format="0.00%")})
        ws.conditional_format(r, cell.col, r, cell.last_col, {
            "type": "formula", "criteria": "=OR(" + ",".join(rules) + ")",
            "format": self.st(bg_color=COLORS["error"], font_color=COLORS["error_font"])})

    def _grid(self, ws, r: int, rows: list[dict], n: int, refs: dict, grid):
        """A grid (the indicators, or an inline table) at sheet row r: its header, then n rows."""
        st = self.st
        header = st.label(bold=True, bg_color=COLORS["header"])
        depth = grid.header_rows
        ctx = header_context(self.opts.year)

        def head(col, level):
            label = col.label.format(**ctx)
            bottom = r + level if col.parts else r + depth - 1
            if bottom != r + level or col.col != col.last_col:
                ws.merge_range(r + level, col.col, bottom, col.last_col, label, header)
            else:
                ws.write_string(r + level, col.col, label, header)
            for part in col.parts:
                head(part, level + 1)

        for col in grid.columns:
            head(col, 0)
        first = r + depth
        last = first + n - 1
        if grid.spec.get("side"):   # the label printed down the left of the whole grid (绩效指标)
            side = span(grid.spec["side"])[0]
            ws.merge_range(r, side, last, side, grid.anchor, header)
        inputs = grid.input_columns
        joined = [c for c in grid.columns if c.parts and c.joined]
        last_part = {c.parts[-1].key for c in joined}
        first_part = {c.parts[0].key for c in joined}
        mid_part = {p.key for c in joined for p in c.parts} - last_part - first_part
        for i in range(n):
            data = rows[i] if i < len(rows) else {}
            kind = data.get("kind")
            locked = data.get(LOCKED_KEYS, ())
            ws.set_row(first + i, fit_height([(data.get(c.key), self._width(c)) for c in inputs], 20))
            for col in inputs:
                kw = {"align": "left"}
                if col.key in first_part:
                    kw = {"align": "right", "right": 0}
                elif col.key in last_part:
                    kw = {"align": "left", "left": 0}
                elif col.key in mid_part:
                    kw = {"align": "center", "left": 0, "right": 0}
                spec = col.variant(kind)
                rr = first + i
                if spec.get("formula") == "rule":
                    ws.write_formula(rr, col.col, "=" + self._rule_formula(data, rr, refs),
                                     st.locked(align="center", num_format="0.00"), "")
                    continue
                is_locked = col.source == "target" or col.key in locked
                numeric = spec.get("validate") in ("number", "score_band")
                fmt = st.locked(**kw) if is_locked else st.input(num_format="0.00" if numeric else "@", **kw)
                if col.col != col.last_col:
                    ws.merge_range(rr, col.col, rr, col.last_col, "", fmt)
                self._put(ws, rr, col.col, data.get(col.key), fmt)
                if is_locked:
                    continue
                if col.quant or col.qual:
                    self._cell_validation(ws, rr, col, spec, grid)
        self._grid_validations(ws, first, last, grid)
        return last

    def _rule_formula(self, data: dict, r: int, refs: dict) -> str:
        """得分 of a quantitative row: the scoring rule chosen by the approved sign (reference §5.3)."""
        formulas = self.form.grid["formulas"]
        op, t = data.get("sign", data.get("op")), float(data.get("t") or 0)
        if op in ("≤", "<"):
            rule = "reverse_" + self.form.scoring.get("reverse_rule", "deduct")
        elif op == "=" and t == 0:
            rule = "equal_zero"
        else:
            rule = "positive" if t > 0 else "positive_zero"
        cols = {c.key: _col(c.col) for c in self.form.input_columns}
        # with a 调整后指标值 column the rule compares with what it holds (blank: dropped, no score)
        target = f"{cols['adjusted']}{r + 1}" if "adjusted" in cols else format_number(t)
        target_value = parse(data.get("target") or "")
        actual = actual_number(f"{cols['actual']}{r + 1}", target_value.unit, band=target_value.band)
        return formulas[rule].format(a=actual, w=f"{cols['weight']}{r + 1}", t=target)

    def _cell_validation(self, ws, r: int, col, spec: dict, grid):
        ctx = header_context(self.opts.year)
        prompt = _prompt(col.label.format(**ctx), spec.get("prompt", "").format(**ctx))
        ref = f"{_col(col.col)}{r + 1}"
        if spec.get("list"):
            opts = {"validate": "list", "source": f"=PT_{spec['list'].upper()}", **prompt,
                    "error_title": "请从列表中选择", "error_message": f"“{col.label}”只能从下拉列表中选择。"}
        elif spec.get("validate") == "number_or_na":
            opts = {"validate": "custom", "value": "=" + number_or_na_rule(ref), **prompt,
                    "error_title": "请填数值", "error_message": "定量指标的实际完成值填数值，可带符号和单位"
                                                            "（如 85、≥266米、90%）；不适用的填“不适用”。"}
        elif spec.get("validate") == "number":
            opts = {"validate": "decimal", "criteria": "between", "minimum": -1e12, "maximum": 1e12, **prompt,
                    "error_title": "请填数字", "error_message": f"“{col.label}”只填数字。"}
        elif spec.get("validate") == "score_band":
            weight = next(c for c in grid.input_columns if c.key == "weight")
            opts = {"validate": "decimal", "criteria": "between", "minimum": 0,
                    "maximum": f"=N({_col(weight.col)}{r + 1})", **prompt,
                    "error_title": "得分有误", "error_message": "得分应在0到本指标分值之间。"}
        else:
            opts = {"validate": "any", **prompt}
        ws.data_validation(r, col.col, r, col.col, opts)

    def _grid_validations(self, ws, first: int, last: int, grid):
        form = self.form
        by_list = {}
        for col in grid.input_columns:
            if col.quant or col.qual or col.source == "target":
                continue   # validated row by row, or locked
            ctx = header_context(self.opts.year)
            prompt = _prompt(col.label.format(**ctx), col.prompt.format(**ctx))
            if col.list == "level1":
                source = "=PT_L1"
            elif col.list == "level2":
                l1 = next(c for c in grid.input_columns if c.list == "level1")
                source = f"=INDIRECT(VLOOKUP(${_col(l1.col)}{first + 1},PT_MAP,2,FALSE))"
            elif col.list:
                source = f"=PT_{col.list.upper()}"
            else:
                source = None
            if source:
                opts = {"validate": "list", "source": source, **prompt}
                if col.strict:
                    opts.update(error_title="请从列表中选择", error_message=f"“{col.label}”只能从下拉列表中选择。")
                else:
                    opts["show_error"] = False
            elif col.validate == "number":
                opts = {"validate": "decimal", "criteria": ">=", "value": 0, **prompt,
                        "error_title": "请填数字", "error_message": f"“{col.label}”只能填数字。"}
            elif col.key == "name" and form.review.get("max_name_length"):
                n = form.review["max_name_length"]
                opts = {"validate": "length", "criteria": "<=", "value": n, **prompt,
                        "error_title": "内容过长", "error_message": f"“{col.label}”不超过{n}字。"}
            else:
                opts = {"validate": "any", **prompt}
            ws.data_validation(first, col.col, last, col.col, opts)
            by_list[col.list] = col
        l1 = by_list.get("level1")
        if l1 is not None:   # print 一级 once per block, as the official table does
            ref = _col(l1.col)
            ws.conditional_format(first + 1, l1.col, last, l1.col, {
                "type": "formula", "criteria": f"=AND({ref}{first + 2}<>\"\",{ref}{first + 2}={ref}{first + 1})",
                "format": self.st(font_color=COLORS["repeat_font"])})

    def _lists_sheet(self):
        ws = self.wb.add_worksheet(LISTS_SHEET)
        tax = self.form.taxonomy
        for i, l1 in enumerate(tax.level1):
            ws.write_string(i, 0, l1.name)
            ws.write_string(i, 1, f"PT_L2_{i + 1}")
            for j, l2 in enumerate(l1.level2):
                ws.write_string(j, 2 + i, l2.name)
            self.wb.define_name(f"PT_L2_{i + 1}", _range(2 + i, len(l1.level2)))
        n = len(tax.level1)
        self.wb.define_name("PT_L1", _range(0, n))
        self.wb.define_name("PT_MAP", f"='{LISTS_SHEET}'!$A$1:$B${n}")
        col = 2 + n
        for key, values in self.form.lists.items():
            for j, v in enumerate(values):
                ws.write_string(j, col, v)
            self.wb.define_name(f"PT_{key.upper()}", _range(col, len(values)))
            col += 1
        ws.very_hidden()
        self._protect(ws)

    def _stamp_sheet(self):
        ws = self.wb.add_worksheet(STAMP_SHEET)
        for i, (k, v) in enumerate(stamp_rows(self.payload, self.key)):
            ws.write_string(i, 0, k)
            ws.write_string(i, 1, v)
        ws.very_hidden()
        self._protect(ws)


def resolve(template: str, refs: dict) -> str:
    """Fill {name} references of a formula template; a second pass resolves names they bring in."""
    text = template
    for _ in range(2):
        text = text.format_map(refs)
    return text


def text_height(text: str, width: float) -> float:
    """Points a wrapped text needs in a column `width` units wide, however many (no cap)."""
    if not isinstance(text, str) or not text:
        return 0.0
    per_line = max(width / 2.1, 1)   # a CJK character is about two width units
    return 14 * sum(-(-len(part) // int(per_line)) or 1 for part in text.split("\n")) + 4


def fit_height(texts, minimum: float) -> float:
    """Row height (points) that shows wrapped CJK text, at most Excel's highest row; the clerk can still resize."""
    need = max([text_height(text, width) for text, width in texts] + [text_height("x", 1)])   # one line at least
    return max(minimum, min(409, need))


# What may start a typed quantitative value: a digit (also full-width), a sign, a decimal point, a minus.
VALUE_STARTS = "0123456789０１２３４５６７８９≥≤≧≦><=＞＜＝.-+－"
# Signs and separators a typed value may carry around its number; removed before VALUE() in a score formula.
_VALUE_NOISE = ("≥", "≤", "≧", "≦", ">", "<", "=", "＞", "＜", "＝", ",", "，", "%", "％", " ")


def number_or_na_rule(ref: str) -> str:
    """A validation formula accepting what a clerk types as an actual in a Text cell (stored as text, as
    Excel and WPS store it): a number, 不适用, or a value in the target's notation (≥266米, 90%)."""
    return (f'OR(ISNUMBER({ref}),TRIM({ref})="不适用",'
            f'ISNUMBER(FIND(LEFT(TRIM({ref})),"{VALUE_STARTS}")))')


def actual_number(ref: str, unit: str | None, band: bool = False) -> str:
    """The number in an actual cell as a score formula uses it: the typed text without its signs, separators
    and the target's unit (a Text cell keeps what was typed: 85 is the text "85"), through VALUE(); "" when
    there is none (blank, 不适用, words). band: a target around zero (±3%以内) compares the deviation's size."""
    text = f"TRIM(ASC({ref}))"   # ASC: full-width digits and signs to half-width (Excel, WPS, LibreOffice)
    for noise in _VALUE_NOISE + ((unit,) if unit and unit not in _VALUE_NOISE else ()):
        text = f'SUBSTITUTE({text},"{noise}","")'
    return f'IFERROR(ABS(VALUE({text})),"")' if band else f'IFERROR(VALUE({text}),"")'


_col = col_letters   # (short: the formulas are written with it)


def _range(col: int, n: int) -> str:
    c = _col(col)
    return f"='{LISTS_SHEET}'!${c}$1:${c}${max(n, 1)}"


def legacy_password_hash(password: str) -> str:
    """The 16-bit hash Excel keeps for sheet and workbook protection passwords."""
    h = 0
    for i, ch in enumerate(password, 1):
        c = ord(ch) << i
        h ^= (c & 0x7FFF) | (c >> 15)
    return f"{h ^ len(password) ^ 0xCE4B:X}"


class _FormulaCachedWorksheet(xlsxwriter.worksheet.Worksheet):
    """xlsxwriter rewrites every formula of a validation or conditional format through ~150
    regular expressions (future-function prefixes) — a third of a workbook's time. The
    rewrite depends on the text alone, and a form repeats the same few formulas on every
    sheet and in every workbook, so it is done once per text."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        if self.use_future_functions:
            return super()._prepare_formula(formula, expand_future_functions)
        return _prepared_formula(formula, expand_future_functions)


@functools.lru_cache(maxsize=16384)
def _prepared_formula(formula: str, expand: bool) -> str:
    return xlsxwriter.worksheet.Worksheet._prepare_formula(_PLAIN_SHEET, formula, expand)


_PLAIN_SHEET = types.SimpleNamespace(use_future_functions=False)


class LockedWorkbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook that also writes <workbookProtection lockStructure="1"/>,
    which xlsxwriter has no option for (sheets cannot be added, deleted, renamed or unhidden)."""

    structure_password: str | None = None
    worksheet_class = _FormulaCachedWorksheet

    def _write_book_views(self) -> None:
        attributes = []
        if self.structure_password:
            attributes.append(("workbookPassword", legacy_password_hash(self.structure_password)))
        attributes.append(("lockStructure", "1"))
        self._xml_empty_tag("workbookProtection", attributes)
        super()._write_book_views()


# --------------------------------------------------------------------------- public API

def workbook_bytes(form: Form, unit: Unit, opts: Options, fill: dict | None = None, marks=None) -> bytes:
    return WorkbookWriter(form, unit, opts, fill, marks).write()


def form_for_unit(unit: Unit, default_form: str | None, taxonomy: str | None = None) -> Form:
    form = load_form(unit.form or default_form or "hebei-project")
    return form.with_taxonomy(unit.taxonomy or taxonomy)


def file_name_for(form: Form, unit: Unit, year: int, folder=None) -> str:
    """The unit's workbook's name (the form's file_name); in `folder`, short enough for its path (fit_name)."""
    name = safe_file_name(form.meta["file_name"].format(unit_code=unit.code, unit_name=unit.name, year=year))
    return fit_name(folder, name) if folder is not None else name


def refuse_existing(paths, overwrite: bool = False) -> None:
    """Before anything is written: files already at the output paths are not overwritten unless asked;
    a return that has been filled in is never overwritten (it is somebody's work)."""

    existing = [Path(p) for p in paths if Path(p).exists()]
    if not existing:
        return
    filled = [p for p in existing if is_filled(p)]
    if filled:
        raise OutputError("这些文件已填写过内容（是单位的回执），不会被覆盖；请先把它们移到收件箱，或换一个输出文件夹：\n"
                          + "\n".join(f"  {p}（已填写的回执）" for p in filled))
    if not overwrite:
        raise OutputError(f"输出文件夹里已有 {len(existing)} 个同名文件，未覆盖任何文件：\n"
                          + "\n".join(f"  {p}" for p in existing[:20])
                          + (f"\n  ……共 {len(existing)} 个" if len(existing) > 20 else "")
                          + "\n要重新生成请加 --overwrite，只重发个别单位请用 --unit 单位编码，或换一个输出文件夹")


def is_filled(path: Path) -> bool:
    """A workbook at an output path that a unit has filled in (not a template as generated): read with
    the reader's own layers (read, stamp, extract) — anything else is somebody's file, never overwritten."""

    if not path.is_file():
        return True   # a folder or something else: never overwritten
    try:
        data = path.read_bytes()
        if not data:
            return False
        book = read_book(data)
        payload = read_stamp(book.sheets[STAMP_SHEET])
        stamp = Stamp.of(payload)
        form = load_form(stamp.form).with_taxonomy(stamp.taxonomy)
        return extract(book, form, payload).entered > 0
    except Exception:   # unreadable, not our template, another version: treat it as somebody's file
        return True


def write_unit(unit: Unit, outdir: Path, opts: Options, form_id: str | None, taxonomy: str | None) -> Path:
    form = form_for_unit(unit, form_id, taxonomy)
    path = outdir / file_name_for(form, unit, opts.year, outdir)
    write_bytes(path, workbook_bytes(form, unit, opts))
    return path


LISTING = "发送清单.csv"
LISTING_HEAD = ["单位编码", "单位名称", "文件", "联系人", "联系电话", "邮箱"]


def generate(roster: Roster, outdir, opts: Options, form_id: str | None = None,
             taxonomy: str | None = None, progress=None, workers: int | None = None,
             units: list[str] | None = None, overwrite: bool = False) -> list[tuple[Unit, Path]]:
    """One workbook per unit (in worker processes when there are many; the files are the same either way).
    units: re-issue only these unit codes (the 发送清单 keeps the others' lines).
    Files already there are refused before anything is written (see refuse_existing)."""

    outdir = Path(outdir)
    chosen = roster.units
    if units:
        unknown = [c for c in units if roster.unit(c) is None]
        if unknown:
            raise OutputError("名单中没有这些单位编码：" + "、".join(unknown))
        chosen = [u for u in roster.units if u.code in set(units)]
    for unit in chosen:   # an unknown form fails here, before any work is handed out
        form_for_unit(unit, form_id, taxonomy)
    targets = [outdir / file_name_for(form_for_unit(u, form_id, taxonomy), u, opts.year, outdir) for u in chosen]
    if len(set(targets)) < len(targets):
        dup = next(t for t in targets if targets.count(t) > 1)
        raise OutputError(f"名单中有两个单位会生成同名文件“{dup.name}”（单位编码和名称相同？），请检查名单")
    refuse_existing(targets, overwrite or bool(units))
    import dataclasses
    opts = dataclasses.replace(opts, key=opts.signing_key())   # made once, here, before the workers start
    outdir.mkdir(parents=True, exist_ok=True)
    items = [(unit, outdir, opts, form_id, taxonomy) for unit in chosen]
    with fewer_gc_passes():
        written = list(zip(chosen, parallel_map(write_unit, items, workers, progress)))
    rows = {unit.code: [unit.code, unit.name, path.name, unit.contact, unit.phone, unit.email]
            for unit, path in written}
    listing = outdir / LISTING
    if units and listing.is_file():   # re-issue: the other units' lines stay as they were
        old = read_rows(listing)
        kept = [[unguard(v) for v in r] for r in old[1:] if r and unguard(r[0]) not in rows]
        rows = {r[0]: r for r in kept} | rows
    write_csv(listing, [LISTING_HEAD, *rows.values()])
    return written


def fill_from_record(form: Form, record: dict) -> dict:
    """Turn a transcribed table (examples/seed_tables.json shape) into generator fill values."""

    projects = {}
    for i, p in enumerate(record["projects"], 1):
        fields = {k: p[k] for k in ("use", "goal") if p.get(k)}
        for cell, v in zip(form.plan_fields(), p.get("plan", [])):
            v = clean(v).rstrip("%")
            fields[cell.field] = float(v) if v else None
        indicators = []
        for l1, l2, name, desc, value, basis in p["indicators"]:
            row = {"level1": l1, "level2": l2, "name": name, "description": desc, "basis": basis}
            row.update(value_cells(parse(value)))
            indicators.append(row)
        projects[form.meta["sheet_name"].format(seq=i)] = {"fields": fields, "indicators": indicators}
    return {"texts": record.get("texts", {}), "projects": projects}
