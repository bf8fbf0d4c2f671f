"""Constants of the Nomos API client."""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Final
from urllib.parse import urlsplit

_LOGGER = logging.getLogger(__name__)
_warned_about: set[str] = set()

DEFAULT_API_URL: Final = "https://api.nomos.energy"
API_URL_ENV: Final = "NOMOS_ENERGY_API_URL"
API_VERSION: Final = "2026-05-27.curie"

# The API answers at most 100 items a page; larger pages mean fewer requests.
PAGE_LIMIT: Final = 100
# A cursor walk longer than this is a server bug, not a real account.
MAX_PAGES: Final = 200


def api_base_url() -> str:
    """Return the API base URL, honouring NOMOS_ENERGY_API_URL.

    This is the one place the override is read: the authorize URL, the token
    URL and every API call derive from it, so the simulator or Nomos's sandbox
    can stand in for the real API. Only `https://` URLs and loopback hosts are
    honoured: a typo must not send a client secret over plain HTTP to a stranger.
    """
    override = os.environ.get(API_URL_ENV)
    if not override:
        return DEFAULT_API_URL
    if not is_safe_api_url(override):
        if override not in _warned_about:  # once per value, not on every request
            _warned_about.add(override)
            _LOGGER.warning(
                "Ignoring %s: only https:// URLs or loopback hosts are allowed; using %s",
                API_URL_ENV,
                DEFAULT_API_URL,
            )
        return DEFAULT_API_URL
    return override.rstrip("/")


def is_safe_api_url(url: str) -> bool:
    """Return whether `url` may receive credentials: https, or http on loopback."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authorize_url() -> str:
    """Return the OAuth authorize endpoint."""
    return f"{api_base_url()}/oauth/authorize"


def token_url() -> str:
    """Return the OAuth token endpoint."""
    return f"{api_base_url()}/oauth/token"
