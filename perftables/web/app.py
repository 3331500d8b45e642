"""The round's web console (perftables serve): the clerk's page behind each unit's link, the coordinator's board
behind a password. Flask with plain HTML forms (no script needed), served by waitress (see serve.py).

Only parsing and presenting happen here: uploads are received and reviewed by cycle.upload, the board comes from
cycle.board, decisions are recorded in the round's state; what lives above this layer (the feedback workbook,
collect, publish) is handed in as Services."""
from __future__ import annotations

import datetime as dt
import hmac
import threading
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlsplit

from flask import Flask, abort, g, make_response, redirect, render_template, request, session, url_for

from ..core.errors import PerftablesError
from ..cycle.diff import changes
from ..cycle.board import approve as approve_unit, board, counts, current_findings, decide, waive
from ..cycle.links import token_hash
from ..cycle.state import Action, now_text
from ..cycle.upload import UploadError, compare_versions, finding_id, receive, review_of, stored_path
from .security import HEADERS, Throttle, check_password, new_csrf

ADMIN_META = "web_admin_password"
SECRET_META = "web_session_secret"


@dataclass
class Services:
    """What the console asks of the layers above it."""
    feedback: Callable | None = None     # (rnd, path, display) → (file name, bytes) of the annotated workbook
    collect: Callable | None = None      # (rnd) → a line saying what collect did
    publish: Callable | None = None      # (rnd, force, by) → a line saying what publish did
    remind: Callable | None = None       # (rnd, unit codes or None) → a line saying who was reminded how


class Background:
    """One job at a time in a thread of its own (sending reminders takes `interval` seconds a mail): the page
    that starts it returns at once; the board shows it running, then what it did."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.said = ""

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, job: Callable[[], str], what: str) -> str:
        with self.lock:
            if self.running:
                return f"{what}正在进行，完成后再试"

            def run():
                said = "未完成（出错了，请看 perftables serve 的窗口）"
                try:
                    said = job()
                except PerftablesError as exc:
                    said = str(exc)
                finally:
                    self.said = f"{what}（{now_text()}）：{said}"
            self.said = ""
            self.thread = threading.Thread(target=run, daemon=True, name=what)
            self.thread.start()
            return f"{what}已开始：完成后本页显示结果（刷新页面）"


def create_app(rnd, services: Services | None = None) -> Flask:
    app = Flask(__name__)
    web = rnd.settings
    with rnd.store() as store:
        secret = store.meta(SECRET_META)
        if not secret:
            import secrets
            secret = secrets.token_hex(32)
            store.set_meta(SECRET_META, secret)
    app.config.update(
        SECRET_KEY=secret, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="perftables", PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=web["web.session_minutes"]),
        MAX_CONTENT_LENGTH=web["web.max_upload_mb"] << 20, MAX_FORM_MEMORY_SIZE=1 << 20, MAX_FORM_PARTS=20)
    app.extensions["perftables"] = {"round": rnd, "services": services or Services(),
                                    "logins": Throttle(5, 300), "tokens": Throttle(20, 600),
                                    "remind": Background()}
    _hooks(app)
    _clerk_routes(app)
    _board_routes(app)
    _decision_routes(app)
    _publication_routes(app)
    _download_routes(app)
    return app


def _ctx():
    from flask import current_app
    return current_app.extensions["perftables"]


def _hooks(app: Flask) -> None:
    @app.before_request
    def before():
        session.permanent = True
        g.rnd = _ctx()["round"]
        g.store = g.rnd.store()
        if "csrf" not in session:
            session["csrf"] = new_csrf()
        if request.method == "POST":
            # Referrer-Policy no-referrer makes a browser send Origin: null on our own forms; where it says
            # where the request came from (Origin, Sec-Fetch-Site), it must be this site
            origin = request.headers.get("Origin", "null")
            if origin != "null" and urlsplit(origin).netloc != request.host:
                abort(403)
            if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
                abort(403)
            sent = request.form.get("csrf", "")
            if not hmac.compare_digest(sent, session.get("csrf", "")):
                abort(403)

    @app.teardown_request
    def after_all(exc):
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.after_request
    def headers(response):
        response.headers.update(HEADERS)
        return response

    @app.context_processor
    def common():
        return {"csrf": session.get("csrf", ""), "title": g.rnd.title, "issuer": g.rnd.settings.issuer,
                "deadline": g.rnd.deadline_text}

    for code, what in ((403, "请求未被接受（页面已过期，请刷新后重试）"), (404, "没有这个页面（链接可能已失效，请向协调人索取新链接）"),
                       (413, "文件太大，超过了本轮的上传上限"), (429, "尝试次数过多，请稍后再试"),
                       (500, "服务器内部错误，请稍后再试或联系协调人")):
        app.register_error_handler(code, _error_page(code, what))


def _error_page(code: int, what: str):
    def handler(exc):
        if code == 413:
            from flask import current_app
            limit = (current_app.config["MAX_CONTENT_LENGTH"] or 0) >> 20
            return render_template("error.html", message=f"{what}（{limit} MB）"), 413
        return render_template("error.html", message=what), code
    return handler


def _download(name: str, data: bytes, mimetype: str):
    response = make_response(data)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------------------------------------ the clerk

def _unit():
    code = session.get("unit")
    if not code:
        abort(404)
    unit = g.rnd.roster().unit(code)
    if unit is None:
        abort(404)
    return unit


def _clerk_routes(app: Flask) -> None:
    @app.get("/t/<token>")
    def link(token):
        tokens, who = _ctx()["tokens"], request.remote_addr or "?"
        if tokens.blocked(who):
            abort(429)
        unit = g.store.unit_of_link(token_hash(token)) if len(token) < 100 else None
        if unit is None:
            tokens.failed(who)
            abort(404)
        csrf = new_csrf()
        session.clear()
        session.update(unit=unit, csrf=csrf)
        return redirect(url_for("unit_page"))

    @app.get("/u")
    def unit_page():
        unit = _unit()
        line = next(x for x in board(g.rnd.roster(), g.rnd.ledger(g.store), g.store) if x.code == unit.code)
        uploads = list(reversed(g.store.uploads(unit.code)))
        returned = g.rnd.ledger(g.store).returned_note(unit.code)
        return render_template("unit.html", unit=unit, line=line, uploads=uploads, returned=returned,
                               template=_template_of(unit.code) is not None)

    @app.get("/u/template")
    def template():
        unit = _unit()
        path = _template_of(unit.code)
        if path is None:
            abort(404)
        return _download(path.name, path.read_bytes(), XLSX)

    @app.post("/u/upload")
    def upload():
        unit = _unit()
        file = request.files.get("file")
        if file is None or not file.filename:
            return render_template("error.html", message="请先选择要上传的文件"), 400
        try:
            receive(g.rnd, g.store, unit.code, file.filename, file.read())
        except UploadError as exc:
            return render_template("error.html", message=str(exc)), 400
        upload_id = g.store.uploads(unit.code)[-1]["id"]
        return redirect(url_for("result", upload_id=upload_id), code=303)

    @app.get("/u/result/<int:upload_id>")
    def result(upload_id):
        unit = _unit()
        review = review_of(g.store, upload_id, unit.code)
        if review is None:
            abort(404)
        return render_template("result.html", unit=unit, review=review)

    @app.get("/u/annotated/<int:upload_id>")
    def annotated(upload_id):
        unit = _unit()
        review = review_of(g.store, upload_id, unit.code)
        feedback = _ctx()["services"].feedback
        if review is None or feedback is None:
            abort(404)
        made = feedback(g.rnd, stored_path(g.rnd, review["upload"]), review["upload"]["name"])
        if made is None:
            return render_template("error.html", message="这份文件没有需要标注的问题（或无法读取），无需下载标注版"), 404
        return _download(made[0], made[1], XLSX)


def _template_of(code: str):
    folder = g.rnd.templates
    found = sorted(folder.glob(f"{code}_*.xlsx")) if folder.is_dir() else []
    return found[0] if found else None


# ------------------------------------------------------------------------------------------------ the coordinator

def _admin():
    if session.get("role") != "admin":
        abort(redirect(url_for("login")))


def _board_routes(app: Flask) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return render_template("login.html", message="")
        logins, who = _ctx()["logins"], request.remote_addr or "?"
        stored = g.store.meta(ADMIN_META)
        if logins.blocked(who):
            return render_template("login.html", message="尝试次数过多，请 5 分钟后再试"), 429
        if not stored or not check_password(request.form.get("password", ""), stored):
            logins.failed(who)
            return render_template("login.html", message="密码不对"), 401
        session.clear()
        session.update(role="admin", csrf=new_csrf(), by=request.form.get("name", "").strip()[:20] or "协调人")
        return redirect(url_for("board_page"), code=303)

    @app.post("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"), code=303)

    @app.get("/")
    def board_page():
        _admin()
        lines = board(g.rnd.roster(), g.rnd.ledger(g.store), g.store)
        state = request.args.get("state", "")
        shown = [x for x in lines if not state or x.status == state]
        job = _ctx()["remind"]
        return render_template("board.html", lines=shown, counts=counts(lines), total=len(lines), state=state,
                               message=request.args.get("message", ""), now=now_text(),
                               reminding=job.running, reminded=job.said, can_remind=_ctx()["services"].remind)

    @app.get("/units/<code>")
    def unit_detail(code):
        _admin()
        unit = g.rnd.roster().unit(code)
        if unit is None:
            abort(404)
        versions = [v for v in g.store.versions() if code in (v["unit"], v["claimed"])]
        changes = compare_versions(versions)
        decisions = g.store.decisions()
        ledger = g.rnd.ledger(g.store)
        current, findings = current_findings(g.store, ledger, code)
        return render_template("detail.html", unit=unit, versions=versions, decisions=decisions,
                               state=ledger.state(code), events=ledger.of(code), current=current,
                               findings=[(f, w, finding_id(f)) for f, w in findings], changes=changes,
                               message=request.args.get("message", ""))

    @app.get("/units/<code>/diff/<sha>")
    def version_diff(code, sha):
        _admin()
        unit = g.rnd.roster().unit(code)
        versions = [v for v in g.store.versions() if code in (v["unit"], v["claimed"])]
        before = compare_versions(versions).get(sha, {}).get("before")
        if unit is None or before is None:
            abort(404)
        old, new = g.store.snapshot(before), g.store.snapshot(sha)
        by_sha = {v["sha256"]: v for v in versions}
        return render_template("diff.html", unit=unit, old=by_sha[before], new=by_sha[sha],
                               changed=None if old is None or new is None else changes(old, new))


def _decision_routes(app: Flask) -> None:
    @app.post("/units/<code>/approve")
    def approve(code):
        _admin()
        ledger = g.rnd.ledger(g.store)
        try:
            said = approve_unit(g.store, ledger, code, by=session.get("by", ""))
        except PerftablesError as exc:
            said = str(exc)
        ledger.save()
        return redirect(url_for("board_page", message=said), code=303)

    @app.post("/units/<code>/waive")
    def waive_finding(code):
        _admin()
        try:
            said = waive(g.store, g.rnd.ledger(g.store), code, request.form.get("finding", ""),
                         request.form.get("reason", ""), by=session.get("by", ""))
        except PerftablesError as exc:
            said = str(exc)
        return redirect(url_for("unit_detail", code=code, message=said), code=303)

    @app.post("/units/<code>/return")
    def send_back(code):
        _admin()
        ledger = g.rnd.ledger(g.store)
        try:
            said = ledger.send_back(code, request.form.get("note", ""), by=session.get("by", ""))
        except PerftablesError as exc:
            said = str(exc)
        ledger.save()
        return redirect(url_for("board_page", message=said), code=303)

    @app.post("/versions/<sha>/<action>")
    def version_action(sha, action):
        _admin()
        chosen = {"void": Action.VOID, "accept": Action.ACCEPT}.get(action)
        if chosen is None or len(sha) != 64:
            abort(404)
        try:
            decision, v = decide(g.store, sha, chosen, by=session.get("by", ""), note=request.form.get("note", ""))
            said = f"{v['source']}：已{chosen}（重新收集后汇总随之更新）"
        except PerftablesError as exc:
            said = str(exc)
        return redirect(url_for("board_page", message=said), code=303)

    @app.post("/remind")
    @app.post("/units/<code>/remind")
    def remind(code=None):
        _admin()
        run = _ctx()["services"].remind
        if run is None:
            abort(404)
        if code is not None and g.rnd.roster().unit(code) is None:
            abort(404)
        rnd = g.rnd
        said = _ctx()["remind"].start(lambda: run(rnd, None if code is None else [code]),
                                      "催报" if code is None else f"催报 {code}")
        return redirect(url_for("board_page", message=said), code=303)

    @app.post("/collect")
    def run_collect():
        _admin()
        run = _ctx()["services"].collect
        said = run(g.rnd) if run else "本服务未提供收集"
        return redirect(url_for("board_page", message=said), code=303)



def _publication_routes(app: Flask) -> None:
    @app.post("/publish")
    def run_publish():
        _admin()
        run = _ctx()["services"].publish
        said = run(g.rnd, bool(request.form.get("force")), session.get("by", "")) if run else "本服务未提供发布"
        return redirect(url_for("published", message=said), code=303)

    @app.get("/public")
    def published():
        _admin()
        folder = g.rnd.public
        files = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        return render_template("public.html", files=files, message=request.args.get("message", ""))

    @app.get("/public/<name>")
    def public_file(name):
        _admin()
        folder = g.rnd.public
        if not folder.is_dir() or name not in {p.name for p in folder.iterdir() if p.is_file()}:
            abort(404)   # only a file listed there, by its exact name: never a path
        kinds = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".xlsx": XLSX,
                 ".pdf": "application/pdf"}
        path = folder / name
        return _download(name, path.read_bytes(), kinds.get(path.suffix.lower(), "application/octet-stream"))



def _download_routes(app: Flask) -> None:
    @app.get("/summary")
    def summary():
        _admin()
        if not g.rnd.summary.is_file():
            return render_template("error.html", message="还没有汇总：先点“收集并审核”"), 404
        return _download(g.rnd.summary.name, g.rnd.summary.read_bytes(), XLSX)

    @app.get("/audit")
    def audit():
        _admin()
        ledger = g.rnd.ledger(g.store)
        decided = g.store.decision_log()
        events = sorted(ledger.events, key=lambda e: e["time"], reverse=True)[:500]
        waived = sorted(({"sha256": sha, **w, "finding": f} for (sha, f), w in g.store.waivers().items()),
                        key=lambda w: w["time"], reverse=True)
        return render_template("audit.html", decisions=decided, events=events, uploads=g.store.uploads()[::-1][:500],
                               waived=waived)
