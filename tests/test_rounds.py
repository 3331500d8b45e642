"""cli.rounds: how the command line finds its round — a date typed as people type it, what a command is not
given taken from 设置.toml inside a round, a clear message outside one, the round's key in use while it runs."""
import datetime as dt

import click
import pytest

from perftables.cli.rounds import DATE, MissingOption, need_round, round_aware
from perftables.io import keys


@pytest.mark.parametrize("typed", ["2025-01-15", "2025/1/15", "2025年1月15日"])
def test_a_date_as_people_write_it(typed):
    assert DATE.convert(typed, None, None) == dt.date(2025, 1, 15)
    with pytest.raises(click.BadParameter):
        DATE.convert("1月15日", None, None)


def test_outside_a_round_a_round_command_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingOption, match="perftables init"):
        need_round(None)


def test_inside_a_round_what_a_command_is_not_given_comes_from_its_settings(round_dir):
    seen = {}

    @round_aware("collect", required={"year": "--year"}, key=True)
    def command(rnd, year=None, inbox=None):
        seen.update(rnd=rnd, year=year, key=keys.load_key().id)
        return "done"
    assert command(year=None) == "done"
    assert seen["year"] == 2025 and seen["rnd"].folder == round_dir
    assert seen["key"] == keys.load_key(path=round_dir / "签名密钥.key").id   # the round's key while it runs
    assert command(year=2024) == "done" and seen["year"] == 2024             # given on the command line: it wins


def test_outside_a_round_a_missing_option_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    @round_aware("collect", required={"year": "--year"})
    def command(rnd, year=None):
        return year
    with pytest.raises(click.UsageError, match="缺少 --year"):
        command(year=None)
    assert command(year=2025) == 2025
