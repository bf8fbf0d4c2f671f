"""The project's own checks: manifest, HACS, translations, brand, blueprints, quality scale."""

from __future__ import annotations

import json
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).parents[1]

MANIFEST_KEYS = [
    "domain",
    "name",
    "after_dependencies",
    "codeowners",
    "config_flow",
    "dependencies",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "requirements",
    "version",
]


def test_manifest_follows_hassfest_order_and_hacs_requirements() -> None:
    manifest = json.loads((ROOT / "custom_components/nomos_energy/manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert keys == MANIFEST_KEYS
    assert manifest["domain"] == "nomos_energy" == (ROOT / "custom_components/nomos_energy").name
    assert manifest["config_flow"] is True
    assert manifest["dependencies"] == ["application_credentials"]
    assert manifest["iot_class"] == "cloud_polling"
    assert manifest["integration_type"] == "hub"
    # Home Assistant installs these; every requirements line installs the same pins.
    pins = (ROOT / "requirements/integration.txt").read_text().splitlines()
    assert manifest["requirements"] == [line for line in pins if line and line[0] != "#"]
    for line in ("current", "floor", "demo", "demo-floor"):
        assert "-r integration.txt" in (ROOT / f"requirements/{line}.txt").read_text()
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")


def test_hacs_json() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    allowed = {
        "name",
        "content_in_root",
        "country",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "persistent_directory",
        "render_readme",
        "zip_release",
    }
    assert set(hacs) <= allowed
    assert hacs["name"] == "Nomos Energy"
    # HACS offers the integration from the floor we test (requirements/demo-floor.txt).
    floor = re.search(
        r"^homeassistant==(\d+\.\d+)\.", (ROOT / "requirements/demo-floor.txt").read_text(), re.M
    )
    assert floor is not None
    assert hacs["homeassistant"] == f"{floor[1]}.0"
    assert hacs["render_readme"] is True


def _keys(tree: object, prefix: str = "") -> set[str]:
    if not isinstance(tree, dict):
        return {prefix}
    keys: set[str] = set()
    for key, value in tree.items():
        keys |= _keys(value, f"{prefix}.{key}" if prefix else key)
    return keys


def test_translations_have_the_same_keys() -> None:
    folder = ROOT / "custom_components/nomos_energy/translations"
    english = json.loads((folder / "en.json").read_text())
    german = json.loads((folder / "de.json").read_text())
    assert _keys(english) == _keys(german)


def test_every_entity_translation_has_an_icon() -> None:
    folder = ROOT / "custom_components/nomos_energy"
    english = json.loads((folder / "translations/en.json").read_text())
    icons = json.loads((folder / "icons.json").read_text())
    for platform, entities in english["entity"].items():
        assert set(entities) == set(icons["entity"][platform]), platform


def test_brand_images_follow_the_brand_rules() -> None:
    """Icon 256x256 (512 @2x), logo with its shortest side 128-256 px (256-512 @2x), RGBA PNG."""
    from PIL import Image  # noqa: PLC0415

    brand = ROOT / "custom_components/nomos_energy/brand"
    with Image.open(brand / "icon.png") as image:
        assert (image.format, image.size, image.mode) == ("PNG", (256, 256), "RGBA")
    with Image.open(brand / "icon@2x.png") as image:
        assert image.size == (512, 512)
    with Image.open(brand / "logo.png") as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert 128 <= min(image.size) <= 256
        assert image.size[0] > image.size[1]  # landscape
    with Image.open(brand / "logo@2x.png") as image:
        assert 256 <= min(image.size) <= 512


@pytest.mark.parametrize(
    "name",
    sorted(path.name for path in (ROOT / "blueprints/automation/nomos_energy").glob("*.yaml")),
)
def test_blueprints_are_valid(name: str) -> None:
    """The blueprints load with Home Assistant's own blueprint schema."""
    from homeassistant.components.automation.config import (  # noqa: PLC0415
        AUTOMATION_BLUEPRINT_SCHEMA,
    )
    from homeassistant.components.blueprint.models import Blueprint  # noqa: PLC0415
    from homeassistant.util.yaml import load_yaml_dict  # noqa: PLC0415

    path = ROOT / "blueprints/automation/nomos_energy" / name
    blueprint = Blueprint(
        load_yaml_dict(path), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.metadata["domain"] == "automation"
    used = {str(value.name) for value in _inputs(blueprint.data)}
    assert used == set(blueprint.inputs)


def _inputs(tree: object) -> list:
    from homeassistant.util.yaml import Input  # noqa: PLC0415

    if isinstance(tree, Input):
        return [tree]
    if isinstance(tree, dict):
        return [
            item for key, value in tree.items() if key != "blueprint" for item in _inputs(value)
        ]
    if isinstance(tree, list):
        return [item for value in tree for item in _inputs(value)]
    return []


ALL_RULES = {
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow-test-coverage",
    "config-flow",
    "dependency-transparency",
    "docs-actions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    "docs-triggers",
    "docs-conditions",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery-update-info",
    "discovery",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


def test_quality_scale_lists_every_rule_done_or_exempt() -> None:
    """All 54 rules, each done or exempt with a reason; nothing left to do."""
    import yaml  # noqa: PLC0415

    rules = yaml.safe_load(
        (ROOT / "custom_components/nomos_energy/quality_scale.yaml").read_text()
    )["rules"]
    assert set(rules) == ALL_RULES
    assert len(ALL_RULES) == 54
    for rule, status in rules.items():
        if isinstance(status, dict):
            assert status["status"] in ("done", "exempt"), rule
            if status["status"] == "exempt":
                assert len(status["comment"]) > 20, rule
        else:
            assert status == "done", rule


def test_platforms_declare_parallel_updates() -> None:
    """Every entity platform sets PARALLEL_UPDATES."""
    import importlib  # noqa: PLC0415

    for platform in ("sensor", "binary_sensor", "event"):
        module = importlib.import_module(f"custom_components.nomos_energy.{platform}")
        assert module.PARALLEL_UPDATES == 0


def test_readme_screenshots_exist_and_are_used() -> None:
    """Every screenshot the READMEs show exists, and none lies around unused."""
    readme = "".join(
        (ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "README.de.md")
    )
    shown = set(re.findall(r"\(docs/images/([\w.-]+\.png)\)", readme))
    present = {path.name for path in (ROOT / "docs/images").glob("*.png")}
    assert shown == present
    assert len(shown) >= 4
