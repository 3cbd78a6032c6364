"""What `make run` prints before it starts the desk: where the dashboard really listens
(contracts/dashboard_address.py: printing a fixed 8501 sent the operator to the wrong port whenever
STREAMLIT_SERVER_PORT or .streamlit/config.toml changed it)."""

from __future__ import annotations

import sys

from contracts.dashboard_address import dashboard_url


def main() -> int:
    print(f"Starting the desk: dashboard at {dashboard_url()} (log in with your password); logs in var/log/.")
    print("Ctrl-C stops everything it started.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
