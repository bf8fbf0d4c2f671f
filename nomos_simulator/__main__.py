"""Run the Nomos simulator: `python -m nomos_simulator --port 8765`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from . import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, NomosSimulator


async def _serve(host: str, port: int, token_lifetime: int) -> None:
    simulator = NomosSimulator(token_lifetime=token_lifetime)
    url = await simulator.start(host, port)
    print(f"Nomos simulator listening on {url}", flush=True)
    print(f"  client id: {DEMO_CLIENT_ID}  client secret: {DEMO_CLIENT_SECRET}", flush=True)
    print("  sign in with anna@example.com (the one-time code is shown on the page)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await simulator.stop()


def main() -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Serve the Nomos API simulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--token-lifetime", type=int, default=3600, help="access token lifetime in s"
    )
    args = parser.parse_args()
    asyncio.run(_serve(args.host, args.port, args.token_lifetime))


if __name__ == "__main__":
    main()
