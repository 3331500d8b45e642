"""What the web console asks of the layers above it (web.app.Services): the annotated workbook of an upload,
and collect on the whole round."""
from __future__ import annotations

import tempfile
from pathlib import Path

from ..cycle.collect import collect
from ..outputs.feedback import needs_feedback, write_feedback
from ..web.app import Services, create_app
from .pipeline import run_collect


def annotated(rnd, path: Path, display: str):
    """The clerk's return with every finding marked (the feedback workbook: what the clerk typed, unchanged, the
    cells of the findings red with 怎么改, 审核意见 listing them); None when there is nothing to mark."""
    col = collect([path], roster=rnd.roster(), year=rnd.year, kind=rnd.kind, workers=1)
    if not needs_feedback(col):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        [made] = write_feedback(col, tmp, deadline=rnd.deadline_text, contact=rnd.settings["contact"])[:1]
        return made.name, made.read_bytes()


def collect_round(rnd) -> str:
    """collect on the round as `perftables collect` runs it inside the round; what it did, in a line."""
    result = run_collect([rnd.inbox], rnd.summary, roster=rnd.roster(), year=rnd.year, export_dir=rnd.export,
                         workers=1, due=rnd.settings.deadline, rnd=rnd,
                         feedback=dict(outdir=rnd.feedback, deadline=rnd.deadline_text, contact=rnd.settings["contact"]))
    col = result.collection
    return (f"已收集：{len(col.files)} 个文件，采用 {len(col.accepted)} 个；汇总"
            + ("未变（收件箱与上次相同）" if result.reused else "已更新"))


def publish_round(rnd, force: bool = False, by: str = "") -> str:
    """publish as `perftables publish` runs it inside the round, with its gate; what happened, in a line."""
    import datetime as dt

    from ..core.dates import chinese
    from ..cycle.board import publish_blockers
    from ..outputs.publish import publish
    from ..outputs.schema import Heading
    from .pipeline import read_collection
    with rnd.store() as store:
        col = read_collection([rnd.inbox], roster=rnd.roster(), year=rnd.year, ledger=rnd.ledger(store),
                              cache_for=rnd.summary)
        blockers = publish_blockers(col, rnd.ledger(store))
    if blockers and not force:
        return f"未发布：还有 {len(blockers)} 个单位没有通过审核——" + "；".join(blockers[:10])
    if not col.accepted:
        return "未发布：还没有已采用的回执"
    remarks = (f"注：发布时仍有 {len(blockers)} 个单位未通过审核，经确认照常发布。",) if blockers else ()
    written = publish(col, rnd.public, pdf=False, heading=Heading(rnd.title, rnd.settings.issuer,
                                                                  chinese(dt.date.today()), remarks))
    return f"已发布 {len(written)} 个文件到 {rnd.public.name}" + ("（有单位未通过审核，已在汇总中注明）" if blockers else "")


def console(rnd):
    """The round's web console, with everything it needs."""
    return create_app(rnd, Services(feedback=annotated, collect=collect_round, publish=publish_round))
