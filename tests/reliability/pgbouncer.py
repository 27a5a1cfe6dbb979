"""A private PgBouncer in transaction pooling mode, in front of the shared PostgreSQL.

Debian's ``pgbouncer`` (installed by ``scripts/ensure-pgbouncer.sh`` when missing), started on a free
port with its own configuration in a temporary directory: every database of 127.0.0.1:5432, logged in
as ``postgres`` (``auth_type = any``, the server trusts local connections), its admin console open to
``postgres``. PgBouncer refuses to run as root, so under root it drops to the ``postgres`` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
[databases]
* = host=127.0.0.1 port=5432 user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
admin_users = postgres
ignore_startup_parameters = extra_float_digits
logfile = {directory}/pgbouncer.log
"""


def pgbouncer_binary() -> str:
    """Return the path of ``pgbouncer``, installing Debian's package first when it is missing."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure-pgbouncer.sh")], check=True)
        found = shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")
    assert found is not None, "pgbouncer is not installed"
    return found


class PrivatePgBouncer:
    """A PgBouncer of the tests, on its own port and configuration."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.app_dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        """``TUX_TEST_PG_APP_DSN`` of a test run whose code under test connects through the pooler."""
        self._directory = Path(tempfile.mkdtemp(prefix="tux-pgbouncer-"))
        """Its own directory, readable by the user it may drop to (pytest's tmp dirs are not)."""
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of ``database`` through the pooler."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._directory.chmod(0o777)  # the pooler may run as postgres: it reads and logs here
        config = self._directory / "pgbouncer.ini"
        config.write_text(CONFIG.format(port=self.port, directory=self._directory))
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self._process = subprocess.Popen(
            [pgbouncer_binary(), *user, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                time.sleep(0.02)  # bounded poll while an external process boots
        raise RuntimeError(f"private pgbouncer did not start: {self.log()}")

    def log(self) -> str:
        path = self._directory / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self._directory, ignore_errors=True)
