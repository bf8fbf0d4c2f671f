"""Constants of the Nomos Energy integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "nomos_energy"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Nomos"
# Where customers ask Nomos for API credentials, and the redirect URI to register.
CREDENTIALS_CONTACT: Final = "support@nomos.energy"
DEVELOPER_DASHBOARD_URL: Final = "https://dashboard.nomos.energy/developer"
MY_REDIRECT_URI: Final = "https://my.home-assistant.io/redirect/oauth"

# Contract data changes rarely (status, supply dates); prices have their own schedule.
SUBSCRIPTIONS_UPDATE_INTERVAL: Final = timedelta(hours=6)
