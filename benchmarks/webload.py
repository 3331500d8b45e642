"""A bounded loopback load test of the web console (perftables serve), as `python benchmarks/bench.py --web` runs it.

A fresh round of the example units is served by waitress on 127.0.0.1; N uploads of real returns (each a distinct
version) are sent by C clients at once through the units' links, each followed to its review page, while the
coordinator's board is read over and over; then the same unit uploads twice at the same moment. It stops by
itself. Printed: errors (expected 0), lost uploads (acknowledged but not in the round's state or not on disk,
expected 0), upload→findings p50/p95 alone and under load, the board's p95 under load."""
from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from perftables.api.console import console
from perftables.cli.demo import EXAMPLES
from perftables.cycle.generate import Options, fill_from_record, form_for_unit, workbook_bytes
from perftables.cycle.links import unit_links
from perftables.cycle.round import init_round
from perftables.io import keys
from perftables.web.app import ADMIN_META
from perftables.web.security import hash_password

PASSWORD = "load-test-password"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _session(base: str):
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect()), base


def _get(s, path: str) -> tuple[int, str, dict]:
    opener, base = s
    try:
        with opener.open(base + path, timeout=60) as r:
            return r.status, r.read().decode("utf-8"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def _post(s, path: str, fields: dict, file: tuple | None = None) -> tuple[int, dict]:
    opener, base = s
    boundary = "----perftablesload"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    if file:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file[0]}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + file[1] + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + path, data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with opener.open(req, timeout=120) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def _returns(rnd, n: int) -> list[tuple[str, bytes]]:
    roster = rnd.roster()
    seeds = {u["code"]: u for u in json.loads((EXAMPLES / "seed_tables.json").read_text(encoding="utf-8"))["units"]}
    codes = [u.code for u in roster.units if u.code in seeds]
    out = []
    with keys.using(rnd.key_path):
        for i in range(n):
            unit = roster.unit(codes[i % len(codes)])
            form = form_for_unit(unit, None)
            made = dt.datetime(2025, 1, 10) + dt.timedelta(minutes=i)   # each upload a version of its own
            out.append((unit.code, workbook_bytes(form, unit, Options(year=2025, created=made),
                                                  fill_from_record(form, seeds[unit.code]))))
    return out


def _upload(base: str, token: str, code: str, data: bytes) -> float:
    """Open the unit's link, upload, follow to the review; seconds from the upload to the findings."""
    s = _session(base)
    status, _, headers = _get(s, f"/t/{token}")
    assert status == 302, status
    status, html, _ = _get(s, "/u")
    start = time.perf_counter()
    status, headers = _post(s, "/u/upload", {"csrf": _csrf(html)}, (f"{code}.xlsx", data))
    assert status == 303, status
    status, html, _ = _get(s, headers["Location"])
    assert status == 200 and 'id="verdict"' in html, status
    return time.perf_counter() - start


def run(n: int = 200, concurrent: int = 50, threads: int = 8) -> dict:
    import logging
    from waitress import create_server
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)   # a queue is what a load test makes
    with tempfile.TemporaryDirectory() as tmp:
        rnd = init_round(Path(tmp) / "round", 2025, "hebei-project", EXAMPLES / "roster.csv", deadline="2025-01-15")
        with rnd.store() as store:
            store.set_meta(ADMIN_META, hash_password(PASSWORD))
            tokens = unit_links(store, rnd.key(), [u.code for u in rnd.roster().units])
        returns = _returns(rnd, n + 3)
        with rnd.using_key():
            srv = create_server(console(rnd), host="127.0.0.1", port=0, threads=threads)
            threading.Thread(target=_serve, args=(srv,), daemon=True).start()
            base = f"http://127.0.0.1:{srv.effective_port}"
            try:
                return _measure(rnd, base, tokens, returns, n, concurrent)
            finally:
                srv.close()


def _serve(srv) -> None:
    try:
        srv.run()
    except OSError:   # closed under its loop when the test is over
        pass


def _measure(rnd, base, tokens, returns, n, concurrent) -> dict:
    alone = [_upload(base, tokens[c], c, d) for c, d in returns[n:n + 1]]
    board_times, stop, errors = [], threading.Event(), []

    def watch_board():
        s = _session(base)
        _, html, _ = _get(s, "/login")
        _post(s, "/login", {"csrf": _csrf(html), "password": PASSWORD})
        while not stop.is_set():
            t = time.perf_counter()
            status, _, _ = _get(s, "/")
            board_times.append(time.perf_counter() - t)
            if status != 200:
                errors.append(f"board {status}")
            time.sleep(0.2)

    watcher = threading.Thread(target=watch_board)
    watcher.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrent) as pool:
        futures = [pool.submit(_upload, base, tokens[c], c, d) for c, d in returns[:n]]
        loaded = []
        for f in futures:
            try:
                loaded.append(f.result())
            except Exception as exc:   # noqa: BLE001 — counted, the run goes on
                errors.append(repr(exc))
    wall = time.perf_counter() - start
    stop.set()
    watcher.join()
    # the same unit twice at the same moment
    with ThreadPoolExecutor(2) as pool:
        twice = [pool.submit(_upload, base, tokens[c], c, d) for c, d in returns[n + 1:n + 3]]
        for f in twice:
            try:
                f.result()
            except Exception as exc:   # noqa: BLE001
                errors.append(repr(exc))
    with rnd.store() as store:
        ups = store.uploads()
    lost = (n + 3) - len(ups) + sum(1 for u in ups if not (rnd.folder / u["stored"]).is_file())
    q = statistics.quantiles
    return {"uploads": n, "concurrent": concurrent, "errors": len(errors), "error_samples": errors[:3], "lost": lost,
            "alone_s": alone[0], "p50_s": statistics.median(loaded) if loaded else None,
            "p95_s": q(loaded, n=20)[18] if len(loaded) > 20 else None, "wall_s": wall,
            "board_p95_s": q(board_times, n=20)[18] if len(board_times) > 20 else max(board_times, default=None)}


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=1))
