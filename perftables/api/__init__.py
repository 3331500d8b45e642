"""The Python API: what the command line does, callable from a notebook or a script.

    import perftables
    result = perftables.collect(["收件箱/"], roster="名单.csv")
    frames = result.frames()                 # {"单位汇总": DataFrame, "指标明细": DataFrame, …}
    frames["项目汇总"].groupby("单位名称")["预算数（万元）"].sum()
    result.write_summary("汇总.xlsx")
    result.export("导出/", formats=("csv", "sqlite", "parquet"))
    perftables.read_summary("汇总.xlsx")     # the same frames back (also from an export folder or .sqlite)

The command line is a thin layer over the same functions (api.pipeline.run_collect and friends).
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from ..core.files import guard_outputs
from ..core.parallel import fewer_gc_passes
from ..cycle.collect import collect as run
from ..cycle.generate import Options
from ..forms.form import with_templates
from ..model.roster import read_roster, Roster
from ..outputs.data import frames, read_any, SQLITE_NAME, write_kinds, write_parquet, write_sqlite
from ..outputs.summary import build_tables, write_csv, write_xlsx


def _templates(templates):
    """User form folders for the duration of a call (as --templates does on the command line)."""
    if not templates:
        return nullcontext()
    return with_templates([templates] if isinstance(templates, (str, os.PathLike)) else list(templates))


def _roster(roster):
    if roster is None or isinstance(roster, Roster):
        return roster
    return read_roster(roster)


@dataclass
class Result:
    """A collection of returns and the summary's tables made from it."""
    collection: object
    tables: list = field(default_factory=list)

    def frames(self) -> dict:
        """The summary's tables as typed pandas DataFrames, named like the workbook's sheets."""
        return frames(self.tables)

    @property
    def files(self):
        return self.collection.files

    @property
    def accepted(self):
        return self.collection.accepted

    def write_summary(self, path) -> list[str]:
        guard_outputs({"汇总工作簿": path}, [f.path for f in self.collection.files if f.path is not None])
        return write_xlsx(self.tables, path, title=f"{self.collection.year or ''}年绩效目标汇总")

    def export(self, folder, formats=("csv",)) -> list[Path]:
        written: list[Path] = []
        if "csv" in formats:
            written += write_csv(self.tables, folder) + [write_kinds(self.tables, folder)]
        if "sqlite" in formats:
            written.append(write_sqlite(self.tables, Path(folder) / SQLITE_NAME))
        if "parquet" in formats:
            written += write_parquet(self.tables, folder)
        return written


def collect(inputs, roster=None, year: int | None = None, templates=None, workers: int | None = None,
            kind: str | None = None) -> Result:
    """Read, identify, review every returned file (files and folders); nothing is written."""

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    with _templates(templates), fewer_gc_passes():
        col = run(list(inputs), roster=_roster(roster), year=year, workers=workers, kind=kind)
        return Result(col, build_tables(col))


def read_summary(source) -> dict:
    """The frames of an earlier collect: its summary workbook, CSV export folder, SQLite file or Parquet files."""
    return read_any(source)


def generate(roster, outdir, year: int, form: str | None = None, taxonomy: str | None = None, templates=None,
             units=None, overwrite: bool = False, workers: int | None = None, **options) -> list[Path]:
    """One locked workbook per unit of the roster (a path or a Roster); options as on the command line
    (password, deadline, contact, extra_projects, indicator_rows). Returns the files written."""
    from ..cycle.generate import generate as run

    with _templates(templates):
        written = run(_roster(roster), outdir, Options(year=year, **options), form_id=form, taxonomy=taxonomy,
                      units=list(units) if units else None, overwrite=overwrite, workers=workers)
    return [path for _, path in written]


def publish(inputs, outdir, roster=None, year: int | None = None, pdf: bool = True, templates=None) -> list[Path]:
    """The published documents (docx, xlsx, pdf) of collected returns (an inbox, or a Result)."""
    from ..outputs.publish import publish as run

    with _templates(templates):
        col = inputs.collection if isinstance(inputs, Result) else collect(inputs, roster, year).collection
        return run(col, outdir, pdf=pdf)
