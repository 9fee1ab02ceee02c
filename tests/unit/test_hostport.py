"""One HOST:PORT rule for every listen address: the receiver's, /metrics' and the CLI's."""

from __future__ import annotations

import pytest

from burntray.config import settings_from_toml
from burntray.errors import ConfigError
from burntray.io.hostport import host_port_parser, split_host_port


def test_split_host_port_takes_ipv4_ipv6_and_names() -> None:
    assert split_host_port("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert split_host_port(" [::1]:4318 ") == ("::1", 4318)
    assert split_host_port("localhost:0") == ("localhost", 0)


@pytest.mark.parametrize("bad", ["nowhere", ":9464", "[]:9464", "host:", "host:65536", "h:-1"])
def test_split_host_port_names_the_bad_value(bad: str) -> None:
    with pytest.raises(ValueError, match=r"HOST:PORT such as 127\.0\.0\.1:9464, not ") as info:
        split_host_port(bad, "127.0.0.1:9464")
    assert repr(bad) in str(info.value)


def test_the_parser_refuses_what_is_not_text() -> None:
    parse = host_port_parser("127.0.0.1:4318")
    assert parse(" 127.0.0.1:4318 ") == "127.0.0.1:4318"
    with pytest.raises(ValueError, match=r"HOST:PORT such as 127\.0\.0\.1:4318"):
        parse(4318)


@pytest.mark.parametrize("key", ["serve", "otel"])
def test_config_listen_addresses_follow_the_same_rule(key: str) -> None:
    # an empty IPv6 host used to pass serve.metrics (it had its own, looser parser) while the
    # same text was refused for otel.listen
    table = {"metrics": "[]:9464"} if key == "serve" else {"listen": "[]:9464"}
    with pytest.raises(ConfigError, match="HOST:PORT"):
        settings_from_toml({key: table})
