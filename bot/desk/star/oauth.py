"""Tokens for Exchange Online without a password: MSAL's client-credentials flow (app secret or certificate)."""

from __future__ import annotations

import threading
from typing import Any

from bot.config import OAuthSettings

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"


class TokenError(RuntimeError):
    """No token: the message names the error Microsoft Entra gave (never the secret)."""


class TokenSource:
    """An app-only access token for SMTP (XOAUTH2), from MSAL's cache while it is valid."""

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self._app: Any = None
        self._lock = threading.Lock()  # sends run in worker threads; MSAL's app is built once

    def __repr__(self) -> str:
        return f"TokenSource(tenant_id={self.settings.tenant_id!r}, client_id={self.settings.client_id!r})"

    def _credential(self) -> str | dict[str, str]:
        if self.settings.cert_file is not None:
            return {"private_key": self.settings.cert_file.read_text(encoding="utf-8"),
                    "thumbprint": self.settings.cert_thumbprint or ""}
        return self.settings.client_secret or ""

    def _application(self) -> Any:
        import msal

        with self._lock:
            if self._app is None:
                authority = f"{self.settings.authority.rstrip('/')}/{self.settings.tenant_id}"
                custom = self.settings.authority.rstrip("/") != DEFAULT_AUTHORITY
                # A sovereign cloud or a test's loopback endpoint is not on Microsoft's list: skip that look-up.
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id, client_credential=self._credential(), authority=authority,
                    validate_authority=not custom, instance_discovery=False if custom else None)
            return self._app

    def token(self) -> str:
        """An access token for the configured scope (blocking: run it off the event loop)."""
        try:
            result = self._application().acquire_token_for_client(scopes=[self.settings.scope])
        except (ValueError, OSError) as exc:  # an unreachable or malformed authority
            raise TokenError(f"Microsoft Entra kunne ikke nås: {type(exc).__name__}") from None
        if "access_token" not in result:
            description = str(result.get("error_description", "")).splitlines()[0][:200] if result else ""
            raise TokenError(f"Microsoft Entra gav intet token: {result.get('error', 'ukendt fejl')} {description}")
        return str(result["access_token"])


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64, which smtplib adds)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
