"""perftables.collect(…), perftables.generate(…), perftables.publish(…): each step's module, called, is the
API function of its name (perftables.api). The step modules sit below the API; the call goes up to it by
name, when it is made, so that no module imports the layer above it."""
from __future__ import annotations

import importlib
import sys
import types


def make_callable(module_name: str) -> None:
    module = sys.modules[module_name]
    func = module_name.rsplit(".", 1)[-1]

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(importlib.import_module("perftables.api"), func)(*args, **kwargs)

    CallableModule.__call__.__doc__ = f"perftables.api.{func}(…)：见其说明。"
    module.__class__ = CallableModule
