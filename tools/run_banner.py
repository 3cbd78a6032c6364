"""What `make run` prints before it starts the desk: where the dashboard really listens.

Streamlit takes its port from STREAMLIT_SERVER_PORT when set, else from .streamlit/config.toml
(8501 there), and its address the same way (server.address). Printing a fixed 8501 sent the
operator to the wrong port whenever either was changed.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT, DEFAULT_ADDRESS = 8501, "127.0.0.1"


def dashboard_url(env: dict[str, str] | None = None, config: Path = ROOT / ".streamlit" / "config.toml") -> str:
    env = dict(os.environ) if env is None else env
    server: dict[str, object] = {}
    if config.exists():
        try:
            server = tomllib.loads(config.read_text()).get("server", {})
        except tomllib.TOMLDecodeError:
            server = {}
    port = env.get("STREAMLIT_SERVER_PORT") or server.get("port") or DEFAULT_PORT
    address = env.get("STREAMLIT_SERVER_ADDRESS") or server.get("address") or DEFAULT_ADDRESS
    host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    return f"http://{host}:{port}"


def main() -> int:
    print(f"Starting the desk: dashboard at {dashboard_url()} (log in with your password); logs in var/log/.")
    print("Ctrl-C stops everything it started.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
