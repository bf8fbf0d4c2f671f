"""The appliance subentry flow: first when the run must be done, then that mode's form.

The form asks what every appliance needs (name, run time, done by); the rest has a
good default and waits in a collapsed "Advanced" section. Home Assistant plans
each appliance on the cached Nomos prices (planners.py); this flow only stores
what the appliance needs (flat, as the planners read it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.data_entry_flow import section
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    DurationSelector,
    DurationSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TimeSelector,
)
import voluptuous as vol

from .coordinator import NomosRuntimeData
from .entity import shifts_load
from .load_profiles import PRESETS, ProfileError, format_profile, parse_profile, preset_of
from .planner_config import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_NOW_BELOW,
    CONF_DEADLINE,
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_EFFICIENCY,
    CONF_ENABLED,
    CONF_GROUP,
    CONF_MAY_PAUSE,
    CONF_POWER_KW,
    CONF_PRICE_CAP_CT,
    CONF_PROFILE,
    CONF_READY_ENTITY,
    CONF_READY_STATE,
    CONF_RUNS_PER_DAY,
    CONF_SG_READY,
    CONF_SOC_ENTITY,
    CONF_SUBSCRIPTION_ID,
    CONF_TARGET_SOC,
    CONF_WEEKEND_DEADLINE,
    CONF_WEEKEND_EARLIEST_START,
    CONF_WITHIN_MINUTES,
    DEFAULT_EFFICIENCY,
    DEFAULT_TARGET_SOC,
    run_fits,
    spec_from_data,
)

# How the run must be done: the menu's options and the steps of their forms.
DEADLINE_DAILY = "daily"
DEADLINE_WITHIN = "within"
# A car or home battery: charged to a state of charge by a daily time.
DEADLINE_CHARGE = "charge"
DEADLINE_MODES = [DEADLINE_DAILY, DEADLINE_WITHIN, DEADLINE_CHARGE]
DEFAULT_CHARGE_KW = 11
CONF_DURATION = "duration"
CONF_WITHIN_HOURS = "within_hours"
DEFAULT_DEADLINE = "07:00:00"
MAX_RUN = timedelta(hours=12)
ADVANCED = "advanced"
# The advanced fields: stored flat beside the others.
_ADVANCED_FIELDS = (
    CONF_MAY_PAUSE,
    CONF_POWER_KW,
    CONF_EARLIEST_START,
    CONF_WEEKEND_DEADLINE,
    CONF_WEEKEND_EARLIEST_START,
    CONF_READY_ENTITY,
    CONF_READY_STATE,
    CONF_PRICE_CAP_CT,
    CONF_RUNS_PER_DAY,
    CONF_SG_READY,
    CONF_PROFILE,
    CONF_GROUP,
    CONF_TARGET_SOC,
    CONF_EFFICIENCY,
    CONF_CHARGE_NOW_BELOW,
)
# What can say an appliance is ready: on/off entities, or any state of a sensor or select.
READY_DOMAINS = ["binary_sensor", "switch", "input_boolean", "sensor", "select", "input_select"]
# What can say a battery's state of charge (%).
SOC_DOMAINS = ["sensor", "number", "input_number"]


class ApplianceFlow(ConfigSubentryFlow):
    """Add or change an appliance planner: when it must be done, then what runs and how long."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask how the new appliance's run must be done."""
        return self._menu("user")

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask how the changed appliance's run must be done (the form shows its settings)."""
        return self._menu("reconfigure")

    async def async_step_daily(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Every day by a time: the form with the daily deadline."""
        return self._form(DEADLINE_DAILY, user_input)

    async def async_step_charge(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Charge a car or home battery by a daily time: the form with its battery."""
        return self._form(DEADLINE_CHARGE, user_input)

    async def async_step_within(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Within hours of a trigger: the form with the hours."""
        return self._form(DEADLINE_WITHIN, user_input)

    def _choices(self) -> dict[str, str]:
        """Return the subscriptions to plan with, by id (none while the entry is not loaded)."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return {}
        runtime: NomosRuntimeData = entry.runtime_data
        return {
            subscription.id: f"Nomos {subscription.display_number}"
            for subscription in runtime.subscriptions.data.subscriptions.values()
            if shifts_load(subscription)
        }

    def _title(self, mode: str, user_input: dict[str, Any]) -> str:
        """Return the planner's name: the one given, or a charger's battery's device name."""
        if mode != DEADLINE_CHARGE:
            return str(user_input[CONF_NAME]).strip()
        if name := str((user_input.get(ADVANCED) or {}).get(CONF_NAME) or "").strip():
            return name
        entity_id = str(user_input[CONF_SOC_ENTITY])
        entity = er.async_get(self.hass).async_get(entity_id)
        device = (
            dr.async_get(self.hass).async_get(entity.device_id)
            if entity is not None and entity.device_id
            else None
        )
        if device is not None and (device.name_by_user or device.name):
            return str(device.name_by_user or device.name)
        state = self.hass.states.get(entity_id)
        return state.name if state is not None else entity_id.split(".", 1)[-1]

    def _abort(self) -> SubentryFlowResult:
        """Say why there is nothing to plan with."""
        if self._get_entry().state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        return self.async_abort(reason="no_active_subscription")

    def _menu(self, step_id: str) -> SubentryFlowResult:
        if not self._choices():
            return self._abort()
        return self.async_show_menu(step_id=step_id, menu_options=DEADLINE_MODES)

    def _form(self, mode: str, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        choices = self._choices()
        if not choices:
            return self._abort()
        reconfigure = self.source == SOURCE_RECONFIGURE
        errors: dict[str, str] = {}
        if user_input is not None:
            data, error = _appliance_data(user_input, choices, mode)
            if error is None:
                title = self._title(mode, user_input)
                if reconfigure:
                    # Switched off from the dashboard: a changed form does not switch it on.
                    data[CONF_ENABLED] = self._get_reconfigure_subentry().data.get(
                        CONF_ENABLED, True
                    )
                    return self.async_update_and_abort(
                        self._get_entry(), self._get_reconfigure_subentry(), title=title, data=data
                    )
                return self.async_create_entry(title=title, data=data)
            errors["base"] = error
        suggested: dict[str, Any] = dict(user_input or {})
        if user_input is None and reconfigure:
            subentry = self._get_reconfigure_subentry()
            suggested = _form_values(subentry.title, dict(subentry.data))
        return self.async_show_form(
            step_id=mode,
            data_schema=self.add_suggested_values_to_schema(_schema(mode, choices), suggested),
            errors=errors,
        )


# A run time in hours and minutes. Newer Home Assistant releases can hide the seconds
# field; the oldest one supported has no such option and shows it.
_RUN_TIME = DurationSelectorConfig(enable_day=False)
if "enable_second" in DurationSelectorConfig.__optional_keys__:
    cast(dict[str, Any], _RUN_TIME)["enable_second"] = False


def _first_fields(choices: dict[str, str], *, named: bool = True) -> dict[vol.Marker, Any]:
    """Return the name (if `named`) and, with several contracts, the one whose prices count."""
    fields: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): TextSelector()} if named else {}
    if len(choices) > 1:
        fields[vol.Required(CONF_SUBSCRIPTION_ID)] = SelectSelector(
            SelectSelectorConfig(
                options=[SelectOptionDict(value=k, label=v) for k, v in choices.items()]
            )
        )
    return fields


def _box(low: float, high: float, step: float, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _charge_schema(choices: dict[str, str]) -> vol.Schema:
    """Return the charger's form: its battery and when it must be charged.

    Named after the battery's device unless the advanced section says otherwise: at
    most four questions (the contract only when there are several).
    """
    fields = _first_fields(choices, named=False)
    fields[vol.Required(CONF_SOC_ENTITY)] = EntitySelector(EntitySelectorConfig(domain=SOC_DOMAINS))
    fields[vol.Required(CONF_CAPACITY_KWH)] = _box(1, 250, 0.1, "kWh")
    fields[vol.Required(CONF_DEADLINE, default=DEFAULT_DEADLINE)] = TimeSelector()
    advanced: dict[vol.Marker, Any] = {
        vol.Optional(CONF_NAME): TextSelector(),
        vol.Required(CONF_TARGET_SOC, default=DEFAULT_TARGET_SOC): _box(5, 100, 1, "%"),
        vol.Required(CONF_POWER_KW, default=DEFAULT_CHARGE_KW): _box(0.1, 50, 0.1, "kW"),
        vol.Required(CONF_EFFICIENCY, default=DEFAULT_EFFICIENCY): _box(50, 100, 1, "%"),
        vol.Optional(CONF_CHARGE_NOW_BELOW): _box(0, 100, 1, "%"),
        vol.Optional(CONF_EARLIEST_START): TimeSelector(),
        vol.Optional(CONF_WEEKEND_DEADLINE): TimeSelector(),
        vol.Optional(CONF_WEEKEND_EARLIEST_START): TimeSelector(),
        vol.Optional(CONF_READY_ENTITY): EntitySelector(EntitySelectorConfig(domain=READY_DOMAINS)),
        vol.Optional(CONF_READY_STATE): TextSelector(),
        vol.Optional(CONF_GROUP): TextSelector(),
        vol.Optional(CONF_PRICE_CAP_CT): _box(-100, 200, 0.1, "ct/kWh"),
    }
    fields[vol.Required(ADVANCED)] = section(vol.Schema(advanced), {"collapsed": True})
    return vol.Schema(fields)


def _charge_data(
    user_input: dict[str, Any], choices: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """Return a charger's subentry data from its form, or what is wrong."""
    advanced = user_input.get(ADVANCED) or {}
    target = float(advanced.get(CONF_TARGET_SOC) or DEFAULT_TARGET_SOC)
    floor = advanced.get(CONF_CHARGE_NOW_BELOW)
    if floor is not None and float(floor) >= target:
        return {}, "floor_above_target"
    data = {
        CONF_SUBSCRIPTION_ID: user_input.get(CONF_SUBSCRIPTION_ID) or next(iter(choices)),
        CONF_DURATION_MINUTES: 15,  # follows the state of charge
        CONF_DEADLINE: user_input.get(CONF_DEADLINE, DEFAULT_DEADLINE),
        CONF_WITHIN_MINUTES: None,
        CONF_MAY_PAUSE: True,
        CONF_POWER_KW: float(advanced.get(CONF_POWER_KW) or DEFAULT_CHARGE_KW),
        CONF_SOC_ENTITY: user_input[CONF_SOC_ENTITY],
        CONF_CAPACITY_KWH: float(user_input[CONF_CAPACITY_KWH]),
        CONF_TARGET_SOC: round(target),
        CONF_EFFICIENCY: round(float(advanced.get(CONF_EFFICIENCY) or DEFAULT_EFFICIENCY)),
        CONF_CHARGE_NOW_BELOW: None if floor is None else round(float(floor)),
        CONF_EARLIEST_START: advanced.get(CONF_EARLIEST_START),
        CONF_WEEKEND_DEADLINE: advanced.get(CONF_WEEKEND_DEADLINE),
        CONF_WEEKEND_EARLIEST_START: advanced.get(CONF_WEEKEND_EARLIEST_START),
        CONF_READY_ENTITY: advanced.get(CONF_READY_ENTITY) or None,
        CONF_READY_STATE: str(advanced.get(CONF_READY_STATE) or "").strip() or None,
        CONF_PRICE_CAP_CT: advanced.get(CONF_PRICE_CAP_CT),
        CONF_RUNS_PER_DAY: 1,
        CONF_SG_READY: False,
        CONF_PROFILE: None,
        CONF_GROUP: str(advanced.get(CONF_GROUP) or "").strip() or None,
    }
    if not run_fits(spec_from_data("", data)):
        return {}, "run_does_not_fit"
    return data, None


def _schema(mode: str, choices: dict[str, str]) -> vol.Schema:
    """Return the form of one mode: only its own deadline field."""
    if mode == DEADLINE_CHARGE:
        return _charge_schema(choices)
    fields = _first_fields(choices)
    fields[vol.Required(CONF_DURATION, default={"hours": 2, "minutes": 0})] = DurationSelector(
        _RUN_TIME
    )
    if mode == DEADLINE_DAILY:
        fields[vol.Required(CONF_DEADLINE, default=DEFAULT_DEADLINE)] = TimeSelector()
    else:
        fields[vol.Required(CONF_WITHIN_HOURS, default=12)] = NumberSelector(
            NumberSelectorConfig(min=1, max=48, step=1, mode=NumberSelectorMode.BOX)
        )
    advanced: dict[vol.Marker, Any] = {
        vol.Required(CONF_MAY_PAUSE, default=False): BooleanSelector(),
        vol.Optional(CONF_POWER_KW): NumberSelector(
            NumberSelectorConfig(
                min=0.05, max=50, step=0.05, mode=NumberSelectorMode.BOX, unit_of_measurement="kW"
            )
        ),
    }
    if mode == DEADLINE_DAILY:
        advanced[vol.Optional(CONF_EARLIEST_START)] = TimeSelector()
        advanced[vol.Optional(CONF_WEEKEND_DEADLINE)] = TimeSelector()
        advanced[vol.Optional(CONF_WEEKEND_EARLIEST_START)] = TimeSelector()
        advanced[vol.Required(CONF_RUNS_PER_DAY, default=1)] = NumberSelector(
            NumberSelectorConfig(min=1, max=4, step=1, mode=NumberSelectorMode.BOX)
        )
    advanced[vol.Optional(CONF_READY_ENTITY)] = EntitySelector(
        EntitySelectorConfig(domain=READY_DOMAINS)
    )
    advanced[vol.Optional(CONF_READY_STATE)] = TextSelector()
    # A preset, or a profile typed in (kW per quarter-hour, "|" between steps).
    advanced[vol.Optional(CONF_PROFILE)] = SelectSelector(
        SelectSelectorConfig(options=list(PRESETS), custom_value=True, translation_key=CONF_PROFILE)
    )
    advanced[vol.Optional(CONF_GROUP)] = TextSelector()
    advanced[vol.Required(CONF_SG_READY, default=False)] = BooleanSelector()
    advanced[vol.Optional(CONF_PRICE_CAP_CT)] = NumberSelector(
        NumberSelectorConfig(
            min=-100, max=200, step=0.1, mode=NumberSelectorMode.BOX, unit_of_measurement="ct/kWh"
        )
    )
    fields[vol.Required(ADVANCED)] = section(vol.Schema(advanced), {"collapsed": True})
    return vol.Schema(fields)


def _appliance_data(
    user_input: dict[str, Any], choices: dict[str, str], mode: str
) -> tuple[dict[str, Any], str | None]:
    """Return the subentry data from the form, or a translation key of what is wrong."""
    if mode == DEADLINE_CHARGE:
        return _charge_data(user_input, choices)
    duration = timedelta(**{k: float(v) for k, v in user_input[CONF_DURATION].items()})
    if not str(user_input.get(CONF_NAME, "")).strip():
        return {}, "name_missing"
    advanced = user_input.get(ADVANCED) or {}
    chosen = str(advanced.get(CONF_PROFILE) or "").strip()
    profile_text = PRESETS.get(chosen, chosen) or None
    if profile_text is not None:
        try:
            profile = parse_profile(profile_text)
        except ProfileError as err:
            return {}, err.reason
        duration = profile.quarters * timedelta(minutes=15)  # the run time is the profile's
        profile_text = format_profile(profile)
    if not timedelta(minutes=15) <= duration <= MAX_RUN:
        return {}, "duration_range"
    daily = mode == DEADLINE_DAILY
    within = timedelta(hours=float(user_input.get(CONF_WITHIN_HOURS) or 0))
    if not daily and within < duration:
        return {}, "within_too_short"
    subscription_id = user_input.get(CONF_SUBSCRIPTION_ID) or next(iter(choices))
    data = {
        CONF_SUBSCRIPTION_ID: subscription_id,
        CONF_DURATION_MINUTES: int(duration.total_seconds() // 60),
        CONF_DEADLINE: user_input.get(CONF_DEADLINE, DEFAULT_DEADLINE) if daily else None,
        CONF_WITHIN_MINUTES: None if daily else int(within.total_seconds() // 60),
        CONF_MAY_PAUSE: bool(advanced.get(CONF_MAY_PAUSE)),
        CONF_POWER_KW: advanced.get(CONF_POWER_KW),
        CONF_EARLIEST_START: advanced.get(CONF_EARLIEST_START) if daily else None,
        CONF_WEEKEND_DEADLINE: advanced.get(CONF_WEEKEND_DEADLINE) if daily else None,
        CONF_WEEKEND_EARLIEST_START: advanced.get(CONF_WEEKEND_EARLIEST_START) if daily else None,
        CONF_READY_ENTITY: advanced.get(CONF_READY_ENTITY) or None,
        CONF_READY_STATE: str(advanced.get(CONF_READY_STATE) or "").strip() or None,
        CONF_PRICE_CAP_CT: advanced.get(CONF_PRICE_CAP_CT),
        CONF_RUNS_PER_DAY: int(advanced.get(CONF_RUNS_PER_DAY) or 1) if daily else 1,
        CONF_SG_READY: bool(advanced.get(CONF_SG_READY)),
        CONF_PROFILE: profile_text,
        CONF_GROUP: str(advanced.get(CONF_GROUP) or "").strip() or None,
    }
    if not run_fits(spec_from_data("", data)):
        return {}, "run_does_not_fit"
    return data, None


def _form_values(title: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return the form's values for a stored appliance (reconfigure)."""
    minutes = int(data[CONF_DURATION_MINUTES])
    values: dict[str, Any] = {
        CONF_NAME: title,
        CONF_SUBSCRIPTION_ID: data[CONF_SUBSCRIPTION_ID],
        CONF_DURATION: {"hours": minutes // 60, "minutes": minutes % 60},
        ADVANCED: {key: data[key] for key in _ADVANCED_FIELDS if data.get(key) not in (None, "")}
        | {CONF_MAY_PAUSE: bool(data.get(CONF_MAY_PAUSE, False))},
    }
    if (preset := preset_of(data.get(CONF_PROFILE))) in PRESETS:
        values[ADVANCED][CONF_PROFILE] = preset  # shown as the preset's name
    if data.get(CONF_SOC_ENTITY):
        values[ADVANCED][CONF_NAME] = values.pop(CONF_NAME)
        values[CONF_SOC_ENTITY] = data[CONF_SOC_ENTITY]
        values[CONF_CAPACITY_KWH] = data.get(CONF_CAPACITY_KWH)
        values[ADVANCED][CONF_POWER_KW] = data.get(CONF_POWER_KW)
    if data.get(CONF_DEADLINE):
        values[CONF_DEADLINE] = data[CONF_DEADLINE]
    if data.get(CONF_WITHIN_MINUTES):
        values[CONF_WITHIN_HOURS] = int(data[CONF_WITHIN_MINUTES]) // 60
    return values
