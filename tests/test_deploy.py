"""deploy/: the install and uninstall scripts in a throwaway root, and the systemd unit.

`install.sh --prefix DIR` puts everything under DIR and touches nothing on the real system;
these tests hold it to that with stand-ins for useradd, chown, udevadm and systemctl on PATH
that record every call (only `systemctl --root=DIR ...`, which writes under DIR, goes through).
The install pip-installs the project into a venv under DIR (from the package index, as on a
real box), so those tests are marked slow.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SCRIPTS = [DEPLOY / "install.sh", DEPLOY / "uninstall.sh"]
UNIT = DEPLOY / "sms1708.service"
WEB_UNIT = DEPLOY / "sms1708-web.service"
SYSTEM_COMMANDS = ["useradd", "usermod", "groupadd", "userdel", "chown", "udevadm", "systemctl"]
NO_INDEX = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable")

# a hang guard: the shared install (the `installed` fixture, in its first test's set-up) runs
# pip twice, each allowed 300 s (run_script), longer than the suite's 120 s on a loaded machine
pytestmark = pytest.mark.timeout(900)

# ------------------------------------------------------------------ static checks (fast)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_syntax(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script.name} is not executable (chmod +x)"
    r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed")
def test_shellcheck() -> None:
    r = subprocess.run(["shellcheck", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_and_bad_option(script: Path) -> None:
    r = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--prefix DIR" in r.stdout
    r = subprocess.run([str(script), "--bogus"], capture_output=True, text=True)
    assert r.returncode != 0 and "unknown option: --bogus" in r.stderr


def unit_settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_settings() -> None:
    s = unit_settings(UNIT.read_text())
    expect = {
        "User": "sms1708",
        "SupplementaryGroups": "dialout",
        "Restart": "always",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "StateDirectory": "sms1708",
        "RuntimeDirectory": "sms1708",
        "ReadWritePaths": "/var/lib/sms1708",
        "EnvironmentFile": "-/etc/sms1708/secrets.env",
        "WantedBy": "multi-user.target",
    }
    for key, value in expect.items():
        assert s.get(key) == [value], f"{key}= is {s.get(key)}, expected {value}"
    assert s["ExecStart"][0].startswith("/opt/sms1708/venv/bin/sms1708 --config /etc/sms1708/")
    # The watchdog needs the daemon to speak sd_notify; a Type=notify unit without it would
    # be killed at start-up.
    notify = (ROOT / "sms1708" / "sdnotify.py").exists()
    assert (s.get("Type") == ["notify"]) == notify
    assert ("WatchdogSec" in s) == notify and ("NotifyAccess" in s) == notify


SERIAL_CLASSES = ("ttyUSB", "ttyACM", "ttyAMA", "ttyS")


def test_unit_allows_the_serial_device_classes() -> None:
    """Before systemd 252, ProtectClock=yes implies DeviceAllow=char-rtc, which closes the
    device policy: without explicit lines for the serial classes the daemon cannot open
    /dev/ttyUSB0 on Raspberry Pi OS bullseye (247) or Ubuntu 22.04 (249)."""
    s = unit_settings(UNIT.read_text())
    allowed = s.get("DeviceAllow", [])
    for cls in SERIAL_CLASSES:
        assert f"char-{cls} rw" in allowed, f"DeviceAllow=char-{cls} rw missing: {allowed}"
    # a device policy or private /dev would close the door the lines above open
    assert "DevicePolicy" not in s or s["DevicePolicy"] == ["auto"]
    assert s.get("PrivateDevices", ["no"]) == ["no"]


def test_web_unit_settings() -> None:
    """The console runs as its own hardened process, as the gateway's user, without devices."""
    s = unit_settings(WEB_UNIT.read_text())
    gateway = unit_settings(UNIT.read_text())
    expect = {
        "User": "sms1708",
        "Group": "sms1708",
        "Restart": "always",
        "PrivateDevices": "yes",
        "DevicePolicy": "closed",
        "ReadWritePaths": "/var/lib/sms1708",
        "WantedBy": "multi-user.target",
    }
    for key, value in expect.items():
        assert s.get(key) == [value], f"{key}= is {s.get(key)}, expected {value}"
    assert "SupplementaryGroups" not in s  # no dialout: the web never touches the modem
    for key in (
        "NoNewPrivileges",
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectControlGroups",
        "RestrictNamespaces",
        "LockPersonality",
        "CapabilityBoundingSet",
        "RestrictAddressFamilies",
        "SystemCallFilter",
        "UMask",
    ):
        assert s.get(key) == gateway.get(key), f"{key}= differs from sms1708.service"
    assert s["ExecStart"] == [
        "/opt/sms1708/venv/bin/sms1708 --config /etc/sms1708/sms1708.toml --log-format json web"
    ]
    assert "MemoryMax" in s


def analyze_verify(unit: Path) -> tuple[int, str]:
    r = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    return r.returncode, (r.stdout + r.stderr).strip()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit_file", [UNIT, WEB_UNIT], ids=["daemon", "web"])
def test_unit_verifies(tmp_path: Path, unit_file: Path) -> None:
    """`systemd-analyze verify` works offline. On a machine without /opt/sms1708 its only
    complaint may be the missing ExecStart binary; with ExecStart pointed at an existing
    sms1708 it must say nothing at all (it exits 0 even for unknown keys, so the output is
    what counts)."""
    text = unit_file.read_text()
    real = "/opt/sms1708/venv/bin/sms1708"
    _, said = analyze_verify(unit_file)
    for line in said.splitlines():
        assert real in line and "not executable" in line, f"systemd-analyze verify: {line}"
    here = shutil.which("sms1708") or str(Path(sys.executable).parent / "sms1708")
    if not os.access(here, os.X_OK):
        here = "/bin/true"
    copy = tmp_path / unit_file.name
    copy.write_text(text.replace(f"ExecStart={real} ", f"ExecStart={here} "))
    assert f"ExecStart={here} " in copy.read_text()
    assert analyze_verify(copy) == (0, "")


# ------------------------------------------------------------------ install in a throwaway root


def snapshot_source(dest: Path) -> Path:
    """A frozen copy of what the installer reads, so edits in the work tree during the run
    cannot make the second install differ from the first."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ["sms1708", "deploy", "config"]:
        shutil.copytree(ROOT / name, dest / name, ignore=ignore, symlinks=True)
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy2(ROOT / name, dest / name)
    return dest


def fake_system_commands(bindir: Path, log: Path) -> dict[str, str]:
    """Stand-ins that record each call in log and fail; systemctl --root=... goes on to the
    real systemctl (it only writes under that root)."""
    bindir.mkdir()
    real_systemctl = shutil.which("systemctl")
    for name in SYSTEM_COMMANDS:
        if name == "systemctl" and not real_systemctl:
            continue  # the installer then writes the wants symlink itself
        body = f'echo "{name} $*" >> "{log}"\n'
        if name == "systemctl":
            body += f'case "$1" in --root=*) exec {real_systemctl} "$@";; esac\n'
        (bindir / name).write_text(f"#!/bin/sh\n{body}exit 99\n")
        (bindir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


def run_script(script: Path, *args: str, env: dict[str, str]) -> str:
    r = subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    out = r.stdout + r.stderr
    if r.returncode != 0 and any(s in out for s in NO_INDEX):
        pytest.skip("the package index cannot be reached: pip install in the venv needs it")
    assert r.returncode == 0, f"{script.name} {' '.join(args)} failed ({r.returncode}):\n{out}"
    return out


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path under root with its type, mode, size, mtime and content hash/link target."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                what: object = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                what = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                what = None
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, what)
    return out


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def assert_only_offline_calls(log: Path, prefix: Path) -> None:
    calls = log.read_text().splitlines() if log.exists() else []
    for call in calls:
        assert call.startswith(f"systemctl --root={prefix} "), f"touched the real system: {call}"


@dataclass
class Installed:
    src: Path
    prefix: Path
    log: Path
    first: str
    second: str
    before: dict[str, tuple[object, ...]]
    after: dict[str, tuple[object, ...]]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("deploy")
    src = snapshot_source(base / "src")
    prefix = base / "root with space"
    log = base / "system-calls.log"
    env = fake_system_commands(base / "fakebin", log)
    install = src / "deploy" / "install.sh"
    first = run_script(install, "--prefix", str(prefix), "--udev", env=env)
    before = tree(prefix)
    second = run_script(install, "--prefix", str(prefix), "--udev", env=env)
    after = tree(prefix)
    return Installed(src, prefix, log, first, second, before, after)


@pytest.mark.slow
def test_install_tree(installed: Installed) -> None:
    p = installed.prefix
    assert (p / "etc/systemd/system/sms1708.service").read_text() == UNIT.read_text()
    assert mode(p / "etc/systemd/system/sms1708.service") == 0o644
    wants = p / "etc/systemd/system/multi-user.target.wants/sms1708.service"
    assert os.readlink(wants) == "/etc/systemd/system/sms1708.service"  # enabled
    web = p / "etc/systemd/system/sms1708-web.service"
    assert web.read_text() == WEB_UNIT.read_text() and mode(web) == 0o644
    wants = p / "etc/systemd/system/multi-user.target.wants/sms1708-web.service"
    assert os.readlink(wants) == "/etc/systemd/system/sms1708-web.service"
    rule = p / "etc/udev/rules.d/99-sms1708-modem.rules"
    assert rule.read_text() == (DEPLOY / "99-sms1708-modem.rules").read_text()

    conf = p / "etc/sms1708/sms1708.toml"
    assert conf.read_text() == (ROOT / "config/sms1708.example.toml").read_text()
    assert mode(conf) == 0o640
    secrets = p / "etc/sms1708/secrets.env"
    assert mode(secrets) == 0o600
    lines = secrets.read_text().splitlines()
    assert all(not ln.strip() or ln.startswith("#") for ln in lines), "placeholders only"
    assert "#SMS1708_UPSTREAM_TOKEN=" in lines
    assert mode(p / "etc/sms1708") == 0o750
    assert mode(p / "var/lib/sms1708") == 0o700
    assert (p / "opt/sms1708/README.md").exists() and (p / "opt/sms1708/DEPLOY.md").exists()

    exe = p / "opt/sms1708/venv/bin/sms1708"
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Usage: sms1708" in r.stdout, r.stdout + r.stderr
    link = p / "usr/local/bin/sms1708"
    assert link.is_symlink() and link.resolve() == exe.resolve()
    # the venv is this project, from the source tree the script ran from
    r = subprocess.run(
        [str(p / "opt/sms1708/venv/bin/python"), "-c", "import sms1708; print(sms1708.__file__)"],
        capture_output=True,
        text=True,
        cwd=p,  # not the work tree, whose sms1708/ would shadow the installed one
    )
    assert r.stdout.startswith(str(p / "opt/sms1708/venv/lib/")), r.stdout + r.stderr

    # nothing on the real system: the user, the ownership and systemctl are only announced
    assert "would run: useradd --system" in installed.first
    assert "(--prefix: not run) chown root:sms1708 /etc/sms1708/sms1708.toml" in installed.first
    assert "(--prefix: not run) systemctl daemon-reload" in installed.first
    assert_only_offline_calls(installed.log, p)
    assert all(p.lstat().st_uid == os.getuid() for p in p.rglob("*"))


@pytest.mark.slow
def test_second_install_changes_nothing(installed: Installed) -> None:
    assert installed.after == installed.before
    assert "nothing to do" in installed.second and "nothing was changed" in installed.second
    assert not re.search(r"^sms1708-install:   \+ ", installed.second, re.M), installed.second
    assert "pip install" not in installed.second


def copy_prefix(installed: Installed, dest: Path) -> Path:
    shutil.copytree(installed.prefix, dest, symlinks=True)
    return dest


@pytest.mark.slow
def test_upgrade_keeps_config_and_secrets(installed: Installed, tmp_path: Path) -> None:
    """A changed tree reinstalls the package and replaces the unit; the operator's config and
    secrets are never overwritten."""
    prefix = copy_prefix(installed, tmp_path / "root")
    src = shutil.copytree(installed.src, tmp_path / "src", symlinks=True)
    log = tmp_path / "system-calls.log"
    env = fake_system_commands(tmp_path / "fakebin", log)
    conf, secrets = prefix / "etc/sms1708/sms1708.toml", prefix / "etc/sms1708/secrets.env"
    conf.write_text('[modem]\nport = "/dev/serial/by-id/usb-test-if00-port0"\n')
    secrets.write_text("SMS1708_UPSTREAM_TOKEN=s3cret\n")
    secrets.chmod(0o644)  # loosened by hand: the installer puts it back to 0600
    with (src / "sms1708/__init__.py").open("a") as f:
        f.write("UPGRADE_MARKER = 1\n")
    unit = src / "deploy/sms1708.service"
    unit.write_text(unit.read_text().replace("RestartSec=5", "RestartSec=7"))

    out = run_script(src / "deploy/install.sh", "--prefix", str(prefix), env=env)
    assert "+ updated /etc/systemd/system/sms1708.service" in out
    assert "+ installed sms1708" in out  # the changed package was reinstalled
    assert "(--prefix: not run) systemctl daemon-reload" in out
    assert "+ mode of /etc/sms1708/secrets.env set to 0600" in out
    assert "RestartSec=7" in (prefix / "etc/systemd/system/sms1708.service").read_text()
    assert conf.read_text() == '[modem]\nport = "/dev/serial/by-id/usb-test-if00-port0"\n'
    assert secrets.read_text() == "SMS1708_UPSTREAM_TOKEN=s3cret\n" and mode(secrets) == 0o600
    r = subprocess.run(
        [
            str(prefix / "opt/sms1708/venv/bin/python"),
            "-c",
            "import sms1708; sms1708.UPGRADE_MARKER",
        ],
        capture_output=True,
        text=True,
        cwd=prefix,
    )
    assert r.returncode == 0, r.stderr
    assert_only_offline_calls(log, prefix)


@pytest.mark.slow
def test_uninstall_keeps_data(installed: Installed, tmp_path: Path) -> None:
    prefix = copy_prefix(installed, tmp_path / "root")
    uninstall = installed.src / "deploy/uninstall.sh"
    log = tmp_path / "system-calls.log"
    env = fake_system_commands(tmp_path / "fakebin", log)
    db = prefix / "var/lib/sms1708/sms1708.db"
    db.write_bytes(b"SQLite format 3\x00 pretend")
    conf, secrets = prefix / "etc/sms1708/sms1708.toml", prefix / "etc/sms1708/secrets.env"

    out = run_script(uninstall, "--prefix", str(prefix), env=env)
    assert not (prefix / "opt/sms1708").exists()
    assert not (prefix / "etc/systemd/system/sms1708.service").exists()
    assert not (prefix / "etc/systemd/system/multi-user.target.wants/sms1708.service").exists()
    assert not (prefix / "etc/systemd/system/sms1708-web.service").exists()
    assert not (prefix / "etc/systemd/system/multi-user.target.wants/sms1708-web.service").exists()
    assert not (prefix / "etc/udev/rules.d/99-sms1708-modem.rules").exists()
    assert not (prefix / "usr/local/bin/sms1708").is_symlink()
    assert db.read_bytes() == b"SQLite format 3\x00 pretend"
    assert conf.exists() and secrets.exists()
    assert f"database: {prefix}/var/lib/sms1708/sms1708.db" in out
    assert "never deletes it" in out

    again = run_script(uninstall, "--prefix", str(prefix), env=env)
    assert "nothing to remove" in again

    purged = run_script(uninstall, "--prefix", str(prefix), "--purge-config", env=env)
    assert not conf.exists() and not secrets.exists() and not (prefix / "etc/sms1708").exists()
    assert db.read_bytes() == b"SQLite format 3\x00 pretend"
    assert "KEPT: the data" in purged
    assert_only_offline_calls(log, prefix)
