"""The command line as a package of small modules: each under 300 lines, and every command a
module defines reachable from `sms1708` (a command written but never registered fails here)."""

from __future__ import annotations

import importlib
import pkgutil

import click

import sms1708.cli
from sms1708.cli import main

from .conftest import ROOT


def reachable(group: click.Group = main) -> set[int]:
    out = {id(group)}
    for cmd in group.commands.values():
        out |= reachable(cmd) if isinstance(cmd, click.Group) else {id(cmd)}
    return out


def test_every_module_of_the_command_line_is_small() -> None:
    sizes = {
        p.name: len(p.read_text(encoding="utf-8").splitlines())
        for p in (ROOT / "sms1708" / "cli").glob("*.py")
    }
    assert len(sizes) > 10
    assert {name: n for name, n in sizes.items() if n > 300} == {}


def test_every_command_defined_is_registered() -> None:
    known = reachable()
    for info in pkgutil.iter_modules(sms1708.cli.__path__, "sms1708.cli."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            ours = isinstance(value, click.Command) and value.callback is not None
            if ours and value.callback.__module__ == info.name:
                assert id(value) in known, f"{info.name}.{name} is not registered"
