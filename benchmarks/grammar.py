"""Benchmark 7: the daemon's CPU per SMS while a listing streams (decode + grammar).

At 115200 baud one entry of ``AT+CMGL=4`` arrives every ~26 ms; the daemon decodes each and
reads its grammar as soon as its PDU line is in (:func:`sms1708.modem.receiver.prepare`), on the
same two cores as the modem's line. This measures that work alone, in this process, with the
shipped tables built once (as the daemon does): CPU time (``time.process_time``) per SMS, the
best of a few rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from benchmarks.common import Outcome
from benchmarks.corpus import complaint_pdu, make_mix
from benchmarks.realworld import BASE
from sms1708.core.grammar import parse
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver
from sms1708.modem.receiver import Listed, prepare
from sms1708.table_files import default_tables

ROUNDS = 3
#: one entry of a streamed listing at 115200 baud: ~300 bytes of +CMGL header and PDU
ENTRY_MS_115200 = 26.0


def _cpu_ms_each(work: Callable[[object], object], items: Sequence[object]) -> float:
    """CPU milliseconds per item of ``work`` over ``items``, the best of :data:`ROUNDS`."""
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.process_time()
        for item in items:
            work(item)
        best = min(best, time.process_time() - t0)
    return best * 1000 / len(items)


def measure(n: int) -> dict[str, float]:
    rules = IntakeRules(keywords=default_tables())
    tables = rules.keywords
    parse("LAPOR jalan rusak, tolong rahasiakan nama saya", tables)  # builds the tables' indexes
    listed = [Listed(i, complaint_pdu(i, BASE + timedelta(seconds=i))) for i in range(n)]
    texts = [s.text for s in make_mix(n)]
    return {
        "messages": n,
        "prepare_ms": _cpu_ms_each(lambda x: prepare("SM", x, rules), listed),  # type: ignore[arg-type]
        "pdu_ms": _cpu_ms_each(lambda x: decode_deliver(x.pdu), listed),  # type: ignore[attr-defined]
        "mix_grammar_ms": _cpu_ms_each(lambda t: parse(t, tables), texts),  # type: ignore[arg-type]
    }


def run(quick: bool) -> Outcome:
    out = Outcome("grammar")
    m = measure(60 if quick else 400)
    out.detail["grammar"] = m
    out.add(
        "decode + grammar CPU per SMS (the streamed drain's complaints)",
        round(m["prepare_ms"], 3),
        "ms",
        "<= 1",
        f"{m['messages']} SMS; the PDU alone {m['pdu_ms']:.3f} ms; an entry arrives every "
        f"~{ENTRY_MS_115200:g} ms at 115200 baud",
    )
    out.add(
        "grammar CPU per SMS (the corpus mix: GSM-7, UCS-2, multipart texts)",
        round(m["mix_grammar_ms"], 3),
        "ms",
        "<= 1",
    )
    return out
