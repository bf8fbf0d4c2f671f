"""Constants of the Nomos Energy integration."""

from __future__ import annotations

from datetime import time, timedelta
import logging
from typing import Final

DOMAIN: Final = "nomos_energy"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Nomos"
# Where customers ask Nomos for API credentials, and the redirect URI to register.
CREDENTIALS_CONTACT: Final = "support@nomos.energy"
DEVELOPER_DASHBOARD_URL: Final = "https://dashboard.nomos.energy/developer"
MY_REDIRECT_URI: Final = "https://my.home-assistant.io/redirect/oauth"

# Contract data changes rarely; look more often while a contract is being set up.
SUBSCRIPTIONS_UPDATE_INTERVAL: Final = timedelta(hours=24)
SUBSCRIPTIONS_PENDING_INTERVAL: Final = timedelta(hours=6)

# Tomorrow's prices are final by about 14:20 Berlin time. Each installation
# first asks at 14:20 plus its own offset within this spread, so thousands of
# homes do not hit Nomos in the same minute.
PRICE_PUBLICATION: Final = time(14, 20)
PUBLICATION_SPREAD: Final = timedelta(minutes=80)
# While tomorrow is still missing after that, ask again at this interval.
PRICE_POLL_INTERVAL: Final = timedelta(minutes=15)
# Back-off after errors: doubling from the first to the last value.
RETRY_BACKOFF_FIRST: Final = timedelta(minutes=2)
RETRY_BACKOFF_MAX: Final = timedelta(minutes=30)
# Contract data can wait longer between attempts during an outage.
SUBSCRIPTIONS_RETRY_MAX: Final = timedelta(hours=2)
# Prices older than this are dropped from the cache.
PRICE_HISTORY_DAYS: Final = 7
