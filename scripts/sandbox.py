"""`make sandbox`: an embedded AWS (moto) on 127.0.0.1 with a small Connect estate, to try the command line on.

Prints the `export` lines to paste into another shell, then serves until Ctrl-C (exit 0). Nothing here reaches
real AWS: the credentials are fake and every client points at the local server.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for source_root in (ROOT, ROOT / "layers" / "lockdown"):
    sys.path.insert(0, str(source_root))

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
)
for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)


def main() -> int:
    stop = threading.Event()
    # Ctrl-C (or a polite kill) ends the wait below; the server then stops in its own `finally`.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    from devtools.estate import OTHER_REGION, STACK_NAME, build_estate, export_lines
    from devtools.server import moto_server

    with moto_server() as endpoint:
        estate = build_estate(endpoint)
        print(f"Sandbox: an embedded AWS (moto) at {endpoint}; nothing here reaches real AWS.\n")
        print(
            f"Account {estate.world.session.client('sts', endpoint_url=endpoint).get_caller_identity()['Account']}"
            f" (management) and {estate.member_account} (member), Regions us-east-1 and {OTHER_REGION}:"
        )
        for bucket, shows in estate.buckets.items():
            print(f"  {bucket:<28} {shows}")
        print(f"  a Connect instance without storage yet (pending); the enforcer's stack {STACK_NAME}\n")
        print("Paste these lines into another shell (and unset AWS_PROFILE there):\n")
        for line in export_lines(endpoint):
            print(line)
        print("\nThen, for example: connect-lockdown audit --stack-name " + STACK_NAME)
        print("Ctrl-C stops the sandbox; everything in it is forgotten.", flush=True)
        stop.wait()
    print("\nSandbox stopped.", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C while the estate was still being built
        print("\nSandbox stopped.")
        sys.exit(0)
