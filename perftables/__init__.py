"""perftables: the budget-performance cycle (预算绩效管理) for a city or county coordinator.

The Python API (see perftables.api and README):

    import perftables
    result = perftables.collect(["收件箱/"], roster="名单.csv")   # → Result; result.frames() → DataFrames
    perftables.read_summary("汇总.xlsx")                          # the same frames back
    perftables.generate("名单.csv", "下发", year=2025)
    perftables.publish(["收件箱/"], "公开")

`perftables.collect`, `.generate` and `.publish` are also the modules of those steps; calling one
calls the API function of the same name.
"""
__version__ = "0.1.0"

_CALLABLE = ("collect", "generate", "publish")


def __getattr__(name):
    import importlib
    if name in _CALLABLE:
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("read_summary", "Result"):
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
