"""core.version: one version, the same in the package, its installed metadata and `perftables --version`."""
import importlib.metadata
import re

from conftest import run
from perftables.core.version import __version__


def test_one_version_everywhere():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert importlib.metadata.version("perftables") == __version__
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output
