"""The demo's outputs as data (every CSV byte, every workbook cell) are what they were: a renovation keeps
behaviour. An intended change of an output: PERFTABLES_UPDATE_GOLDEN=1 python -m pytest tests/test_demo_snapshot.py"""
import json
import os
from pathlib import Path

import pytest

from demo_snapshot import demo_snapshot

GOLDEN = Path(__file__).with_name("golden") / "demo_outputs.json"


@pytest.mark.slow
def test_the_demo_makes_the_same_data():
    now = demo_snapshot()
    if os.environ.get("PERFTABLES_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(now, ensure_ascii=False, indent=1), encoding="utf-8")
    before = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(now) == sorted(before)
    assert [name for name in now if now[name] != before[name]] == []
