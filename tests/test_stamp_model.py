"""model.stamp: what a stamp says, typed; made into the payload the stamp sheet holds, key for key as before."""
from conftest import EXAMPLES
from perftables.core.kinds import FormKind
from perftables.cycle.collect import collect
from perftables.io.book import read_book
from perftables.io.stamp import STAMP_SHEET, read_stamp
from perftables.model.stamp import Stamp


def test_every_stamp_read_back_is_what_it_says():
    for folder in ("returns", "selfeval_returns", "dept/returns", "dept/selfeval_returns", "hunan/returns"):
        for path in (EXAMPLES / folder).glob("*.xlsx"):
            payload = read_stamp(read_book(path.read_bytes()).sheets[STAMP_SHEET])
            stamp = Stamp.of(payload)
            assert stamp.payload() == payload, path.name          # the same keys, the same values
            assert isinstance(stamp.kind, FormKind) and stamp.year in (2021, 2024, 2025) and stamp.unit_code


def test_a_record_and_a_return_speak_through_it():
    col = collect([EXAMPLES / "returns"])
    rec = col.accepted[0]
    assert rec.stamp.unit_code == rec.unit_code == rec.result.unit_code
    assert rec.stamp.kind is FormKind.PROJECT_TARGET and rec.stamp.issue == 1 and not rec.stamp.stampless
    assert [p["sheet"] for p in rec.result.stamp.projects] == [p.sheet for p in rec.result.projects]


def test_an_empty_stamp_for_a_file_without_one():
    assert Stamp.of(None).unit_code == "" and Stamp.of(None).year is None and not Stamp.of({}).stampless
