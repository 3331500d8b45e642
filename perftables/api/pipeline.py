"""The collect run as the command line makes it: collect (with the cache) → the summary workbook and its
exports → 待处理 → feedback → the ledger. The orchestration of the phases, above all of them: nothing
below imports it."""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..io.keys import DEMO_ENV, is_example, load_key, require_key
from ..core.kinds import Fate
from ..cycle.collect import collect, Collection, held_folder_problem, quarantine
from ..core.dates import chinese
from ..outputs.schema import Heading
from ..outputs.summary import build_tables, own_rows, write_csv, write_xlsx
from ..core.errors import PerftablesError
from ..core.files import OutputError
from ..core.parallel import fewer_gc_passes
from ..cycle.cache import cache_path_for, CollectCache, run_signature
from ..cycle.ledger import FEEDBACK, LEDGER_NAME, Ledger
from ..cycle.state import versions
from ..mail.fetch import received
from ..model.roster import Roster
from ..outputs.feedback import feedback_issue, needs_feedback, write_feedback
from ..outputs.data import SQLITE_NAME, write_kinds, write_parquet, write_sqlite


@dataclass
class CollectRun:
    collection: Collection
    written: list[Path]          # the files this run wrote (summary, exports, 待处理)
    reused: bool = False         # the inbox had not changed: the outputs of the last run still stand
    held: Path | None = None     # the 待处理 folder, when some file was not used
    seconds: dict[str, float] = field(default_factory=dict)   # where the time went, by step
    notes: list[str] = field(default_factory=list)             # to tell the user (the cache was rebuilt…)
    ledger: object = None                                      # the ledger beside the summary, as saved
    feedback: list[Path] = field(default_factory=list)         # the feedback workbooks written


@dataclass(frozen=True)
class CollectOptions:
    """What a collect run is asked for: the command's options, or the round's settings.

    roster: the units (model.roster.Roster), to identify files without a stamp and list who has not sent; year:
    the year collected (None: the one all stamped files share); export_dir and formats (csv, sqlite, parquet):
    the exports; workers: processes reading (None: every core); use_cache: files read before are taken from the
    cache beside the summary; due: the deadline 逾期天数 counts from (kept in the ledger); today: the day it
    counts to; feedback: the arguments of feedback.write_feedback (outdir, deadline, contact) — written before
    the summary, so that 报送情况 shows what went back."""
    roster: Roster | None = None
    year: int | None = None
    export_dir: Path | str | None = None
    formats: tuple[str, ...] = ("csv",)
    workers: int | None = None
    use_cache: bool = True
    due: dt.date | None = None
    today: dt.date | None = None
    feedback: dict | None = None


def run_collect(inbox, output, options: CollectOptions | None = None, *, progress=None, rnd=None) -> CollectRun:
    """collect → summary workbook (+ export: csv, sqlite, parquet) → 待处理 → the ledger beside the
    summary (cycle.ledger), as the CLI runs it.

    Files read before are taken from the cache beside the output; when nothing in the inbox (names, bytes,
    times), the options or the ledger changed and the outputs are as written, they are left as they are.
    progress: called with each file read. rnd: the round (cycle.round.Round) this collect is of: its state is
    the ledger, its decisions stand, every version is recorded in it, 待处理 is its folder."""
    opts = options or CollectOptions()
    opts = replace(opts, formats=tuple(opts.formats))
    with fewer_gc_passes():
        if rnd is None:
            return _run_collect(inbox, output, opts, progress, None)
        with rnd.store() as store:
            return _run_collect(inbox, output, opts, progress, (rnd, store))


def _mailed(inbox) -> dict:
    """What fetch saved into these inbox folders: sha256 → (mail time, sender, sender's unit code)."""
    out = {}
    for item in inbox if isinstance(inbox, (list, tuple)) else [inbox]:
        if Path(item).is_dir():
            out.update(received(item))
    return out


def read_collection(inbox, roster=None, year=None, ledger=None, progress=None, cache_for=None) -> Collection:
    """The inbox read as collect reads it — the round's decisions (ledger.decided) applied, mailed files' senders
    checked — without writing anything but the cache beside `cache_for` (a summary workbook), when given."""
    mailed = _mailed(inbox)
    cache = CollectCache(cache_path_for(cache_for)) if cache_for else None
    try:
        return collect(inbox, roster=roster, year=year, progress=progress, cache=cache,
                       decisions=ledger.decided if ledger is not None else None, claims=_claims(mailed))
    finally:
        if cache is not None:
            cache.close()


def _claims(mailed: dict) -> dict:
    """Which unit each mailed file came from (its sender's address in the roster)."""
    return {sha: (v[2], f"发件人邮箱 {v[1]}") for sha, v in mailed.items() if len(v) > 2 and v[2]}


def _run_collect(inbox, output, opts: CollectOptions, progress, in_round) -> CollectRun:
    roster, year, export_dir, workers, formats = opts.roster, opts.year, opts.export_dir, opts.workers, opts.formats
    if opts.feedback is not None:
        require_key()   # feedback is signed with the round's key: without it, say so before any work
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    held_dir = in_round[0].held if in_round else output.parent / "待处理"
    problem = held_folder_problem(held_dir)
    if problem:
        raise OutputError(problem)
    if in_round:   # the round's state is the ledger; an old 进度台账.json beside the summary is taken in once
        ledger = Ledger.of_round(in_round[1], old_json=output.parent / LEDGER_NAME)
    else:
        ledger = Ledger.load(output.parent)      # a ledger that cannot be read stops the run here
    if opts.due:
        ledger.due = opts.due.isoformat()
    today = opts.today or dt.date.today()
    cache = CollectCache(cache_path_for(output)) if opts.use_cache else None
    seconds, start = {}, time.perf_counter()

    def step(name):
        nonlocal start
        now = time.perf_counter()
        seconds[name], start = now - start, now

    try:
        mailed = _mailed(inbox)
        col = collect(inbox, roster=roster, year=year, progress=progress, workers=workers, cache=cache,
                      rows=own_rows, decisions=ledger.decided, claims=_claims(mailed))
        step("read")
        if output.is_file():   # what the coordinator marked in the summary's 确认通过 column is kept
            ledger.approvals_from_summary(output)
        ledger.observe(col, mailed=mailed)
        if in_round:
            in_round[1].record_versions(versions(col, mailed))
        col.ledger, col.today = ledger, today
        sent_back = _feedback(col, ledger, opts.feedback, step) if opts.feedback is not None else []
        signature = run_signature(
            [(f.display, f.sha256, str(f.mtime)) for f in col.files if f.path is not None],
            roster, year, str(Path(export_dir).resolve()) if export_dir else "", str(held_dir.resolve()), formats,
            ledger.digest(), str(today))
        if cache is not None and cache.unchanged(output, signature):
            has_held = (held_dir / "待处理清单.csv").is_file() and any(f.fate == Fate.REJECTED for f in col.files)
            return CollectRun(col, [], reused=True, held=held_dir if has_held else None, seconds=seconds,
                              notes=_notes(cache), ledger=ledger, feedback=sent_back)
        heading = _heading(in_round[0], today) if in_round else None
        written, split_notes = _write_outputs(col, output, export_dir, formats, workers, step, heading)
        held = quarantine(col, held_dir)
        if held:
            written += sorted(p for p in held.iterdir() if p.is_file())
        written.append(ledger.save())      # last: a run that failed before here leaves the ledger as it was
        if cache is not None:
            cache.wrote(output, signature, written)
        step("finish")
        return CollectRun(col, written, held=held, seconds=seconds, notes=_notes(cache) + split_notes, ledger=ledger,
                          feedback=sent_back)
    finally:
        if cache is not None:
            cache.close()


def _feedback(col, ledger, feedback: dict, step) -> list[Path]:
    """The feedback workbooks (before the summary, so that 报送情况 shows what went back), in the ledger."""
    sent_back = write_feedback(col, **feedback)
    for rec, path in zip(needs_feedback(col), sent_back):
        ledger.add(rec.unit_code, FEEDBACK, sha256=rec.sha256, issue=feedback_issue(rec), file=rec.display,
                   feedback=path.name)
    step("feedback")
    return sent_back


def _heading(rnd, today: dt.date) -> Heading:
    """The round's title, issuer and the day, printed on every page of its summary."""
    return Heading(f"{rnd.title}汇总", rnd.settings.issuer, chinese(today))


def _write_outputs(col, output: Path, export_dir, formats, workers, step, heading=None) -> tuple[list[Path], list[str]]:
    """The summary workbook and the exports asked for; the files written and what the workbook had to say."""
    csv_out = bool(export_dir) and "csv" in formats
    if csv_out:
        Path(export_dir).mkdir(parents=True, exist_ok=True)
    tables = build_tables(col, workers, render={"export": csv_out, "spool": export_dir if csv_out else None})
    step("tables")
    split_notes = write_xlsx(tables, output, title=heading.title if heading else f"{col.year or ''}年绩效目标汇总",
                             heading=heading)
    step("xlsx")
    written = [output]
    if csv_out:
        write_csv(tables, export_dir)
        written += [Path(export_dir) / f"{t.name}.csv" for t in tables] + [write_kinds(tables, export_dir)]
        step("csv")
    if export_dir and "sqlite" in formats:
        written.append(write_sqlite(tables, Path(export_dir) / SQLITE_NAME))
        step("sqlite")
    if export_dir and "parquet" in formats:
        written += write_parquet(tables, export_dir)
        step("parquet")
    return written, split_notes


def _notes(cache) -> list[str]:
    notes = [cache.note] if cache is not None and cache.note and not cache.keyless else []
    if os.environ.get(DEMO_ENV) != "1" and is_example(_loaded_key()):
        notes.append("本机用来核验标识的是随软件公开的示例密钥：任何人都能用它伪造标识，核验结果不可信，"
                     "只适合示例回执。正式收表请在本轮文件夹中运行，或用生成模板时的密钥")
    return notes


def _loaded_key():
    try:
        return load_key()
    except PerftablesError:
        return None
