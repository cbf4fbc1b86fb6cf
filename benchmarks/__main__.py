"""``python -m benchmarks [--only NAME] [--quick] [--json]`` (``make bench``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable
from types import FrameType

from benchmarks import backlog, drain, grammar, idle, latency, realworld, web
from benchmarks.common import Outcome, Row, machine

BENCHMARKS: dict[str, tuple[str, Callable[[bool], Outcome]]] = {
    "drain": ("SIM drain at the serial-line limit (115200 baud) and unpaced", drain.run),
    "latency": ("latency from +CMTI to committed (115200 baud)", latency.run),
    "backlog": ("upstream backlog drain into the StandIn", backlog.run),
    "idle": ("idle daemon: memory, CPU, disk writes", idle.run),
    "realworld": (
        "real-world timings: streamed listing (115200/19200), burst with slow sends and a"
        " small SIM, far upstream (latency, 429), four modems",
        realworld.run,
    ),
    "grammar": ("the daemon's CPU per SMS while a listing streams (decode + grammar)", grammar.run),
    "web": ("operator console: page server time and RSS on 50,000 complaints", web.run),
}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(rows: list[Row]) -> str:
    cells = [(r.bench, r.metric, f"{_fmt(r.value)} {r.unit}".strip(), r.goal, r.note) for r in rows]
    head = ("bench", "metric", "value", "goal", "note")
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(4)]
    lines = []
    for n, c in enumerate([head, *cells]):
        lines.append(
            "  ".join(c[i].ljust(widths[i]) if i != 2 else c[i].rjust(widths[i]) for i in range(4))
            + ("  " + c[4] if c[4] else "")
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(line.rstrip() for line in lines)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: every try/finally stops its daemon and modem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="sms1708 benchmarks (make bench)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (under a minute)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)

    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    info = machine()
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else print
    say(
        f"machine: {info['arch']}, {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}, SQLite {info['sqlite']}, Linux {info['kernel']}; "
        f"load average {info['loadavg']} at start"
    )
    say(f"mode: {'quick' if args.quick else 'full'}; benchmarks: {', '.join(names)}")
    outcomes: list[Outcome] = []
    t_all = time.monotonic()
    for name in names:
        title, fn = BENCHMARKS[name]
        say(f"... {name}: {title}")
        t0 = time.monotonic()
        try:
            outcome = fn(args.quick)
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        except Exception as e:
            outcome = Outcome(name, error=f"{type(e).__name__}: {e}")
            outcome.detail["traceback"] = traceback.format_exc()
            outcome.add("FAILED", f"{type(e).__name__}: {e}")
            say(traceback.format_exc())
        outcome.seconds = time.monotonic() - t0
        say(f"    {name} done in {outcome.seconds:.1f} s")
        outcomes.append(outcome)
    total = time.monotonic() - t_all
    failed = [o.name for o in outcomes if o.error]
    if args.json:
        print(
            json.dumps(
                {
                    "machine": info,
                    "quick": args.quick,
                    "seconds": round(total, 1),
                    "benchmarks": [o.to_json() for o in outcomes],
                },
                indent=2,
                default=str,
            )
        )
    else:
        print()
        print(table([r for o in outcomes for r in o.rows]))
        print(f"\ntotal {total:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
