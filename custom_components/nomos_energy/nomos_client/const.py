"""Constants of the Nomos API client."""

from __future__ import annotations

import os
from typing import Final

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
    can stand in for the real API.
    """
    return (os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")


def authorize_url() -> str:
    """Return the OAuth authorize endpoint."""
    return f"{api_base_url()}/oauth/authorize"


def token_url() -> str:
    """Return the OAuth token endpoint."""
    return f"{api_base_url()}/oauth/token"
