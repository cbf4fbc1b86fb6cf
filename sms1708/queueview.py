"""The complaint queue as operators read it at the terminal (``sms1708 queue list`` and
``queue show``): numbers masked unless asked for, untrusted text printed without controls."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sms1708.core.cells import printable
from sms1708.core.mask import mask_number
from sms1708.timetext import when

#: what stands for a raw PDU while numbers are hidden (it holds the sender's number)
PDU_HIDDEN = "(hidden: holds the sender's number; --show-numbers shows it)"

#: the record's fields in the order ``queue show`` prints them
SHOWN_FIELDS = (
    "id",
    "key",
    "state",
    "kind",
    "sender",
    "received_at",
    "anonymous",
    "confidential",
    "category",
    "location",
    "location_code",
    "partial",
    "tracking_id",
    "upstream_status",
    "attempts",
    "last_error",
    "update_of",
    "text",
)


def mask_senders(rows: Iterable[dict[str, Any]]) -> None:
    """Mask each row's ``sender`` (in place)."""
    for r in rows:
        r["sender"] = mask_number(r["sender"])


def hide_numbers(m: dict[str, Any]) -> None:
    """Mask the sender of one complaint (``store.queries.message()``) and hide its raw PDUs
    (in place)."""
    m["sender"] = mask_number(m["sender"])
    for p in m["parts"]:
        p["pdu"] = PDU_HIDDEN


def list_lines(rows: list[dict[str, Any]], state: str | None = None) -> list[str]:
    """``store.queries.list_messages()`` rows as a table, the text cut to 50 characters."""
    if not rows:
        return ["no complaints" + (f" in state {state}" if state else "")]
    out = [f"{'ID':>6}  {'STATE':<10} {'KIND':<10} {'SENDER':<16} {'RECEIVED':<25} TEXT"]
    for r in rows:
        text = printable(r["text"])
        if r.get("update_of") is not None:
            text = f"(tambahan #{r['update_of']}) {text}"
        elif r.get("followups"):
            text = f"(+{r['followups']} tambahan) {text}"
        text = text if len(text) <= 50 else text[:47] + "..."
        out.append(
            f"{r['id']:>6}  {r['state']:<10} {r['kind']:<10} {r['sender']:<16} "
            f"{r['received_at']:<25} {text}"
        )
    return out


def show_lines(m: dict[str, Any]) -> list[str]:
    """One complaint (``store.queries.message()``) in full: the record, its follow-ups, raw
    parts, its delivery to each destination, every upstream attempt, its replies."""
    out = []
    for k in SHOWN_FIELDS:
        value = m.get(k)
        if k == "update_of" and value is None:
            continue  # a report, not a follow-up
        out.append(f"{k:>13}: {printable(str(value)) if value is not None else '-'}")
    if m.get("update_of") is not None:
        out.append(f"    (a follow-up of report #{m['update_of']}: sent upstream after it)")
    if m["followups"]:
        out.append("    followups:")
    for f in m["followups"]:
        out.append(f"    #{f['id']} {f['received_at']} {f['state']} {printable(f['text'] or '')}")
    out.append("        parts:")
    for p in m["parts"]:
        out.append(
            f"    #{p['id']} {p['memory']}:{p['sim_index']} seq={p['concat_seq'] or 1} {p['pdu']}"
        )
    out.append("   deliveries:")
    for d in m["deliveries"]:
        due = "" if d["state"] == "delivered" else f" next {when(d['next_attempt_at'])}"
        tracking = f" tracking {printable(d['tracking_id'])}" if d["tracking_id"] else ""
        error = f" {printable(d['last_error'])[:100]}" if d["last_error"] else ""
        out.append(
            f"    {d['destination']}: {d['state']} attempts={d['attempts']}{tracking}{due}{error}"
        )
    out.append("     attempts:")
    for a in m["attempts_log"]:
        out.append(
            f"    {when(a['at'])} {a['destination']} {a['outcome']} {a['http_status'] or ''} "
            f"{printable(a['detail'] or '')[:100]}"
        )
    out.append("      replies:")
    for r in m["replies"]:
        unknown = f" ({r['unconfirmed']} with unknown outcome)" if r["unconfirmed"] else ""
        why = printable(r["reason"] or r["last_error"] or "")
        line = f"    #{r['id']} {r['purpose']} {r['state']} attempts={r['attempts']}{unknown} {why}"
        out.append(line.rstrip())
    return out
