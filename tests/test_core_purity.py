"""sms1708/core is the functional core: no I/O, no clock, no randomness (design.md, "Layout").

Every module in the package is parsed and each import is checked against an allowlist of pure
standard-library modules, ``sms1708.core.*``, ``sms1708.errors`` and ``gsmmodem.pdu``; the modules
that do I/O or bring nondeterminism are also named explicitly so a failure says why.

The core takes plain, already checked data: checking the config and the grammar's table files
(and raising :class:`~sms1708.errors.ConfigError`) is the loaders' job (``sms1708.config``,
``sms1708.table_files``), so the core neither imports ``sms1708.config`` nor names ``ConfigError``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sms1708.core

CORE_DIR = Path(sms1708.core.__file__).parent

#: imports that do I/O, touch the clock or the OS, or bring randomness / concurrency
FORBIDDEN = frozenset(
    {
        "sqlite3",
        "sqlite_utils",
        "serial",
        "httpx",
        "tenacity",
        "structlog",
        "time",
        "random",
        "secrets",
        "os",
        "sys",
        "io",
        "shutil",
        "tempfile",
        "glob",
        "socket",
        "ssl",
        "select",
        "selectors",
        "signal",
        "threading",
        "multiprocessing",
        "concurrent",
        "subprocess",
        "asyncio",
        "pathlib",
        "logging",
        "urllib",
        "http",
        "importlib",
        "click",
        "gsmmodem",
    }
)

#: pure standard-library modules the core may use
PURE_STDLIB = frozenset(
    {
        "__future__",
        "abc",
        "array",
        "base64",
        "binascii",
        "bisect",
        "codecs",
        "collections",
        "contextlib",
        "copy",
        "dataclasses",
        "datetime",  # arithmetic and parsing; reading the clock is the shell's job
        "decimal",
        "enum",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "hmac",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "re",
        "statistics",
        "string",
        "struct",
        "textwrap",
        "types",
        "typing",
        "unicodedata",
        "uuid",  # uuid5 only: derived identities
        "zlib",
    }
)

#: names of the shell the core must not use, with why
SHELL_NAMES = {
    "ConfigError": "checking config and table files is the loader's job",
    "config": "the core takes plain values, not the config",
}

#: the one submodule of python-gsmmodem the core may use (the brief allows it as a PDU oracle)
ALLOWED_THIRD_PARTY = frozenset({"gsmmodem.pdu"})


def _allowed(module: str) -> bool:
    if module in ALLOWED_THIRD_PARTY or module == "sms1708.errors":
        return True
    if module == "sms1708.core" or module.startswith("sms1708.core."):
        return True
    top = module.split(".")[0]
    return top in PURE_STDLIB and top not in FORBIDDEN


def _resolve(node: ast.ImportFrom, package: str) -> str:
    """The absolute module name of a ``from ... import`` (relative ones resolved in ``package``)."""
    if node.level == 0:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def violations(source: str, package: str = "sms1708.core", filename: str = "<src>") -> list[str]:
    """Every import in ``source`` that the functional core must not make."""
    tree = ast.parse(source, filename=filename)
    found: list[str] = []

    def check(module: str, lineno: int) -> None:
        if not _allowed(module):
            top = module.split(".")[0]
            why = "does I/O or is nondeterministic" if top in FORBIDDEN else "not allowlisted"
            found.append(f"{filename}:{lineno}: import of {module!r} ({why})")

    def shell_name(name: str, lineno: int) -> None:
        if name in SHELL_NAMES:
            found.append(f"{filename}:{lineno}: uses {name} ({SHELL_NAMES[name]})")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _resolve(node, package).startswith("sms1708"):
            for alias in node.names:
                shell_name(alias.name, node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "ConfigError":
            shell_name(node.attr, node.lineno)
        elif isinstance(node, ast.Name) and node.id == "ConfigError":
            shell_name(node.id, node.lineno)
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, package)
            if module in ("gsmmodem", "sms1708", "sms1708.core"):
                # ``from gsmmodem import pdu`` is gsmmodem.pdu; ``from sms1708 import errors``
                # is sms1708.errors: check what is actually imported
                for alias in node.names:
                    check(f"{module}.{alias.name}", node.lineno)
            else:
                check(module, node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
        ):
            found.append(f"{filename}:{node.lineno}: dynamic __import__")
    return found


def core_modules() -> list[Path]:
    return sorted(CORE_DIR.glob("*.py"))


def test_core_package_has_the_expected_modules() -> None:
    names = {p.stem for p in core_modules()}
    expected = {"grammar", "pdu", "multipart", "keys", "policy", "states", "replies", "mask"}
    assert expected <= names


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source, filename=path.name) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlite3",
        "import os.path",
        "import time",
        "from time import monotonic",
        "import random as r",
        "from random import random",
        "import serial",
        "from serial.tools import list_ports",
        "import httpx",
        "import structlog",
        "import tenacity",
        "import sqlite_utils",
        "import threading",
        "import subprocess",
        "import asyncio",
        "from pathlib import Path",
        "import logging",
        "import socket",
        "import gsmmodem",
        "import gsmmodem.modem",
        "from gsmmodem import GsmModem",
        "from gsmmodem.modem import GsmModem",
        "import sms1708.store",
        "from sms1708 import cli",
        "from sms1708.modem import at",
        "from .. import daemon",
        "import sms1708.config",
        "from sms1708 import config",
        "from sms1708.config import Config",
        "from sms1708.errors import ConfigError",
        "from sms1708 import errors\nerrors.ConfigError('k', 'bad')",
        "from ..errors import ConfigError",
        "import numpy",
        "def f():\n    import sqlite3\n    return sqlite3",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sqlite3",
        "m = __import__('os')",
    ],
)
def test_checker_catches_forbidden_imports(source: str) -> None:
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import re\nimport unicodedata",
        "from collections.abc import Mapping",
        "from dataclasses import dataclass",
        "from datetime import datetime, timedelta, timezone",
        "import gsmmodem.pdu",
        "from gsmmodem import pdu",
        "from gsmmodem.pdu import decodeSmsPdu",
        "from sms1708.errors import PduDecodeError",
        "from sms1708 import errors",
        "from sms1708.core import replies",
        "from sms1708.core.pdu import join_parts",
        "from . import grammar",
        "from .states import State",
    ],
)
def test_checker_accepts_pure_imports(source: str) -> None:
    assert violations(source) == []


def test_the_core_takes_checked_data_and_raises_no_config_error() -> None:
    """Table files are checked by the loader; no core module names ConfigError or the config."""
    found = [v for p in core_modules() for v in violations(p.read_text("utf-8"), filename=p.name)]
    assert [v for v in found if "ConfigError" in v or "config" in v] == []
    assert "ConfigError" not in "".join(p.read_text("utf-8") for p in core_modules())


def test_importing_the_core_loads_no_io_library() -> None:
    """At run time too: importing every core module pulls in none of the I/O libraries."""
    modules = ", ".join(f"sms1708.core.{p.stem}" for p in core_modules() if p.stem != "__init__")
    probe = (
        f"import sys, {modules}\n"
        "bad = {'sqlite3', 'sqlite_utils', 'serial', 'httpx', 'tenacity', 'structlog', "
        "'gsmmodem', 'gsmmodem.modem', 'socket', 'subprocess', 'asyncio', 'logging'}\n"
        "print(' '.join(sorted(bad & set(sys.modules))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
