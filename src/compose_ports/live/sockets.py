"""What this machine holds right now: the local ports in use, and by which process.

psutil reads them portably (Linux's /proc/net, the BSDs' and macOS's sysctls) and names the
process; only local sockets are looked at, nothing is sent anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Listener:
    port: int
    protocol: str  # "tcp" or "udp"
    address: str
    pid: int | None
    process: str | None


def listeners() -> list[Listener]:
    """Listening TCP sockets and bound UDP sockets of this machine."""
    import socket

    import psutil

    found = []
    for conn in psutil.net_connections(kind="inet"):
        if not conn.laddr:
            continue
        tcp = conn.type == socket.SOCK_STREAM
        if tcp and conn.status != psutil.CONN_LISTEN:
            continue
        name = None
        if conn.pid:
            try:
                name = psutil.Process(conn.pid).name()
            except (psutil.Error, OSError):
                name = None
        found.append(
            Listener(conn.laddr.port, "tcp" if tcp else "udp", conn.laddr.ip, conn.pid, name)
        )
    return found


def ports_in_use() -> set[int]:
    return {listener.port for listener in listeners()}
