"""What the demo makes, as data: every CSV's bytes and every workbook's cell values, hashed per file.

    python tests/demo_snapshot.py OUT.json     # run the demo in a temporary folder and write the snapshot

A renovation that keeps behaviour keeps this snapshot (tests/test_demo_snapshot.py); a change that means to
alter an output writes it again with PERFTABLES_UPDATE_GOLDEN=1."""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from python_calamine import CalamineWorkbook


def _cells(path: Path) -> str:
    wb = CalamineWorkbook.from_path(str(path))
    out = []
    for name in wb.sheet_names:
        if name.startswith("_"):   # the stamp holds the time it was made
            continue
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        out.append([name, [[c if not hasattr(c, "isoformat") else c.isoformat() for c in r] for r in rows]])
    return json.dumps(out, ensure_ascii=False, default=str)


def snapshot(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".csv":
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.suffix in (".xlsx",) and "~$" not in path.name:
            found[rel] = hashlib.sha256(_cells(path).encode()).hexdigest()
    return found


def demo_snapshot() -> dict[str, str]:
    from perftables.cli.demo import run_demo
    with tempfile.TemporaryDirectory() as tmp:
        for _ in run_demo(Path(tmp) / "demo"):
            pass
        return snapshot(Path(tmp) / "demo")


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(demo_snapshot(), ensure_ascii=False, indent=1), encoding="utf-8")
