"""The one ``HOST:PORT`` parser (``[::1]:4318`` for IPv6) for every listen address in config
and on the command line, so each setting accepts and refuses the same things."""

from __future__ import annotations

from collections.abc import Callable


def split_host_port(value: str, example: str = "127.0.0.1:4318") -> tuple[str, int]:
    """``(host, port)`` with IPv6 brackets removed; ``ValueError`` names the bad value."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"HOST:PORT such as {example}, not {value!r}")
    return host, int(port_text)


def host_port_parser(example: str) -> Callable[[object], str]:
    """A config parser for a ``HOST:PORT`` key: the value stripped, or ``ValueError``."""

    def parse(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"HOST:PORT such as {example}")
        split_host_port(value, example)
        return value.strip()

    return parse
