"""`script/demo`: the Nomos simulator and a real Home Assistant, ready to try.

script/demo            sign in yourself: Add integration > Nomos Energy
script/demo --auto     also completes the sign-in, so the dashboards fill at once
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from types import FrameType

from nomos_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

from .stack import DEMO_PASSWORD, DEMO_USER, Stack


def main() -> int:
    """Run the demo until Ctrl-C."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--auto", action="store_true", help="also sign in as anna@example.com")
    parser.add_argument("--ha-port", type=int, default=8123)
    parser.add_argument("--sim-port", type=int, default=8765)
    parser.add_argument("--email", default="anna@example.com", help="account for --auto")
    args = parser.parse_args()

    stack = Stack(ha_port=args.ha_port, sim_port=args.sim_port)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        print(
            "Starting the Nomos simulator and Home Assistant (the first start takes a minute) ...",
            flush=True,
        )
        stack.start()
        asyncio.run(stack.onboard())
        asyncio.run(stack.add_application_credentials())
        if args.auto:
            entry = asyncio.run(stack.sign_in(args.email))
            signed_in = f"Signed in as {args.email}: entry '{entry['title']}' created."
        else:
            signed_in = ""
        print(
            f"""
Home Assistant:  {stack.ha_url}
  login:         {DEMO_USER} / {DEMO_PASSWORD}
Nomos simulator: {stack.sim_url}  (client id {DEMO_CLIENT_ID}, secret {DEMO_CLIENT_SECRET},
                 already stored as Application Credentials)
Config and logs: {stack.config_dir}
""",
            flush=True,
        )
        if signed_in:
            print(signed_in)
            print(
                "Open Settings > Devices & services > Nomos Energy to see the devices and prices."
            )
        else:
            print(
                "Next: Settings > Devices & services > Add integration > Nomos Energy >\n"
                "sign in on the simulator's page with anna@example.com (the one-time code is\n"
                "shown on the page) > Approve > see the devices, prices and statistics."
            )
        print("\nPress Ctrl-C to stop everything.", flush=True)
        while all(process.poll() is None for process in stack.processes):
            time.sleep(1)
        print("A process exited; see the logs above. Stopping.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
