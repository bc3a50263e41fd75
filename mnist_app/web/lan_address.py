"""The address students type on their phones to reach this app on the local network.

Found with no network access: connecting a UDP socket sends no packet, it only asks the OS which local
address it would route from, which is the machine's address on the local network.
"""

import ipaddress
import socket
from dataclasses import dataclass

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
EVERY_INTERFACE = {"0.0.0.0", "::", ""}
SOME_PRIVATE_ADDRESS = ("10.255.255.255", 1)  # never contacted: only routed


@dataclass(frozen=True)
class StudentAddress:
    url: str  # e.g. http://192.168.1.20:7860/
    reachable: bool  # False when the app listens on this machine only, or the machine has no network
    advice: str  # what to do when not reachable; "" otherwise


def lan_ip() -> str:
    """This machine's address on the local network, or 127.0.0.1 when it has none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(SOME_PRIVATE_ADDRESS)
            address = probe.getsockname()[0]
    except OSError:
        try:
            address = socket.gethostbyname(socket.gethostname())
        except OSError:
            address = "127.0.0.1"
    return address


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


def student_address(server_name: str | None, port: int, protocol: str = "http") -> StudentAddress:
    """Where phones on the local network reach an app that Gradio bound to `server_name`:`port`."""
    server_name = server_name or "127.0.0.1"  # Gradio's default
    bound_here_only = is_loopback(server_name)
    host = lan_ip() if bound_here_only or server_name in EVERY_INTERFACE else server_name
    url = f"{protocol}://{f'[{host}]' if ':' in host else host}:{port}/"  # an IPv6 address goes in brackets
    if is_loopback(host):
        return StudentAddress(url, False, "This computer has no local network: connect it to the classroom's Wi-Fi.")
    if bound_here_only:
        return StudentAddress(
            url, False,
            "The app listens on this computer only. Restart it with `GRADIO_SERVER_NAME=0.0.0.0 python app.py` "
            f"and phones on this network open {url}",
        )
    return StudentAddress(url, True, "")
