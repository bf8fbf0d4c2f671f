"""What a loaded entry holds: its client, cache and coordinators, and its entry type.

The coordinators live in their own modules and import none of this one:
`coordinator_base.py` (what they share), `subscription_coordinator.py`,
`price_coordinator.py` and `energy_coordinator.py` (the daily energy import).
The platforms import the entry type and the coordinators from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .access import AccessMonitor
from .api import OAuthTokenProvider
from .cache import NomosCache
from .energy_coordinator import EnergyCoordinator
from .nomos_client import ClientCredentialsTokens, NomosClient
from .planners import PlannerManager
from .price_coordinator import PriceCoordinator
from .subscription_coordinator import SubscriptionCoordinator
from .tracker_manager import TrackerManager

__all__ = ["NomosConfigEntry", "NomosRuntimeData", "PriceCoordinator", "SubscriptionCoordinator"]


@dataclass
class NomosRuntimeData:
    """What a loaded entry holds: one token provider, one client, the coordinators."""

    client: NomosClient
    tokens: OAuthTokenProvider | ClientCredentialsTokens
    cache: NomosCache
    access: AccessMonitor
    subscriptions: SubscriptionCoordinator
    prices: PriceCoordinator
    energy: EnergyCoordinator
    planners: PlannerManager
    trackers: TrackerManager


type NomosConfigEntry = ConfigEntry[NomosRuntimeData]
