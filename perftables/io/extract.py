"""Extract a returned workbook into tidy records, following the form description.

Every value is found by the anchors of the description (so inserted rows do
not shift it), every locked cell is compared with what the stamp says it must
hold, and every number is re-read from its text if it had to be typed as text.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from ..model.stamp import Stamp
from ..model.roster import ROSTER_MONEY
from ..model.rules import by_id, rule_named
from ..core.kinds import FormKind, Severity
from ..forms.form import cell_name, Form, load_form, norm_label, record_key
from ..forms.layout import context, grid_rows, header_context, locked_value, row_names, table_rows
from .book import SPREADSHEETS, Book, Mark
from .stamp import FINDINGS_SHEET, LISTS_SHEET, STAMP_SHEET
from ..core.text import code_key
from ..core.value import WHITESPACE, IndicatorValue, clean, compose, convert_money, format_number, parse_amount

ERROR, WARNING = Severity.ERROR, Severity.WARNING


@dataclass
class Finding:
    sheet: str
    cell: str
    rule: str
    severity: str
    message: str
    file: str = ""
    unit_code: str = ""
    unit_name: str = ""
    # where the cell is in the form, independent of the returned file's rows:
    # ("at", form row index, col) above the grid, ("grid", indicator index, key), ("text", field)
    target: tuple = ()
    # the catalogue's id of its rule (model.rules): by the rule's name, unless given (a finding in the form's
    # own words, such as 收入合计不符, names its rule by id)
    rule_id: str = ""

    def __post_init__(self):
        if not self.rule_id:
            self.rule_id = rule_named(self.rule).id

    @property
    def fix(self) -> str:
        """What the unit does about it (怎么改)."""
        return by_id(self.rule_id).fix


@dataclass
class Indicator:
    row: int                       # 1-based sheet row
    level1: str
    level2: str
    name: str
    description: str
    value: IndicatorValue
    basis: str
    cells: Mapping[str, str] = field(default_factory=dict)   # key → "F12"
    op_cell: str = ""                                      # the 符号 cell as typed
    extra: dict = field(default_factory=dict)              # other grid columns as read (实际完成值, 分值…)
    typed: dict = field(default_factory=dict)              # the value's cells (符号/数值/单位) exactly as typed


STANDARD_KEYS = {"level1", "level2", "name", "description", "op", "num", "unit", "value", "basis"}


class RowCells(Mapping):
    """The addresses of one grid row's cells ("F12" by column key), named only when asked for."""

    __slots__ = ("row", "cols")

    def __init__(self, row: int, cols: dict[str, int]):
        self.row, self.cols = row, cols

    def __getitem__(self, key: str) -> str:
        return cell_name(self.row, self.cols[key])

    def __iter__(self):
        return iter(self.cols)

    def __len__(self) -> int:
        return len(self.cols)

    def __reduce__(self):
        return RowCells, (self.row, self.cols)


@dataclass
class ProjectReturn:
    sheet: str
    seq: int
    spare: bool
    code: str = ""
    name: str = ""
    budget: float | None = None
    fiscal: float | None = None
    other: float | None = None
    use: str = ""
    goal: str = ""
    plan: list[float | None] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)    # field → "C5"
    values: dict = field(default_factory=dict)             # every field as read (amounts parsed)
    figures: dict = field(default_factory=dict)            # formula cells: the file's own cached results
    tables: dict = field(default_factory=dict)             # inline tables: key → Indicators or row dicts
    grid_start: int = 0                                    # the 1-based sheet row of the grid's first row
    typed: dict = field(default_factory=dict)              # amount and plan cells exactly as typed (feedback)


def _cell_showing(book, shown: str) -> tuple[str, int | None, int | None]:
    """Where a Word return's text landed in its book: the first cell showing exactly that text."""
    want = norm_label(shown)
    number = parse_amount(shown.rstrip("%％")).value if want else None
    if want:
        for name, rows in book.sheets.items():
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    if norm_label(_text(value)) == want or type(value) is float and value == number:
                        return name, r, c
    return "", None, None


_STANDARD_ATTRS = {"level1", "level2", "name", "description", "basis"}


def input_cells(ret: "UnitReturn"):
    """Every cell the clerk fills, as typed: (sheet, "F12", what the cell is, its text, its target) — the
    fields of each project sheet, then each indicator row's cells. What the version diff and the hidden-
    character rule read."""
    form = ret.form
    fields = form.fields()
    labels = {c.key: c.label for c in form.input_columns}
    for p in ret.projects:
        for key, ref in p.cells.items():
            cell = fields.get(key, (None, None))[1]
            what = (cell.title or cell.label or key) if cell is not None else key
            yield p.sheet, ref, what, _shown_text(p.typed.get(key, p.values.get(key))), form.target_of(key)
        for i, ind in enumerate(p.indicators):
            title = ind.name or f"第{ind.row}行指标"
            for key, ref in ind.cells.items():
                if key in _STANDARD_ATTRS:
                    value = getattr(ind, key)
                elif key in ind.typed:
                    value = ind.typed[key]
                elif key == "value":
                    value = ind.value.raw
                elif key in ("op", "num", "unit"):
                    value = {"op": ind.value.op_text, "num": ind.value.num_text, "unit": ind.value.unit}[key]
                else:
                    value = ind.extra.get(key)
                yield p.sheet, ref, f"{title}·{labels.get(key, key)}", _shown_text(value), ("grid", i, key)


def _shown_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class UnitReturn:
    payload: dict
    form: Form
    texts: dict[str, str] = field(default_factory=dict)
    projects: list[ProjectReturn] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    scores: dict = field(default_factory=dict)      # self-evaluation: sheet → recomputed ProjectScore
    entered: int = 0                                # > 0: the unit filled something in (0: the template came back blank)
    notes: list = field(default_factory=list)       # notes the clerk left on cells: (sheet, cell, author, text)
    plain: bool = False                             # its book holds no invisible character (Book.plain)

    @property
    def stamp(self) -> Stamp:
        """What the return's stamp says (model.stamp), typed."""
        return Stamp.of(self.payload)

    @property
    def unit_code(self) -> str:   # asked for every row of the summary: read straight, not through a Stamp
        return self.payload["unit_code"]

    def __getstate__(self):
        """Sent between processes without its Form: the description is loaded again by id (cached)."""
        state = dict(self.__dict__)
        state["form"] = (self.form.id, self.form.taxonomy_id)
        return state

    def __setstate__(self, state):
        form_id, taxonomy = state["form"]
        state["form"] = load_form(form_id).with_taxonomy(taxonomy)
        self.__dict__.update(state)

    @property
    def unit_name(self) -> str:
        return self.payload["unit_name"]


def _get(rows: list[list], r: int, c: int):
    if 0 <= r < len(rows) and 0 <= c < len(rows[r]):
        return rows[r][c]
    return None


def _text(value) -> str:
    if type(value) is str:   # most cells
        return value.strip(WHITESPACE)
    if isinstance(value, float):
        return format_number(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return clean(value)


def find_anchors(rows: list[list], col: int = 0) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row and col < len(row) and isinstance(row[col], str):
            found.setdefault(norm_label(row[col]), i)
    return found


def _same(expected, actual) -> bool:
    if type(actual) is str and actual == expected:   # the common case: as given, nothing to normalise
        return True
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        amount = parse_amount(actual)
        return amount.value is not None and abs(amount.value - expected) < 0.005
    return norm_label(expected) == norm_label(_text(actual))


def _shown(value) -> str:
    text = _text(value)
    return f"“{text}”" if text else "空白"


class Extractor:
    def __init__(self, book: Book, form: Form, payload: dict):
        self.book, self.form, self.payload = book, form, payload
        self.stamp = Stamp.of(payload)
        self.out = UnitReturn(payload=payload, form=form)
        review = form.review   # how 指标值 texts are read: what counts as a placeholder, a question
        self.value_options = {"placeholders": tuple(review.get("placeholders", ())),
                              "question_prefix": review.get("question_prefix", "是否")}

    def add(self, sheet, r, c, rule, severity, message, target=()):
        self.out.findings.append(Finding(sheet, cell_name(r, c) if r is not None else "", rule, severity, message,
                                         target=target))

    def run(self) -> UnitReturn:
        stamp = self.stamp
        self.out.plain = self.book.plain
        expected = [p["sheet"] for p in stamp.projects] + list(stamp.spares)
        stampless = stamp.stampless
        if stampless:
            self.add("", None, None, "无标识", WARNING, "文件没有 perftables 标识（旧模板或重新录入的表），"
                     "已按表式的标签读取；预填内容无法核对，请人工确认")
        if self.form.unit_sheet and (not stampless or self.form.unit_sheet["name"] in self.book.sheets):
            expected.insert(0, self.form.unit_sheet["name"])
        for name in expected:
            if name not in self.book.sheets:
                self.add(name, None, None, "结构被改动", ERROR, f"工作表“{name}”不见了（被删除或改名）")
        known = {LISTS_SHEET, STAMP_SHEET, FINDINGS_SHEET, self.form.guide.get("name")}
        extra = [s for s in self.book.sheets if s not in expected and s not in known]
        for name in extra:
            self.add(name, None, None, "结构被改动", WARNING, f"多出工作表“{name}”，其内容未读取")
        self._integrity(expected)
        if self.form.unit_sheet and self.form.unit_sheet["name"] in self.book.sheets:
            self._unit_texts(self.form.unit_sheet["name"])
        for p in stamp.projects:
            if p["sheet"] in self.book.sheets:
                self._project(p["sheet"], p, p["seq"])
        for i, name in enumerate(stamp.spares, 1):
            if name in self.book.sheets:
                self._project(name, None, len(stamp.projects) + i)
        return self.out

    def _integrity(self, expected: list[str]) -> None:
        """What the file carries besides its values: links to other workbooks, sheets, rows or columns the
        clerk hid, notes left on cells (questions to the coordinator: kept, shown in 单位备注)."""
        book = self.book
        for target in book.external_links:
            self.add("", None, None, "外部链接", ERROR, f"文件引用了其他工作簿“{target}”（外部链接）：有的数值可能取自"
                     "填表人电脑上的其他文件，打开时会变；请改为直接填写数值后重新保存")
        for name in expected:
            if name in book.hidden:
                self.add(name, None, None, "隐藏内容", WARNING, f"工作表“{name}”被隐藏了（内容照常读取，请确认）")
            rows, cols = book.hidden_rows.get(name, []), book.hidden_cols.get(name, [])
            if rows:
                self.add(name, rows[0], 0, "隐藏内容", WARNING,
                         f"有 {len(rows)} 行被隐藏（第 {'、'.join(str(r + 1) for r in rows[:5])}{'……' if len(rows) > 5 else ''} 行），"
                         "隐藏的内容同样被读取，请确认")
            if cols:
                self.add(name, 0, cols[0], "隐藏内容", WARNING, f"有 {len(cols)} 列被隐藏，隐藏的内容同样被读取，请确认")
        for sheet, cell, author, text in book.comments:
            if author == "审核" and text.startswith("【"):
                continue   # our own marks on a feedback workbook
            self.out.notes.append((sheet, cell, author, text))
        self._word_marks()

    def _word_marks(self) -> None:
        """A Word return's tracked changes not accepted (an error: which version is meant?), hidden text (read
        as printed, without it) and comments (kept as the unit's notes), each on the cell that shows the text."""
        for kind, shown, detail in self.book.marks:
            sheet, r, c = _cell_showing(self.book, shown)
            where = f"“{shown[:30]}”" if shown else "一段空白"
            if kind is Mark.REVISION:
                self.add(sheet, r, c, "未接受的修订", ERROR, f"{where}有未接受的修订（{detail}），按修订后的内容读取")
            elif kind is Mark.HIDDEN:
                self.add(sheet, r, c, "隐藏内容", WARNING, f"{where}中有隐藏文字“{detail}”（打印不出来，未读取），请确认")
            elif kind is Mark.COMMENT:
                self.out.notes.append((sheet, cell_name(r, c) if r is not None else "", "", detail or "（空批注）"))

    # ---- unit-level text
    def _unit_texts(self, sheet: str):
        rows = self.book.sheets[sheet]
        anchors = find_anchors(rows)
        for spec in self.form.unit_sheet["rows"]:
            r = anchors.get(norm_label(spec["anchor"]))
            if r is None:
                self.add(sheet, None, None, "结构被改动", ERROR, f"找不到“{spec['anchor']}”行")
                continue
            formula = self._formula(sheet, r, 1, spec["anchor"], ("text", spec["field"]))
            self.out.texts[spec["field"]] = "" if formula else _text(_get(rows, r, 1))
            if self.out.texts[spec["field"]] and spec.get("source", "unit") == "unit":
                self.out.entered += 1

    # ---- one project sheet
    def _project(self, sheet: str, project: dict | None, seq: int):
        rows, form = self.book.sheets[sheet], self.form
        anchors = find_anchors(rows)
        pr = ProjectReturn(sheet=sheet, seq=seq, spare=project is None)
        self._plan_raw: dict = {}
        missing = set()
        self._context = None   # the roster's values a locked text is made of: made once a sheet, when needed
        for target, row in [(("at", i), row) for i, row in enumerate(form.rows)] + \
                [(("footer", i), row) for i, row in enumerate(form.footer)]:
            base = anchors.get(norm_label(row.anchor_of))
            if base is None:
                if row.anchor_of not in missing:
                    missing.add(row.anchor_of)
                    self.add(sheet, None, None, "结构被改动", ERROR, f"找不到“{row.anchor_of}”行，该部分未读取")
                continue
            r = base + row.offset
            for cell in row.cells:
                self._cell(sheet, rows, r, cell, project, seq, pr, target)
        plan_cells = form.plan_fields()
        pr.plan = self._plan(sheet, [(pr.cells.get(c.field), self._plan_raw.get(c.field), form.target_of(c.field))
                                     for c in plan_cells])
        pr.values.update((c.field, v) for c, v in zip(plan_cells, pr.plan))
        self._grid(sheet, rows, anchors, pr, project)
        self._tables(sheet, rows, anchors, pr, project)
        if pr.spare and not (pr.code or pr.name or pr.indicators):
            return  # an unused spare sheet
        if project:
            pr.code, pr.name = pr.code or project["code"], pr.name or project["name"]
            for key in ("budget", "fiscal", "other", "use"):
                if getattr(pr, key) in (None, "") and project.get(key) not in (None, ""):
                    setattr(pr, key, project[key])
        self.out.projects.append(pr)

    def _formula(self, sheet: str, r: int, c: int, title: str, target=()) -> bool:
        """A formula where the unit should have typed a value: reported at its cell; its cached result
        is never taken as data."""
        text = self.book.formulas.get(sheet, {}).get((r, c))
        if text is None:
            return False
        shown = f"“={text[:60]}”" if text else ""
        self.add(sheet, r, c, "公式", ERROR, f"“{title}”里是公式{shown}，不是填写的值；公式的计算结果不作为数据读取，"
                 "请直接填写数值或文字", target)
        return True

    def _cell(self, sheet, rows, r, cell, project, seq, pr: ProjectReturn, where: tuple):
        actual = _get(rows, r, cell.col)
        if actual == cell.label and type(actual) is str and not cell.field:
            return   # most cells: a printed label, as printed
        target = (*where, cell.col)
        if cell.formula:   # never trusted: kept only to compare with the recomputation
            pr.cells[cell.field] = cell_name(r, cell.col)
            pr.figures[cell.field] = actual
            if self.book.format in SPREADSHEETS and actual not in (None, "") and \
                    (r, cell.col) not in self.book.formulas.get(sheet, {}):
                self.add(sheet, r, cell.col, "公式被改动", WARNING, f"“{cell.title or cell.field}”应是自动计算的公式，"
                         f"被改成了填写的值 {_shown(actual)}（本系统自己重算，不采用该值）", target)
            return
        if cell.is_input and self._formula(sheet, r, cell.col, cell.title or cell.label or cell.field or "", target):
            actual = None
        if cell.field:
            pr.cells[cell.field] = cell_name(r, cell.col)
        if cell.value is not None and self._context is None:
            self._context = context(self.payload, project, seq)
        expected = locked_value(cell, self.payload, project, seq, self._context)
        if expected is not None:
            if not _same(expected, actual):
                self.add(sheet, r, cell.col, "锁定单元格被改动", ERROR,
                         f"锁定单元格“{cell.title or cell.label}”被改动：应为{_shown(expected)}，实为{_shown(actual)}", target)
            value = expected
        else:
            value = actual
            suggested = (project or {}).get("suggested", {}).get(cell.field)   # last year's, as given
            if cell.is_input and not self.out.entered and _text(actual) and not (suggested and _same(suggested, actual)):
                self.out.entered += 1
        if not cell.field or cell.value is not None:
            return
        key = record_key(cell.field)
        if cell.type in ("amount", "plan") and cell.is_input and actual not in (None, ""):
            pr.typed[cell.field] = actual
        if cell.type == "amount":
            amount = parse_amount(value, self.form.money)
            if amount.error:
                self.add(sheet, r, cell.col, "数字格式", ERROR, f"“{cell.title}”{amount.error}，未计入", target)
            elif amount.note:
                self.add(sheet, r, cell.col, "数字格式", WARNING, f"“{cell.title}”{amount.note}", target)
            pr.values[cell.field] = amount.value
            if hasattr(pr, key):
                setattr(pr, key, amount.value)
        elif cell.type == "plan":
            self._plan_raw[cell.field] = value
        else:
            pr.values[cell.field] = _text(value)
            if hasattr(pr, key):
                setattr(pr, key, _text(value))

    def _plan(self, sheet, cells: list[tuple]) -> list[float | None]:
        values = []
        for address, raw, target in cells:
            if raw is None or isinstance(raw, (int, float)) and not isinstance(raw, bool):
                amount = parse_amount(raw)
                value = amount.value
                if value is not None and 0 < value <= 1:   # 25% typed is stored as 0.25 by every spreadsheet
                    self.out.findings.append(Finding(
                        sheet, address or "", "数字格式", WARNING,
                        f"支出进度填的是 {format_number(value)}（或 {format_number(round(value * 100, 6))}%），"
                        f"按 {format_number(round(value * 100, 6))}% 读取", target=target))
                    value = round(value * 100, 6)
                if amount.error:
                    self.out.findings.append(Finding(sheet, address or "", "资金支出计划", ERROR,
                                                     f"支出进度{amount.error}", target=target))
                values.append(value)
                continue
            text = _text(raw)
            amount = parse_amount(text.rstrip("%％"))
            if amount.error or amount.value is None:
                values.append(None)
                if text:
                    self.out.findings.append(Finding(sheet, address or "", "资金支出计划", ERROR,
                                                     f"支出进度{amount.error or f'“{text}”不是数字'}", target=target))
            else:
                values.append(amount.value)
                self.out.findings.append(Finding(sheet, address or "", "数字格式", WARNING,
                                                 f"支出进度“{text}”以文本形式填写，已按 {format_number(amount.value)} 读取",
                                                 target=target))
        return values

    def _header(self, sheet, rows, header: int, grid, at: int, target_of):
        """Every header label of a grid where the form puts it (a changed one is tampering)."""
        ctx = header_context(self.stamp.year)

        def check(col, level):
            label = col.label.format(**ctx)
            if not _same(label, _get(rows, header + level, col.col)):
                self.add(sheet, header + level, col.col, "锁定单元格被改动", ERROR,
                         f"表头“{label}”被改动：实为{_shown(_get(rows, header + level, col.col))}",
                         target_of(at + level, col.col))
            for part in col.parts:
                check(part, level + 1)

        for col in grid.columns:
            check(col, 0)

    def _grid_rows(self, rows, grid, start: int, end: int, prefilled: list[dict], sheet: str = "", target=None):
        """(sheet row, raw values by column key) of every grid row holding something.
        prefilled: the rows the blank template had, when asked (to tell the unit's entries from what was given)."""
        cols = {c.key: c.col for c in grid.input_columns}
        content_keys = [k for k in cols if k not in ("level1", "level2")]
        given = None
        formulas = self.book.formulas.get(sheet, {})
        # columns the form never fills with a formula of its own: a formula there was typed by the unit
        typed = {c.key: c for c in grid.input_columns
                 if not any((v or {}).get("formula") for v in (c.quant, c.qual))}
        n = 0
        places = list(cols.items())
        out = self.out
        for r in range(start, end):
            row = rows[r] if 0 <= r < len(rows) else ()
            width = len(row)
            raw = {k: row[c] if 0 <= c < width else None for k, c in places}
            if formulas:
                for k, col in typed.items():
                    if (r, col.col) in formulas and self._formula(sheet, r, col.col, col.label,
                                                                 target(n, k) if target else ()):
                        raw[k] = None
            for k in content_keys:
                v = raw[k]
                if v is not None and (type(v) is not str or v.strip(WHITESPACE)):
                    break
            else:
                continue   # nothing in the row but (perhaps) its 一级/二级
            if not out.entered:   # (once something is entered, what else is needs not be told)
                if given is None:
                    given = {row_names(p): p for p in prefilled()}
                pre = given.get(row_names(raw), {})
                if any(_text(raw[k]) and not _same(pre.get(k, ""), raw[k]) for k in content_keys):
                    out.entered += 1
            n += 1
            yield r, raw, cols

    def _indicator(self, r: int, raw: dict, cols: dict) -> Indicator:
        kw = self.value_options
        get = raw.get
        if "op" in cols or "unit" in cols or "num" in cols:   # the value in parts: any of 符号 / 数值 / 单位
            value = compose(get("op"), get("num", get("value", get("target"))), get("unit"), **kw)
        else:
            value = compose(None, get("value", get("target")), None, **kw)
        text = [_text(v) for v in (get("level1"), get("level2"), get("name"), get("description"), get("basis"),
                                   get("op"))]
        return Indicator(r + 1, *text[:4], value, text[4], RowCells(r, cols), text[5],
                         {k: v for k, v in raw.items() if k not in STANDARD_KEYS},
                         {k: raw[k] for k in ("op", "num", "unit", "value") if k in cols})

    def _grid(self, sheet, rows, anchors, pr: ProjectReturn, project: dict | None):
        form = self.form
        header = anchors.get(norm_label(form.grid_anchor))
        if header is None:
            self.add(sheet, None, None, "结构被改动", ERROR, f"找不到指标表头“{form.grid_anchor}”，绩效指标未读取")
            return
        self._header(sheet, rows, header, form.main_grid, len(form.rows), lambda r, c: ("at", r, c))
        end = anchors.get(norm_label(form.grid.get("end_anchor", "")), len(rows)) if form.grid.get("end_anchor") \
            else len(rows)
        prefilled = partial(grid_rows, form, project, None)
        pr.grid_start = header + form.grid_header_rows + 1
        for r, raw, cols in self._grid_rows(rows, form.main_grid, header + form.grid_header_rows, end, prefilled,
                                            sheet, lambda i, key: ("grid", i, key)):
            pr.indicators.append(self._indicator(r, raw, cols))
        if not any(c.source == "target" for c in form.input_columns):   # self-evaluation checks its own
            self._check_locked_rows(sheet, (project or {}).get("indicators"), pr.indicators, form.main_grid,
                                    lambda i, key: ("grid", i, key))

    def _tables(self, sheet, rows, anchors, pr: ProjectReturn, project: dict | None):
        form = self.form
        for i, row in enumerate(form.rows):
            if not row.table:
                continue
            grid = form.tables[row.table]
            header = anchors.get(norm_label(grid.anchor))
            if header is None:
                continue   # reported with the rows
            self._header(sheet, rows, header, grid, 0, lambda level, c, key=row.table: ("table_head", key, level, c))
            following = form.rows[i + 1].anchor if i + 1 < len(form.rows) else form.grid_anchor
            end = anchors.get(norm_label(following), len(rows))
            found = []
            prefilled = partial(table_rows, grid, project, None, form.taxonomy)
            for r, raw, cols in self._grid_rows(rows, grid, header + grid.header_rows, end, prefilled, sheet,
                                                lambda j, key, k=row.table: ("table", k, j, key)):
                if grid.spec.get("kind") == "indicators":
                    found.append(self._indicator(r, raw, cols))
                else:
                    found.append(self._table_row(sheet, r, raw, cols, grid, row.table, len(found)))
            pr.tables[row.table] = found
            pre = ((project or {}).get("tables") or {}).get(row.table)
            self._check_locked_rows(sheet, pre, found, grid, lambda j, key, k=row.table: ("table", k, j, key))

    def _table_row(self, sheet, r: int, raw: dict, cols: dict, grid, key: str, index: int) -> dict:
        out = {"row": r + 1, "cells": RowCells(r, cols)}
        for col in grid.input_columns:
            value = raw.get(col.key)
            if col.validate == "number":
                amount = parse_amount(value, self.form.money)
                if amount.error:
                    self.add(sheet, r, col.col, "数字格式", ERROR, f"“{col.label}”{amount.error}，未计入",
                             ("table", key, index, col.key))
                out[col.key] = amount.value
            else:
                out[col.key] = _text(value)
        return out

    def _check_locked_rows(self, sheet, pre: list | None, found: list, grid, target):
        """Cells a pre-filled row had locked (roster, earlier years) must still hold what was given.
        Each pre-filled row is looked for by what names it (project name; 一级/二级/三级), so rows
        inserted or removed around it do not shift the comparison."""
        if not pre:
            return
        keys = [c for c in grid.input_columns if c.source in ("roster", "history")]
        ctx = header_context(self.stamp.year)
        used: set[int] = set()
        for i, given in enumerate(pre):
            want = row_names(given)
            j = next((j for j, got in enumerate(found) if j not in used and row_names(got) == want), None)
            if j is None and i < len(found) and i not in used:
                j = i   # renamed in place: compare with the row where it was
            if j is not None:
                used.add(j)
            got = found[j] if j is not None else None
            for col in keys:
                expected = given.get(col.key)
                if expected in (None, ""):
                    continue
                if got is None:
                    self.out.findings.append(Finding(
                        sheet, "", "锁定单元格被改动", ERROR,
                        f"预填的第{i + 1}行“{given.get('name') or ''}”不见了（被删除），其“{col.label.format(**ctx)}”"
                        f"应为{_shown(expected)}", target=target(min(i, max(len(found) - 1, 0)), col.key)))
                    break
                if isinstance(got, Indicator):
                    actual, address = got.extra.get(col.key), got.cells.get(col.key, "")
                else:
                    actual, address = got.get(col.key), got["cells"].get(col.key, "")
                if not _same(expected, actual if actual is not None else ""):
                    self.out.findings.append(Finding(
                        sheet, address, "锁定单元格被改动", ERROR,
                        f"锁定单元格“{col.label.format(**ctx)}”被改动：应为{_shown(expected)}，实为{_shown(actual)}",
                        target=target(j, col.key)))


def extract(book: Book, form: Form, payload: dict) -> UnitReturn:
    return Extractor(book, form, payload).run()


def _field_values(rows: list[list], form: Form, anchors: dict[str, int]) -> dict:
    out = {}
    for row in form.rows:
        base = anchors.get(norm_label(row.anchor_of))
        if base is None:
            continue
        for cell in row.cells:
            if cell.field:
                out[cell.field] = _get(rows, base + row.offset, cell.col)
    return out


def payload_from_labels(book: Book, forms: list[Form], roster=None) -> dict | None:
    """Identify a workbook without a stamp by the form's labels: an old template, a re-typed copy."""
    import re

    best = None
    for form in forms:
        needed = {norm_label(r.anchor) for r in form.rows if r.anchor} | {norm_label(form.grid_anchor)}
        sheets = [name for name, rows in book.sheets.items() if needed <= set(find_anchors(rows))]
        if sheets and (best is None or len(sheets) > len(best[1])):
            best = (form, sheets)
    if best is None:
        return None
    form, sheets = best
    if form.kind in KIND_LABEL_PAYLOADS:   # a kind with a layout of its own (the department: one sheet)
        return KIND_LABEL_PAYLOADS[form.kind](book, form, sheets[0], roster)
    projects, unit_code, unit_name = [], "", ""
    for seq, name in enumerate(sheets, 1):
        rows = book.sheets[name]
        values = _field_values(rows, form, find_anchors(rows))
        m = re.match(r"^\s*(\d{6})\s*(.+?)\s*$", _text(values.get("unit_line")))
        if m and not unit_code:
            unit_code, unit_name = m.group(1), m.group(2)
        amounts = {k: parse_amount(values.get(k), form.money).value for k in ("budget", "fiscal", "other")}
        projects.append({"sheet": name, "seq": seq, "code": _text(values.get("project_code")),
                         "name": _text(values.get("project_name")), "use": _text(values.get("use")), **amounts})
    if roster is not None:
        codes = {code_key(p["code"]) for p in projects}
        unit = roster.unit(unit_code) if unit_code else next(
            (u for u in roster.units if codes & {p.code for p in u.projects}), None)
        if unit is None and not unit_code:   # by the name it prints (a Word document's cover, its unit line)
            text = norm_label(" ".join([*(_text(_field_values(book.sheets[n], form, find_anchors(book.sheets[n]))
                                                    .get("unit_line")) for n in sheets), book.text]))
            named = [u for u in roster.units if u.name and norm_label(u.name) in text]
            unit = max(named, key=lambda u: len(u.name)) if named else None
        if unit is not None:
            unit_code, unit_name = unit.code, unit.name
            listed = {q.code: q for q in unit.projects}
            for p in projects:   # amounts the table does not print (唐山: in the prose) from the roster
                q = listed.get(p["code"])
                for k in ("budget", "fiscal", "other"):
                    if p[k] is None and q is not None and getattr(q, k, None) is not None and not form.has_field(k):
                        p[k] = convert_money(getattr(q, k), ROSTER_MONEY, form.money)
    if not unit_code:
        return None
    return Stamp(form.id, form.version, book.year, unit_code, unit_name, form.kind, form.taxonomy_id, issue=0,
                 projects=projects, stampless=True).payload()


def _dept_payload_from_labels(book: Book, form: Form, sheet: str, roster) -> dict | None:
    """A department table without a stamp: the unit is the roster's unit of that name; the year is the
    one the table prints (its 年度 line, else the year after the 近两年 columns)."""
    import re

    rows = book.sheets[sheet]
    values = _field_values(rows, form, find_anchors(rows))
    name = _text(values.get("unit_name_cell"))
    unit = next((u for u in roster.units if norm_label(u.name) == norm_label(name)), None) if roster else None
    if unit is None:
        return None
    years = [book.year] if book.year else [int(y) for y in re.findall(r"(20\d\d)", _text(values.get("year_line")))]
    if not years:   # 近两年: the later of the two years printed there, plus one
        seen = [int(y) for r in rows for v in r if isinstance(v, str) for y in re.findall(r"^(20\d\d)\s*年$", v.strip())]
        years = [max(seen) + 1] if seen else []
    return Stamp(form.id, form.version, years[0] if years else None, unit.code, unit.name, form.kind,
                 form.taxonomy_id, issue=0, projects=[{"sheet": sheet, "seq": 1, "code": unit.code, "name": unit.name}],
                 stampless=True).payload()


# how a stamp-less workbook of a kind with a layout of its own is identified (others: a sheet a project)
KIND_LABEL_PAYLOADS = {FormKind.DEPT_TARGET: _dept_payload_from_labels}
