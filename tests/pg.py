"""A throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `postgres` on
127.0.0.1 at a free port with a password (scram-sha-256), one database; stopped and removed
afterwards. Debian's `postgresql` package provides the programs (under
/usr/lib/postgresql/<version>/bin); a test skips with a clear message where they are absent.

PostgreSQL refuses to run as root: as root (CI, containers) the server runs as an unprivileged
user (`postgres`, which Debian's package creates, else `nobody`) through Popen's user/group, and
its folder is handed to that user. As anyone else it runs as that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_USERS = ("postgres", "nobody")  # as root: the first that exists runs the server
START_S = 60.0


def server_bin() -> Path | None:
    """The folder holding initdb and postgres: on PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


MISSING = ("PostgreSQL's initdb and postgres were not found (on Debian: apt-get install postgresql; .ci/run installs "
           "it): the multi-machine sweep test needs a real server")


@dataclass(frozen=True)
class Server:
    user: str
    password: str
    port: int
    database: str

    def url(self, *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{self.database}"


def _run_as() -> pwd.struct_passwd | None:
    """Who runs the server: None for this process's own user; an unprivileged one as root."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"running as root and none of the users {SERVER_USERS} exists to run PostgreSQL")


def _as(account: pwd.struct_passwd | None) -> dict[str, object]:
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_postgres(bin_dir: Path, database: str = "sweeps") -> Iterator[Server]:
    account = _run_as()
    home = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
    password = secrets.token_hex(12)
    (home / "pw").write_text(password + "\n")
    if account is not None:
        for path in (home, home / "pw"):
            os.chown(path, account.pw_uid, account.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(home)}
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([str(bin_dir / "initdb"), "-D", str(home / "data"), "-U", "sweeper",
                        "--pwfile", str(home / "pw"),
                        "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"], env=env, cwd=home,
                       capture_output=True, check=True, timeout=120, **_as(account))  # type: ignore[call-overload]  # the keyword arguments of subprocess.run, built per account
        server, port = _start(bin_dir, home, env, account)
        _create_database(Server("sweeper", password, port, "postgres"), database)
        yield Server("sweeper", password, port, database)
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGQUIT)  # immediate shutdown: nothing in it is kept
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def _start(bin_dir: Path, home: Path, env: dict[str, str],
           account: pwd.struct_passwd | None) -> tuple[subprocess.Popen[bytes], int]:
    """The server, accepting connections (a port taken meanwhile by another program: another)."""
    for _ in range(3):
        port = _free_port()
        with open(home / "server.log", "ab") as log:
            # fsync off: a throwaway server need not survive a power cut, and the suite is faster.
            process = subprocess.Popen([str(bin_dir / "postgres"), "-D", str(home / "data"), "-p", str(port),
                                        "-h", "127.0.0.1", "-k", str(home), "-c", "fsync=off"],
                                       env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                                       **_as(account))  # type: ignore[call-overload]  # the keyword arguments of subprocess.run, built per account
        if _ready(process, f"postgresql://127.0.0.1:{port}/postgres", home / "server.log"):
            return process, port
    raise RuntimeError(f"postgres could not get a port: {(home / 'server.log').read_text(errors='replace')[-1500:]}")


def _ready(process: subprocess.Popen[bytes], url: str, log: Path) -> bool:
    """Polls until the server answers (an authentication refusal is an answer); False if it
    exited because its port was taken."""
    import psycopg

    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")
            if "could not bind" in text or "Address already in use" in text:
                return False
            raise RuntimeError(f"postgres exited ({process.returncode}): {text[-1500:]}")
        try:
            psycopg.connect(url, user="sweeper", connect_timeout=2).close()
            return True
        except psycopg.OperationalError as exc:
            if "password" in str(exc):
                return True
            time.sleep(0.1)
    raise RuntimeError(f"postgres did not accept connections within {START_S:.0f} s: "
                       f"{log.read_text(errors='replace')[-1500:]}")


def _create_database(server: Server, name: str) -> None:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
