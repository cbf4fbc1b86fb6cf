"""The emulated modem's SMS commands: AT+CPMS, AT+CMGL, AT+CMGR, AT+CMGD and AT+CMGS.

PDU mode only: with ``AT+CMGF=1`` the read/list/send commands answer ``+CMS ERROR: 302``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from sms1708.modem.emulator.reply import Reply, cms
from sms1708.modem.emulator.sim import tpdu_length

if TYPE_CHECKING:
    from sms1708.modem.emulator.modem import EmulatedModem

logger = logging.getLogger("sms1708.modem.emulator")

_CMGD_FLAG_STATS = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}


class StorageCommands:
    """Handlers of the SMS storage and sending commands (see the module docstring)."""

    def __init__(self, modem: EmulatedModem) -> None:
        self.m = modem

    def cpms_ranges(self) -> str:
        def names(allowed: tuple[str, ...]) -> str:
            return ",".join(f'"{n}"' for n in allowed if n in self.m.memories)

        return (
            f"+CPMS: ({names(('SM', 'ME', 'SR'))}),({names(('SM', 'ME'))}),({names(('SM', 'ME'))})"
        )

    def cmgd_ranges(self) -> str:
        return f"+CMGD: (1-{self.m.sim.memory(self.m.cpms[0]).capacity}),(0-4)"

    def cpms_query(self, m: re.Match[str]) -> Reply:
        modem = self.m
        with modem._lock:
            parts = [
                f'"{n}",{len(modem.sim.mems[n].slots)},{modem.sim.mems[n].capacity}'
                for n in modem.cpms
            ]
            return Reply(["+CPMS: " + ",".join(parts)])

    def cpms_set(self, m: re.Match[str]) -> Reply:
        modem = self.m
        names = [g.upper() if g else None for g in m.groups()]
        have = set(modem.memories)
        allowed = ({"SM", "ME", "SR"} & have, {"SM", "ME"} & have, {"SM", "ME"} & have)
        if any(n is not None and n not in ok for n, ok in zip(names, allowed, strict=True)):
            return cms(302)
        with modem._lock:
            for i, name in enumerate(names):
                if name is not None:
                    modem.cpms[i] = name
            modem.network.drain_pending()
            return Reply([f"+CPMS: {modem.sim.usage(modem.cpms)}"])

    def cmgl(self, m: re.Match[str]) -> Reply:
        modem = self.m
        stat = int(m[1] or 0)
        if modem.cmgf == 1 or stat > 4 or modem.cpms[0] in modem.unlistable:
            return cms(302)
        lines: list[str] = []
        with modem._lock:
            for index, slot in sorted(modem.sim.memory(modem.cpms[0]).slots.items()):
                if stat == 4 or slot.stat == stat:
                    lines += [f"+CMGL: {index},{slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu]
                    slot.stat = 1 if slot.stat == 0 else slot.stat
        return Reply(lines)

    def cmgr(self, m: re.Match[str]) -> Reply:
        modem = self.m
        if modem.cmgf == 1:
            return cms(302)
        with modem._lock:
            slot = modem.sim.memory(modem.cpms[0]).slots.get(int(m[1]))
            if slot is None:
                return cms(321)
            lines = [f"+CMGR: {slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu]
            slot.stat = 1 if slot.stat == 0 else slot.stat
            return Reply(lines)

    def cmgd(self, m: re.Match[str]) -> Reply:
        modem = self.m
        index, flag = int(m[1]), int(m[2] or 0)
        with modem._lock:
            mem = modem.sim.memory(modem.cpms[0])
            if flag == 0:
                if modem.hooks.delete_refused(mem.name, index):
                    return cms(500)  # unknown error: the slot stays as it is
                slot = mem.slots.get(index)
                if not 1 <= index <= mem.capacity or (slot is None and modem.cmgd_empty_error):
                    return cms(321)
                victims = [(index, slot.pdu)] if slot is not None else []
            elif flag in _CMGD_FLAG_STATS:
                stats = _CMGD_FLAG_STATS[flag]
                victims = [(i, s.pdu) for i, s in sorted(mem.slots.items()) if s.stat in stats]
            else:
                return Reply(final="ERROR")
        hook = modem.before_delete
        for i, pdu in victims:
            if hook is None:
                break
            try:
                hook(mem.name, i, pdu)  # called without the lock: the hook may use the modem
            except Exception as exc:
                logger.exception("emulated modem: before_delete hook failed, not deleting")
                modem.hook_errors.append(exc)
                return Reply(final="ERROR")
        pty = modem.line.pty
        if pty is None or pty.stop.is_set():  # unplugged by the hook: the modem never acted
            return Reply(final="ERROR")
        with modem._lock:
            for i, pdu in victims:
                if (slot := mem.slots.get(i)) is not None and slot.pdu == pdu:
                    del mem.slots[i]
                    mem.full_announced = False
            modem.network.drain_pending()
        modem.line.notify()
        return Reply()

    def cmgs(self, m: re.Match[str]) -> Reply:
        if self.m.cmgf == 1:
            return cms(302)
        if not m[1].isdigit() or not 1 <= int(m[1]) <= 255:
            return cms(304)
        return Reply(prompt=int(m[1]))
