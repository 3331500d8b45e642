"""Where the bundled form descriptions and example data are.

The repository's top-level `templates/` and `examples/` are the one place they are
edited; the wheel ships them as `perftables/templates` and `perftables/examples`
(setup.cfg maps the folders, nothing is copied in the checkout). Installed package
data comes first, so a stray `templates/` folder beside an installed package is never read.
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    installed = _HERE / name
    return installed if installed.is_dir() else _HERE.parent / name


TEMPLATES_DIR = _bundled("templates")
EXAMPLES_DIR = _bundled("examples")
