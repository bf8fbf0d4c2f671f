"""German everywhere a German user reads: translations and the German blueprints.

No English UI words inside German texts, no coined words, one term per concept,
and the same keys and placeholders in both languages.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[1]
TRANSLATIONS = ROOT / "custom_components/nomos_energy/translations"
BLUEPRINTS = ROOT / "blueprints/automation/nomos_energy"

# English UI words that must not appear as words in a German text. Left out on purpose:
# words that are German as well (Status, Plan, Option, Start, Link, Last, Fee, Not, was,
# analog, normal, Client as in Home Assistant's own "OAuth-Client-ID", Dashboard,
# Blueprint, Automation).
_ENGLISH_WORDS = """
    price prices pricing cost costs consumption usage invoice invoices bill billing appliance
    appliances deadline run runs running skip planner planned period periods cheap cheapest
    expensive feed payout payouts level contract contracts subscription meter meters reading
    readings sign signed login logout token tokens error errors options setting settings secret
    support update updates upgrade self redirect endpoint account customer customers tariff
    fees charge charges levies grid energy saving savings benefit shifting market average
    lowest highest range today tomorrow yesterday month week hour hours day days minutes now
    next end time date window smart timeout page please check try again the and of for with
    your you is are be no yes only when while from by at to this that it its which or on off
    cannot could should must
"""
ENGLISH = set(_ENGLISH_WORDS.split())
# Proper names and technical terms that stay as they are in a German text.
KEEP = re.compile(
    r"Nomos[ -]Energy|Home Assistant|ApexCharts|SG-Ready|evcc|HACS|OAuth|API|EUR|kWh|ct\b"
)
URL_OR_MAIL = re.compile(r"https?://\S+|\S+@\S+")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")

# Coined or doubled German terms (as patterns) and the words used instead.
NOT_GERMAN = {
    r"Preisliste": "Preise heute und morgen",
    r"Marktdurchschnitt": "Durchschnittspreis",
    r"Verschiebe-": "Ersparnis durch Verschieben",
    r"Jetzt laufen": "Jetzt einschalten",
    r"Grundgebühr": "Grundpreis",
    r"Anwendungsanmeldeinformationen": "OAuth-Anmeldedaten (Home Assistant's own name)",
    r"Anwendungs-Zugangsdaten": "OAuth-Anmeldedaten",
    r"Zugangsdaten": "Anmeldedaten",
    r"\bSecret": "Client-Geheimnis",
    r"Smart Meter": "intelligentes Messsystem",
    r"\bLauf(s|es)?\b": "Durchlauf",
}


def strings(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted key, text) for every string in a translation tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from strings(value, f"{path}.{key}" if path else key)
    elif isinstance(tree, str):
        yield path, tree


def load(language: str) -> dict[str, Any]:
    return json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))


def english_words(text: str) -> list[str]:
    """Return the English UI words in a German text (names, placeholders, URLs left out)."""
    text = URL_OR_MAIL.sub(" ", text)
    while PLACEHOLDER.search(text):
        text = PLACEHOLDER.sub(" ", text)
    text = KEEP.sub(" ", text)
    return [word for word in WORD.findall(text) if word.lower() in ENGLISH]


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_the_check_catches_english_and_coined_words() -> None:
    """The checks below would have caught the strings this test was written against."""
    assert english_words("Aktueller Preis (ct/kWh) für Nomos Energy, {name}") == []
    assert english_words("Nomos-Energy-Eintrag unter https://nomos.energy/price") == []
    assert english_words("Günstige Phase: run now") == ["run", "now"]
    assert english_words("Eine Self-Service-Konsole") == ["Self"]
    assert english_words("das Client-Secret an den Token-Endpunkt") == ["Secret", "Token"]
    assert english_words("die Werte des Smart Meters") == ["Smart", "Meters"]
    assert coined("Preisliste") == ["Preisliste"]
    assert coined("Verschiebe-Vorteil gestern") == ["Verschiebe-"]
    assert coined("Nächsten Lauf auslassen") == [r"\bLauf(s|es)?\b"]
    assert coined("Laufzeit und Durchlauf") == []


def coined(text: str) -> list[str]:
    return [pattern for pattern in NOT_GERMAN if re.search(pattern, text)]


def test_german_texts_have_no_english_words() -> None:
    found = {key: words for key, text in strings(load("de")) if (words := english_words(text))}
    assert found == {}


def test_german_texts_have_no_coined_words() -> None:
    found = {key: words for key, text in strings(load("de")) if (words := coined(text))}
    assert found == {}


def test_appliances_are_not_called_devices() -> None:
    """A "Gerät" is a Home Assistant device; an appliance is a "Haushaltsgerät"."""
    german = load("de")
    appliance = german["config_subentries"]["appliance"]
    assert appliance["entry_type"] == "Haushaltsgerät"
    assert "Haushaltsgerät" in appliance["initiate_flow"]["user"]
    flow_texts = [
        text
        for key, text in strings(german)
        if key.startswith(("config_subentries.appliance", "services.find_cheapest_window"))
    ]
    for text in flow_texts:
        # A device only where the text says it is Home Assistant's.
        for sentence in re.split(r"(?<=[.;:!?])\s", text):
            if re.search(r"\bGeräte?s?\b", sentence):
                assert "Home Assistant" in sentence, sentence


def test_german_and_english_have_the_same_keys_and_placeholders() -> None:
    german = dict(strings(load("de")))
    english = dict(strings(load("en")))
    assert set(german) == set(english)
    different = {
        key: (placeholders(english[key]), placeholders(text))
        for key, text in german.items()
        if placeholders(text) != placeholders(english[key])
    }
    assert different == {}


def behaviour(blueprint: dict[str, Any]) -> dict[str, Any]:
    """Return a blueprint without its texts: inputs' selectors and defaults, the automation."""
    inputs = {
        key: {name: value for name, value in field.items() if name not in ("name", "description")}
        for key, field in blueprint["blueprint"]["input"].items()
    }
    automation = {key: value for key, value in blueprint.items() if key != "blueprint"}
    # A notification's title and message are texts too.
    automation["actions"] = [
        {key: value for key, value in step.items() if key != "data"}
        if step.get("action") == "{{ notify_action }}"
        else step
        for step in automation["actions"]
    ]
    return {"inputs": inputs, **automation}


def german_blueprints() -> list[Path]:
    return sorted(BLUEPRINTS.glob("*_de.yaml"))


def blueprint_texts(path: Path) -> list[str]:
    """Return what a blueprint shows a user: its name, description and inputs."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!input", lambda loader, node: None)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    meta = data["blueprint"]
    texts = [meta["name"], meta["description"]]
    for field in meta["input"].values():
        texts += [field["name"], field.get("description", "")]
    return texts


def test_every_blueprint_has_a_german_twin() -> None:
    english = {path.stem for path in BLUEPRINTS.glob("*.yaml") if not path.stem.endswith("_de")}
    assert {path.stem.removesuffix("_de") for path in german_blueprints()} == english


@pytest.mark.parametrize("path", german_blueprints(), ids=lambda path: path.name)
def test_german_blueprints_speak_german(path: Path) -> None:
    english = yaml.safe_load(
        path.with_name(path.name.removesuffix("_de.yaml") + ".yaml")
        .read_text(encoding="utf-8")
        .replace("!input", "")
    )
    german = yaml.safe_load(path.read_text(encoding="utf-8").replace("!input", ""))
    # The same inputs and the same automation (tests/test_examples.py runs the English
    # twins); only what a user reads differs.
    assert behaviour(german) == behaviour(english)
    found = {text: words for text in blueprint_texts(path) if (words := english_words(text))}
    assert found == {}
    assert all(not coined(text) for text in blueprint_texts(path))


def load_icons() -> dict[str, Any]:
    return json.loads((TRANSLATIONS.parent / "icons.json").read_text(encoding="utf-8"))


def test_every_binary_sensor_shows_on_and_off_apart() -> None:
    for key, icon in load_icons()["entity"]["binary_sensor"].items():
        states = icon["state"]
        assert states["on"] != states["off"], key
        assert icon["default"] == states["off"], key


def test_the_ct_sensors_have_a_coin_icon() -> None:
    sensors = load_icons()["entity"]["sensor"]
    assert sensors["current_price_ct"]["default"] == "mdi:circle-multiple-outline"
    assert sensors["current_price"]["default"] == "mdi:currency-eur"


def frontend_icons() -> set[str] | None:
    """Return the Material Design icon names of an installed frontend, if there is one."""
    for folder in ROOT.glob(".venv*/lib/python3*/site-packages/hass_frontend/static/mdi"):
        names: set[str] = set()
        for path in folder.glob("*.json"):
            chunk = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(chunk, dict):
                names |= set(chunk)
        if names:
            return names
    return None


def test_every_icon_exists() -> None:
    """An icon name the frontend does not know shows no icon at all."""
    known = frontend_icons()
    if known is None:
        pytest.skip("no Home Assistant frontend installed")
    used = {
        text.removeprefix("mdi:") for _, text in strings(load_icons()) if text.startswith("mdi:")
    }
    assert used - known == set()
