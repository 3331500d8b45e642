"""cycle.upload: a return uploaded on the web console — kept under its content hash, reviewed at once as collect
reviews, recorded in the round's state; each finding of a second upload as 仍存在 / 新出现, each gone as 已解决."""
import pytest

from conftest import corrected_return, returns_of
from perftables.cycle.round import Round
from perftables.cycle.upload import NEW, OPEN, RESOLVED, UploadError, receive, review_of, stored_path, track


def test_track_says_what_became_of_each_finding():
    a = {"sheet": "项目1", "rule": "缺少计量单位", "target": ["grid", 0, "unit"], "cell": "G11"}
    b = {"sheet": "项目1", "rule": "宜量化", "target": ["grid", 1, "num"], "cell": "F12"}
    moved = dict(a, cell="G12")                        # a row inserted above: the same finding, in its place
    c = {"sheet": "项目2", "rule": "必填项为空", "target": ["field", "goal"], "cell": "B8"}
    assert track([a, b], [moved, c]) == [(OPEN, moved), (NEW, c), (RESOLVED, b)]


def test_an_upload_is_kept_reviewed_recorded_and_compared_with_the_last(round_dir, tmp_path):
    rnd = Round.load(round_dir)
    first = returns_of(round_dir, ["731002"])["731002"]
    with rnd.using_key(), rnd.store() as store:        # as `perftables serve` runs: the round's key
        up = receive(rnd, store, "731002", "保定科协.xlsx", first)
        assert up.main.unit_code == "731002" and up.main.errors > 0
        [row] = store.uploads("731002")
        assert stored_path(rnd, row).read_bytes() == first and up.sha256 in row["stored"]   # by content, not name
        review = review_of(store, row["id"], "731002")
        assert review["first"] and review["errors"] == up.main.errors
        assert review_of(store, row["id"], "306001") is None                  # not that unit's upload
    (tmp_path / "731002.xlsx").write_bytes(first)
    with rnd.using_key():
        fixed = corrected_return(tmp_path / "731002.xlsx")
    with rnd.using_key(), rnd.store() as store:
        again = receive(rnd, store, "731002", "保定科协（改）.xlsx", fixed)
        statuses = {s for s, _ in again.tracked}
        assert RESOLVED in statuses and again.main.errors < up.main.errors
        with pytest.raises(UploadError, match="不是可以上传的文件"):
            receive(rnd, store, "731002", "说明.txt", "就是一段文字".encode())
