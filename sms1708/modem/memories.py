"""Which of a modem's memories answer: a memory the modem refuses to list is not polled again
(SR at once; SM/ME after a few refusals in a row, asked again now and then), and a slot that
refuses deletion is reported and deleted again on the next poll."""

from __future__ import annotations

import time

from sms1708.config import ModemConfig
from sms1708.health import Health
from sms1708.logsetup import get_logger
from sms1708.modem.receiver import DrainResult

log = get_logger("sms1708.modem")

#: AT+CMGL refusals in a row after which a configured memory counts as not there
LIST_REFUSALS = 3
#: seconds after which a configured memory (SM/ME) that was refused is asked again; "SR" is not
RECHECK_MEMORY = 600.0


class MemoryWatch:
    """One modem's memories as its answers showed them (kept by the modem worker)."""

    def __init__(self, modem: ModemConfig, health: Health) -> None:
        self.modem = modem
        self.health = health
        self.unsupported: dict[str, str] = {}  # memory -> the modem's answer; not polled again
        self.unsupported_at: dict[str, float] = {}  # memory -> when last refused (monotonic)
        self.refusals: dict[str, int] = {}  # memory -> refusals in a row
        self.stuck_slots: dict[str, int] = {}  # "SM:3" -> refused deletions in a row

    def skipped(self, memory: str) -> bool:
        """Is ``memory`` left out of this poll? (A configured memory is asked again now and
        then: a busy SIM passes.)"""
        return memory in self.unsupported and (
            memory == "SR" or time.monotonic() - self.unsupported_at[memory] < RECHECK_MEMORY
        )

    def note(self, memory: str, r: DrainResult) -> None:
        """An ERROR answer is an answer: a memory the modem does not have is not polled again
        (SR at once; SM/ME after a few refusals in a row, as "SIM busy" passes); a slot that
        refuses deletion is reported and deleted again on the next poll."""
        if r.refused is not None:
            n = self.refusals.get(memory, 0) + 1
            self.refusals[memory] = n
            if r.refused_by == "AT+CPMS" or memory == "SR" or n >= LIST_REFUSALS:
                self.unsupported_at[memory] = time.monotonic()
                if memory in self.unsupported:
                    return  # asked again, still refused: already reported
                self.unsupported[memory] = f"{r.refused_by}: {r.refused}"
                self.health.update_modem(
                    self.modem.name, unsupported_memories=sorted(self.unsupported)
                )
                receiving = [m for m in self.modem.memories if m not in self.unsupported]
                getattr(log, "warning" if receiving else "error")(
                    "modem_memory_unsupported",
                    modem=self.modem.name,
                    memory=memory,
                    answer=f"{r.refused_by}: {r.refused}",
                    action=("not polled again" if memory == "SR" else "asked again in 10 min")
                    + (
                        ""
                        if receiving
                        else "; NO memory left to receive SMS from: check"
                        " modem.memories with `sms1708 check`"
                    ),
                )
            else:
                log.warning(
                    "modem_memory_refused",
                    modem=self.modem.name,
                    memory=memory,
                    answer=f"{r.refused_by}: {r.refused}",
                    action="trying again on the next poll",
                )
        else:
            self.refusals.pop(memory, None)
            if self.unsupported.pop(memory, None) is not None:
                log.info("modem_memory_back", modem=self.modem.name, memory=memory)
                self.health.update_modem(
                    self.modem.name, unsupported_memories=sorted(self.unsupported)
                )
        stuck = {k: v for k, v in self.stuck_slots.items() if not k.startswith(f"{memory}:")}
        for index, answer in r.undeleted:
            key = f"{memory}:{index}"
            stuck[key] = self.stuck_slots.get(key, 0) + 1
            log.warning(
                "sms_delete_refused",
                modem=self.modem.name,
                memory=memory,
                index=index,
                answer=answer,
                times=stuck[key],
                action="stored already; deleted again on the next poll",
            )
        if stuck != self.stuck_slots:
            self.stuck_slots = stuck
            self.health.update_modem(self.modem.name, stuck_slots=dict(stuck))
