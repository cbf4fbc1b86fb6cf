"""`sms1708 demo`: the whole pipeline on the built-in emulated modem, in under a minute.

Starts the emulated modem on a pty, a local upstream stand-in on 127.0.0.1 and the daemon
(the same code as `sms1708 run`), has scripted citizens text the modem, takes the upstream
down for a while and brings it back, and prints what happened.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sms1708 import config, logsetup
from sms1708.daemon import Daemon
from sms1708.modem.emulator import EmulatedModem
from sms1708.store.store import Store
from sms1708.upstream.standin import StandIn

GATEWAY_NUMBER = "+6281299990000"

BEFORE_OUTAGE: list[tuple[str, str]] = [
    (
        "+6281234560001",
        "LAPOR jalan rusak parah di desa Tanjung Raja kec. Muara Enim, sdh 3 bulan tdk diperbaiki",
    ),
    ("+6285312340002", "aspirasi mohon dibangun jembatan gantung di dusun 3 desa Lubuk Empelas"),
    (
        "+6281377770003",
        "Lapor pak, puskesmas di kecamatan Gelumbang sering tutup jam 11 siang padahal jadwal "
        "sampai jam 2. Warga yg datang dari desa jauh harus pulang tanpa diperiksa. Obat utk "
        "anak juga sering kosong, kami disuruh beli di apotek luar. Mohon ditindaklanjuti, "
        "terima kasih.",
    ),
    ("+6282176540004", "Lampu jalan di depan SD 12 mati sdh seminggu, anak2 takut lewat 😡🙏"),
    ("TELKOMSEL", "Selamat! Anda dapat bonus kuota 1GB. Info *363#"),
]
DURING_OUTAGE: list[tuple[str, str]] = [
    ("+6281298760005", "RAHASIA lapor pungli di kantor desa, diminta 50rb utk surat pindah"),
    ("+6285212340006", "banjir setinggi lutut di jln Lingkar, saluran air tersumbat sampah"),
]


def _config(workdir: Path, port: str, upstream_url: str) -> config.Config:
    return config.from_mapping(
        {
            "modem": {"port": port, "poll_interval": 2.0, "command_timeout": 5.0},
            "store": {"path": str(workdir / "sms1708.db")},
            "upstream": {
                "url": upstream_url,
                "token_env": "",
                "timeout": 5.0,
                "connect_timeout": 1.0,
                "retry_base": 1.0,
                "retry_cap": 3.0,
            },
            "replies": {"own_number": GATEWAY_NUMBER},
            "multipart": {"timeout": 60.0},
        },
        source="demo",
    )


def _wait(cond: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def run_demo(
    *,
    keep: str | None = None,
    log_file: str | None = None,
    echo: Callable[[str], Any] = print,
    outage_seconds: float = 6.0,
    deadline_seconds: float = 50.0,
) -> bool:
    """Run the demo. Returns True when everything was received, answered and delivered."""
    started = time.monotonic()
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="sms1708-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "sms1708.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    log_stream = open(log_file or "/dev/null", "a", encoding="utf-8")  # noqa: SIM115
    logsetup.setup("json", "info", stream=log_stream)
    upstream = StandIn().up()
    modem = EmulatedModem(str(workdir / "modem"), own_number=GATEWAY_NUMBER)
    modem.start()
    cfg = _config(workdir, modem.port, upstream.url)
    daemon = Daemon(cfg)
    ok = False
    try:
        echo("sms1708 demo")
        echo(f"  emulated modem   {modem.port}")
        echo(f"  upstream         {upstream.url} (local stand-in)")
        echo(f"  database         {db}")
        daemon.start()
        if not all(w.connected.wait(15) for w in daemon.workers):
            echo("  ! the daemon could not bring the emulated modem up")
            return False
        echo("")
        echo("1. citizens text the gateway")
        for sender, text in BEFORE_OUTAGE:
            modem.receive_sms(sender, text)
            echo(f"   <- {_who(sender)}: {_short(text)}")
        forwarded_before = 4
        _wait(lambda: len(upstream.tracking) >= forwarded_before, 15)
        echo(f"   upstream has {len(upstream.tracking)} complaint(s)")

        echo("")
        echo(f"2. the office's internet link goes down for {outage_seconds:g} s")
        upstream.down()
        for sender, text in DURING_OUTAGE:
            modem.receive_sms(sender, text)
            echo(f"   <- {_who(sender)}: {_short(text)}")
        time.sleep(outage_seconds)
        pending = _pending(cfg)
        echo(f"   stored and answered, waiting for the link: {pending} complaint(s) queued")
        echo("")
        echo("3. the link comes back")
        upstream.up()
        daemon.wake_forwarder()
        left = deadline_seconds - (time.monotonic() - started)
        total_forwarded = forwarded_before + len(DURING_OUTAGE)
        upstream.wait_for(total_forwarded, max(1.0, left - 5))
        # a receipt for each citizen (none to TELKOMSEL): with the tracking id in it when the
        # upstream answered within replies.receipt_wait_seconds, else a tracking SMS follows
        expected_replies = len(BEFORE_OUTAGE) + len(DURING_OUTAGE) - 1
        left = deadline_seconds - (time.monotonic() - started)
        delivered = _wait(
            lambda: (
                _delivered(cfg) >= total_forwarded
                and len(modem.sent) >= expected_replies
                and not modem.stored()
            ),
            max(1.0, left),
        )
        ok = _summary(
            cfg,
            modem,
            upstream,
            echo,
            delivered,
            total_forwarded,
            expected_replies,
            time.monotonic() - started,
        )
        return ok
    finally:
        daemon.shutdown()
        modem.stop()
        upstream.stop()
        log_stream.close()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            _keep_config(workdir, echo)


def _keep_config(workdir: Path, echo: Callable[[str], Any]) -> None:
    """Leave a config beside the kept data, so the operator commands can look at it."""
    cfg_path = workdir.resolve() / "sms1708.toml"
    cfg_path.write_text(
        "# written by `sms1708 demo --keep`: the demo's database, for trying the CLI\n"
        f'[store]\npath = "{(workdir.resolve() / "sms1708.db").as_posix()}"\n',
        encoding="utf-8",
    )
    exe = shutil.which("sms1708") or str(Path(sys.executable).parent / "sms1708")
    cmd = "sms1708" if shutil.which("sms1708") else os.path.relpath(exe)
    echo("")
    echo("the demo's data is kept; look at it with the operator commands:")
    echo(f"  export SMS1708_CONFIG={cfg_path}")
    echo(f"  {cmd} status; {cmd} queue list; {cmd} stats --chart demo-chart.png")
    password = _demo_admin(workdir.resolve() / "sms1708.db")
    echo("")
    echo("or in the web console (Bahasa Indonesia; English at the top right):")
    echo(f"  {cmd} --config {cfg_path} web")
    echo("  then open http://127.0.0.1:8708/ and log in as")
    echo(f"  user: {DEMO_ADMIN}   password: {password}   (shown only this once)")


DEMO_ADMIN = "demo-admin"


def _demo_admin(db: Path) -> str:
    """An admin account for the demo's console, with a fresh random password."""
    import secrets

    from sms1708.web.passwords import hash_password

    password = secrets.token_urlsafe(12)
    s = Store.open(db, create=False)
    try:
        now = time.time()
        s.accounts.create_user(DEMO_ADMIN, "admin", hash_password(password), now=now)
        s.accounts.audit("demo", "user_add", now=now, target=DEMO_ADMIN, detail="role admin")
    finally:
        s.close()
    return password


def _delivered(cfg: config.Config) -> int:
    s = Store.open(cfg.store.path, create=False)
    try:
        return s.queries.counts()["outbox"].get("delivered", 0)
    finally:
        s.close()


def _pending(cfg: config.Config) -> int:
    s = Store.open(cfg.store.path, create=False)
    try:
        q = s.queries.counts()["outbox"]
        return sum(q.get(k, 0) for k in ("queued", "sending", "retry", "ambiguous"))
    finally:
        s.close()


def _who(sender: str) -> str:
    from sms1708.core.mask import mask_number

    return mask_number(sender)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _summary(
    cfg: config.Config,
    modem: EmulatedModem,
    upstream: StandIn,
    echo: Callable[[str], Any],
    delivered: bool,
    expected: int,
    expected_replies: int,
    elapsed: float,
) -> bool:
    s = Store.open(cfg.store.path, create=False)
    try:
        c = s.queries.counts()
        reply_counts = s.queries.reply_counts()
        rows = s.queries.list_messages(limit=100)
    finally:
        s.close()
    q = c["outbox"]
    undelivered = sum(q.get(k, 0) for k in ("queued", "sending", "retry", "ambiguous", "dead"))
    keys = upstream.keys()
    distinct = len(set(keys))
    replies_sent = c["replies"].get("sent", 0)
    suppressed = c["replies"].get("suppressed", 0)
    by_purpose = {p: n.get("sent", 0) for p, n in reply_counts.items()}
    sim_left = len(modem.stored())
    echo("")
    echo("summary")
    senders = len({r["sender"] for r in rows})
    echo(
        f"  SMS received          {len(rows)} from {senders} senders "
        f"({c['parts'].get('used', 0)} SMS parts)"
    )
    echo(
        f"  replies sent          {replies_sent} ({by_purpose.get('receipt', 0)} receipts, "
        f"{by_purpose.get('tracking', 0)} tracking ids); {suppressed} suppressed "
        "(alphanumeric sender)"
    )
    echo(
        f"  delivered upstream    {q.get('delivered', 0)} of {expected} "
        f"({len(keys)} requests, {distinct} distinct idempotency keys)"
    )
    echo(f"  queue                 {'empty' if undelivered == 0 else f'{undelivered} left'}")
    echo(f"  emulated SIM          {'empty' if sim_left == 0 else f'{sim_left} SMS left'}")
    echo(f"  time                  {elapsed:.1f} s")
    ok = (
        delivered
        and q.get("delivered", 0) == expected
        and undelivered == 0
        and replies_sent >= expected_replies
        and sim_left == 0
        and distinct == expected
    )
    echo("")
    echo(
        "demo OK: every SMS was stored, answered and delivered."
        if ok
        else "demo FAILED: see above (run with --log-file to see the daemon's log)."
    )
    return ok
