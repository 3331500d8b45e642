"""perftables: the budget-performance cycle (预算绩效管理) for a city or county coordinator.

The Python API (perftables.api; the manual's “Python API” page):

    import perftables
    result = perftables.collect(["收件箱/"], roster="名单.csv")   # → Result; result.frames() → DataFrames
    perftables.read_summary("汇总.xlsx")                          # the same frames back
    perftables.generate("名单.csv", "下发", year=2025)
    perftables.publish(["收件箱/"], "公开")

The package is layered, low to high: core < forms < model < io < review < cycle < outputs | mail < api < cli;
a module imports only its own package or lower ones (import-linter checks it in CI).
"""
from .api import Result, collect, generate, publish, read_summary
from .core.version import __version__

__all__ = ["Result", "collect", "generate", "publish", "read_summary", "__version__"]
