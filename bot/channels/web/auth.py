"""Who is at the browser: OpenID Connect (Authlib, authorization code with PKCE), a login proxy's trusted header
(only from the proxy's own addresses), or the local demo user. Roles come from the configured users and groups."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.channels.web.chat import User
from bot.channels.web.formdata import read_form
from bot.channels.web.middleware import RateLimiter, check_csrf
from bot.channels.web.settings import DEMO_USER, WebSettings

if TYPE_CHECKING:
    from bot.channels.web.app import WebApp

log = logging.getLogger("ungebot.web")
USER_KEY = "ungebot.user"
USERS_KEPT = 4096  # people the login proxy named, remembered (settings do not change under a running server)


def current_user(connection: HTTPConnection) -> User | None:
    """The logged-in member of staff of this request, if any."""
    user = connection.scope.get(USER_KEY)
    return user if isinstance(user, User) else None


async def submitted_form(request: Request, limiter: RateLimiter) -> tuple[User, dict[str, str]]:
    """The member of staff and the fields of a submitted form, checked: logged in (401), CSRF token, rate (429)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401)
    form = await read_form(request)
    check_csrf(request, form.get("csrf"))
    if not limiter.allow(user.id):
        raise HTTPException(429)
    return user, form


def _groups(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
    if isinstance(value, (list, tuple)):
        return frozenset(str(part) for part in value)
    return frozenset()


class IdentityMiddleware:
    """Puts the request's User into the scope: the demo user, the proxy's header, or the session's login."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app, self.settings = app, settings
        self._proxied: dict[tuple[str, str, str], User | None] = {}  # the login proxy's headers -> who that is
        self._proxies: dict[str | None, bool] = {}  # a peer's address -> whether it is a configured proxy
        trusted = settings.trusted
        # The login proxy's headers as the server passes them (lower-case bytes) -> which of user, name, groups.
        self._wanted: dict[bytes, list[int]] = {}
        for index, name in enumerate((trusted.user, trusted.name, trusted.groups) if trusted is not None else ()):
            if name:
                self._wanted.setdefault(name.lower().encode("latin-1"), []).append(index)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[USER_KEY] = self.identify(scope)
        await self.app(scope, receive, send)

    def identify(self, scope: Scope) -> User | None:
        """The user, and the session made theirs: a session that belonged to someone else starts over."""
        session = scope["session"]
        user = None
        sent = self._sent(scope) if self._wanted and not self.settings.demo else ("", "", "")
        if self.settings.demo:
            user = User(DEMO_USER, "Demo-bruger", "support")
        elif sent is None:
            log.warning("refused a request that sent a login header more than once")
        elif sent[0]:
            user = self._from_proxy(scope, sent)
        elif isinstance(session.get("user"), dict):
            stored = session["user"]
            role = self.settings.role(stored["id"], frozenset(stored.get("groups", ())))
            user = User(stored["id"], stored.get("name", ""), role) if role else None
        if user is not None and (session.get("user") or {}).get("id") != user.id:
            session.detach()  # the transcript and token of someone else are not theirs to see
            session["user"] = {"id": user.id, "name": user.name, "groups": []}
        return user

    def _sent(self, scope: Scope) -> tuple[str, str, str] | None:
        """The login proxy's user, name and groups headers ("" when not sent), read from the raw headers (this is on
        every request's path); None when one of them came more than once: which one the proxy set cannot be told (a
        proxy that adds its header beside the client's own would pass on both), so nobody is let in by them."""
        found: list[str | None] = [None, None, None]
        wanted = self._wanted
        for name, value in scope["headers"]:
            for index in wanted.get(name, ()):
                if found[index] is not None:
                    return None
                found[index] = value.decode("latin-1")
        return found[0] or "", found[1] or "", found[2] or ""

    def _from_proxy(self, scope: Scope, sent: tuple[str, str, str]) -> User | None:
        trusted = self.settings.trusted
        assert trusted is not None
        client = scope.get("client")
        address = client[0] if client else None
        if address not in self._proxies:  # the proxy's few addresses, remembered (a network check hashes networks)
            if len(self._proxies) >= USERS_KEPT:
                self._proxies.clear()
            self._proxies[address] = trusted.trusts(address)
        if not self._proxies[address]:
            log.warning("ignored the login header %s from %s, which is not a configured proxy", trusted.user, address)
            return None
        if sent not in self._proxied:  # the same few people ask on every request: their User is remembered
            if len(self._proxied) >= USERS_KEPT:
                self._proxied.clear()
            self._proxied[sent] = self._proxied_user(*sent)
        return self._proxied[sent]

    def _proxied_user(self, user_header: str, name: str, groups_header: str) -> User | None:
        user_id = user_header.strip()
        groups = _groups(groups_header)
        role = self.settings.role(user_id, groups)
        return User(user_id, name.strip() or user_id, role) if role and user_id else None


class Login:
    """The login pages: start, the provider's callback, log-out."""

    def __init__(self, settings: WebSettings, web: "WebApp") -> None:
        self.settings, self.web = settings, web
        self.client: Any = None
        if settings.oidc is not None:
            from authlib.integrations.starlette_client import OAuth

            oauth = OAuth()
            oauth.register("idp", client_id=settings.oidc.client_id, client_secret=settings.oidc.client_secret or None,
                           server_metadata_url=settings.oidc.metadata_url,
                           client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"})
            self.client = oauth.create_client("idp")

    def routes(self) -> list[Route]:
        """The routes of logging in and out."""
        return [Route("/login", self.login, name="login"), Route("/login/callback", self.callback, name="callback"),
                Route("/logout", self.logout, methods=["POST"]), Route("/logget-ud", self.logged_out)]

    async def start_page(self, request: Request) -> Response:
        """What someone who is not logged in sees."""
        if self.client is not None:
            return self.web.notice(request, "Log ind", "Ungebot er kun for kommunens medarbejdere. Log ind med "
                                   "kommunens login for at fortsætte.", link={"href": "/login", "label": "Log ind"})
        refused = self.settings.trusted is not None and request.headers.get(self.settings.trusted.user)
        text = (self.web.chat.texts.common("refused_stranger") if refused else
                "Ungebot kender dig ikke. Åbn Ungebot via kommunens login-portal.")
        return self.web.notice(request, "Ingen adgang", _plain(text), 403, "error")

    async def login(self, request: Request) -> Response:
        """Send the browser to the identity provider (state, nonce and PKCE verifier kept in the session)."""
        if self.client is None:
            return RedirectResponse("/", status_code=303)
        if not self._allow(request):
            return self.web.notice(request, *_TOO_MANY, status=429, level="error")
        base = self.settings.public_url or str(request.base_url).rstrip("/")
        return await self.client.authorize_redirect(request, base + "/login/callback")  # type: ignore[no-any-return]

    async def callback(self, request: Request) -> Response:
        """The provider sends the browser back: exchange the code, check the ID token, start a fresh session."""
        if self.client is None:
            return RedirectResponse("/", status_code=303)
        if not self._allow(request):
            return self.web.notice(request, *_TOO_MANY, status=429, level="error")
        try:
            token = await self.client.authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})
        except Exception as exc:  # a bad signature, audience, expiry, state or code: refused, never a traceback
            log.warning("login refused: %s", type(exc).__name__)
            return self.web.notice(request, "Login mislykkedes", "Login kunne ikke gennemføres. Prøv igen – "
                                   "virker det stadig ikke, så kontakt jeres supportteam.", 400, "error",
                                   {"href": "/login", "label": "Prøv igen"})
        oidc = self.settings.oidc
        assert oidc is not None
        user_id = str(claims.get(oidc.user_claim) or "")
        groups = _groups(claims.get(oidc.groups_claim))
        if not user_id or self.settings.role(user_id, groups) is None:
            log.info("login refused: not an allowed user or group")
            return self.web.notice(request, "Ingen adgang", _plain(self.web.chat.texts.common("refused_stranger")),
                                   403, "error")
        session = request.scope["session"]
        session.clear()
        session.renew()  # a new token: one planted before the login is worth nothing
        name = claims.get("name") or claims.get("preferred_username") or user_id
        session["user"] = {"id": user_id, "name": str(name), "groups": sorted(groups)}
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        """End the session (its row and its cookie)."""
        form = await read_form(request)
        check_csrf(request, form.get("csrf"))
        request.scope["session"].end()
        return RedirectResponse("/logget-ud", status_code=303)

    async def logged_out(self, request: Request) -> Response:
        """After log-out."""
        return self.web.notice(request, "Du er logget ud", "Dine svar er gemt. Log ind igen for at fortsætte sagen.",
                               link={"href": "/", "label": "Log ind igen"})

    def _allow(self, request: Request) -> bool:
        address = request.client.host if request.client else "?"
        return self.web.limits["login"].allow(address)


_TOO_MANY = ("For mange forsøg", "Der har været mange loginforsøg på kort tid. Vent et minut, og prøv igen.")


def _plain(text: str) -> str:
    from bot.chat.texts import to_plain

    return to_plain(text)
