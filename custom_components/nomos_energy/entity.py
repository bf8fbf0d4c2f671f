"""Base entity of the Nomos Energy integration."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN, MANUFACTURER
from .coordinator import PriceCoordinator
from .nomos_client import Subscription

if TYPE_CHECKING:
    from .coordinator import NomosConfigEntry
    from .planner_state import Planner

# Device models in Home Assistant's language: the registry has no translation key for them.
MODELS = {
    "en": {
        "tariff": "Dynamic tariff",
        "smart": "Dynamic tariff, smart meter",
        "analog": "Dynamic tariff, analog meter",
        "planner": "Appliance planner",
    },
    "de": {
        "tariff": "Dynamischer Stromtarif",
        "smart": "Dynamischer Stromtarif, intelligentes Messsystem",
        "analog": "Dynamischer Stromtarif, analoger Zähler",
        "planner": "Planer für ein Haushaltsgerät",
    },
}


def device_model(language: str, kind: str) -> str:
    """Return a device model in German for a German Home Assistant, else in English."""
    return MODELS["de" if language.startswith("de") else "en"][kind]


def subscription_device_info(subscription: Subscription, language: str = "en") -> DeviceInfo:
    """Describe the device that stands for one subscription."""
    meter = subscription.meter
    kind = meter.type if meter and meter.type in ("smart", "analog") else "tariff"
    return DeviceInfo(
        identifiers={(DOMAIN, subscription.id)},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model=device_model(language, kind),
        name=f"Nomos {subscription.display_number}",
        serial_number=subscription.display_number,
        configuration_url="https://nomos.customerportal.energy",
    )


def is_active(subscription: Subscription) -> bool:
    """Return whether the subscription is supplied now (it has prices)."""
    return subscription.is_active


def shifts_load(subscription: Subscription) -> bool:
    """Return whether cheap and expensive periods help this subscription (it buys power)."""
    return subscription.is_active and not subscription.is_feed_in


class QuietEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """A coordinator entity that skips writing a state it already shows.

    Every coordinator update (each quarter-hour tick) would otherwise rewrite
    every entity; `script/bench` measures the tick.
    """

    _written: tuple[Any, ...] | None = None

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what the entity shows, to skip writing it again unchanged on a tick.

        None (the default) writes on every update.
        """
        return None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what it shows changed (most figures change once a day)."""
        shown = self.written_state()
        if shown is not None:
            shown = (self.available, *shown)
            if shown == self._written:
                return
            self._written = shown
        super()._handle_coordinator_update()


class NomosEntity[CoordinatorT: DataUpdateCoordinator[Any]](QuietEntity[CoordinatorT]):
    """An entity on one subscription's device, fed by one coordinator."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CoordinatorT, subscription: Subscription, key: str) -> None:
        """Attach the entity to its subscription's device."""
        super().__init__(coordinator)
        self.subscription_id = subscription.id
        self._attr_unique_id = f"{subscription.id}-{key}"
        self._attr_device_info = subscription_device_info(
            subscription, coordinator.hass.config.language
        )


def track_subscriptions(
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[Subscription], Iterable[Entity]],
    include: Callable[[Subscription], bool] = lambda subscription: True,
) -> None:
    """Add entities for each subscription once `include` accepts it, now or later."""
    coordinator = entry.runtime_data.subscriptions
    hidden = entry.runtime_data.cache.hidden
    added: set[str] = set()

    @callback
    def add_new() -> None:
        new = [
            subscription
            for sub_id, subscription in coordinator.data.subscriptions.items()
            if sub_id not in added and sub_id not in hidden and include(subscription)
        ]
        added.update(subscription.id for subscription in new)
        async_add_entities(entity for subscription in new for entity in create(subscription))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def track_active_subscriptions[CoordinatorT: DataUpdateCoordinator[Any]](
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entity_class: Callable[[CoordinatorT, Subscription], Entity],
    coordinator: CoordinatorT,
) -> None:
    """Add one `entity_class` entity per active subscription, now and later."""
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [entity_class(coordinator, subscription)],
        is_active,
    )


class PlannerEntity(QuietEntity[PriceCoordinator]):
    """An entity on an appliance planner's device; it moves with every price update."""

    _attr_has_entity_name = True

    def __init__(self, entry: NomosConfigEntry, planner: Planner, key: str) -> None:
        """Attach the entity to the planner's device, linked to its subscription's."""
        super().__init__(entry.runtime_data.prices)
        self.manager = entry.runtime_data.planners
        self.subentry_id = planner.subentry_id
        self._attr_unique_id = f"{planner.subentry_id}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, planner.subentry_id)},
            entry_type=DeviceEntryType.SERVICE,
            manufacturer=MANUFACTURER,
            model=device_model(entry.runtime_data.prices.hass.config.language, "planner"),
            name=planner.spec.name,
        )

    @property
    def planner(self) -> Planner:
        """Return the planner (its plan changes; the object stays)."""
        return self.manager.planners[self.subentry_id]


def add_planner_entities(
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[Planner], Iterable[Entity]],
) -> None:
    """Add each planner's entities to its own config subentry."""
    for planner in entry.runtime_data.planners.planners.values():
        async_add_entities(create(planner), config_subentry_id=planner.subentry_id)
