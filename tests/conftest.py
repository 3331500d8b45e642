import datetime as dt
import os
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from perftables.cli.demo import EXAMPLES
from perftables.forms.form import load_form
from perftables.cycle.generate import Options, fill_from_record, form_for_unit, workbook_bytes
from perftables.model.roster import Project, Unit, read_roster
from perftables.io import keys

ROOT = Path(__file__).resolve().parent.parent
# every test signs and verifies with the published example key, as the bundled example returns do
os.environ["PERFTABLES_KEY"] = str(EXAMPLES / "示例签名密钥.key")
os.environ["PERFTABLES_DEMO"] = "1"   # the tests sign with the public example key, as the demo does
SEEDS = ROOT / "tests" / "data" / "seeds"   # the five public seed documents (tests/data/seeds/README.md)
FIXED = dt.datetime(2025, 1, 10, 9, 30)


SLOW_FIXTURES = {"smtp_server", "imap_server"}   # real servers on loopback


def pytest_collection_modifyitems(config, items):
    """A test that drives a real application or server is slow, whether or not it says so itself:
    `-m "not slow"` is the fast loop."""
    for item in items:
        if item.get_closest_marker("libreoffice") or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def roster():
    return read_roster(EXAMPLES / "roster.csv")


@pytest.fixture(scope="session")
def seed_tables():
    return json.loads((EXAMPLES / "seed_tables.json").read_text(encoding="utf-8"))


@pytest.fixture
def small_unit():
    return Unit(code="999001", name="测试县科学技术协会", projects=[
        Project(code="999001P001", name="科普活动经费", budget=12.0, fiscal=10.0, other=2.0, use="开展科普活动"),
        Project(code="999001P002", name="学会服务经费", budget=5.5, fiscal=5.5, other=0.0, use=""),
    ])


def run(*args, env=None, catch_exceptions=True, **kw):
    """The command line as a user runs it (every argument as text); the click result."""
    from click.testing import CliRunner
    from perftables.cli.main import cli
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=catch_exceptions, **kw)


def make_workbook(unit, form_id="hebei-project", fill=None, **opts) -> bytes:
    opts.setdefault("year", 2025)
    opts.setdefault("created", FIXED)
    return workbook_bytes(load_form(form_id), unit, Options(**opts), fill)


def seed_return(roster, seed_tables, code, year=2025, **opts) -> bytes:
    record = next(u for u in seed_tables["units"] if u["code"] == code)
    unit = roster.unit(code)
    form = form_for_unit(unit, None)
    opts.setdefault("created", FIXED)
    return workbook_bytes(form, unit, Options(year=year, **opts), fill_from_record(form, record))


def rewrite_zip(data: bytes, member: str, change) -> bytes:
    """The zip (xlsx) with one member's bytes changed: change(body) → new body, or None to drop it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                body = change(body)
                if body is None:
                    continue
            dst.writestr(info, body)
    return out.getvalue()


def patch_zip(data: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """Edit one part of an xlsx as a clerk with an unprotect tool would."""
    def replace(body):
        assert old in body, f"{old!r} not in {member}"
        return body.replace(old, new, 1)
    return rewrite_zip(data, member, replace)


def libreoffice_available() -> bool:
    """On CI (CI=true) LibreOffice must be there: .ci/run installs it, and a skip would hide its absence."""
    found = shutil.which("soffice") is not None and Path("/usr/lib/python3/dist-packages/uno.py").exists()
    if not found and os.environ.get("CI"):
        raise RuntimeError("CI 上必须安装 LibreOffice（libreoffice-calc-nogui、python3-uno）")
    return found


# --------------------------------------------------------------------------- mail servers on loopback

class _Outbox:
    """What the SMTP server on loopback received: (recipients, message) pairs."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port: (what it received, port)."""
    import socket
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _Outbox()
    controller = controller_mod.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def imap_server():
    """A real IMAP server (Dovecot, tests/imapserver.py) for the tests of one module."""
    from imapserver import Dovecot, dovecot_binary
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("没有 Dovecot（.ci/run 会安装 dovecot-imapd）")
    server = Dovecot(binary)
    yield server
    server.stop()


def corrected_return(path, fix=None):
    """A unit's return corrected the way its clerk corrects the feedback workbook: what it returned, fixed,
    in the next version of the template."""
    from perftables.cycle.collect import collect
    from perftables.outputs.feedback import fill_from_return, unit_from_payload
    from perftables.cycle.generate import Options, workbook_bytes
    rec = collect([path]).accepted[0]
    ret, payload = rec.result, rec.payload
    fill = fill_from_return(ret)
    (fix or fix_731002)(fill, ret.form)
    return workbook_bytes(ret.form, unit_from_payload(payload), Options(year=2025, issue=2), fill)


def fix_731002(fill, form):
    for row in fill["projects"]["项目3"]["indicators"]:
        if row["name"] == "群众满意度":
            row.update(op="≥", num="90", unit="%")
    fill["projects"]["项目5"]["fields"][form.plan_fields()[-1].field] = 100


@pytest.fixture
def round_dir(tmp_path, monkeypatch):
    """A round made by `perftables init` as a coordinator types it; the tests run inside it."""
    folder = tmp_path / "青溪县2025目标"
    r = run("init", folder, "--year", 2025, "--form", "hebei-project", "--roster", EXAMPLES / "roster.csv",
            "--title", "青溪县2025年项目支出绩效目标", "--issuer", "青溪县财政局", "--deadline", "2025年1月15日")
    assert r.exit_code == 0, r.output
    monkeypatch.chdir(folder)
    return folder


def returns_of(folder: Path, codes, **opts) -> dict[str, bytes]:
    """The seed units' returns as their clerks filled them, on templates signed with the round's key."""
    roster = read_roster(EXAMPLES / "roster.csv")
    seeds = json.loads((EXAMPLES / "seed_tables.json").read_text(encoding="utf-8"))
    with keys.using(folder / "签名密钥.key"):
        return {code: seed_return(roster, seeds, code, **opts) for code in codes}


CONSOLE_PASSWORD = "青溪县2025-secret"


def console_round(folder: Path):
    """A round ready for its web console: templates made, the coordinator's password set; (round, unit → token)."""
    from perftables.cycle.links import unit_links
    from perftables.cycle.round import Round
    from perftables.web.app import ADMIN_META
    from perftables.web.security import hash_password
    assert run("generate").exit_code == 0
    rnd = Round.load(folder)
    with rnd.store() as store:
        store.set_meta(ADMIN_META, hash_password(CONSOLE_PASSWORD))
        tokens = unit_links(store, rnd.key(), [u.code for u in rnd.roster().units])
    return rnd, tokens
