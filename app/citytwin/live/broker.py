"""A throw-away local mosquitto broker on a free loopback port (tests, benchmarks, demos).

It is a plain subprocess: :meth:`LocalBroker.start` writes a temporary config
(``listener PORT 127.0.0.1``, anonymous, large queues, no persistence), waits until
the port accepts connections; :meth:`LocalBroker.stop` kills exactly that process.
``restart`` keeps the port, to test reconnection.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..core.errors import CityTwinError

CONFIG = """listener {port} 127.0.0.1
allow_anonymous {anonymous}
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 0
persistence false
log_dest file {log}
log_type error
log_type warning
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_path() -> str | None:
    """The mosquitto executable, or None when it is not installed."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)


class LocalBroker:
    """A mosquitto process listening on ``127.0.0.1:port``.

    ``extra_config`` is appended to the config (e.g. ``password_file …``, or
    ``certfile``/``keyfile`` lines that make the listener TLS).
    """

    def __init__(self, port: int | None = None, executable: str | None = None, *,
                 anonymous: bool = True, extra_config: str = "") -> None:
        exe = executable or mosquitto_path()
        if exe is None:
            raise CityTwinError("mosquitto is not installed")
        self.executable = exe
        self.port = port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="citytwin-mosquitto-")
        self.config = Path(self._dir.name) / "mosquitto.conf"
        self.log = Path(self._dir.name) / "mosquitto.log"
        text = CONFIG.format(port=self.port, anonymous=str(anonymous).lower(), log=self.log)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            text += "user root\n"  # as root mosquitto would switch to a user that cannot read our files
        self.config.write_text(text + extra_config)
        self.tls = "certfile" in extra_config
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    @property
    def folder(self) -> Path:
        """The broker's temporary folder (for password files, certificates)."""
        return Path(self._dir.name)

    def start(self, timeout: float = 10.0) -> LocalBroker:
        """Start the broker and wait until it accepts TCP connections."""
        self.proc = subprocess.Popen([self.executable, "-c", str(self.config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                err = self.log.read_text(errors="replace") if self.log.exists() else ""
                raise CityTwinError(f"mosquitto exited at start: {' '.join(err.split())[:200]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise CityTwinError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Kill the broker process (only this one) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        end = time.monotonic() + 10
        while True:  # the port may linger a moment
            try:
                self.start()
                return
            except CityTwinError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
