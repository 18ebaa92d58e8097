"""`ungebot web`: the web chat on uvicorn; `--demo` runs it on 127.0.0.1 with a local demo user and no login."""

from __future__ import annotations

import argparse
import logging
import sys


def add_parser(commands: argparse._SubParsersAction, help_text: str) -> None:  # type: ignore[type-arg]
    """The `web` sub-command's arguments."""
    web = commands.add_parser("web", help=help_text)
    web.add_argument("--demo", action="store_true",
                     help="kun på 127.0.0.1, med en lokal demo-bruger og uden login (til at prøve den)")
    web.add_argument("--host", help="adressen der lyttes på (127.0.0.1; UNGEBOT_WEB_HOST)")
    web.add_argument("--port", type=int, help="porten (8080; UNGEBOT_WEB_PORT)")


def run_web(args: argparse.Namespace) -> int:
    """Read the settings (refusing to start without a login outside demo mode), then serve until stopped."""
    import uvicorn

    from bot.channels import freeze_long_lived
    from bot.channels.web.app import build_app
    from bot.channels.web.settings import read_web_settings

    settings = read_web_settings(demo=args.demo, host=args.host, port=args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)  # a line per state change is no operator's business
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_app(settings)
    freeze_long_lived()  # as `ungebot telegram` does: full collections scan only what requests made since
    mode = "demo-bruger, intet login" if settings.demo else ("OpenID Connect" if settings.oidc else "login-proxy")
    print(f"Ungebot kører på http://{settings.host}:{settings.port}/ ({mode}). Stop med Ctrl+C.", file=sys.stderr)
    # proxy_headers off: the peer address must be the real one, or anyone could claim to be the login proxy.
    uvicorn.run(app, host=settings.host, port=settings.port, proxy_headers=False, server_header=False,
                access_log=False, log_level="warning", http="h11")  # h11 bounds a request's head; httptools does not
    return 0
