"""Constants of the Nomos Energy integration."""

from __future__ import annotations

from datetime import date, time, timedelta
import logging
from typing import Final

DOMAIN: Final = "nomos_energy"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Nomos"

# The first and last day an action accepts: far from Python's limits (years 1 and
# 9999), so a time-zone shift or a month's arithmetic never overflows; Nomos has
# no data outside them anyway.
ACTION_DAYS: Final = (date(2000, 1, 1), date(2099, 12, 31))

# Entry data: how the entry signs in.
CONF_AUTH_TYPE: Final = "auth_type"
AUTH_OAUTH: Final = "oauth"
AUTH_PERSONAL: Final = "personal"
# Where customers ask Nomos for API credentials, and the redirect URI to register.
CREDENTIALS_CONTACT: Final = "support@nomos.energy"
DEVELOPER_DASHBOARD_URL: Final = "https://dashboard.nomos.energy/developer"
MY_REDIRECT_URI: Final = "https://my.home-assistant.io/redirect/oauth"

# Contract data changes rarely: it is refreshed by the daily usage import (sharing
# its access token); this longer interval is only the fallback. While a contract
# is being set up, look more often.
SUBSCRIPTIONS_UPDATE_INTERVAL: Final = timedelta(hours=25)
SUBSCRIPTIONS_PENDING_INTERVAL: Final = timedelta(hours=6)

# Tomorrow's prices are final by about 14:20 Berlin time. Each installation
# first asks at 14:20 plus its own offset within this spread, so thousands of
# homes do not hit Nomos in the same minute.
PRICE_PUBLICATION: Final = time(14, 20)
PUBLICATION_SPREAD: Final = timedelta(minutes=80)
# While tomorrow is still missing after that, ask again at this interval.
PRICE_POLL_INTERVAL: Final = timedelta(minutes=15)
# Tomorrow's prices usually arrive at about 14:20 Berlin time; after this they are late.
TOMORROW_LATE_AFTER: Final = time(18, 0)
# A price Nomos published as unknown (null) is not missing: ask again for it at
# most this often (a few times a day), not on every poll.
UNKNOWN_PRICE_RETRY: Final = timedelta(hours=4)
# Back-off after errors: doubling from the first to the last value.
RETRY_BACKOFF_FIRST: Final = timedelta(minutes=2)
RETRY_BACKOFF_MAX: Final = timedelta(minutes=30)
# Contract data can wait longer between attempts during an outage.
SUBSCRIPTIONS_RETRY_MAX: Final = timedelta(hours=2)
# Prices older than this are dropped from the cache; the statistics import needs
# the prices of its correction window.
PRICE_HISTORY_DAYS: Final = 45

# Smart-meter usage of day D appears from 16:00 on D+1. Each installation
# imports once a day after this time plus its own offset.
USAGE_PUBLICATION: Final = time(16, 0)
# Preliminary values may change until the 8th working day of the next month:
# every import re-imports at least this many days.
CORRECTION_WINDOW_DAYS: Final = 40
# On first setup, usage is imported from the start of supply, at most this far back.
BACKFILL_DAYS: Final = 730
# Usage and prices are fetched in chunks of this many days.
FETCH_CHUNK_DAYS: Final = 62

# Options
# Until 2026.12 an option created a ct/kWh twin of the current price; the price
# unit option replaces it (the migration drops it from the options).
CONF_CREATE_CT_SENSORS: Final = "create_ct_sensors"
# The unit of the price sensors people read: ct/kWh (default) or EUR/kWh. The
# Energy dashboard's price entity is EUR/kWh either way.
CONF_PRICE_UNIT: Final = "price_unit"
PRICE_UNIT_CT: Final = "ct"
PRICE_UNIT_EUR: Final = "eur"
# The monthly base fee and metering charges (EUR), added pro rata per day to the
# day and month cost sensors (never to the hourly statistics).
CONF_MONTHLY_FIXED_CHARGES: Final = "monthly_fixed_charges"
CONF_LEVEL_THRESHOLDS: Final = "level_thresholds"
# Percentile boundaries between very cheap | cheap | normal | expensive | very expensive.
LEVEL_THRESHOLD_KEYS: Final = ("very_cheap_below", "cheap_below", "normal_below", "expensive_below")
DEFAULT_LEVEL_THRESHOLDS: Final = (20.0, 40.0, 60.0, 80.0)
# Cheap and expensive periods: how far from the day's average (percent) and how long at least.
CONF_PERIOD_MARGIN: Final = "period_margin"
CONF_PERIOD_MIN_MINUTES: Final = "period_min_minutes"
DEFAULT_PERIOD_MARGIN: Final = 10.0
DEFAULT_PERIOD_MIN_MINUTES: Final = 60
# A fixed-price tariff to compare with: working price (ct/kWh) and base fee (EUR a month).
CONF_COMPARISON_PRICE: Final = "comparison_price_ct"
CONF_COMPARISON_BASE_FEE: Final = "comparison_base_fee"
# The household's import limit (kW): appliances are then planned together under it.
CONF_IMPORT_LIMIT_KW: Final = "import_limit_kw"
