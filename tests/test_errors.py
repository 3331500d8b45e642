"""One family of errors (core.errors): every error the package defines is a PerftablesError with its exit code,
and the command line turns any of them into its Chinese message — never a traceback."""
import importlib
import inspect
import pkgutil

import click

import perftables
from conftest import run
from perftables.core.errors import PerftablesError, WorldError


def package_errors():
    for info in pkgutil.walk_packages(perftables.__path__, "perftables."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                yield obj


def test_every_error_of_ours_is_one_family():
    found = [e for e in package_errors() if not e.__name__.startswith("_")
             and not issubclass(e, click.ClickException)]   # the command line's own usage errors
    assert len(found) >= 15
    assert [e.__qualname__ for e in found if not issubclass(e, PerftablesError)] == []
    world = {e.__name__ for e in found if e.exit_code == 1}
    assert {"FetchError", "SendError"} <= world and all(issubclass(e, WorldError) for e in found if e.exit_code == 1
                                                         and e.__name__ != "SendError")


def test_an_error_is_its_message_and_exit_code(tmp_path, monkeypatch):
    from perftables.mail.fetch import FetchError

    def fails(*a, **k):
        raise FetchError("与邮件服务器的连接中断（测试）")
    monkeypatch.setattr("perftables.mail.fetch.fetch", fails)
    r = run("fetch", "--imap", "127.0.0.1", "--user", "u", "-o", tmp_path / "收件箱", env={"PERFTABLES_IMAP_PASSWORD": "x"})
    assert r.exit_code == 1 and "错误：与邮件服务器的连接中断（测试）" in r.output and "Traceback" not in r.output
