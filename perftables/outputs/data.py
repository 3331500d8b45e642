"""The summary's tables as data: typed pandas DataFrames, a SQLite database, Parquet files.

Every table of the summary (报送情况, 文件清单, 单位汇总, 项目汇总, 指标明细, 审核问题, …) keeps its
columns' kinds (text, amount, int, pct, time…), so each format gets proper types: codes as text,
amounts and plans as floats, counts as integers, times as datetimes. Values are exact here —
the formula guard belongs to files meant for Excel (CSV and the workbook), not to data.

pandas is imported only when frames are asked for; pyarrow only for Parquet (the `parquet` extra).
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from .schema import TABLE_IDS, ColumnKind
from ..core.errors import PerftablesError
from ..core.files import atomic_path, write_text
from .summary import read_summary_tables, workbook_sheets
from ..core.value import format_number

KINDS_FILE = "_columns.json"      # beside a CSV export: each table's columns and kinds
SQLITE_NAME = "汇总.sqlite"
# ASCII names for the base tables of the database (views carry the sheets' own names): the summary's schema
INDEXED = ("单位编码", "项目编码", "一级指标")


class DataError(PerftablesError):
    """An export cannot be made (a Chinese message)."""


def _kind(word) -> ColumnKind:
    """A column's kind as an export file writes it; a word none of ours (an edited _columns.json) is text."""
    try:
        return ColumnKind(word)
    except ValueError:
        return ColumnKind.TEXT


def _value(value, kind: ColumnKind):
    """A cell as data of its column's kind (None stays None)."""
    if value is None or value == "":
        return None
    if kind.is_float:
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(str(value).replace(",", ""))
        except ValueError:
            raise DataError(f"“{value}”不是数字") from None
    if kind.is_int:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        return int(float(str(value)))
    if kind is ColumnKind.TIME:
        if isinstance(value, dt.datetime):
            return value
        return dt.datetime.fromisoformat(str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def rows_of(table):
    """The data rows of a table, typed (never its 合计 row: sums are computed by whoever reads)."""
    kinds = [k for _, k in table.columns]
    for row in table.iter_rows():
        yield [_value(v, k) for v, k in zip(row, kinds)]


# --------------------------------------------------------------------------- pandas

def _pandas():
    """pandas, for the data API's frames (the `api` extra): without it, a message that says what to install."""
    try:
        import pandas
        return pandas
    except ImportError:
        raise DataError("数据表（pandas DataFrame）需要 pandas：pip install \"perftables[api]\"") from None


def frame(table):
    pd = _pandas()

    names = [h for h, _ in table.columns]
    df = pd.DataFrame(list(rows_of(table)), columns=names)
    return _typed(df, dict(table.columns))


def _typed(df, kinds: dict[str, str]):
    pd = _pandas()

    for name, word in kinds.items():
        if name not in df.columns:
            continue
        kind = _kind(word)
        if kind.is_float:
            df[name] = pd.to_numeric(df[name]).astype("float64")
        elif kind.is_int:
            df[name] = pd.array([None if v is None or v != v else int(v) for v in df[name]], dtype="Int64")
        elif kind is ColumnKind.TIME:
            df[name] = pd.to_datetime(df[name])
        else:
            df[name] = df[name].astype("string")
    return df


def frames(tables) -> dict:
    return {t.name: frame(t) for t in tables}


# --------------------------------------------------------------------------- SQLite

_SQL_TYPES = {k: "REAL" if k.is_float else "INTEGER" if k.is_int else "TEXT" for k in ColumnKind}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_sqlite(tables, path) -> Path:
    """One database: a base table per summary table (ASCII name, a row number as primary key, indexes on
    unit, project and 一级), and a view named like the sheet — for DuckDB, Datasette, Power Query."""
    path = Path(path)
    with atomic_path(path) as tmp:
        db = sqlite3.connect(tmp)
        try:
            meta = []
            for i, table in enumerate(tables):
                base = TABLE_IDS.get(table.name, f"table{i + 1}")
                cols = table.columns
                decl = ", ".join(f"{_q(h)} {_SQL_TYPES.get(k, 'TEXT')}" for h, k in cols)
                db.execute(f"CREATE TABLE {_q(base)} (\"_row\" INTEGER PRIMARY KEY, {decl})")
                marks = ", ".join("?" for _ in range(len(cols) + 1))
                db.executemany(f"INSERT INTO {_q(base)} VALUES ({marks})",
                               ([n, *[v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row]]
                                for n, row in enumerate(rows_of(table), 1)))
                for h, _ in cols:
                    if h in INDEXED:
                        db.execute(f"CREATE INDEX {_q(f'{base}_{h}')} ON {_q(base)} ({_q(h)})")
                db.execute(f"CREATE VIEW {_q(table.name)} AS SELECT {', '.join(_q(h) for h, _ in cols)} "
                           f"FROM {_q(base)} ORDER BY \"_row\"")
                meta += [(table.name, base, j, h, k) for j, (h, k) in enumerate(cols)]
            db.execute("CREATE TABLE \"_columns\" (\"表\" TEXT, \"基表\" TEXT, \"序号\" INTEGER, \"列\" TEXT, "
                       "\"类型\" TEXT, PRIMARY KEY (\"表\", \"序号\"))")
            db.executemany("INSERT INTO \"_columns\" VALUES (?, ?, ?, ?, ?)", meta)
            db.commit()
        finally:
            db.close()
    return path


def read_sqlite(path) -> dict:
    pd = _pandas()

    db = sqlite3.connect(f"file:{Path(path).resolve().as_posix()}?mode=ro", uri=True)
    try:
        kinds: dict[str, dict[str, str]] = {}
        for name, _, _, col, kind in db.execute("SELECT * FROM \"_columns\" ORDER BY \"表\", \"序号\""):
            kinds.setdefault(name, {})[col] = kind
        out = {}
        for name in kinds:
            df = pd.read_sql_query(f"SELECT * FROM {_q(name)}", db)
            out[name] = _typed(df, kinds[name])
        return out
    finally:
        db.close()


# --------------------------------------------------------------------------- Parquet

def _arrow():
    try:
        import pyarrow
        import pyarrow.parquet
        return pyarrow
    except ImportError:
        raise DataError("导出 Parquet 需要 pyarrow：pip install \"perftables[parquet]\"") from None


def write_parquet(tables, folder) -> list[Path]:
    pa = _arrow()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    types = {k: pa.float64() if k.is_float else pa.int64() if k.is_int else pa.string() for k in ColumnKind}
    types[ColumnKind.TIME] = pa.timestamp("s")
    written = []
    for table in tables:
        rows = list(rows_of(table))
        arrays = {h: pa.array([r[j] for r in rows], type=types.get(k, pa.string()))
                  for j, (h, k) in enumerate(table.columns)}
        schema_meta = {b"perftables_kinds": json.dumps(dict(table.columns), ensure_ascii=False).encode()}
        data = pa.table(arrays).replace_schema_metadata(schema_meta)
        path = folder / f"{table.name}.parquet"
        with atomic_path(path) as tmp:
            pa.parquet.write_table(data, str(tmp))
        written.append(path)
    return written


def read_parquet(folder) -> dict:
    pa = _arrow()
    out = {}
    for path in sorted(Path(folder).glob("*.parquet")):
        data = pa.parquet.read_table(str(path))
        kinds = json.loads((data.schema.metadata or {}).get(b"perftables_kinds", b"{}"))
        out[path.stem] = _typed(data.to_pandas(), kinds)
    return out


# --------------------------------------------------------------------------- CSV's column kinds

def write_kinds(tables, folder) -> Path:
    return write_text(Path(folder) / KINDS_FILE, json.dumps({t.name: t.columns for t in tables}, ensure_ascii=False,
                                                             indent=1))


def read_csv_folder(folder) -> dict:
    """The tables of a CSV export, typed by the kinds written beside them (formula guard removed)."""
    pd = _pandas()


    folder = Path(folder)
    kinds_path = folder / KINDS_FILE
    kinds = json.loads(kinds_path.read_text(encoding="utf-8")) if kinds_path.is_file() else {}
    out = {}
    for name, rows in read_summary_tables(folder).items():
        cols = dict(kinds.get(name, []))
        df = pd.DataFrame(rows, columns=list(cols) or None)
        for c in df.columns:
            df[c] = df[c].map(lambda v: None if v == "" else v)
        out[name] = _typed(df, cols)
    return out


INT_HEADS = ("数", "行号", "年度", "大小（字节）")


def read_xlsx(path) -> dict:
    """A summary workbook's tables, typed from the cells themselves (codes are stored as text)."""
    pd = _pandas()


    out = {}
    for name, (head, body) in workbook_sheets(path).items():
        columns = {}
        for j, h in enumerate(head):
            values = [r[j] for r in body]
            present = [v for v in values if v is not None]
            if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
                if h.endswith(INT_HEADS) and all(float(v).is_integer() for v in present):
                    columns[h] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
                else:
                    columns[h] = pd.array([float("nan") if v is None else float(v) for v in values], dtype="float64")
            elif present and all(isinstance(v, dt.datetime) for v in present):
                columns[h] = pd.to_datetime(pd.Series(values, dtype="object"))
            else:
                columns[h] = pd.array([None if v is None else str(v) for v in values], dtype="string")
        out[name] = pd.DataFrame(columns)
    return out


def read_any(source) -> dict:
    """Frames from whatever collect wrote: the workbook, a CSV export folder, the SQLite file, Parquet files."""
    source = Path(source)
    if source.is_dir():
        if list(source.glob("*.parquet")) and not list(source.glob("*.csv")):
            return read_parquet(source)
        if (source / SQLITE_NAME).is_file() and not list(source.glob("*.csv")):
            return read_sqlite(source / SQLITE_NAME)
        return read_csv_folder(source)
    if source.suffix.lower() in (".sqlite", ".db", ".sqlite3"):
        return read_sqlite(source)
    return read_xlsx(source)
