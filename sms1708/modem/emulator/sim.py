"""The emulated modem's SIM: its storage memories (SM/ME/SR with per-slot status) and its PIN.

Not thread-safe on its own: the modem calls it under its ``_lock``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def tpdu_length(pdu_hex: str) -> int:
    """Octets of a PDU after its SMSC part (the ``<length>`` of +CMGR/+CMGL/+CMT/AT+CMGS)."""
    return len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)


@dataclass
class Slot:
    pdu: str
    stat: int  # 0 unread, 1 read, 2 stored unsent, 3 stored sent


@dataclass
class Memory:
    name: str
    capacity: int
    slots: dict[int, Slot] = field(default_factory=dict)
    full_announced: bool = False

    def free_index(self) -> int | None:
        return next((i for i in range(1, self.capacity + 1) if i not in self.slots), None)


class Sim:
    """Storage memories by name and the PIN state (``READY``, ``SIM PIN``, ``SIM PUK``)."""

    def __init__(self, sm_capacity: int, me_capacity: int, sr_capacity: int) -> None:
        self.mems = {
            "SM": Memory("SM", sm_capacity),
            "ME": Memory("ME", me_capacity),
            "SR": Memory("SR", sr_capacity),
        }
        self.pin_state = "READY"
        self.pin_attempts = 3

    def memory(self, name: str) -> Memory:
        return self.mems[name.upper()]

    def power_up(self, pin: str | None) -> None:
        """At power-up a SIM with a PIN asks for it again (a blocked SIM stays blocked)."""
        if pin and self.pin_state != "SIM PUK":
            self.pin_state = "SIM PIN"

    def enter_pin(self, given: str, pin: str | None) -> int | None:
        """AT+CPIN=<given>: None when the SIM is (now) unlocked, else the +CME ERROR code."""
        if self.pin_state == "SIM PUK":
            return 12
        if self.pin_state == "READY":
            return None
        if given == pin:
            self.pin_state, self.pin_attempts = "READY", 3
            return None
        self.pin_attempts -= 1
        if self.pin_attempts <= 0:
            self.pin_state = "SIM PUK"
        return 16

    def locked_error(self) -> int | None:
        """The +CME ERROR code for a command that needs the SIM, or None when it is unlocked."""
        if self.pin_state == "READY":
            return None
        return 12 if self.pin_state == "SIM PUK" else 11

    def usage(self, names: list[str]) -> str:
        """``used,total`` per memory, as AT+CPMS= answers."""
        return ",".join(f"{len(self.mems[n].slots)},{self.mems[n].capacity}" for n in names)

    def stored(self, memory: str | None = None) -> dict[tuple[str, int], str]:
        mems = [self.memory(memory)] if memory else list(self.mems.values())
        return {(m.name, i): s.pdu for m in mems for i, s in sorted(m.slots.items())}

    def status_of(self, memory: str, index: int) -> int | None:
        slot = self.memory(memory).slots.get(index)
        return None if slot is None else slot.stat
