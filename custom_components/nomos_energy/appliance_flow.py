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
    CONF_DEADLINE,
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
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
    CONF_SUBSCRIPTION_ID,
    CONF_WEEKEND_DEADLINE,
    CONF_WITHIN_MINUTES,
    run_fits,
    spec_from_data,
)

# How the run must be done: the menu's options and the steps of their forms.
DEADLINE_DAILY = "daily"
DEADLINE_WITHIN = "within"
DEADLINE_MODES = [DEADLINE_DAILY, DEADLINE_WITHIN]
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
    CONF_READY_ENTITY,
    CONF_READY_STATE,
    CONF_PRICE_CAP_CT,
    CONF_RUNS_PER_DAY,
    CONF_SG_READY,
    CONF_PROFILE,
    CONF_GROUP,
)
# What can say an appliance is ready: on/off entities, or any state of a sensor or select.
READY_DOMAINS = ["binary_sensor", "switch", "input_boolean", "sensor", "select", "input_select"]


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
                title = str(user_input[CONF_NAME]).strip()
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


def _schema(mode: str, choices: dict[str, str]) -> vol.Schema:
    """Return the form of one mode: only its own deadline field."""
    fields: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): TextSelector()}
    if len(choices) > 1:
        fields[vol.Required(CONF_SUBSCRIPTION_ID)] = SelectSelector(
            SelectSelectorConfig(
                options=[SelectOptionDict(value=k, label=v) for k, v in choices.items()]
            )
        )
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
    if data.get(CONF_DEADLINE):
        values[CONF_DEADLINE] = data[CONF_DEADLINE]
    if data.get(CONF_WITHIN_MINUTES):
        values[CONF_WITHIN_HOURS] = int(data[CONF_WITHIN_MINUTES]) // 60
    return values
