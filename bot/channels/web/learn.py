"""Learning in the browser (/laer): the channel-free Trainer's lessons, practice cases and test as a page of their
own, with the same forms, CSRF, rate limit and transcript as the dialogue; flow pictures as images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.channels.web import auth
from bot.channels.web.chat import TEXT_LIMIT, User
from bot.channels.web.middleware import csrf_token
from bot.channels.web.render import Forms, fetched, for_page, reply
from bot.learn.screens import Screen
from bot.learn.trainer import Trainer
from flows.privacy import contains_cpr
from storage.records import Staff

if TYPE_CHECKING:
    from bot.channels.web.app import WebApp

HINT = "Svar med knapperne, eller skriv tallet ud for svaret (en dato, hvor der spørges om en)."
CPR_REFUSED = "Skriv aldrig et CPR-nummer her. Jeg har ikke gemt det."
STALE = "Den knap hører til et tidligere trin. Her er, hvor du er nu:"


class WebLearn:
    """The /laer routes over one Trainer (made on first use: most sessions never open it)."""

    def __init__(self, web: "WebApp") -> None:
        self.web = web
        self._trainer: Trainer | None = None

    @property
    def trainer(self) -> Trainer:
        if self._trainer is None:
            chat = self.web.chat
            self._trainer = Trainer(chat.rulebook, chat.texts, chat.db)
        return self._trainer

    def routes(self) -> list[Route]:
        """The learning page, its form, and the flow pictures."""
        return [Route("/laer", self.page), Route("/laer", self.answer, methods=["POST"]),
                Route("/laer/billede", self.picture)]

    @staticmethod
    def _staff(user: User) -> Staff:
        return Staff(channel="web", staff_id=user.id, name=user.name)

    async def page(self, request: Request) -> Response:
        """The learning conversation so far; opening it (again) resumes where the trainee was."""
        user = auth.current_user(request)
        if user is None:
            return await self.web.login.start_page(request)
        session = request.scope["session"]
        if not session.started("learn"):
            self._remember(session, user, None, self.trainer.open(self._staff(user)))
        return self.web.page("learn.j2", request, messages=for_page(session.transcript("learn")),
                             controls=session.controls("learn"),
                             focus=True, skip_to="svar", skip_label="Gå til svarfeltet", title="Lær registreringerne")

    async def answer(self, request: Request) -> Response:
        """A pressed option or typed text, checked like the dialogue's forms."""
        user, form = await auth.submitted_form(request, self.web.limits["answer"])
        staff = self._staff(user)
        state = self.trainer.state(staff)
        options = self.trainer.options(state)
        text = form.get("text", "").strip()[:TEXT_LIMIT]
        echo: str | None = None
        if form.get("step") != str(state.get("step")):
            screens = [Screen(STALE)] + self.trainer.open(staff)
        elif "option" in form and form["option"].isdigit() and int(form["option"]) < len(options):
            value, echo = options[int(form["option"])]
            screens = self.trainer.press(staff, value)
        elif text and contains_cpr(text):  # never stored, never echoed
            screens = [Screen(CPR_REFUSED)]
        elif text:
            echo, screens = text, self.trainer.type(staff, text)
        else:
            screens = self.trainer.open(staff)
        session = request.scope["session"]
        new = self._remember(session, user, echo, screens)
        if fetched(request):
            return reply(self.web.messages, new,
                         self.web.forms.json(session.controls("learn"), csrf_token(request), focus=True))
        return RedirectResponse("/laer#seneste", status_code=303)

    def _remember(self, session: Any, user: User, echo: str | None, screens: list[Screen]) -> list[str]:
        new = [{"who": "me", "kind": "answer", "text": echo}] if echo else []
        for screen in screens:
            new.append({"who": "bot", "kind": "info", "html": screen.text})
            pictures = [(screen.diagram, ())] if screen.diagram else []
            for flow, nodes in pictures + list(screen.path):
                title = self.web.chat.rulebook.flow(flow).title if flow in self.web.chat.rulebook.flows else flow
                query = f"flow={flow}" + "".join(f"&node={node}" for node in nodes)
                new.append({"who": "bot", "kind": "picture", "src": f"/laer/billede?{query}",
                            "alt": f"Flowdiagram: {title}" + (" med sagens vej fremhævet" if nodes else "")})
        last = screens[-1] if screens else Screen("")
        state = self.trainer.state(self._staff(user))
        messages = self.web.messages.render(new)
        forms = Forms(tuple(label for _, label in last.options), (), int(state.get("step", 0)), last.expects_text,
                      "question", "/laer", HINT)
        session.add("learn", messages, forms, self.web.messages.array(messages))
        return messages

    async def picture(self, request: Request) -> Response:
        """A flow's picture (with a case's path), only for flows and nodes of the rulebook."""
        if auth.current_user(request) is None:
            raise HTTPException(401)
        rulebook = self.web.chat.rulebook
        flow = request.query_params.get("flow", "")
        nodes = tuple(request.query_params.getlist("node"))
        if flow not in rulebook.flows or not set(nodes) <= set(rulebook.flow(flow).spec.questions) | set(
                rulebook.flow(flow).spec.outcomes):
            raise HTTPException(404)
        path = self.trainer.picture(flow, nodes)
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, media_type="image/png")
