"""The web chat: Starlette routes over the shared conversation. Plain forms and redirects (POST-redirect-GET) give the
whole dialogue without JavaScript; chat.js sends the same forms with fetch and gets the new messages as JSON."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels.web import auth
from bot.channels.web.chat import User, WebChat, WebTurn
from bot.channels.web.learn import WebLearn
from bot.channels.web.headers import SecurityHeaders
from bot.channels.web.middleware import RateLimiter, Session, SessionMiddleware, csrf_token
from bot.channels.web.render import ControlsCache, Made, Messages, Turns, fetched, for_page, page_environment, reply
from bot.channels.web.settings import WebSettings
from bot.chat.dialogue import Reply

log = logging.getLogger("ungebot.web")
STATIC = Path(__file__).resolve().parent / "static"
HELP_LABEL = "Hjælp til spørgsmålet"


class WebApp:
    """Routes and state of one server: settings, the chat, page templates, rate limiters."""

    def __init__(self, settings: WebSettings, chat: WebChat) -> None:
        self.settings, self.chat = settings, chat
        self.pages = page_environment()
        self.forms = ControlsCache(self.pages)
        self.messages = Messages(self.pages)
        self.turns = Turns(self.messages, chat.labels, HELP_LABEL)
        self.limits = {name: RateLimiter(*limit) for name, limit in settings.limits.items()}
        self.lifetime = timedelta(hours=settings.session_hours)
        self.login = auth.Login(settings, self)
        self.learn = WebLearn(self)
        self.sessions: OrderedDict[str, Session] = OrderedDict()  # kept in memory by SessionMiddleware

    # -- pages ----------------------------------------------------------------------------------------------------
    def page(self, name: str, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a page template with the user, the CSRF token and whether a log-out button makes sense."""
        user = auth.current_user(request)
        context.setdefault("title", context.get("heading", "Registrering af persongruppemarkeringer"))
        html = self.pages.get_template(name).render(
            user=user, csrf=csrf_token(request), can_log_out=user is not None and self.settings.trusted is None
            and not self.settings.demo, **context)
        return HTMLResponse(html, status_code=status)

    def notice(self, request: Request, heading: str, text: str, status: int = 200, level: str = "info",
               link: dict[str, str] | None = None) -> HTMLResponse:
        """A page with one message."""
        return self.page("notice.j2", request, status, heading=heading, text=text, level=level, link=link)

    async def home(self, request: Request) -> Response:
        """The dialogue so far and the answer forms; a new session starts with the welcome (and a resumed case)."""
        user = auth.current_user(request)
        if user is None:
            return await self.login.start_page(request)
        session = request.scope["session"]
        if not session.started("chat"):
            opening = self.chat.opening(user)
            made = self.turns.make(None, opening.replies, opening.state)
            session.add("chat", made.messages, made.forms, made.array)
        transcript = session.transcript("chat")
        return self.page("chat.j2", request, messages=for_page(transcript), controls=session.controls("chat"),
                         focus=len(transcript) > 3, skip_to="svar", skip_label="Gå til svarfeltet")

    async def answer(self, request: Request) -> Response:
        """One submitted form: checked (login, CSRF, rate), applied and committed with the session, then shown."""
        user, form = await auth.submitted_form(request, self.limits["answer"])
        if form.get("text", "").strip().lower() in ("/laer", "/lær"):  # learning has its own page
            if fetched(request):
                return JSONResponse({"location": "/laer"})
            return RedirectResponse("/laer", status_code=303)
        session = request.scope["session"]
        new: list[Made] = []  # the turn as the page has it, once added to the session

        def with_session(conn: sqlite3.Connection, turn: WebTurn) -> None:
            """The session's new turn rides in the answer's own commit: no fsync of its own. (Run again, alone, if
            another write of its group commit failed: the turn is added once, and written the same again.)"""
            if turn.star_send is None:
                if not new:
                    new.append(self._remember(session, turn, turn.replies, turn.echo))
                session.persist(conn, self.lifetime, commit=False)

        turn = await self.chat.take(user, form, with_session)
        session.settled()
        if turn.star_send is not None or not new:  # sent to STAR, or a form that changed nothing (stale, empty)
            delivered = self.chat.deliver(turn.star_send)
            new[:] = [self._remember(session, turn, delivered + turn.replies, turn.echo)]
        if fetched(request):
            forms = self.forms.json(session.controls("chat"), csrf_token(request), focus=True)
            return reply(self.messages, new[0].messages, forms, new[0].json)
        return RedirectResponse("/#seneste", status_code=303)

    def _remember(self, session: Any, turn: WebTurn, replies: list[Reply], echo: str | None) -> Made:
        made = self.turns.make(echo, replies, turn.state)
        session.add("chat", made.messages, made.forms, made.array)
        return made

    async def decision_log(self, request: Request) -> Response:
        """The support team's view of the log (as /log in Telegram)."""
        user = auth.current_user(request)
        if user is None:
            return await self.login.start_page(request)
        argument = request.query_params.get("id", "").strip()
        if user.role != "support":
            return self.page("log.j2", request, 403, body=_html(self.chat.desk.text("not_support")), back=True,
                             title="Afgørelsesloggen")
        return self.page("log.j2", request, body=_html(self.chat.log_text(user, argument)), back=bool(argument),
                         title="Afgørelsesloggen")

    async def error(self, request: Request, exc: Exception) -> Response:
        """Every error as a Danish page (or JSON for chat.js); never a traceback."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 500:
            log.error("request failed: %s", type(exc).__name__, exc_info=exc)
        heading, text = ERRORS.get(status, ERRORS[500])
        if fetched(request):
            return JSONResponse({"error": text}, status_code=status)
        link = {"href": "/", "label": "Til samtalen"} if status != 401 else {"href": "/", "label": "Log ind"}
        return self.notice(request, heading, text, status, "error", link)


ERRORS = {
    400: ("Formularen kunne ikke læses", "Det, du sendte, kunne ikke læses. Gå tilbage til samtalen og prøv igen – "
          "dit seneste gemte svar er ikke tabt."),
    401: ("Du er ikke logget ind", "Log ind med kommunens login for at bruge Ungebot."),
    403: ("Siden kunne ikke bruges", "Formularen var for gammel eller kom ikke fra denne side. Gå tilbage til "
          "samtalen og prøv igen – dit seneste gemte svar er ikke tabt."),
    404: ("Siden findes ikke", "Den side findes ikke i Ungebot."),
    405: ("Siden findes ikke", "Den side findes ikke i Ungebot."),
    413: ("Svaret var for langt", "Det, du sendte, var for langt til at blive gemt. Skriv et kortere svar, og prøv "
          "igen – dit seneste gemte svar er ikke tabt."),
    429: ("For mange forsøg", "Du har sendt mange svar eller loginforsøg på kort tid. Vent et minut, og prøv igen."),
    500: ("Der skete en fejl", "Noget gik galt hos os. Dine gemte svar er ikke tabt – prøv igen om lidt."),
}


def _html(text: str) -> Markup:
    return Markup(text)  # the desk's texts come from our autoescaped templates


def _lifespan(chat: WebChat) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """The background work (STAR sender, retention, old sessions) runs while the server does."""
        task = asyncio.create_task(chat.run_background(), name="ungebot web: background")
        try:
            yield
        finally:
            chat.journal.flush()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


class SecuredStarlette(Starlette):
    """Starlette with the security headers outermost: it answers an unexpected error (with our error page) in its
    ServerErrorMiddleware, outside every middleware it is given, so given as one the headers missed that page."""

    def __init__(self, *args: Any, teams: bool, https: bool, **kwargs: Any) -> None:
        self.security = {"teams": teams, "https": https}
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self) -> Any:
        return SecurityHeaders(super().build_middleware_stack(), **self.security)


def build_app(settings: WebSettings, chat: WebChat | None = None) -> Starlette:
    """The ASGI application for these settings."""
    chat = chat or WebChat(municipality=settings.municipality)
    web = WebApp(settings, chat)
    routes = [
        Route("/", web.home),
        Route("/svar", web.answer, methods=["POST"]),
        Route("/log", web.decision_log),
        *web.login.routes(),
        *web.learn.routes(),
        Mount("/static/web", StaticFiles(directory=STATIC), name="static"),
        Mount("/static/dkfds", StaticFiles(directory=settings.assets / "dkfds" / "dist", check_dir=False),
              name="dkfds"),
    ]
    if not (settings.assets / "dkfds" / "dist").is_dir():
        log.warning("DKFDS is not installed in %s (run `make web`); pages are shown without its styles",
                    settings.assets)
    same_site = "none" if settings.teams else "lax"  # a Teams tab is a cross-site frame
    middleware = [
        Middleware(SessionMiddleware, conn=chat.db, lifetime=web.lifetime, secure=settings.secure_cookies,
                   same_site=same_site, kept=web.sessions),
        Middleware(auth.IdentityMiddleware, settings=settings),
    ]
    app = SecuredStarlette(routes=routes, middleware=middleware, lifespan=_lifespan(chat),
                           exception_handlers={HTTPException: web.error, Exception: web.error},
                           teams=settings.teams, https=not settings.demo)
    app.state.web = web
    return app

