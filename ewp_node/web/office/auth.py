"""Login, logout, language, and the guards every console request passes: session, CSRF, role, headers."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ewp_node.context import NodeContext
from ewp_node.office.accounts import LANGUAGES, Account, LoginThrottle, account_for, log_in, log_out, set_language
from ewp_node.office.actions import record_action
from ewp_node.web.office.i18n import translator

log = logging.getLogger("ewp_node.office")

COOKIE = "ewp_office"
#: Double-submit cookie of the login form (there is no session yet to hold its CSRF token).
LOGIN_COOKIE = "ewp_office_login"
#: Endpoints open without an account: the login form, and the student pages (their signed link is the credential).
_OPEN_ENDPOINTS = frozenset({"office.login", "office.static", "office.student", "office.student_courses",
                             "office.survey"})
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def current() -> Account:
    """The logged-in account of this request (the guard has made sure there is one)."""
    account: Account = g.office_account
    return account


def record(ctx: NodeContext, action: str, target: str, outcome: str) -> None:
    """Put what the logged-in user did in the console's action log (and the process log)."""
    name = current().name
    record_action(ctx.sessions, name, action, target, outcome)
    log.info("console: %s %s %s: %s", name, action, target, outcome)


def officer_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Viewers may read every page but act on none: 403 for them."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current().may_act:
            abort(403)
        return view(*args, **kwargs)

    return guarded


def safe_next(target: str | None) -> str:
    """Where to go after login: a console path only (no scheme, host, ``//`` or backslash: no open redirect)."""
    if not target or not target.startswith("/office/") or "\\" in target or "//" in target:
        return "/office/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/office/"


def same_origin() -> bool:
    """A browser's POST carries Origin (or at least Referer); a cross-site one names another host."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is None or urlsplit(origin).netloc == request.host


def _secure_cookies(ctx: NodeContext) -> bool:
    return request.is_secure or ctx.settings.base_url.startswith("https://")


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    throttle = LoginThrottle()

    @blueprint.before_request
    def _guard() -> BaseResponse | None:
        token = request.cookies.get(COOKIE, "")
        account = None
        if token:
            with ctx.sessions() as session:
                account = account_for(session, token)
        g.office_account, g.office_token = account, token
        g.office_lang = account.lang if account else _anonymous_lang()
        if request.endpoint in _OPEN_ENDPOINTS:
            return None
        if account is None:
            return redirect(url_for("office.login", next=request.full_path.rstrip("?")))
        if request.method == "POST":
            given = request.form.get("csrf", "")
            if not same_origin() or not hmac.compare_digest(given.encode(), account.csrf_token.encode()):
                abort(403)
        return None

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(_HEADERS)
        return response

    @blueprint.app_context_processor
    def _template_globals() -> dict[str, Any]:
        return {"_": translator(g.get("office_lang", "en")), "account": g.get("office_account"),
                "lang": g.get("office_lang", "en"), "languages": LANGUAGES}

    @blueprint.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> tuple[str, int]:
        return render_template("office/error.html", code=exc.code, description=exc.description), exc.code or 500

    @blueprint.route("/login", methods=["GET", "POST"])
    def login() -> BaseResponse | tuple[Any, int]:
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            return _login_form(target)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), request.form.get("csrf", "").encode()):
            abort(403)
        name, password = request.form.get("name", "").strip(), request.form.get("password", "")
        address = request.remote_addr or "?"
        if not throttle.allowed(address, name):
            return _login_form(target, "Too many failed attempts: wait a few minutes.", 429)
        with ctx.sessions.begin() as session:
            token = log_in(session, name, password, g.office_lang)
        if token is None:
            throttle.failed(address, name)
            log.warning("console login refused for %r from %s", name[:64], address)
            return _login_form(target, "Wrong user name or password.", 401)
        log.info("console login: %s from %s", name, address)
        response = redirect(target)
        response.set_cookie(COOKIE, token, httponly=True, secure=_secure_cookies(ctx), samesite="Lax",
                            path="/office")
        response.delete_cookie(LOGIN_COOKIE, path="/office")
        return response

    def _login_form(target: str, error: str | None = None, status: int = 200) -> tuple[Any, int]:
        csrf = secrets.token_urlsafe(32)
        response = Response(render_template("office/login.html", next=target, csrf=csrf, error=error), status)
        response.set_cookie(LOGIN_COOKIE, csrf, httponly=True, secure=_secure_cookies(ctx), samesite="Strict",
                            path="/office")
        return response, status

    @blueprint.post("/logout")
    def logout() -> BaseResponse:
        with ctx.sessions.begin() as session:
            log_out(session, g.office_token)
        response = redirect(url_for("office.login"))
        response.delete_cookie(COOKIE, path="/office")
        return response

    @blueprint.post("/lang")
    def language() -> BaseResponse:
        lang = request.form.get("lang", "")
        if lang not in LANGUAGES:
            abort(400)
        with ctx.sessions.begin() as session:
            set_language(session, g.office_token, lang)
        return redirect(safe_next(request.form.get("next")))


def _anonymous_lang() -> str:
    asked = request.values.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES) or "en"
