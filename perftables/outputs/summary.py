"""roll-up: the county summary workbook and its tidy CSV exports."""
from __future__ import annotations

import csv
import datetime as dt
import pickle
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import islice
from pathlib import Path

import xlsxwriter

from .schema import ColumnKind, Heading, Sheet
from ..core.kinds import ACCEPTED_FATES, Fate, FormKind, Severity
from ..core import files
from ..core.files import atomic_path
from ..cycle.collect import ACCEPTED, ACCEPTED_FINDINGS, BLANK, Collection, FileRecord
from ..io.book import Format
from ..io.extract import ERROR, Indicator, ProjectReturn, STANDARD_KEYS, UnitReturn, WARNING
from ..io.sheetxml import (LINE_HEIGHT, LONG_WIDTH, MAX_ROW_HEIGHT, Splice, deflate, long_width, render, row_lines, splice)
from ..core.value import DEFAULT_MONEY, MONEY_UNITS, convert_money, format_number, money_factor, parse, parse_amount
from ..core.parallel import default_workers, parallel_iter, usable_workers
from ..forms.form import load_form
from ..model.roster import money_header
from ..model.scoring import grade_of, Rules
from ..review.dept import YEARS
from ..cycle.ledger import APPROVE_COLUMN, Ledger



@dataclass
class Table:
    name: str
    columns: list[tuple[str, ColumnKind]]   # (header, kind); kinds given as their words are read as ColumnKind
    rows: list[list] = field(default_factory=list)
    total: bool = False                     # add a 合计 row over amount and int columns
    chart: tuple | None = None              # (type, category column, value column(s), title): a native chart
    source: Callable[[], Iterator[list]] | None = None   # rows made on demand instead of held (指标明细)
    size: int = 0                           # how many rows the source makes
    # made in parallel, never held (see `_fill`): the worksheet rows of each sheet part, ready for
    # sheetxml.splice; the CSV rows spooled to a file; the column sums of the 合计 row
    parts: list | None = None
    whole: bool = False                     # always written by the main process (a row a unit, long texts
                                            # fitted: columns widened, a very long one over merged rows)
    csv: object = None
    sums: list | None = None
    sample: list = field(default_factory=list)   # its first rows, to fit the column widths
    compact: bool = False                   # printed as filed: rows at most two lines, borders, one page wide
    printed: int = 0                        # only its first columns are printed (0: all)
    unpublished: frozenset = frozenset()    # headers a table for 预算公开 leaves out (earlier years' figures)

    def __post_init__(self):
        self.columns = [(h, ColumnKind(kind)) for h, kind in self.columns]

    @property
    def n_rows(self) -> int:
        return len(self.rows) if self.source is None and self.parts is None else self.size

    def iter_rows(self) -> Iterator[list]:
        return iter(self.rows) if self.source is None else self.source()

    def total_row(self) -> list:
        sums = self.sums if self.sums is not None else [sum(r[i] or 0 for r in self.rows) for i in self.sum_columns]
        by_col = dict(zip(self.sum_columns, sums))
        return ["合计" if i == 0 else round(by_col[i], 2) if i in by_col else None for i in range(len(self.columns))]

    @property
    def sum_columns(self) -> list[int]:
        return [i for i, (_, kind) in enumerate(self.columns) if i and kind.summed]


def _forms(col: Collection) -> list:
    """Every form (with its taxonomy) the accepted returns were filled on, once each."""
    seen = {}
    for rec in col.accepted:
        seen.setdefault((rec.stamp.form, rec.stamp.taxonomy), rec)
    return [rec.form for rec in seen.values()]


def _quant_share(indicators) -> float | None:
    if not indicators:
        return None
    return sum(i.value.is_quantitative for i in indicators) / len(indicators)


def _severity_counts(findings, sheet=None) -> tuple[int, int]:
    fs = [f for f in findings if sheet is None or f.sheet == sheet]
    return sum(f.severity == ERROR for f in fs), sum(f.severity == WARNING for f in fs)


def build_tables(col: Collection, workers: int | None = 1, render: dict | None = None) -> list[Table]:
    """The summary's tables.

    A project target collection's tables are made a return at a time (`_target_pieces`), each return
    unpacked once, in `workers` processes. render: when the tables go to a workbook (and CSV files),
    a table of more than SPLICE_ROWS rows is not held but written there and then, in the workers, as
    deflated worksheet rows and CSV text — {"export": whether CSV files are wanted, "spool": a folder
    for the temporary files they are spooled to}. Without it every row is held, for the data API and
    publishing."""
    accepted = sorted(col.accepted, key=lambda r: (r.unit_code, r.display))
    tables = _status_tables(col)
    tables += KIND_TABLES.get(col.kind, _target_tables)(col, accepted, workers, render)
    notes = _notes_table(col)
    if notes.rows:   # right after 审核问题
        tables.insert(next(i for i, t in enumerate(tables) if t.name == Sheet.FINDINGS) + 1, notes)
    return tables


def _status_tables(col: Collection) -> list[Table]:
    tables = []
    by_unit = {f.unit_code: f for f in col.accepted}
    if col.roster is not None:
        ledger = col.ledger
        if ledger is None:   # not kept beside a summary (the Python API): this collection's own
            ledger = Ledger(None)
            ledger.observe(col)
        today = col.today or dt.date.today()
        # what a bureau files first (printed: STATUS_PRINTED columns), then what the coordinator looks up
        t = Table(Sheet.STATUS, [("单位编码", "text"), ("单位名称", "text"), ("状态", "text"), ("进度", "text"),
                              ("报送次数", "int"), ("逾期天数", "int"), ("项目数", "int"), ("错误数", "int"),
                              ("警告数", "int"), (APPROVE_COLUMN, "text"), ("联系人", "text"), ("联系电话", "text"),
                              ("文件", "text"), ("保存时间", "time"), ("经过", "text"), ("文件SHA-256", "text"),
                              ("邮箱", "text")], total=False, compact=True, printed=STATUS_PRINTED)
        blank = {f.unit_code: f for f in col.files if f.fate == BLANK}
        pending = {code for f in col.files if f.fate == Fate.PENDING for code in (f.unit_code, f.claimed)}
        for unit in col.roster.units:
            rec = by_unit.get(unit.code)
            st = ledger.state(unit.code, today)
            progress = [Fate.PENDING.value if unit.code in pending else st.state, st.times or None, st.days_late]
            approved, contact = "是" if st.approved else None, [unit.contact, unit.phone]
            if rec is None:
                sent = blank.get(unit.code)
                t.rows.append([unit.code, unit.name, BLANK if sent else "未报送", *progress, None, None, None, approved,
                               *contact, sent.display if sent else None, sent.when if sent else None, st.history,
                               None, unit.email])
                continue
            status = "已报送（有错误）" if rec.errors else "已报送（有警告）" if rec.warnings else "已报送"
            t.rows.append([unit.code, unit.name, status, *progress, rec.n_projects, rec.errors, rec.warnings, approved,
                           *contact, rec.display, rec.when, st.history, rec.sha256, unit.email])
        tables.append(t)
    t = Table(Sheet.FILES, [("文件", "text"), ("处理结果", "text"), ("说明", "long"), ("单位编码", "text"),
                          ("单位名称", "text"), ("年度", "text"), ("表式", "text"), ("格式", "text"),
                          ("保存时间", "time"), ("大小（字节）", "int"), ("SHA-256", "text")])
    for f in col.files:
        st = f.stamp
        t.rows.append([f.display, f.fate, f.reason, f.unit_code, f.unit_name, "" if st.year is None else str(st.year),
                       st.form, f.format, f.when if f.sha256 else None, f.size, f.sha256])
    tables.append(t)
    return tables


STRUCTURE = Sheet.STRUCTURE
WIDE_STRUCTURE_UNITS = 100   # 指标结构 with a column a unit up to this many units
CHUNK_WORK = 2_000    # indicators (and returns) in a worker's share of the tables
SPLICE_ROWS = 500   # a longer table is made in the workers and put into the workbook as XML (sheetxml)


def _target_tables(col: Collection, accepted: list, workers: int | None, render: dict | None) -> list[Table]:
    layout = target_layout(_forms(col))
    blocks, plan_n, text_specs, _, extra, _ = layout
    block_cols = [(f"{name}数", "int") for _, name in blocks]
    amount_cols = [(header, "amount") for _, header, _ in _amount_fields(layout)]
    units = Table(Sheet.UNITS, [("单位编码", "text"), ("单位名称", "text"), ("项目数", "int"), *amount_cols, ("指标数", "int"),
                              *block_cols, ("定量指标数", "int"), ("定量指标占比", "pct"), ("错误数", "int"),
                              ("警告数", "int")], total=True,
                  chart=("bar", 1, 3, f"各单位{amount_cols[0][0]}") if amount_cols else None)
    projects = Table(Sheet.PROJECTS, [("单位编码", "text"), ("单位名称", "text"), ("工作表", "text"), ("项目编码", "text"),
                                 ("项目名称", "text"), *amount_cols,
                                 *[(f"累计支出进度{i}（%）", "amount_plain") for i in range(1, plan_n + 1)],
                                 ("指标数", "int"), *block_cols, ("定量指标占比", "pct"), ("错误数", "int"),
                                 ("警告数", "int"), *[(header, kind) for _, header, kind in _text_fields(layout)]],
                     total=True)
    details = Table(Sheet.INDICATORS, [("单位编码", "text"), ("单位名称", "text"), ("项目编码", "text"), ("项目名称", "text"),
                                ("工作表", "text"), ("行号", "int_plain"), ("一级指标", "text"), ("二级指标", "text"),
                                ("三级指标", "text"), ("绩效指标描述", "long"), ("指标值", "text"), ("符号", "text"),
                                ("数值", "number"), ("计量单位", "text"), ("附注", "text"), ("指标类型", "text"),
                                ("指标值确定依据", "text"), *[(label, "text") for _, label in extra]])
    texts = Table(Sheet.UNIT_GOALS, [("单位编码", "text"), ("单位名称", "text"), *[(a, "long") for _, a in text_specs]],
                  whole=True)
    issues = _issues_table(col, {})
    rows_of = {units.name: lambda rec: 1, texts.name: lambda rec: 1, projects.name: lambda rec: rec.n_projects,
               details.name: lambda rec: rec.n_indicators, issues.name: lambda rec: rec.errors + rec.warnings}
    structure = _fill([units, projects, details, issues, texts], rows_of, accepted, layout, workers, render)
    order = {}
    for form in _forms(col):
        for i, l1 in enumerate(form.taxonomy.level1):
            for j, l2 in enumerate(l1.level2):
                order.setdefault((l1.name, l2.name), (i, j))
    keys = sorted(structure, key=lambda k: (order.get(k, (99, 99)), k))
    if len(accepted) <= WIDE_STRUCTURE_UNITS:   # a county: one column a unit, to read across
        st = Table(STRUCTURE, [("一级指标", "text"), ("二级指标", "text"), *[(rec.unit_name, "int") for rec in accepted],
                               ("合计", "int")], total=True)
        for key in keys:
            counts = structure[key]
            st.rows.append([*key, *counts, sum(counts)])
    else:   # more: one row a unit (Excel has 16,384 columns), pairs not in the taxonomy in one column
        known = [k for k in keys if k in order]
        other = [k for k in keys if k not in order]
        st = Table(STRUCTURE, [("单位编码", "text"), ("单位名称", "text"), *[(f"{l1}/{l2}", "int") for l1, l2 in known],
                               *([("不在指标体系中", "int")] if other else []), ("合计", "int")], total=True)
        for i, rec in enumerate(accepted):
            counts = [structure[k][i] for k in known] + ([sum(structure[k][i] for k in other)] if other else [])
            st.rows.append([rec.unit_code, rec.unit_name, *counts, sum(counts)])
    return [units, projects, details, st, issues, texts]   # 整体绩效目标 last, after 审核问题


IDENTITY_FIELDS = ("project_code", "project_name")   # every project has them: standard columns


def summary_money(forms) -> str:
    """The money unit of a summary: the forms' own when they share one (a province in 元 sums in 元), else
    万元, every amount converted."""
    units = {f.money for f in forms}
    return units.pop() if len(units) == 1 else DEFAULT_MONEY


def project_fields(form, money: str | None = None) -> list[tuple[str, str, str]]:
    """The fields a form describes for each project, as summary columns: (field, header, kind) in the
    order of the form — amounts in `money` (the form's own unit unless told) under the form's own title,
    texts, long texts. The spending plan
    has columns of its own; the identity fields are standard; templates filled from the roster (表题) are
    not data. 预算数 is always there: the budget system knows it for every project, and a form that does
    not print it (唐山: in the prose) still carries it in its stamp."""
    money = money or form.money
    out = [] if form.has_field("budget") else [("budget", f"预算数（{money}）", "amount")]
    for key, (_, cell) in form.fields().items():
        if key in IDENTITY_FIELDS or cell.value is not None or cell.type == "plan" or cell.formula:
            continue
        title = re.sub(r"^其中[：:]\s*", "", cell.title or key)
        if cell.type == "amount":
            out.append((key, f"{title}（{money}）", "amount"))
        else:
            out.append((key, title, "long" if cell.type == "longtext" else "text"))
    return out


def target_layout(forms) -> tuple:
    """What the columns of the target tables depend on, over every form collected: the 一级 blocks
    ((id, printed name) in taxonomy order), the number of spending-plan fields, the unit sheet's
    text fields ((field, anchor)), and every project field of every form ((field, header, kind), the
    first form's header for a field two forms share), and the money unit of the amounts."""
    blocks, texts, fields, extra = {}, {}, {}, {}
    money = summary_money(forms)
    for form in forms:
        for l1 in form.taxonomy.level1:
            blocks.setdefault(l1.block, l1.name)
        for spec in form.unit_sheet.get("rows", []):
            texts.setdefault(spec["field"], spec["anchor"])
        for key, header, kind in project_fields(form, money):
            fields.setdefault(key, (key, header, kind))
        for col in form.input_columns:   # the grid's own columns (备注…): at the end of 指标明细
            if col.key not in STANDARD_KEYS:
                extra.setdefault(col.key, (col.key, col.label))
    return (tuple(blocks.items()), max((len(f.plan_fields()) for f in forms), default=4), tuple(texts.items()),
            tuple(fields.values()), tuple(extra.values()), money)


def _cell_text(value) -> str:
    """A grid cell of the form's own (备注…) as the summary shows it."""
    if value is None:
        return ""
    return format_number(value) if isinstance(value, float) else str(value)


def _amount(p, key, factor: float = 1.0):
    """An amount of a project: as read, else (budget, fiscal, other) what its stamp carries from the roster;
    times factor (from the form's money unit to the summary's)."""
    value = p.values.get(key)
    value = getattr(p, key, None) if value is None and key in ("budget", "fiscal", "other") else value
    if factor != 1.0 and isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(value * factor, 6)
    return value


def _amount_fields(layout) -> list:
    return [f for f in layout[3] if f[2] == ColumnKind.AMOUNT]


def _text_fields(layout) -> list:
    return [f for f in layout[3] if f[2] != "amount"]


def own_rows(ret) -> tuple | None:
    """In the worker that has just read a target return: what it adds to each table, laid out by its own
    form (the common case: every return on one form), packed. Collect then needs not unpack the return
    again; the file name in 审核问题 is the record's, put in when the rows are used."""
    if not ret.form.kind.projects_from_roster:
        return None
    form = ret.form
    key = (form.id, form.version, str(form.path), form.taxonomy_id)
    layout = _OWN_LAYOUTS.get(key)
    if layout is None:   # worked out once a worker: own_rows asks for it with every return
        layout = _OWN_LAYOUTS[key] = target_layout([form])
    return _rows_key(layout), zlib.compress(pickle.dumps(_target_pieces(ret, layout), pickle.HIGHEST_PROTOCOL), 1)


_OWN_LAYOUTS: dict[tuple, tuple] = {}


def _rows_key(layout) -> tuple:
    """What a return's rows depend on (the printed names aside): rows made for one key serve another
    collection only if its key is the same."""
    blocks, plan_n, texts, fields, extra, money = layout
    return (tuple(b for b, _ in blocks), plan_n, tuple(f for f, _ in texts), tuple(f for f, _, _ in fields),
            tuple(k for k, _ in extra), money)


def _target_pieces(ret, layout) -> dict:
    """What one return adds to each table (and to 指标结构: its indicators by 一级 and 二级)."""
    blocks, plan_n, text_fields, _, extra, money = layout
    amounts, texts = [f for f, _, _ in _amount_fields(layout)], [f for f, _, _ in _text_fields(layout)]
    factor = money_factor(ret.form.money, money)
    tax = ret.form.taxonomy

    block_of = {}   # 一级 as written → its block (None: not in the taxonomy)

    def by_block(indicators) -> list[int]:
        counts = dict.fromkeys((b for b, _ in blocks), 0)
        for ind in indicators:
            if ind.level1 not in block_of:
                l1 = tax.find_level1(ind.level1)
                block_of[ind.level1] = l1.block if l1 is not None else None
            block = block_of[ind.level1]
            if block in counts:
                counts[block] += 1
        return list(counts.values())

    all_ind = [i for p in ret.projects for i in p.indicators]
    errors, warnings = _severity_counts(ret.findings)
    by_sheet: dict[str, list] = {}
    for f in ret.findings:
        by_sheet.setdefault(f.sheet, []).append(f)
    code, name = ret.unit_code, ret.unit_name
    projects, details, structure = [], [], {}
    for p in ret.projects:
        e, w = _severity_counts(by_sheet.get(p.sheet, ()))
        projects.append([code, name, p.sheet, p.code, p.name, *(_amount(p, f, factor) for f in amounts),
                         *(p.plan + [None] * plan_n)[:plan_n], len(p.indicators), *by_block(p.indicators),
                         _quant_share(p.indicators), e, w, *(p.values.get(f) or "" for f in texts)])
        for ind in p.indicators:
            v = ind.value
            details.append([code, name, p.code, p.name, p.sheet, ind.row, ind.level1, ind.level2, ind.name,
                            ind.description, v.render(), v.op or "", v.num, v.unit or "",
                            " ".join(x for x in (v.suffix, v.note) if x), v.kind.title, ind.basis,
                            *(_cell_text(ind.extra.get(k)) for k, _ in extra)])
            structure[(ind.level1, ind.level2)] = structure.get((ind.level1, ind.level2), 0) + 1
    return {
        Sheet.UNITS: [[code, name, len(ret.projects),
                   *(round(sum(_amount(p, f, factor) or 0 for p in ret.projects), 2) for f in amounts),
                   len(all_ind), *by_block(all_ind), sum(i.value.is_quantitative for i in all_ind),
                   _quant_share(all_ind), errors, warnings]],
        Sheet.PROJECTS: projects, Sheet.INDICATORS: details, Sheet.FINDINGS: _issue_rows(ret.findings),
        Sheet.UNIT_GOALS: [[code, name, *[ret.texts.get(f, "") for f, _ in text_fields]]], STRUCTURE: structure}


def _fill(tables: list[Table], rows_of: dict, records: list, layout, workers: int | None,
          render: dict | None) -> dict:
    """Every table's rows from the records, a chunk of records per worker, each return unpacked once.
    A table of more than SPLICE_ROWS rows, when rendering, becomes worksheet XML and CSV text in the
    workers, each row at the place counted for it beforehand (rows_of: rows a record adds, known
    without unpacking it). Returns 指标结构's counts: (一级, 二级) → count per record."""

    workers = default_workers() if workers is None else usable_workers(workers)
    n = len(records)
    structure: dict[tuple, list[int]] = {}
    jobs, spools = {}, {}
    styles = _style_indices() if render is not None else {}
    for t in tables:
        expected = sum(rows_of[t.name](rec) for rec in records)
        if render is None or expected <= SPLICE_ROWS or t.whole:
            jobs[t.name] = None
            continue
        per_sheet = MAX_SHEET_ROWS - 1 - (1 if t.total else 0)
        n_parts = max(1, -(-expected // per_sheet))
        t.parts = [Splice(min(per_sheet, expected - i * per_sheet) + 1, len(t.columns), render.get("spool"))
                   for i in range(n_parts)]
        t.size, t.sums = expected, [0.0] * len(t.sum_columns)
        jobs[t.name] = (per_sheet, [styles[k] for _, k in t.columns], bool(render.get("export")), t.sum_columns,
                        [c for c, (_, k) in enumerate(t.columns) if k == "long"])
        t.source = partial(_rows_again, t.name, records, layout)   # for SQLite, Parquet: made again, serially
        if render.get("export"):
            import tempfile
            t.csv = spools[t.name] = tempfile.TemporaryFile(dir=render.get("spool"))
    # chunks of about equal work, many per worker so that all finish together; cut the same way for any
    # number of workers, so that the workbook is the same to the byte
    chunks, acc, begin = [], 0, 0
    for i, rec in enumerate(records):
        acc += 1 + rec.n_indicators
        if acc >= CHUNK_WORK or i == n - 1:
            chunks.append((begin, i + 1))
            acc, begin = 0, i + 1
    starts, key = {name: 0 for name in jobs}, _rows_key(layout)
    items = []
    for a, b in chunks:
        todo = {}
        for name, job in jobs.items():
            todo[name] = None if job is None else (starts[name], *job)
            starts[name] += sum(rows_of[name](rec) for rec in records[a:b])
        # what the workers need: the rows made while reading (the whole return where they do not fit)
        items.append(([replace(rec, packed=None) if rec.rows is not None and rec.rows[0] == key else rec
                       for rec in records[a:b]], layout, todo))
    for k, result in enumerate(parallel_iter(_fill_chunk, items, workers, min_items=2)):   # to its end: the pool shut
        a, b = chunks[k]
        for name, got in result.items():
            if name == STRUCTURE:
                for key, counts in got.items():
                    structure.setdefault(key, [0] * n)[a:b] = counts
                continue
            t = next(t for t in tables if t.name == name)
            if jobs[name] is None:
                t.rows.extend(got)
                continue
            made, pieces, text, sums, sample = got
            t.sample += sample[:500 - len(t.sample)]
            if made != sum(rows_of[name](rec) for rec in records[a:b]):   # rows would be misplaced
                raise RuntimeError(f"{name}: {made} rows made where others were counted")
            for part, piece in pieces:
                t.parts[part].add(piece)
            if text is not None:
                spools[name].write(text.encode("utf-8"))
            t.sums = [x + y for x, y in zip(t.sums, sums)]
    return structure


def _fill_chunk(records: list, layout, todo: dict) -> dict:
    """In a worker: the rows these records add to each table; a rendered table's as deflated XML by sheet
    part, CSV text and column sums."""

    rows: dict[str, list] = {name: [] for name in todo}
    structure: dict[tuple, list[int]] = {}
    for i, rec in enumerate(records):
        if rec.rows is not None and rec.rows[0] == _rows_key(layout):
            pieces = pickle.loads(zlib.decompress(rec.rows[1]))
        else:
            pieces = _target_pieces(rec.result, layout)
        for row in pieces[Sheet.FINDINGS]:
            row[2] = rec.display
        for name in todo:
            rows[name] += pieces[name]
        for key, count in pieces[STRUCTURE].items():
            structure.setdefault(key, [0] * len(records))[i] = count
    out: dict = {STRUCTURE: structure}
    for name, job in todo.items():
        if job is None:
            out[name] = rows[name]
            continue
        start, per_sheet, styles, export, sum_cols, long_cols = job
        got = rows[name]
        pieces, i = [], 0
        while i < len(got):
            part, within = divmod(start + i, per_sheet)
            take = min(len(got) - i, per_sheet - within)
            pieces.append((part, deflate(render(got[i:i + take], within + 2, styles, long_cols).encode("utf-8"))))
            i += take
        text = files.csv_text(got, _csv_value) if export else None
        out[name] = (len(got), pieces, text, [sum(r[c] or 0 for r in got) for c in sum_cols],
                     got[:500 - start] if start < 500 else [])
    return out


def _rows_again(name: str, records: list, layout) -> Iterator[list]:
    for rec in records:
        yield from _target_pieces(rec.result, layout)[name]


DEPT_VALUE_KEYS = {"op", "num", "unit", "value"}   # an indicator's value: its own columns (指标值, 符号, 数值 …)
# the columns whose role says what they are, under one header whatever a form prints (a year's label, “{y1}年”,
# changes every year; history reads them back by these names)
DEPT_ROLE_HEADERS = {"level1": "一级指标", "level2": "二级指标", "name": "三级指标", "hist2": "前年指标值",
                     "hist1": "上年指标值", "basis": "指标值确定依据", "category": "指标分类"}
ANNUAL_TABLE = "年度绩效指标"   # 部门指标's 表格 for the main grid (inline indicator tables: their anchor)


@dataclass
class DeptLayout:
    """What a department summary shows, from the forms' own fields and columns (no field known by name
    except by its role): every amount field (部门资金), every text field (部门目标), every column of the
    indicator grids (部门指标) and of the project list (部门项目), under the forms' own titles, in their order."""
    money: str
    amounts: dict[str, str]          # field → header (with the money unit)
    texts: dict[str, tuple]          # field → (header, kind)
    indicator_cols: dict[str, str]   # grid column key → header, besides the value's own columns
    project_cols: dict[str, tuple]   # project-list column key → (header, kind)

    @classmethod
    def of(cls, forms: list) -> "DeptLayout":
        money = summary_money(forms) if forms else DEFAULT_MONEY
        out = cls(money, {}, {}, {k: DEPT_ROLE_HEADERS[k] for k in ("level1", "level2", "name")}, {})
        for form in forms:
            for key, (_, cell) in form.fields().items():
                if cell.formula or cell.value is not None:
                    continue   # printed titles and the sheet's formulas are not data
                title = cell.title or cell.label or key
                if cell.type == "amount":
                    out.amounts.setdefault(key, f"{money_header(title)[0]}（{money}）")
                else:
                    out.texts.setdefault(key, (title, "long" if cell.type == "longtext" else "text"))
            grids = [form.main_grid, *(g for g in form.tables.values() if g.spec.get("kind") == "indicators")]
            for grid in grids:
                for col in grid.input_columns:
                    if col.key not in DEPT_VALUE_KEYS:
                        out.indicator_cols.setdefault(col.key, DEPT_ROLE_HEADERS.get(col.key, col.label))
            if "projects" in form.tables:
                for col in form.tables["projects"].input_columns:
                    numeric = col.validate == "number"
                    out.project_cols.setdefault(col.key, (f"{money_header(col.label)[0]}（{money}）" if numeric
                                                          else col.label, "amount" if numeric else "long"))
        # this year's amounts first, then the earlier years' (fields named with the years' suffix, _y1, _y2)
        out.amounts = dict(sorted(out.amounts.items(), key=lambda kv: _year_rank(kv[0])))
        return out

    @property
    def earlier(self) -> frozenset:
        """The headers of the earlier years' amounts."""
        return frozenset(h for k, h in self.amounts.items() if _year_rank(k))


def _year_rank(key: str) -> int:
    return next((i for i, (suffix, _) in enumerate(YEARS) if suffix and key.endswith(suffix)), 0)


def _from_returns(make: Callable) -> Callable:
    """A kind whose tables are made from its returns, each unpacked once (in the main process), then 审核问题."""
    def tables(col: Collection, accepted: list, workers=None, render=None) -> list[Table]:
        findings: dict[int, list] = {}

        def unpacked():
            for rec in accepted:
                ret = rec.result
                findings[id(rec)] = ret.findings
                yield ret
        return [*make(col, unpacked()), _issues_table(col, findings)]
    return tables


def _dept_tables(col: Collection, returns: Iterator) -> list[Table]:
    """部门资金 (every amount field, with the shares and growth its roles allow), 部门指标 (every indicator of
    every indicator grid, with every column of the form), 部门指标结构, 部门项目, 部门目标 (every text field)."""
    lay = DeptLayout.of([f for f in _forms(col) if f.kind.takes_department_data])
    funds, indicators, projects, goals = _dept_table_heads(lay)
    counts: dict[str, list[int]] = {}
    for ret in returns:
        errors, warnings = _severity_counts(ret.findings)

        def m(value, source=ret.form.money):   # an amount in the summary's unit
            return convert_money(value, source, lay.money)
        for pr in ret.projects:
            v = {k: m(x) if k in lay.amounts else x for k, x in pr.values.items()}
            funds.rows.append([ret.unit_code, ret.unit_name, *[v.get(k) for k in lay.amounts],
                               *_dept_derived(lay, v, pr, m), errors, warnings])
            for r in pr.tables.get("projects", []):
                projects.rows.append([ret.unit_code, ret.unit_name, *[
                    m(r.get(k)) if kind == ColumnKind.AMOUNT else r.get(k) for k, (_, kind) in lay.project_cols.items()]])
            goals.rows.append([ret.unit_code, ret.unit_name, *[v.get(k) or "" for k in lay.texts]])
            grids = [(g.anchor, pr.tables.get(key, [])) for key, g in ret.form.tables.items()
                     if g.spec.get("kind") == "indicators"] + [(ANNUAL_TABLE, pr.indicators)]
            for table, inds in grids:
                for ind in inds:
                    val = ind.value
                    indicators.rows.append([ret.unit_code, ret.unit_name, int(ret.stamp.year or col.year or 0), table,
                                            ind.row, *[_indicator_cell(ind, k) for k in lay.indicator_cols],
                                            val.render(), val.op or "", val.num, val.unit or "",
                                            val.kind.title])
                    if table == ANNUAL_TABLE:
                        category = _plain(ind.extra.get("category"))
                        c = counts.setdefault(ind.level1 or "（未选）", [0, 0, 0])
                        c[0] += 1
                        c[1] += category == "绩效基本型"
                        c[2] += category == "绩效创新型"
    structure = Table(Sheet.DEPT_STRUCTURE, [("一级指标", "text"), ("年度指标数", "int"), ("绩效基本型", "int"),
                                      ("绩效创新型", "int")], total=True, chart=("bar", 0, 1, "年度绩效指标按一级指标（条）"))
    order = {l1.name: i for form in _forms(col) for i, l1 in enumerate(form.taxonomy.level1)}
    structure.rows = [[k, *v] for k, v in sorted(counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))]
    return [funds, indicators, structure, projects, goals]


def _dept_table_heads(lay: DeptLayout) -> tuple[Table, Table, Table, Table]:
    who = [("单位编码", "text"), ("单位名称", "text")]
    derived = _dept_derived(lay)
    funds_cols = [*who, *[(h, "amount") for h in lay.amounts.values()], *derived, ("错误数", "int"), ("警告数", "int")]
    years = [k for k in ("exp_total_y2", "exp_total_y1", "exp_total") if k in lay.amounts]
    chart = ("column", 1, [2 + list(lay.amounts).index(k) for k in years],
             f"各单位近三年{money_header(lay.amounts['exp_total'])[0]}（{lay.money}）") if len(years) == 3 else None
    funds = Table(Sheet.DEPT_FUNDS, funds_cols, total=True, chart=chart, unpublished=lay.earlier)
    indicators = Table(Sheet.DEPT_INDICATORS, [*who, ("年度", "int_plain"), ("表格", "text"), ("行号", "int_plain"),
                                               *[(h, "text") for h in lay.indicator_cols.values()],
                                               ("指标值", "text"), ("符号", "text"), ("数值", "number"),
                                               ("计量单位", "text"), ("指标类型", "text")])
    projects = Table(Sheet.DEPT_PROJECTS, [*who, *lay.project_cols.values()], total=True)
    goals = Table(Sheet.DEPT_GOALS, [*who, *[(h, "long") for h, _ in lay.texts.values()]])
    return funds, indicators, projects, goals


def _dept_derived(lay: DeptLayout, v: dict | None = None, pr=None, m=None) -> list:
    """The columns the roles allow beyond the form's own amounts — 特定目标类占比 (exp_project of exp_total),
    比上年增减 (exp_total against exp_total_y1), 项目清单合计 (the project list's budgets): their headers
    (without v) or one department's values."""
    out = []
    has = lay.amounts.keys()
    if {"exp_project", "exp_total"} <= has:
        total = v.get("exp_total") if v else None
        out.append(("特定目标类占比", "pct") if v is None else
                   (v.get("exp_project") or 0) / total if total else None)
    if {"exp_total", "exp_total_y1"} <= has:
        now, before = (v.get("exp_total"), v.get("exp_total_y1")) if v else (None, None)
        out.append(("比上年增减", "pct") if v is None else
                   (now - before) / before if now is not None and before else None)
    if "budget" in lay.project_cols:
        out.append((f"项目清单合计（{lay.money}）", "amount") if v is None else
                   round(sum(m(r.get("budget")) or 0 for r in pr.tables.get("projects", [])), 2))
    return out


def _indicator_cell(ind, key: str) -> str:
    if key in ("level1", "level2", "name", "description", "basis"):
        return getattr(ind, key) or ""
    return _plain(ind.extra.get(key))


def _plain(value) -> str:
    if value is None:
        return ""
    return format_number(value) if isinstance(value, float) else str(value).strip()


def _notes_table(col: Collection) -> Table:
    """单位备注: the notes clerks left on cells — questions to the coordinator, never dropped."""
    t = Table(Sheet.NOTES, [("单位编码", "text"), ("单位名称", "text"), ("文件", "text"), ("工作表", "text"),
                          ("单元格", "text"), ("作者", "text"), ("备注", "long")])
    for rec in sorted(col.accepted, key=lambda r: r.unit_code):
        if not rec.n_notes:
            continue
        for sheet, cell, author, text in rec.result.notes:
            t.rows.append([rec.unit_code, rec.unit_name, rec.display, sheet, cell, author, text])
    return t


def _issues_table(col: Collection, findings: dict[int, list]) -> Table:
    """审核问题, by unit (filter by rule); findings: each record's, where they were already unpacked."""
    issues = Table(Sheet.FINDINGS, [("单位编码", "text"), ("单位名称", "text"), ("文件", "text"), ("工作表", "text"),
                               ("单元格", "text"), ("规则编号", "text"), ("规则", "text"), ("级别", "text"),
                               ("说明", "long"), ("怎么改", "long")])
    if findings:
        for rec in sorted(col.files, key=lambda r: (r.unit_code, r.display)):
            if rec.fate == ACCEPTED_FINDINGS:
                issues.rows += _issue_rows(findings[id(rec)] if id(rec) in findings else rec.result.findings)
    return issues


def _issue_rows(findings) -> list[list]:
    return [[f.unit_code, f.unit_name, f.file, f.sheet, f.cell, f.rule_id, f.rule, f.severity, f.message, f.fix]
            for f in findings]


def _selfeval_tables(col: Collection, returns: Iterator) -> list[Table]:
    forms = _forms(col)
    unit = summary_money(forms) if forms else DEFAULT_MONEY
    names = grade_names(forms)
    scores = Table(Sheet.SCORES, [("单位编码", "text"), ("单位名称", "text"), ("工作表", "text"), ("项目编码", "text"),
                               ("项目名称", "text"), (f"全年预算数（{unit}）", "amount"), (f"全年执行数（{unit}）", "amount"),
                               ("执行率", "pct"), ("预算执行得分", "amount_plain"), ("指标得分", "amount_plain"),
                               ("总分（复核）", "amount_plain"), ("等级", "text"), ("文件中的总分", "amount_plain"),
                               ("差异", "amount_plain")], total=False)
    units = Table(Sheet.UNIT_SCORES, [("单位编码", "text"), ("单位名称", "text"), ("项目数", "int"),
                              (f"全年预算数（{unit}）", "amount"), (f"全年执行数（{unit}）", "amount"), ("执行率", "pct"),
                              ("预算加权平均分", "amount_plain"), ("等级", "text"),
                              *[(g, "int") for g in names]], total=False)
    gaps = Table(Sheet.GAPS, [("单位编码", "text"), ("单位名称", "text"), ("项目名称", "text"), ("工作表", "text"),
                             ("行号", "int_plain"), ("一级指标", "text"), ("二级指标", "text"), ("三级指标", "text"),
                             ("年度指标值", "text"), ("实际完成值", "text"), ("分值", "amount_plain"),
                             ("得分（复核）", "amount_plain"), ("偏差原因分析及改进措施", "long")])
    grades = Table(Sheet.GRADES, [("等级", "text"), ("项目数", "int")], chart=("column", 0, 1, "自评等级分布（项目数）"))
    fields, columns = _selfeval_fields(forms, unit)
    projects = Table(Sheet.SE_PROJECTS, [("单位编码", "text"), ("单位名称", "text"), ("工作表", "text"),
                                         *[(title, kind) for _, title, kind in fields]], total=False)
    indicators = Table(Sheet.SE_INDICATORS, [("单位编码", "text"), ("单位名称", "text"), ("工作表", "text"),
                                             ("项目名称", "text"), ("行号", "int_plain"), ("一级指标", "text"),
                                             ("二级指标", "text"), ("三级指标", "text"), ("年度指标值", "text"),
                                             *[(label, kind) for _, label, kind in columns],
                                             ("得分（复核）", "amount_plain"), ("适用", "text")])
    counts: dict[str, int] = {}
    for ret in returns:
        _selfeval_rows(ret, fields, columns, projects, indicators, unit)
        rules = Rules.from_form(ret.form.scoring)

        def m(value, source=ret.form.money):   # an amount in the summary's unit
            return convert_money(value, source, unit)
        weighted, weights, per_grade = 0.0, 0.0, {}
        budget = spent = 0.0
        for pr in ret.projects:
            ps = ret.scores.get(pr.sheet)
            if ps is None:
                continue
            v = pr.values
            ind_total = rules.round(sum(r.score or 0 for r in ps.rows if r.applicable))
            diff = rules.round(ps.file_total - ps.total) if ps.file_total is not None and ps.total is not None else None
            scores.rows.append([ret.unit_code, ret.unit_name, pr.sheet, pr.code or v.get("project_code", ""), pr.name,
                                m(v.get("budget_total")), m(v.get("spent_total")), ps.rate, ps.budget_score, ind_total,
                                ps.total, ps.grade, ps.file_total, diff])
            if ps.grade:
                per_grade[ps.grade] = per_grade.get(ps.grade, 0) + 1
                counts[ps.grade] = counts.get(ps.grade, 0) + 1
            w = m(v.get("budget_total")) or 0
            budget += w
            spent += m(v.get("spent_total")) or 0
            if ps.total is not None:
                weighted += ps.total * w
                weights += w
            for ind, rs in zip(pr.indicators, ps.rows):
                if rs.applicable and (rs.short or rs.grade not in ("", rules.top_grade)):
                    gaps.rows.append([ret.unit_code, ret.unit_name, pr.name, pr.sheet, ind.row, ind.level1,
                                      ind.level2, ind.name, ind.value.render(), str(ind.extra.get("actual") or ""),
                                      rs.weight, rs.score, str(ind.extra.get("reason") or "")])
        avg = rules.round(weighted / weights) if weights else None
        units.rows.append([ret.unit_code, ret.unit_name, len(ret.projects), budget, spent,
                           spent / budget if budget else None, avg, grade_of(avg, rules),
                           *[per_grade.get(g, 0) for g in names]])
    grades.rows = [[g, counts.get(g, 0)] for g in names]
    _hold_mixed_as_text(projects)
    _hold_mixed_as_text(indicators)
    return [units, scores, projects, indicators, gaps, grades]


def grade_names(forms: list) -> list[str]:
    """The grades of the forms' 评分办法 (优 良 中 差 unless a form names its own), best first, each once."""
    names: dict[str, float] = {}
    for form in forms or [None]:
        for floor, name in Rules.from_form(form.scoring if form else {}).grades:
            names.setdefault(name, floor)
    return sorted(names, key=lambda n: -names[n])


# each kind's own tables, after 报送情况 and before 说明: (col, accepted records, workers, render) → tables
KIND_TABLES = {FormKind.DEPT_TARGET: _from_returns(_dept_tables),
               FormKind.PROJECT_SELFEVAL: _from_returns(_selfeval_tables),
               FormKind.DEPT_SELFEVAL: _from_returns(_selfeval_tables)}   # project targets: _target_tables


SE_GRID_SHOWN = {"level1", "level2", "name", "target", "op", "num", "unit", "value"}   # in their own columns


def _selfeval_fields(forms: list, money: str = DEFAULT_MONEY) -> tuple[list, list]:
    """What a self-evaluation's summary shows of every form in it: each field the unit or the approved table
    filled (not the sheet's formulas: they are recomputed), named as the form prints it (an amount with the
    summary's money unit), in the form's order; and each grid column besides the approved indicator, by its
    label. (key, title, kind) each."""
    fields, columns = {}, {}
    for form in forms:
        for key, (_, cell) in form.fields().items():
            if cell.formula is None and cell.value is None and key not in fields:   # (not a printed title)
                kind = {"amount": ColumnKind.AMOUNT, "longtext": ColumnKind.LONG}.get(cell.type, ColumnKind.TEXT)
                title = cell.title or cell.label or key
                fields[key] = (key, f"{title}（{money}）" if kind is ColumnKind.AMOUNT else title, kind)
        for col in form.input_columns:
            if col.key not in SE_GRID_SHOWN and col.key not in columns:
                numeric = col.validate == "number" or col.key in ("weight", "score", "adjusted")
                columns[col.key] = (col.key, col.label, ColumnKind.AMOUNT_PLAIN if numeric else ColumnKind.TEXT)
    return list(fields.values()), list(columns.values())


def _selfeval_rows(ret, fields: list, columns: list, projects: Table, indicators: Table, money: str) -> None:
    """A self-evaluation return's projects, every field as read (amounts in the summary's money unit), and its
    indicator rows with the recomputed score beside what the unit entered."""
    for pr in ret.projects:
        projects.rows.append([ret.unit_code, ret.unit_name, pr.sheet, *[
            _cell_value(convert_money(pr.values.get(key), ret.form.money, money) if kind is ColumnKind.AMOUNT else
                        pr.values.get(key), kind) for key, _, kind in fields]])
        ps = ret.scores.get(pr.sheet)
        rows = ps.rows if ps is not None else []
        for i, ind in enumerate(pr.indicators):
            rs = rows[i] if i < len(rows) else None
            indicators.rows.append([ret.unit_code, ret.unit_name, pr.sheet, pr.name, ind.row, ind.level1,
                                    ind.level2, ind.name, ind.value.render(),
                                    *[_cell_value(ind.extra.get(key), kind) for key, _, kind in columns],
                                    rs.score if rs is not None else None,
                                    "" if rs is None else "是" if rs.applicable else "否"])


def _cell_value(value, kind: ColumnKind):
    """A value as its column holds it: a number where the column is numeric and the cell holds one (typed as
    a number, or as text that reads as one: “15”, “１２.５”), else the text as typed — never dropped (see
    `_hold_mixed_as_text`)."""
    if value is None or value == "":
        return None
    if kind.is_amount:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        amount = parse_amount(str(value))
        return amount.value if amount.error is None and amount.value is not None else str(value)
    return format_number(value) if isinstance(value, float) else str(value)


def _hold_mixed_as_text(table: Table) -> None:
    """A numeric column in which a unit wrote words (分值 “十五”) is held as text, its numbers written as
    read, so that no export drops what was written."""
    for j, (head, kind) in enumerate(table.columns):
        if kind.is_amount and any(isinstance(r[j], str) for r in table.rows):
            table.columns[j] = (head, ColumnKind.TEXT)
            for r in table.rows:
                if isinstance(r[j], float):
                    r[j] = format_number(r[j])


# --------------------------------------------------------------------------- writers

BIG_SUMMARY_CELLS = 2_000_000   # ≈ 1,000 units: above it, rows are written out as they come


def write_xlsx(tables: list[Table], path, title: str = "", heading: Heading | None = None) -> list[str]:
    """The summary workbook, written under a temporary name and renamed when complete. heading: printed at the
    top of every page (the round's title, issuer, date; by default the title).
    Returns what the user should be told (tables continued over several sheets)."""
    heading = heading if heading is not None and heading.title else Heading(title, *(
        (heading.issuer, heading.date) if heading is not None else ()))
    with atomic_path(path) as tmp:
        return _write_xlsx(tables, tmp, title, heading)


def _formats(wb) -> tuple[dict, dict]:
    """The summary's cell formats by column kind, and those of its 合计 rows. Their style numbers are fixed
    here, in this order (as xlsxwriter numbers a format when first used), so that rows made elsewhere
    (sheetxml) can name them before the workbook is written."""
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    fmt = {
        "head": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                               "align": "center"}),
        "text": wb.add_format(base), "long": wb.add_format({**base, "text_wrap": True}),
        "amount": wb.add_format({**base, "num_format": "#,##0.00"}),
        "amount_plain": wb.add_format({**base, "num_format": "0.00"}),
        "int": wb.add_format({**base, "num_format": "0"}), "int_plain": wb.add_format({**base, "num_format": "0"}),
        "pct": wb.add_format({**base, "num_format": "0.0%"}),
        "time": wb.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"}),
        "number": wb.add_format({**base, "num_format": "General"}),
        "bad": wb.add_format({**base, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
    }
    total_fmt = {k: wb.add_format({**base, "bold": True, "top": 1, **({"num_format": v.num_format}
                                                                      if hasattr(v, "num_format") else {})})
                 for k, v in fmt.items()}
    for f in [*fmt.values(), *total_fmt.values()]:
        f._get_xf_index()   # xlsxwriter's own numbering, called now rather than when first written
    return fmt, total_fmt


def _style_indices(fmt: dict | None = None) -> dict[str, int]:
    """The xf index of each kind's format: the workbook's own (fmt), or any summary workbook's (they are
    numbered alike, _formats)."""
    if fmt is None:
        import io
        fmt, _ = _formats(xlsxwriter.Workbook(io.BytesIO()))
    return {k: f._get_xf_index() for k, f in fmt.items()}


def _splices(t: Table) -> bool:
    """A long table made in this process, held (文件清单, 指标结构, a self-evaluation's tables…), that is put into
    the workbook as the workers' tables are (_held_as_parts)."""
    return t.parts is None and t.source is None and not t.whole and len(t.rows) > SPLICE_ROWS


def _held_as_parts(tables: list[Table], styles: dict[str, int]) -> list[Table]:
    """The tables that _splices, with their rows made into worksheet XML here (sheetxml.render, several times
    faster than xlsxwriter's cell by cell), to be spliced in. styles: the workbook's xf index of each kind.
    The tables given are left as they are."""

    out = []
    for t in tables:
        if not _splices(t):
            out.append(t)
            continue
        per_sheet = MAX_SHEET_ROWS - 1 - (1 if t.total else 0)
        n = len(t.rows)
        parts = [Splice(min(per_sheet, n - i * per_sheet) + 1, len(t.columns)) for i in range(-(-n // per_sheet))]
        col_styles = [styles[k] for _, k in t.columns]
        long_cols = [c for c, (_, k) in enumerate(t.columns) if k == "long"]
        start = 0
        while start < n:   # pieces end where a sheet part does
            part, within = divmod(start, per_sheet)
            take = min(HELD_PIECE_ROWS, n - start, per_sheet - within)
            parts[part].add(deflate(render(t.rows[start:start + take], within + 2, col_styles, long_cols)
                                    .encode("utf-8")))
            start += take
        out.append(replace(t, parts=parts, size=n, sample=t.rows[:500]))
    return out


HELD_PIECE_ROWS = 20_000   # rows rendered and deflated at a time


def _write_xlsx(tables: list[Table], path, title: str = "", heading: Heading | None = None) -> list[str]:
    # xlsxwriter holds every cell until close (≈200 bytes each); a province's summary would not fit,
    # so a big one is written in constant_memory mode (rows go to disk in order; ~25 % slower).
    # Tables made in parallel (`parts`) are not written by xlsxwriter but spliced in afterwards.
    import io
    big = sum(t.n_rows * len(t.columns) for t in tables if t.parts is None and not _splices(t)) > BIG_SUMMARY_CELLS
    spliced = any(t.parts is not None or _splices(t) for t in tables)
    target = io.BytesIO() if spliced else str(path)
    wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                                      "strings_to_urls": False, "constant_memory": big, "in_memory": not big})
    fmt, total_fmt = _formats(wb)
    tables = _held_as_parts(tables, _style_indices(fmt))
    fmt = {**fmt, "border": wb.add_format({"border": 1})}   # (a conditional format's: no cell style of its own)
    wb.set_properties({"title": title or "绩效目标汇总", "author": "perftables"})
    _split_note(wb, tables, fmt)
    split: list[tuple[str, int, list[str]]] = []
    splices = {}
    for table in tables:
        sheet = _SheetWriter(wb, table, fmt, total_fmt, big, heading)
        if table.parts is not None:   # made in parallel: header, 合计 and the sheet's settings only
            total = table.n_rows
            names = sheet.parts(splices)
        else:
            total, names = sheet.rows()
        if len(names) > 1:
            split.append((table.name, total, names))
    wb.close()
    if spliced:
        target.seek(0)
        splice(target, path, splices)
    return [f"“{name}”共 {total:,} 行，超过 Excel 每张工作表的行数上限，分在 {len(names)} 张工作表中（见“说明”页）"
            for name, total, names in split]


def _split_note(wb, tables: list[Table], fmt: dict) -> None:
    """Excel holds 1,048,576 rows a sheet: a longer table goes on in further sheets, said on a first sheet."""
    plan = {}
    for table in tables:
        per_sheet = MAX_SHEET_ROWS - 1 - (1 if table.total else 0)
        parts = max(1, -(-table.n_rows // per_sheet))
        if parts > 1:
            plan[table.name] = [table.name] + [_part_name(table.name, i) for i in range(2, parts + 1)]
    if not plan:
        return
    ws = wb.add_worksheet("说明")
    ws.set_column(0, 0, 110)
    ws.write_string(0, 0, "说明", fmt["head"])
    for i, table in enumerate(t for t in tables if t.name in plan):
        ws.write_string(i + 1, 0, f"“{table.name}”共 {table.n_rows:,} 行，超过 Excel 每张工作表 {MAX_SHEET_ROWS:,} "
                                  f"行的上限，依次分在：{'、'.join(plan[table.name])}（一行不少；CSV 导出中是一个完整的文件）",
                        fmt["long"])


class _SheetWriter:
    """One table into the workbook: its sheet (and the sheets it goes on in), widths, rows, 合计, settings."""

    def __init__(self, wb, table: Table, fmt: dict, total_fmt: dict, big: bool, heading: Heading | None = None):
        self.wb, self.table, self.fmt, self.total_fmt, self.big = wb, table, fmt, total_fmt, big
        self.heading = heading
        self.per_sheet = MAX_SHEET_ROWS - 1 - (1 if table.total else 0)
        sample = table.sample if table.parts is not None else list(islice(table.iter_rows(), 500))
        self.widths = [_width(head, kind, [row[c] for row in sample]) for c, (head, kind) in enumerate(table.columns)]
        self.col_fmt = [fmt[kind] for _, kind in table.columns]
        self.long_cols = [c for c, (_, kind) in enumerate(table.columns) if kind is ColumnKind.LONG]
        if table.whole and self.long_cols:
            # a text too long for Excel's highest row widens its column rather than being cut off
            rows = list(table.iter_rows())
            for c in self.long_cols:
                self.widths[c] = max(self.widths[c], long_width(rows, c))
        if table.compact:   # filed on paper: long texts wrap within a readable width
            self.widths = [min(w, COMPACT_WIDTH) for w in self.widths]
        self.names = [table.name]

    def finish(self, ws, n: int, chart: bool) -> None:
        _finish_sheet(self.wb, ws, self.table, n, self.fmt, chart=chart, widths=self.widths)
        _print_heading(ws, self.heading, self.table, self.fmt.get("border"))

    def start(self, name: str):
        return _start_sheet(self.wb, self.table, name, self.widths, self.col_fmt, self.fmt)

    def totals(self, ws, n: int) -> None:
        for c, value in enumerate(self.table.total_row()):
            _write(ws, n + 1, c, value, self.total_fmt[self.table.columns[c][1]])

    def parts(self, splices: dict) -> list[str]:
        """A table made in parallel: each part's sheet gets its header, 合计 and settings; its rows are spliced."""
        table, names = self.table, self.names
        ws, _ = self.start(table.name)
        for i, part in enumerate(table.parts):
            if i:
                names.append(_part_name(table.name, i + 1))
                ws, _ = self.start(names[-1])
            n = part.last_row - 1
            if table.total and i == len(table.parts) - 1 and n:
                self.totals(ws, n)
                part.last_row = n + 2
            splices[f"xl/worksheets/sheet{ws.index + 1}.xml"] = part
            self.finish(ws, n, chart=len(table.parts) == 1)
        return names

    def rows(self) -> tuple[int, list[str]]:
        """Every row written by xlsxwriter (the hot loop: ~2,000 cells a unit); (rows, sheet names)."""
        table, col_fmt, long_cols, names = self.table, self.col_fmt, self.long_cols, self.names
        ws, by_type = self.start(table.name)
        n = total = 0
        for row in table.iter_rows():
            if n == self.per_sheet:   # never drop a row: go on in another sheet
                self.finish(ws, n, chart=False)
                names.append(_part_name(table.name, len(names) + 1))
                ws, by_type = self.start(names[-1])
                n = 0
            n += 1
            total += 1
            if long_cols:
                need = row_lines(row, long_cols, self.widths) * LINE_HEIGHT
                if need > MAX_ROW_HEIGHT and table.whole and not self.big:
                    n += self.merged_row(ws, n, row, need) - 1
                    continue
                if need > LINE_HEIGHT:
                    ws.set_row(n, min(need, 2 * LINE_HEIGHT if table.compact else MAX_ROW_HEIGHT))
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue   # blank: the column's format shows through
                write = by_type.get(type(value))
                if write is None:
                    _write(ws, n, c, value, col_fmt[c])
                else:
                    write(n, c, value, col_fmt[c])
        if table.total and n:
            self.totals(ws, n)
        self.finish(ws, n, chart=len(names) == 1)
        return total, names

    def merged_row(self, ws, n: int, row, need: float) -> int:
        """A row taller than Excel's highest row even at the widest column spans several sheet rows, each cell
        merged down them (readers skip the empty rows under a merged one); how many rows it took."""
        k = int(-(-need // MAX_ROW_HEIGHT))
        for i in range(k):
            ws.set_row(n + i, need / k)
        for c, value in enumerate(row):
            ws.merge_range(n, c, n + k - 1, c, None, self.col_fmt[c])
            if value is not None and value != "":
                _write(ws, n, c, value, self.col_fmt[c])
        return k


MAX_SHEET_ROWS = 1_048_576   # Excel's rows per sheet (the header included)
COMPACT_WIDTH = 36           # the widest column of a table printed as filed (报送情况)
STATUS_PRINTED = 12          # 报送情况 prints 单位编码 … 联系电话; files, history and hashes stay on screen


def _print_heading(ws, heading: Heading | None, table: Table, border=None) -> None:
    """Every printed page says what it is: the title in the middle, the issuer left, the date right; a table
    printed as filed gets borders and fits one page wide."""
    if heading is not None and (heading.title or heading.issuer or heading.date):
        def esc(text: str) -> str:
            return text.replace("&", "&&")
        # (a size code is followed by a space: "&9" before "2026年" would read as size 92026)
        ws.set_header(f'&L&"宋体"&9 {esc(heading.issuer)}&C&"宋体,加粗"&12 {esc(heading.title)}　{esc(table.name)}'
                      f'&R&"宋体"&9 {esc(heading.date)}', {"margin": 0.3})
        ws.set_margins(top=0.9)
    if table.compact:
        n = max(table.n_rows + (1 if table.total and table.n_rows else 0), 1)
        last = (table.printed or len(table.columns)) - 1
        if border is not None:
            ws.conditional_format(0, 0, n, last, {"type": "no_errors", "format": border})
        ws.print_area(0, 0, n, last)
        ws.fit_to_pages(1, 0)


def _part_name(name: str, part: int) -> str:
    return f"{name}（{part}）"[:31]


def _start_sheet(wb, table: Table, name: str, widths, col_fmt, fmt):
    ws = wb.add_worksheet(name)
    ws.set_row(0, 30)   # before any row is written: constant_memory writes rows out in order
    for c, (head, kind) in enumerate(table.columns):
        ws.write_string(0, c, head, fmt["head"])
        ws.set_column(c, c, widths[c], col_fmt[c])
    by_type = {str: ws.write_string, float: ws.write_number, int: ws.write_number, dt.datetime: ws.write_datetime}
    return ws, by_type


PRINT_UNITS = 210   # column-width units one A4 landscape page prints at a still readable scale (about 60 %)


def _finish_sheet(wb, ws, table: Table, n: int, fmt, chart: bool, widths=()) -> None:
    if table.chart and n and chart:
        kind, cat, vals, title = table.chart
        vals = vals if isinstance(vals, (list, tuple)) else [vals]
        ch = wb.add_chart({"type": kind})
        for val in vals:
            ch.add_series({"name": table.columns[val][0], "categories": [ws.name, 1, cat, n, cat],
                           "values": [ws.name, 1, val, n, val], "data_labels": {"value": len(vals) == 1}})
        ch.set_title({"name": title})
        ch.set_legend({"position": "bottom"} if len(vals) > 1 else {"none": True})
        top = max((r[v] for r in table.rows for v in vals if isinstance(r[v], (int, float))), default=0)
        if len(vals) == 1 and top > 0:   # room beyond the longest bar for its label (3,208.40 was cut off)
            axis = ch.set_x_axis if kind == "bar" else ch.set_y_axis   # a bar chart's values run along x
            axis({"max": _nice(top * 1.25), "min": 0})
        ch.set_size({"width": 640, "height": min(1200, max(288, 40 + 28 * n))})
        ws.insert_chart(n + 3, 1, ch)   # under the table: it prints with it, at the table's scale
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), len(table.columns) - 1)
    ws.set_landscape()
    ws.set_paper(9)
    # a wide table prints across pages at a readable size, its first columns (who) on every page
    pages = max(1, -(-int(sum(widths)) // PRINT_UNITS)) if widths else 1
    ws.fit_to_pages(pages, 0)
    if pages > 1 and len(table.columns) > 2:
        ws.repeat_columns(0, 1)
    ws.repeat_rows(0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    heads = [h for h, _ in table.columns]
    for head, bad in (("级别", Severity.ERROR), ("状态", "未报送"), ("状态", BLANK), ("处理结果", Fate.REJECTED)):
        if head in heads and n:
            c = heads.index(head)
            ws.conditional_format(1, c, n, c, {"type": "cell", "criteria": "==", "value": f'"{bad}"',
                                               "format": fmt["bad"]})


def _nice(x: float) -> float:
    """A round axis maximum at or above x: 1, 2, 2.5 or 5 times a power of ten."""
    import math
    power = 10 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x)


def _display_width(value) -> int:
    """Units the first line of a cell takes (a character from U+2E81 on, CJK, is two)."""
    text = value if isinstance(value, str) else format_number(value) if isinstance(value, float) else str(value)
    text = text.partition("\n")[0]
    return len(text) if text.isascii() else len(text) + len(_NOT_WIDE.sub("", text))


_NOT_WIDE = re.compile("[^\u2e81-\U0010ffff]+")


def _width(head: str, kind: ColumnKind, values: list) -> float:
    """Fit the column to its header and content (a CJK character is two units), within bounds."""
    if kind is ColumnKind.LONG:   # fixed: the rows' heights are reckoned at this width, wherever they are made
        return max(LONG_WIDTH, min(60, _display_width(head) + 2))
    cap = 40 if kind is ColumnKind.TEXT else 18
    widest = max([_display_width(head)] + [_display_width(v) for v in values if v is not None and
                                            not isinstance(v, dt.datetime)])
    if kind is ColumnKind.TIME:
        widest = max(widest, 16)
    return max(6, min(cap, widest + 2))


def _write(ws, r, c, value, f):
    if value is None:
        ws.write_blank(r, c, None, f)
    elif isinstance(value, bool):
        ws.write_string(r, c, "是" if value else "否", f)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, f)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(r, c, value, f)
    else:
        ws.write_string(r, c, str(value), f)


def write_csv(tables: list[Table], folder) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in tables:
        path = folder / f"{table.name}.csv"
        rows = table.csv if table.csv is not None else ([_csv_value(v) for v in row] for row in table.iter_rows())
        total = [[_csv_value(v) for v in table.total_row()]] if table.total and table.n_rows else []
        files.write_csv(path, [[h for h, _ in table.columns]], rows, total)
        paths.append(path)
    return paths


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(round(value, 6))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


# --------------------------------------------------------------------------- reading them back

def _data_rows(rows: list) -> list:
    """A table's rows without its 合计 row (for people, not data)."""
    return rows[:-1] if rows and rows[-1] and rows[-1][0] == "合计" else rows


def workbook_sheets(path) -> dict[str, tuple[list[str], list[list]]]:
    """A summary workbook's tables as written: header and rows of cell values (a table continued over
    several sheets joined, the 说明 sheet and 合计 rows left out)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    out: dict[str, tuple[list[str], list[list]]] = {}
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python()
        if name == "说明" or not rows:
            continue
        head = [str(h) for h in rows[0]]
        body = [[None if v == "" else v for v in r] + [None] * (len(head) - len(r)) for r in rows[1:]]
        body = [r for r in body if any(v is not None for v in r)]   # rows under a merged (very long) one
        part = re.match(r"^(.*)（(\d+)）$", name)
        if part and part.group(1) in out:   # a table continued over several sheets
            out[part.group(1)][1].extend(body)
        else:
            out[name] = (head, body)
    return {name: (head, _data_rows(body)) for name, (head, body) in out.items()}


def read_summary_tables(source) -> dict[str, list[dict]]:
    """The summary's tables as dicts of text, from SUMMARY.xlsx or a CSV export folder (formula guards
    removed, 合计 rows left out)."""
    source = Path(source)
    tables: dict[str, list[dict]] = {}
    if source.is_dir():
        for path in source.glob("*.csv"):
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
            if rows:
                tables[path.stem] = [dict(zip(rows[0], r)) for r in _data_rows(rows[1:])]
    else:
        for name, (head, body) in workbook_sheets(source).items():
            tables[name] = [{h: ("" if v is None else format_number(v) if isinstance(v, float) else str(v))
                             for h, v in zip(head, r)} for r in body]
    for rows in tables.values():
        for r in rows:
            for k, v in r.items():
                r[k] = files.unguard(v)
    return tables


def summary_amount(row: dict, header: str, money: str):
    """An amount of a summary's row, headed “title（unit）” in whichever money unit the summary was written in,
    in `money`."""
    base = re.sub(r"（[^（）]*）$", "", header)
    for unit in MONEY_UNITS:
        text = row.get(f"{base}（{unit}）")
        if text not in (None, ""):
            return convert_money(parse_amount(text, unit).value, unit, money)
    return None


def returns_from_summary(source) -> list:
    """The accepted target returns a summary holds, as the collector would have extracted them."""

    t = read_summary_tables(source)
    files = {r["单位编码"]: r for r in t.get(Sheet.FILES, []) if r["处理结果"] in ACCEPTED_FATES}
    texts = {r["单位编码"]: r for r in t.get(Sheet.UNIT_GOALS, [])}
    headers: dict[str, list[str]] = {}
    for f in files.values():
        for key, header, _ in project_fields(load_form(f["表式"] or "hebei-project")):
            headers.setdefault(key, []).append(header)
    out = []
    for code, f in sorted(files.items()):
        form = load_form(f["表式"] or "hebei-project")
        payload = {"unit_code": code, "unit_name": f["单位名称"], "form": form.id, "year": int(f["年度"])}
        ret = UnitReturn(payload=payload, form=form)
        ret.texts = {s["field"]: texts.get(code, {}).get(s["anchor"], "") for s in form.unit_sheet.get("rows", [])}
        fields = project_fields(form)
        for p in (p for p in t.get(Sheet.PROJECTS, []) if p["单位编码"] == code and p["项目编码"]):
            pr = ProjectReturn(sheet=p["工作表"], seq=len(ret.projects) + 1, spare=False, code=p["项目编码"],
                               name=p["项目名称"])
            for key, header, kind in fields:
                # a field two forms share is headed as the first form collected names it
                header = next((h for h in headers.get(key, ()) if h in p), header)
                value = summary_amount(p, header, form.money) if kind == ColumnKind.AMOUNT else p.get(header, "")
                pr.values[key] = value
                if key in ("budget", "fiscal", "other", "goal", "use"):   # what ProjectReturn names itself
                    setattr(pr, key, value)
            pr.plan = [parse_amount(p.get(f"累计支出进度{i}（%）", "")).value for i in range(1, len(form.plan_fields()) + 1)]
            pr.values.update((c.field, v) for c, v in zip(form.plan_fields(), pr.plan))
            options = {"placeholders": tuple(form.review.get("placeholders", ())),
                       "question_prefix": form.review.get("question_prefix", "是否")}   # as the collector read it
            pr.indicators = [Indicator(row=int(i["行号"]), level1=i["一级指标"], level2=i["二级指标"], name=i["三级指标"],
                                       description=i["绩效指标描述"], value=parse(i["指标值"], **options),
                                       basis=i["指标值确定依据"])
                             for i in t.get(Sheet.INDICATORS, []) if i["单位编码"] == code and i["工作表"] == pr.sheet]
            ret.projects.append(pr)
        rec = FileRecord(path=None, display=f"{Path(source).name}：{code} {f['单位名称']}", sha256=f["SHA-256"],
                         fate=ACCEPTED, reason=f"取自汇总（原文件 {f['文件']}）", payload=payload, format=Format.SUMMARY)
        rec.result = ret
        out.append(rec)
    return out


# --------------------------------------------------------------------------- the collect run
