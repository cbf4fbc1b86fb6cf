"""Configuration: TOML file -> frozen dataclasses, validated, with clear errors.

Every key is declared once (:mod:`sms1708.config.sections`, :mod:`sms1708.config.upstream`):
its type, default, check and meaning. The loader (:mod:`sms1708.config.loader`) and the
annotated example file (:mod:`sms1708.config.example`) are both made from that declaration.

Every problem raises :class:`~sms1708.errors.ConfigError` naming the key (``section.name``) and
what is wrong with it, so the CLI can print one line and exit with code 2.

Where the file comes from: ``--config PATH``, else ``$SMS1708_CONFIG``, else
``/etc/sms1708/sms1708.toml`` when it exists, else the built-in defaults.

Secrets (the upstream token, the signing secret, the SIM PIN) are read from environment
variables whose *names* are configured, never from the file itself.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from sms1708.config.checks import BAUDRATES, STATUS_PLACEHOLDERS, ZONE_ALIASES, parse_zone
from sms1708.config.loader import from_mapping
from sms1708.config.sections import (
    ClockConfig,
    Config,
    DaemonConfig,
    FollowupsConfig,
    GrammarConfig,
    LogConfig,
    ModemConfig,
    MultipartConfig,
    RepliesConfig,
    RetentionConfig,
    SiteConfig,
    StoreConfig,
    WebConfig,
)
from sms1708.config.upstream import LaporConfig, UpstreamConfig
from sms1708.errors import ConfigError

__all__ = [
    "BAUDRATES",
    "DEFAULT_PATH",
    "ENV_VAR",
    "STATUS_PLACEHOLDERS",
    "ZONE_ALIASES",
    "ClockConfig",
    "Config",
    "ConfigError",
    "DaemonConfig",
    "FollowupsConfig",
    "GrammarConfig",
    "LaporConfig",
    "LogConfig",
    "ModemConfig",
    "MultipartConfig",
    "RepliesConfig",
    "RetentionConfig",
    "SiteConfig",
    "StoreConfig",
    "UpstreamConfig",
    "WebConfig",
    "from_mapping",
    "load",
    "parse_zone",
]

DEFAULT_PATH = Path("/etc/sms1708/sms1708.toml")
ENV_VAR = "SMS1708_CONFIG"


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the configuration from ``path`` (or the usual places, see module docstring)."""
    if path is None:
        env = os.environ.get(ENV_VAR)
        if env:
            path = env
        elif DEFAULT_PATH.exists():
            path = DEFAULT_PATH
        else:
            return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("--config", f"file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("--config", f"cannot read {p}: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("--config", f"{p} is not valid TOML: {e}") from None
    return from_mapping(data, source=str(p))
