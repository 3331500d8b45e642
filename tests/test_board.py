"""cycle.board: the round's board from its state alone — a line per roster unit (its state, versions, errors),
待确认 while a version waits for the coordinator, and the coordinator's decisions (void, accept) recorded."""
import datetime as dt

import pytest

from conftest import returns_of, run
from perftables.cycle.board import DecisionError, board, counts, decide, pending_versions
from perftables.cycle.round import Round
from perftables.cycle.state import Action

TODAY = dt.date(2025, 1, 20)   # five days after the round's deadline


def lines_of(rnd):
    with rnd.store() as store:
        return {line.code: line for line in board(rnd.roster(), rnd.ledger(store), store, TODAY)}


def test_a_line_per_unit_from_the_state_alone(round_dir):
    rnd = Round.load(round_dir)
    for code, data in returns_of(round_dir, ["306001", "405002"]).items():
        (rnd.inbox / f"{code}.xlsx").write_bytes(data)
    assert run("collect").exit_code == 0
    lines = lines_of(rnd)
    assert set(lines) == {u.code for u in rnd.roster().units}
    assert lines["306001"].versions == 1 and lines["306001"].errors and lines["405002"].versions == 1
    silent = next(line for code, line in lines.items() if code not in ("306001", "405002"))
    assert silent.versions == 0 and silent.days_late == 5 and not silent.last
    assert sum(counts(list(lines.values())).values()) == len(lines)


def test_a_version_for_another_unit_waits_and_the_coordinators_decision_is_recorded(round_dir):
    rnd = Round.load(round_dir)
    data = returns_of(round_dir, ["306001"])["306001"]
    (rnd.inbox / "405002_唐山市科协.xlsx").write_bytes(data)      # 306001's table, named as 唐山's
    assert run("collect").exit_code == 0
    with rnd.store() as store:
        [waiting] = pending_versions(store)
        assert waiting["source"].endswith("405002_唐山市科协.xlsx")
    assert lines_of(rnd)["306001"].pending or lines_of(rnd)["405002"].pending
    with rnd.store() as store:
        decision, version = decide(store, waiting["sha256"][:12], Action.ACCEPT, by="张三", note="电话核实")
        assert (decision.by, decision.note) == ("张三", "电话核实") and version["sha256"] == waiting["sha256"]
        assert pending_versions(store) == []
        with pytest.raises(DecisionError):
            decide(store, "0000000000", Action.VOID)
