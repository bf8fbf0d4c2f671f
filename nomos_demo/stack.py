"""Start the simulator and a real `hass` on a throwaway config, onboarded and ready."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

from nomos_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from nomos_simulator.signin import sign_in

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "nomos_energy"
DEMO_USER = "demo"
DEMO_PASSWORD = "nomos-demo"  # noqa: S105 - a local demo login, printed for the user

CONFIGURATION = """\
homeassistant:
  name: Nomos demo
  time_zone: Europe/Berlin
  country: DE
  currency: EUR
  unit_system: metric
  latitude: 52.52
  longitude: 13.40
  elevation: 34
frontend:
config:
history:
logbook:
energy:
recorder:
  commit_interval: 1
application_credentials:
logger:
  default: warning
  logs:
    custom_components.nomos_energy: debug
    homeassistant.components.http: warning
"""


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f} s")


@dataclass
class Stack:
    """The simulator and Home Assistant as child processes."""

    ha_port: int = 8123
    sim_port: int = 8765
    config_dir: Path | None = None
    log_dir: Path | None = None
    token_lifetime: int = 3600
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    access_token: str = ""

    @property
    def ha_url(self) -> str:
        """Return Home Assistant's base URL."""
        return f"http://127.0.0.1:{self.ha_port}"

    @property
    def sim_url(self) -> str:
        """Return the simulator's base URL."""
        return f"http://127.0.0.1:{self.sim_port}"

    def _spawn(
        self, args: list[str], log_name: str, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        assert self.log_dir is not None
        log = (self.log_dir / log_name).open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            args,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: stopped as a whole
        )
        self.processes.append(process)
        return process

    def start(self) -> None:
        """Start the simulator and Home Assistant; return once both answer."""
        if self.config_dir is None:
            self.config_dir = Path(tempfile.mkdtemp(prefix="nomos-demo-"))
        self.log_dir = self.log_dir or self.config_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "custom_components").mkdir(parents=True, exist_ok=True)
        link = self.config_dir / "custom_components" / "nomos_energy"
        if not link.exists():
            link.symlink_to(INTEGRATION, target_is_directory=True)
        # Onboarding: every step but creating the owner is marked done up front, so
        # Home Assistant does not add its default integrations (which need
        # packages the demo does not install). The owner is created in `onboard`.
        storage = self.config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        (storage / "onboarding").write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": ["core_config", "analytics", "integration"]},
                }
            )
        )
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION + f"http:\n  server_host: 127.0.0.1\n  server_port: {self.ha_port}\n"
        )
        simulator = self._spawn(
            [
                sys.executable,
                "-m",
                "nomos_simulator",
                "--port",
                str(self.sim_port),
                "--token-lifetime",
                str(self.token_lifetime),
            ],
            "simulator.log",
        )
        _wait_for_port(self.sim_port, simulator, "The Nomos simulator", 20)
        hass = self._spawn(
            [sys.executable, "-m", "homeassistant", "-c", str(self.config_dir), "--skip-pip"],
            "home-assistant.log",
            {"NOMOS_ENERGY_API_URL": self.sim_url},
        )
        _wait_for_port(self.ha_port, hass, "Home Assistant", 120)

    def stop(self) -> None:
        """Stop both processes and everything they started."""
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    # Home Assistant over HTTP ------------------------------------------------

    async def _wait_until_ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{self.ha_url}/api/onboarding") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
        raise TimeoutError("Home Assistant's API did not come up")

    async def onboard(self) -> None:
        """Create the demo owner, the one onboarding step left (see `start`)."""
        client_id = f"{self.ha_url}/"
        async with aiohttp.ClientSession() as session:
            await self._wait_until_ready(session)
            async with session.post(
                f"{self.ha_url}/api/onboarding/users",
                json={
                    "client_id": client_id,
                    "name": "Demo",
                    "username": DEMO_USER,
                    "password": DEMO_PASSWORD,
                    "language": "en",
                },
            ) as response:
                response.raise_for_status()
                auth_code = (await response.json())["auth_code"]
            async with session.post(
                f"{self.ha_url}/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": auth_code,
                    "client_id": client_id,
                },
            ) as response:
                response.raise_for_status()
                self.access_token = (await response.json())["access_token"]
        await self.confirm_http_settings()

    async def confirm_http_settings(self) -> None:
        """Confirm the `http:` settings, as an admin does after checking they work.

        From Home Assistant 2026.11 on, `http:` settings from YAML are only a
        trial: unconfirmed, Home Assistant restarts on its default port after
        five minutes. Older releases do not know the command and need nothing.
        """
        try:
            await self.websocket({"type": "http/config/promote"})
        except RuntimeError as err:
            if "unknown_command" not in str(err):
                raise
            return
        # The settings now live in Home Assistant's storage. Its repair asking to
        # remove them from YAML concerns the demo's own file, not the homeowner:
        # remove them (a restart of this config comes up clean) and set it aside.
        assert self.config_dir is not None
        configuration = self.config_dir / "configuration.yaml"
        configuration.write_text(configuration.read_text().split("http:\n", 1)[0])
        try:
            await self.websocket(
                {
                    "type": "repairs/ignore_issue",
                    "domain": "http",
                    "issue_id": "deprecated_yaml",
                    "ignore": True,
                }
            )
        except RuntimeError as err:
            if "unknown_issue" not in str(err):
                raise

    async def websocket(self, message: dict[str, Any]) -> Any:
        """Send one websocket command with the demo user's token; return its result."""
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{self.ha_url}/api/websocket") as ws:
                await ws.receive_json()
                await ws.send_json({"type": "auth", "access_token": self.access_token})
                reply = await ws.receive_json()
                if reply.get("type") != "auth_ok":
                    raise RuntimeError(f"websocket login failed: {reply}")
                await ws.send_json({"id": 1, **message})
                while True:
                    reply = await ws.receive_json()
                    if reply.get("id") == 1 and reply.get("type") == "result":
                        if not reply.get("success"):
                            error = reply.get("error") or {}
                            raise RuntimeError(
                                f"{message['type']} failed: {error.get('code')}: "
                                f"{error.get('message')}"
                            )
                        return reply.get("result")

    async def add_application_credentials(self) -> None:
        """Store the simulator's client id and secret as application credentials."""
        await self.websocket(
            {
                "type": "application_credentials/create",
                "domain": "nomos_energy",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "name": "Nomos simulator",
            }
        )

    async def sign_in(self, email: str = "anna@example.com") -> dict[str, Any]:
        """Add the integration and sign in on the simulator without a browser."""
        headers = {
            "Authorization": f"Bearer {self.access_token}",
            "HA-Frontend-Base": self.ha_url,
        }
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{self.ha_url}/api/config/config_entries/flow",
                json={"handler": "nomos_energy", "show_advanced_options": False},
                headers=headers,
            ) as response:
                response.raise_for_status()
                menu = await response.json()
            async with session.post(
                f"{self.ha_url}/api/config/config_entries/flow/{menu['flow_id']}",
                json={"next_step_id": "pick_implementation"},
                headers=headers,
            ) as response:
                response.raise_for_status()
                flow = await response.json()
            if flow.get("type") != "external":
                raise RuntimeError(f"unexpected flow step: {json.dumps(flow)}")
            redirect = await sign_in(flow["url"], email)
            async with session.get(redirect) as response:
                response.raise_for_status()
            async with session.post(
                f"{self.ha_url}/api/config/config_entries/flow/{flow['flow_id']}",
                json={},
                headers=headers,
            ) as response:
                response.raise_for_status()
                result: dict[str, Any] = await response.json()
        if result.get("type") != "create_entry":
            raise RuntimeError(f"sign-in did not create an entry: {json.dumps(result)}")
        return result
