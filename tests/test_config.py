"""Configuration: the contract keys, clear errors naming the key, secrets from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sms1708 import config
from sms1708.config import Config, from_mapping, load
from sms1708.errors import ConfigError, Sms1708Error

REPO = Path(__file__).resolve().parent.parent

CONTRACT = """
[modem]
port = "/dev/serial/by-id/usb-Huawei_E173-if00-port0"
baudrate = 115200
rtscts = false
pin = ""

[store]
path = "/var/lib/sms1708/sms1708.db"

[upstream]
url = "https://lapor.example.go.id/api/complaints"
token_env = "SMS1708_UPSTREAM_TOKEN"
"""


def _error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        from_mapping(data)
    return info.value


def test_contract_keys(tmp_path: Path) -> None:
    f = tmp_path / "sms1708.toml"
    f.write_text(CONTRACT, encoding="utf-8")
    cfg = load(f)
    assert cfg.modem.port == "/dev/serial/by-id/usb-Huawei_E173-if00-port0"
    assert cfg.modem.baudrate == 115200
    assert cfg.modem.rtscts is False
    assert cfg.modem.pin == ""
    assert cfg.store.path == "/var/lib/sms1708/sms1708.db"
    assert cfg.upstream.url == "https://lapor.example.go.id/api/complaints"
    assert cfg.upstream.token_env == "SMS1708_UPSTREAM_TOKEN"
    assert cfg.source == str(f)
    assert len(cfg.modems) == 1


def test_from_mapping_with_contract_keys() -> None:
    cfg = from_mapping(
        {
            "modem": {"port": "/dev/pts/7", "baudrate": 9600, "rtscts": True, "pin": "1234"},
            "store": {"path": "/tmp/x.db"},
            "upstream": {"url": "", "token_env": "MY_TOKEN"},
        }
    )
    assert (cfg.modem.port, cfg.modem.baudrate, cfg.modem.rtscts) == ("/dev/pts/7", 9600, True)
    assert cfg.modem.pin == "1234"
    assert cfg.store.path == "/tmp/x.db"
    assert cfg.upstream.url == ""  # empty: keep everything queued
    assert cfg.upstream.token_env == "MY_TOKEN"


def test_empty_mapping_gives_the_defaults() -> None:
    cfg = from_mapping({})
    assert cfg.modem.baudrate == 115200 and cfg.modem.rtscts is False
    assert cfg.store.path == "/var/lib/sms1708/sms1708.db"
    assert cfg.upstream.url == ""


def test_url_is_stripped() -> None:
    assert from_mapping({"upstream": {"url": "  https://x.example/api "}}).upstream.url == (
        "https://x.example/api"
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"modem": {"baudrate": "fast"}}, "modem.baudrate"),
        ({"modem": {"baudrate": 12345}}, "modem.baudrate"),
        ({"modem": {"baudrate": 0}}, "modem.baudrate"),
        ({"modem": {"baudrate": True}}, "modem.baudrate"),
        ({"modem": {"baudrate": 115200.0}}, "modem.baudrate"),
        ({"modem": {"rtscts": "no"}}, "modem.rtscts"),
        ({"modem": {"rtscts": 0}}, "modem.rtscts"),
        ({"modem": {"port": 3}}, "modem.port"),
        ({"modem": {"pin": 1234}}, "modem.pin"),
        ({"modem": {"memories": ["SM", "XX"]}}, "modem.memories"),
        ({"modem": {"memories": []}}, "modem.memories"),
        ({"modem": {"poll_interval": -1}}, "modem.poll_interval"),
        ({"modem": {"poll_interval": 0}}, "modem.poll_interval"),
        ({"modem": {"poll_interval": float("nan")}}, "modem.poll_interval"),
        ({"modem": {"poll_interval": float("inf")}}, "modem.poll_interval"),
        ({"store": {"path": ""}}, "store.path"),
        ({"store": {"path": 5}}, "store.path"),
        ({"upstream": {"url": "ftp://x"}}, "upstream.url"),
        ({"upstream": {"url": "lapor.go.id/api"}}, "upstream.url"),
        ({"upstream": {"url": 42}}, "upstream.url"),
        ({"upstream": {"token_env": ["A"]}}, "upstream.token_env"),
        ({"upstream": {"batch": 0}}, "upstream.batch"),
        ({"upstream": {"retry_cap": float("inf")}}, "upstream.retry_cap"),
        ({"upstream": {"verify_tls": "yes"}}, "upstream.verify_tls"),
        ({"replies": {"language": "jv"}}, "replies.language"),
        ({"replies": {"max_attempts": -3}}, "replies.max_attempts"),
        ({"multipart": {"timeout": "1h"}}, "multipart.timeout"),
        ({"log": {"level": "verbose"}}, "log.level"),
        ({"log": {"format": "xml"}}, "log.format"),
        ({"modem": "COM1"}, "modem"),
        ({"store": ["path"]}, "store"),
    ],
)
def test_bad_value_names_its_key(data: dict[str, Any], key: str) -> None:
    err = _error(data)
    assert err.key == key
    assert key in str(err)
    assert isinstance(err, Sms1708Error)


def test_unknown_key_lists_the_known_keys() -> None:
    err = _error({"modem": {"prot": "/dev/ttyUSB0"}})
    assert err.key == "modem.prot"
    for known in ("port", "baudrate", "rtscts", "pin"):
        assert known in err.problem


def test_unknown_section_is_refused() -> None:
    err = _error({"modme": {"port": "/dev/ttyUSB0"}})
    assert err.key == "modme"
    assert "modem" in err.problem and "upstream" in err.problem


def test_modems_list() -> None:
    cfg = from_mapping(
        {
            "modems": [
                {"name": "telkomsel", "port": "/dev/ttyUSB0"},
                {"name": "indosat", "port": "/dev/ttyUSB3", "baudrate": 9600},
            ]
        }
    )
    assert [m.name for m in cfg.modems] == ["telkomsel", "indosat"]
    assert cfg.modem.name == "telkomsel"
    assert cfg.modems[1].baudrate == 9600


@pytest.mark.parametrize(
    "modems",
    [
        [{"name": "a", "port": "/dev/ttyUSB0"}, {"name": "a", "port": "/dev/ttyUSB1"}],
        [{"port": "/dev/ttyUSB0"}, {"port": "/dev/ttyUSB1"}],  # both default to "modem0"
    ],
)
def test_modems_with_duplicate_names_are_refused(modems: list[dict[str, Any]]) -> None:
    assert _error({"modems": modems}).key == "modems"


def test_modems_errors_name_the_entry() -> None:
    err = _error({"modems": [{"name": "a"}, {"name": "b", "baudrate": "fast"}]})
    assert err.key == "modems[1].baudrate"


@pytest.mark.parametrize("modems", [[], {"name": "a"}, "modem0"])
def test_modems_must_be_a_non_empty_array_of_tables(modems: Any) -> None:
    assert _error({"modems": modems}).key == "modems"


def test_modem_and_modems_together_are_refused() -> None:
    assert _error({"modem": {}, "modems": [{"name": "a"}]}).key == "modems"


def test_toml_modems_array(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        '[[modems]]\nname = "a"\nport = "/dev/ttyUSB0"\n\n'
        '[[modems]]\nname = "a"\nport = "/dev/ttyUSB1"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load(f)
    assert info.value.key == "modems"


# ------------------------------------------------------------------ load


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "nope.toml")
    assert info.value.key == "--config"
    assert "nope.toml" in str(info.value)


def test_load_invalid_toml(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[modem\nport = /dev/ttyUSB0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(f)
    assert info.value.key == "--config"
    assert "TOML" in str(info.value)


def test_load_a_directory_or_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert info.value.key == "--config"
    f = tmp_path / "latin1.toml"
    f.write_bytes(b'[store]\npath = "/var/lib/sms\xe9.db"\n')
    with pytest.raises(ConfigError) as info:
        load(f)
    assert info.value.key == "--config"


def test_load_bad_value_in_a_file_names_the_key(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[modem]\nbaudrate = "fast"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(f)
    assert info.value.key == "modem.baudrate"


def test_load_none_reads_the_file_named_by_the_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "from-env.toml"
    f.write_text('[modem]\nport = "/dev/ttyACM0"\nbaudrate = 9600\n', encoding="utf-8")
    monkeypatch.setenv(config.ENV_VAR, str(f))
    assert config.ENV_VAR == "SMS1708_CONFIG"
    cfg = load(None)
    assert cfg.modem.port == "/dev/ttyACM0" and cfg.modem.baudrate == 9600
    assert cfg.source == str(f)
    assert load().source == str(f)


def test_load_none_with_env_var_pointing_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.ENV_VAR, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError) as info:
        load(None)
    assert info.value.key == "--config"


def test_load_none_without_anything_gives_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    monkeypatch.setattr(config, "DEFAULT_PATH", tmp_path / "etc" / "sms1708.toml")
    cfg = load(None)
    assert cfg == Config()
    assert cfg.source == "built-in defaults"


def test_load_none_falls_back_to_the_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "sms1708.toml"
    f.write_text('[store]\npath = "/srv/sms.db"\n', encoding="utf-8")
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    monkeypatch.setattr(config, "DEFAULT_PATH", f)
    assert load(None).store.path == "/srv/sms.db"


# ------------------------------------------------------------------ secrets


def test_token_comes_from_the_env_var_named_by_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = from_mapping({"upstream": {"token_env": "KAB_LAPOR_TOKEN"}})
    monkeypatch.delenv("KAB_LAPOR_TOKEN", raising=False)
    assert cfg.upstream.token() == ""
    monkeypatch.setenv("KAB_LAPOR_TOKEN", "s3cret-token")
    assert cfg.upstream.token() == "s3cret-token"
    monkeypatch.setenv("SMS1708_UPSTREAM_TOKEN", "not-this-one")
    assert cfg.upstream.token() == "s3cret-token"


def test_token_env_empty_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS1708_UPSTREAM_TOKEN", "x")
    assert from_mapping({"upstream": {"token_env": ""}}).upstream.token() == ""


def test_a_token_in_the_file_is_not_a_config_key() -> None:
    err = _error({"upstream": {"token": "s3cret"}})
    assert err.key == "upstream.token"
    assert "s3cret" not in str(err)  # the secret itself is never echoed


def test_signing_secret_and_sim_pin_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = from_mapping(
        {
            "upstream": {"signing_secret_env": "KAB_HMAC"},
            "modem": {"pin_env": "KAB_PIN", "pin": "0000"},
        }
    )
    monkeypatch.setenv("KAB_HMAC", "hmac-key")
    monkeypatch.delenv("KAB_PIN", raising=False)
    assert cfg.upstream.signing_secret() == "hmac-key"
    assert cfg.modem.sim_pin() == "0000"
    monkeypatch.setenv("KAB_PIN", "4321")
    assert cfg.modem.sim_pin() == "4321"


def test_config_is_frozen() -> None:
    cfg = from_mapping({})
    with pytest.raises(AttributeError):
        cfg.store.path = "/tmp/other.db"  # type: ignore[misc]


# ------------------------------------------------------------------ example config


def test_example_config_loads() -> None:
    example = REPO / "config" / "sms1708.example.toml"
    if not example.exists():
        pytest.skip("config/sms1708.example.toml is not written yet")
    cfg = load(example)
    assert cfg.modem.port
    assert cfg.store.path
    assert cfg.upstream.token_env
