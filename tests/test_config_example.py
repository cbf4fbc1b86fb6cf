"""Config declared once: the declaration drives the validation and the annotated example file,
and the shipped example file is exactly what the declaration writes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sms1708.config import Config, ModemConfig, from_mapping, load
from sms1708.config.example import example_text, explanation
from sms1708.config.keys import Key, keys_of, section_of
from sms1708.config.loader import CLASSES
from sms1708.config.sections import SECTIONS
from sms1708.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "sms1708.example.toml"
SECTION_KEYS = [
    (section_of(cls).name, name, info)
    for cls in SECTIONS
    for name, (_field, info) in keys_of(cls).items()
]


def test_the_example_file_is_written_from_the_declaration() -> None:
    """Refresh it with: python -m sms1708.config --example > config/sms1708.example.toml"""
    assert EXAMPLE.read_text(encoding="utf-8") == example_text()


def test_the_generator_prints_the_example_file() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sms1708.config", "--example"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout == example_text()


def test_the_values_shown_are_the_defaults() -> None:
    """Loaded as it is, the example file gives the built-in defaults (except the port it
    shows, the one key without a default)."""
    cfg = load(EXAMPLE)
    port = cfg.modem.port
    assert port.startswith("/dev/serial/by-id/")
    assert dataclasses.replace(cfg, source=Config().source) == Config(
        modems=(ModemConfig(port=port),)
    )


def _section_lines(section: str) -> list[str]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [f"[{section}]"])
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]  # the keys; prose after a blank line (the destinations example)


@pytest.mark.parametrize(
    ("section", "name", "info"), SECTION_KEYS, ids=[f"{s}.{n}" for s, n, _ in SECTION_KEYS]
)
def test_every_key_is_in_the_example_with_an_explanation(
    section: str, name: str, info: Key
) -> None:
    assert explanation(info)
    shown = [x for x in _section_lines(section) if x.startswith((f"{name} = ", f"# {name} = "))]
    assert len(shown) == (1 if info.in_file else 0)


def test_each_section_field_is_a_declared_key() -> None:
    """Nothing is added to a section without its check and its words (the entries of
    [[upstream.destination]] are built by the loader, not a key)."""
    for cls in SECTIONS:
        undeclared = {f.name for f in dataclasses.fields(cls)} - set(keys_of(cls))
        assert undeclared <= {"destinations"}, cls.__name__


def test_the_loader_knows_exactly_the_declared_sections() -> None:
    assert set(CLASSES) == {section_of(cls).name for cls in SECTIONS}
    config_fields = {f.name for f in dataclasses.fields(Config)} - {"source"}
    assert config_fields == (set(CLASSES) - {"modem"}) | {"modems"}


def test_every_key_in_the_file_is_checked_by_its_declaration() -> None:
    """Each key of the example, given a value of the wrong type, is refused naming that key."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, keys in data.items():
        for name in keys:
            with pytest.raises(ConfigError) as info:
                from_mapping({section: {name: object()}})
            assert info.value.key == f"{section}.{name}"


def test_destination_only_keys_are_shown_in_the_destinations_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# BEGIN EXAMPLE") : text.index("# END EXAMPLE")]
    hidden = [n for s, n, i in SECTION_KEYS if not i.in_file]
    assert hidden == ["name", "primary", "route"]
    for name in hidden:
        assert f"\n# {name} = " in block
