"""Settings of `ungebot web`: where it listens, how staff log in, who gets in and who is support staff."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ConfigError, read_values

# Where `make web` puts the npm packages (dkfds, axe-core): node_modules at the top of the checkout.
DEFAULT_ASSETS = Path(__file__).resolve().parents[3] / "node_modules"
DEMO_USER = "demo"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Oidc:
    """OpenID Connect against the municipality's identity provider (Entra ID, KOMBIT, ...)."""

    issuer: str
    client_id: str
    client_secret: str
    user_claim: str = "sub"  # Entra ID: "oid" is the stable id across apps
    groups_claim: str = "groups"

    @property
    def metadata_url(self) -> str:
        """The provider's discovery document."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class TrustedHeader:
    """A login proxy in front of ungebot names the user in a header; believed only from the proxy's addresses."""

    user: str
    name: str | None
    groups: str | None
    proxies: tuple[Network, ...]

    def trusts(self, address: str | None) -> bool:
        """True when the request comes straight from one of the configured proxies."""
        return _within(self.proxies, address or "")


@functools.lru_cache(maxsize=1024)
def _within(networks: tuple[Network, ...], address: str) -> bool:
    """Whether the address is in one of the networks (remembered: the same few proxies ask on every request)."""
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in network for network in networks)


@dataclass(frozen=True)
class WebSettings:
    """What `ungebot web` needs to run."""

    host: str = "127.0.0.1"
    port: int = 8080
    demo: bool = False
    public_url: str | None = None
    oidc: Oidc | None = None
    trusted: TrustedHeader | None = None
    allowed_users: frozenset[str] = frozenset()
    allowed_groups: frozenset[str] = frozenset()
    support_users: frozenset[str] = frozenset()
    support_groups: frozenset[str] = frozenset()
    teams: bool = False
    session_hours: int = 8
    assets: Path = DEFAULT_ASSETS
    database: Path | None = None
    municipality: str = ""
    secure_cookies: bool = True
    limits: dict[str, tuple[int, float]] = field(default_factory=lambda: {
        "login": (10, 60.0),  # login attempts per address per minute
        "answer": (60, 60.0),  # answers per user per minute: far above typing speed, far below a script's
    })

    def role(self, user_id: str, groups: frozenset[str]) -> str | None:
        """'support', 'caseworker', or None for someone who may not use the bot."""
        if self.demo and user_id == DEMO_USER:
            return "support"
        if user_id in self.support_users or groups & self.support_groups:
            return "support"
        if user_id in self.allowed_users or groups & self.allowed_groups:
            return "caseworker"
        return None


def _names(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.replace(";", ",").split(",") if part.strip())


def _networks(raw: str) -> tuple[Network, ...]:
    networks = []
    for part in _names(raw):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(f"UNGEBOT_WEB_TRUSTED_PROXIES: »{part}« er ikke en IP-adresse eller et net "
                              "(fx 10.0.0.5 eller 10.0.0.0/24).") from None
    return tuple(sorted(networks, key=str))


def _whole(key: str, text: str, default: int) -> int:
    text = text.strip() or str(default)
    if not text.isdigit() or not 0 < int(text) < 100_000:
        raise ConfigError(f"{key}: »{text}« skal være et helt tal mellem 1 og 99999.")
    return int(text)


def read_web_settings(demo: bool = False, host: str | None = None, port: int | None = None,
                      path: Path | None = None, environ: dict[str, str] | None = None) -> WebSettings:
    """The web chat's settings; ConfigError (in Danish) when no login is configured outside demo mode."""
    values = {key: value.strip() for key, value in read_values(path, environ).items()}
    oidc = None
    if values["UNGEBOT_WEB_OIDC_ISSUER"] and not demo:
        if not values["UNGEBOT_WEB_OIDC_CLIENT_ID"]:
            raise ConfigError("UNGEBOT_WEB_OIDC_CLIENT_ID mangler: app-registreringens klient-id hos jeres "
                              "login-udbyder.")
        oidc = Oidc(values["UNGEBOT_WEB_OIDC_ISSUER"], values["UNGEBOT_WEB_OIDC_CLIENT_ID"],
                    values["UNGEBOT_WEB_OIDC_CLIENT_SECRET"], values["UNGEBOT_WEB_OIDC_USER_CLAIM"] or "sub",
                    values["UNGEBOT_WEB_OIDC_GROUPS_CLAIM"] or "groups")
    trusted = None
    if values["UNGEBOT_WEB_TRUSTED_HEADER"] and not demo:
        proxies = _networks(values["UNGEBOT_WEB_TRUSTED_PROXIES"])
        if not proxies:
            raise ConfigError("UNGEBOT_WEB_TRUSTED_PROXIES mangler: uden proxyens adresse kan enhver sende "
                              "headeren og udgive sig for at være en anden.")
        trusted = TrustedHeader(values["UNGEBOT_WEB_TRUSTED_HEADER"],
                                values["UNGEBOT_WEB_TRUSTED_NAME_HEADER"] or None,
                                values["UNGEBOT_WEB_TRUSTED_GROUPS_HEADER"] or None, proxies)
    if not demo and oidc is None and trusted is None:
        raise ConfigError(
            "Der er ikke sat et login op, så webchatten starter ikke: den må kun bruges af kommunens medarbejdere. "
            "Sæt UNGEBOT_WEB_OIDC_ISSUER og UNGEBOT_WEB_OIDC_CLIENT_ID (kommunens login, fx Entra ID) eller "
            "UNGEBOT_WEB_TRUSTED_HEADER og UNGEBOT_WEB_TRUSTED_PROXIES (en login-proxy foran). "
            "Vil du bare prøve den på din egen maskine, så kør `ungebot web --demo`.")
    return WebSettings(
        host="127.0.0.1" if demo else (host or values["UNGEBOT_WEB_HOST"] or "127.0.0.1"),
        port=port if port is not None else _whole("UNGEBOT_WEB_PORT", values["UNGEBOT_WEB_PORT"], 8080),
        demo=demo, public_url=values["UNGEBOT_WEB_PUBLIC_URL"].rstrip("/") or None, oidc=oidc, trusted=trusted,
        allowed_users=_names(values["UNGEBOT_WEB_ALLOWED_USERS"]),
        allowed_groups=_names(values["UNGEBOT_WEB_ALLOWED_GROUPS"]),
        support_users=_names(values["UNGEBOT_WEB_SUPPORT_USERS"]),
        support_groups=_names(values["UNGEBOT_WEB_SUPPORT_GROUPS"]),
        teams=values["UNGEBOT_WEB_TEAMS"].lower() in ("1", "true", "ja", "yes", "on"),
        session_hours=_whole("UNGEBOT_WEB_SESSION_HOURS", values["UNGEBOT_WEB_SESSION_HOURS"], 8),
        assets=Path(values["UNGEBOT_WEB_ASSETS"]) if values["UNGEBOT_WEB_ASSETS"] else DEFAULT_ASSETS,
        database=Path(values["UNGEBOT_DB"]) if values["UNGEBOT_DB"] else None,
        municipality=values["UNGEBOT_MUNICIPALITY"],
        limits={"login": (_whole("UNGEBOT_WEB_RATE_LOGINS", values["UNGEBOT_WEB_RATE_LOGINS"], 10), 60.0),
                "answer": (_whole("UNGEBOT_WEB_RATE_ANSWERS", values["UNGEBOT_WEB_RATE_ANSWERS"], 60), 60.0)})
