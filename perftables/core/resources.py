"""Where the bundled form descriptions and example data are.

The repository's top-level `templates/` and `examples/` are the one place they are
edited; the wheel ships them as `perftables/templates` and `perftables/examples`
(setup.cfg maps the folders, nothing is copied in the checkout). Installed package
data comes first, so a stray `templates/` folder beside an installed package is never read.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

_HERE = Path(__file__).resolve().parent.parent   # the package: perftables/


def _bundled(name: str) -> Path:
    installed = _HERE / name
    return installed if installed.is_dir() else _HERE.parent / name


TEMPLATES_DIR = _bundled("templates")
# a form or taxonomy id: a name, never a path
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# characters that must never reach a file name, a mail header or a one-line cell
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@contextmanager
def environ(name: str, value: str | None):
    """Within the block, the environment variable `name` is `value` (None: unset) — for this process and
    the worker processes it starts; restored afterwards."""
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
EXAMPLES_DIR = _bundled("examples")
