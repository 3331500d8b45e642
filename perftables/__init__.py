"""perftables: the budget-performance cycle (预算绩效管理) for a city or county coordinator."""
__version__ = "0.1.0"
