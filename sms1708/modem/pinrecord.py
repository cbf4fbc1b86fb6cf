"""Which SIM PIN was refused: one record that the daemon and `sms1708 check` both honour.

Three wrong PINs lock a SIM (it then wants the PUK from the operator). Neither the daemon nor
``check`` retries a PIN the SIM refused: the refusal is kept in the store's ``settings`` table
(key ``pin_rejected:<modem>``), because the database is the one place both programs open, it
survives a restart and a reboot (``/run`` does not), and it is written in a transaction (the
daemon rewrites ``status.json`` whole, so ``check`` could not add to it safely).

What is kept is a fingerprint of the refused PIN, never the PIN: scrypt, salted with the modem's
name, so a *different* PIN in the environment (the operator fixed it) is tried once, and the
same one never again. A PIN has few digits, so whoever can read the database could still test
candidates against the fingerprint at scrypt's pace; the database is 0600 and holds citizens'
numbers anyway, and only a PIN the SIM *refused* is fingerprinted.
"""

from __future__ import annotations

import hashlib

from sms1708.store.base import StoreBase

_KEY = "pin_rejected:{}"


def fingerprint(modem: str, pin: str) -> str:
    """A one-way fingerprint of ``pin`` for ``modem`` (scrypt, ~16 MiB, a few ms)."""
    digest = hashlib.scrypt(
        pin.encode("utf-8"), salt=f"sms1708 sim pin {modem}".encode(), n=2**14, r=8, p=1, dklen=16
    )
    return "scrypt:" + digest.hex()


def _legacy(pin: str) -> str:
    # what versions before the scrypt fingerprint recorded (a bare SHA-256)
    return hashlib.sha256(pin.encode()).hexdigest()


def refused(store: StoreBase, modem: str, pin: str) -> bool:
    """Has the SIM in ``modem`` refused this very PIN before (daemon or check)?"""
    recorded = store.setting(_KEY.format(modem))
    if not recorded or not pin:
        return False
    return recorded in (fingerprint(modem, pin), _legacy(pin))


def remember_refused(store: StoreBase, modem: str, pin: str, *, now: float) -> None:
    """Record that the SIM refused ``pin``: nothing enters it again."""
    store.set_setting(_KEY.format(modem), fingerprint(modem, pin), now=now)


def forget(store: StoreBase, modem: str, *, now: float) -> None:
    """The SIM accepted a PIN: an older refusal no longer matters."""
    store.set_setting(_KEY.format(modem), None, now=now)
