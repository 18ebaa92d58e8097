"""A fake OpenID Connect provider on 127.0.0.1 for the web login tests: discovery, an authorization endpoint that logs
the configured user straight in, a token endpoint that checks the PKCE verifier, and RS256-signed ID tokens.

`mode` spoils the next ID token the way a forged or stale one would be: "bad_signature", "wrong_audience",
"expired", "wrong_nonce"."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


class FakeProvider:
    """The provider's state: its keys, the issued codes, the user who logs in, and what went on."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "nøgle-1", "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "nøgle-1"})
        self.codes: dict[str, dict[str, str]] = {}
        self.user: dict[str, Any] = {"sub": "karen-1", "name": "Karen Sagsbehandler", "groups": []}
        self.mode = "ok"
        self.pkce_checked = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake OIDC provider", daemon=True)

    def __enter__(self) -> "FakeProvider":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        return {"issuer": self.url, "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token", "jwks_uri": self.url + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}

    def authorize(self, query: dict[str, str]) -> str:
        """Log the user in at once and send the browser back with a code (only with a PKCE S256 challenge)."""
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            raise ValueError("PKCE required")
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """Exchange a code (once) for tokens, after checking the redirect URI and the PKCE verifier."""
        request = self.codes.pop(form.get("code", ""), None)
        if request is None or form.get("redirect_uri") != request["redirect_uri"]:
            raise ValueError("invalid_grant")
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != request["code_challenge"]:
            raise ValueError("invalid_grant: PKCE")
        self.pkce_checked += 1
        now = int(time.time())
        claims = {"iss": self.url, "aud": request["client_id"], "iat": now, "exp": now + 300,
                  "nonce": request.get("nonce", ""), **self.user}
        if self.mode == "wrong_audience":
            claims["aud"] = "en-anden-app"
        elif self.mode == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif self.mode == "wrong_nonce":
            claims["nonce"] = "forkert"
        key = self.other_key if self.mode == "bad_signature" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "nøgle-1"}, claims, key)
        return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                "id_token": id_token}


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(provider.metadata())
            elif url.path == "/jwks":
                self._json({"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                try:
                    location = provider.authorize({k: v[0] for k, v in parse_qs(url.query).items()})
                except ValueError as exc:
                    self._json({"error": str(exc)}, 400)
                    return
                self.send_response(302)
                self.send_header("Location", location)
                self.end_headers()
            else:
                self._json({"error": "not found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client_id, _, _ = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", client_id)
            try:
                self._json(provider.token(form))
            except ValueError as exc:
                self._json({"error": str(exc)}, 400)

    return Handler
