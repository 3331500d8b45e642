"""Running the console: waitress (pure Python, the same on Windows and Linux), a bounded pool of threads."""
from __future__ import annotations

import ipaddress


def exposure(host: str) -> str:
    """What binding to `host` exposes, in Chinese (empty for this machine only)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return ""
    return (f"注意：网页在 {host} 上监听，局域网内能访问这台电脑的人都能打开它（上传要凭各单位的链接，进度页要凭密码）。"
            "只在单位内网使用；需要从外网访问时请放在 IIS 或 nginx 之后并启用 HTTPS")


def run(app, host: str, port: int, threads: int = 8, max_mb: int = 20) -> None:
    from waitress import serve
    serve(app, host=host, port=port, threads=threads, max_request_body_size=(max_mb + 2) << 20,
          ident="perftables", clear_untrusted_proxy_headers=True)
