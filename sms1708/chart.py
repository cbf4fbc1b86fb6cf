"""A chart a coordinator can paste into a report: reports per day or ISO week, stacked by kind
(or by category, or by kecamatan: the largest few, the rest as one "lainnya" band).

:func:`write_chart` picks the format by the file's extension: ``.svg`` is written by hand (plain
XML, no dependency), ``.png`` is drawn with Pillow, imported only then. Both come from the same
layout (a list of rectangles, lines and texts), so they look alike.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from xml.sax.saxutils import escape, quoteattr

from sms1708.periods import period_start
from sms1708.reports import NO_CATEGORY, NO_KECAMATAN, Stats

#: logical size; the PNG is drawn at PNG_SCALE times this, sharp when pasted into a document
WIDTH, HEIGHT = 900, 500
PNG_SCALE = 2
FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"

#: Okabe-Ito colours, distinguishable with the common colour-vision deficiencies
KIND_COLOURS = {
    "pengaduan": "#D55E00",
    "aspirasi": "#0072B2",
    "informasi": "#009E73",
    "status": "#CC79A7",
    "bantuan": "#E69F00",
}
EXTRA_COLOURS = ("#56B4E9", "#F0E442", "#000000", "#999999")
INK, MUTED, GRID, BACKGROUND = "#222222", "#555555", "#DDDDDD", "#FFFFFF"

BULAN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
NO_DATA = "belum ada data (no data yet)"

Anchor = Literal["start", "middle", "end"]
#: what the bars are stacked by
By = Literal["kind", "category", "kecamatan"]
BY: tuple[By, ...] = ("kind", "category", "kecamatan")
#: categories / kecamatan with their own colour; the others share one band
TOP = 7
OTHERS = "lainnya (others)"
#: Okabe-Ito again, then greys; "tanpa ..." and "lainnya" are grey
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
NONE_COLOUR, OTHERS_COLOUR = "#BBBBBB", "#777777"
#: (Bahasa Indonesia, English) words of the titles
BY_WORDS = {
    "kind": ("jenis", "kind"),
    "category": ("kategori", "category"),
    "kecamatan": ("kecamatan", "kecamatan"),
}


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    cls: str = ""  # an SVG class ("legend", "bar") for readers and tests


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: float
    anchor: Anchor = "start"
    fill: str = INK
    bold: bool = False
    cls: str = ""


Shape = Rect | Line | Text


# ------------------------------------------------------------------------------- layout


def text_width(text: str, size: float) -> float:
    """A generous estimate of the width of ``text`` in a sans-serif font."""
    return len(text) * size * 0.6


def nice_step(top: int, ticks: int = 5) -> int:
    """A round step (1, 2, 5 x 10^n) giving at most about ``ticks`` gridlines up to ``top``."""
    raw = max(1.0, top / ticks)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return int(m * mag)
    return int(10 * mag)  # pragma: no cover


def period_label(key: str, period: str, years: int) -> tuple[str, str]:
    """Tick labels: ``("1 Nov", "")`` for a day, ``("W44", "26 Okt")`` for a week (and its
    Monday); with the year when the periods span more than one."""
    d = period_start(key)
    date = f"{d.day} {BULAN[d.month - 1]}" + (f" {d.year % 100:02d}" if years > 1 else "")
    if period == "week":
        return (key if years > 1 else key.split("-")[1]), date
    return date, ""


def colour_of(kind: str, extra: list[str]) -> str:
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    if kind not in extra:
        extra.append(kind)
    return EXTRA_COLOURS[(extra.index(kind)) % len(EXTRA_COLOURS)]


def titles(stats: Stats, by: By = "kind") -> tuple[str, str]:
    kata, word = BY_WORDS[by]
    if stats.period == "day":
        title, sub = f"Laporan SMS per hari menurut {kata}", f"SMS reports per day by {word}"
    else:
        title = f"Laporan SMS per minggu menurut {kata}"
        sub = f"SMS reports per ISO week by {word}"
    if stats.first is not None and stats.last is not None:
        first, last = period_start(stats.first), period_start(stats.last)
        if stats.period == "week":
            last += dt.timedelta(days=6)
        span = first.isoformat() if first == last else f"{first.isoformat()} s.d. {last}"
        sub += f"  |  {span}  |  jumlah (total): {stats.total}  |  {stats.tz}"
    elif stats.since_local is not None or stats.until_local is not None:
        sub += f"  |  {stats.since_local or '...'} s.d. {stats.until_local or '...'}"
    return title, sub


def series(
    stats: Stats, by: By
) -> tuple[list[str], dict[str, int], dict[str, str], list[tuple[str, dict[str, int]]]]:
    """The stacked series of a chart: names (bottom first), their totals, their colours, and
    the counts per period."""
    if by == "kind":
        kinds = [k for k in stats.kinds if stats.by_kind.get(k)]
        extra: list[str] = []
        return (
            kinds,
            stats.by_kind,
            {k: colour_of(k, extra) for k in kinds},
            list(stats.by_period.items()),
        )
    totals, per, none = (
        (stats.by_category, stats.by_period_category, NO_CATEGORY)
        if by == "category"
        else (stats.by_kecamatan, stats.by_period_kecamatan, NO_KECAMATAN)
    )
    named = [k for k in totals if k != none and totals[k]]
    top, rest = named[:TOP], set(named[TOP:])
    names = top + ([OTHERS] if rest else []) + ([none] if totals.get(none) else [])
    sums = {k: totals[k] for k in top}
    if rest:
        sums[OTHERS] = sum(totals[k] for k in rest)
    if totals.get(none):
        sums[none] = totals[none]
    colours = {k: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, k in enumerate(top)}
    colours[OTHERS], colours[none] = OTHERS_COLOUR, NONE_COLOUR
    periods: list[tuple[str, dict[str, int]]] = []
    for key, counts in per.items():
        row: dict[str, int] = {}
        for k, n in counts.items():
            band = OTHERS if k in rest else k
            row[band] = row.get(band, 0) + n
        periods.append((key, row))
    return names, sums, colours, periods


def layout(
    stats: Stats, width: float = WIDTH, height: float = HEIGHT, *, by: By = "kind"
) -> list[Shape]:
    """The chart as shapes in a ``width`` x ``height`` box (y grows downwards)."""
    shapes: list[Shape] = [Rect(0, 0, width, height, BACKGROUND)]
    title, sub = titles(stats, by)
    shapes.append(Text(24, 34, title, 20, bold=True))
    shapes.append(Text(24, 56, sub, 12, fill=MUTED))

    kinds, sums, colours, periods = series(stats, by)

    # legend: swatch and label per series, left to right under the titles (wrapping if need be)
    x, y = 24.0, 86.0
    for k in kinds:
        label = f"{k} ({sums[k]})"
        w = 12 + 6 + text_width(label, 12)
        if x + w > width - 24 and x > 24:
            x, y = 24.0, y + 20
        shapes.append(Rect(x, y - 10, 12, 12, colours[k], cls="legend"))
        shapes.append(Text(x + 18, y, label, 12, cls="legend"))
        x += w + 18

    left, right, top, bottom = 64, width - 24, y + 50, height - 70
    shapes.append(Text(left - 8, top - 26, "jumlah laporan (reports)", 12, fill=MUTED))
    axis = "tanggal (date)" if stats.period == "day" else "minggu ISO (ISO week)"
    shapes.append(Text((left + right) / 2, height - 16, axis, 13, anchor="middle", fill=MUTED))

    if not periods or stats.total == 0:
        shapes.append(Line(left, bottom, right, bottom, INK))
        shapes.append(Text((left + right) / 2, (top + bottom) / 2, NO_DATA, 20, "middle", MUTED))
        return shapes

    highest = max(sum(c.values()) for _, c in periods)
    step = nice_step(highest)
    ymax = step * math.ceil(highest / step)

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * v / ymax

    for v in range(0, ymax + 1, step):
        gy = y_of(v)
        shapes.append(Line(left, gy, right, gy, GRID if v else INK))
        shapes.append(Text(left - 8, gy + 4, str(v), 12, anchor="end", fill=MUTED))

    slot = (right - left) / len(periods)
    bar = max(1.0, min(slot * 0.7, 60.0))
    years = len({period_start(p).year for p, _ in periods})
    labels = [period_label(p, stats.period, years) for p, _ in periods]
    widest = max(max(text_width(a, 12), text_width(b, 11)) for a, b in labels)
    every = max(1, math.ceil((widest + 8) / slot))  # label every n-th period so none overlap
    show_totals = text_width(str(highest), 11) + 4 <= slot
    for i, (_key, counts) in enumerate(periods):
        cx = left + slot * (i + 0.5)
        level = 0
        for k in kinds:
            n = counts.get(k, 0)
            if n:
                shapes.append(
                    Rect(
                        cx - bar / 2,
                        y_of(level + n),
                        bar,
                        y_of(level) - y_of(level + n),
                        colours[k],
                        cls="bar",
                    )
                )
                level += n
        if level and show_totals:
            shapes.append(Text(cx, y_of(level) - 4, str(level), 11, anchor="middle"))
        if i % every == 0:
            shapes.append(Line(cx, bottom, cx, bottom + 4, INK))
            main, below = labels[i]
            shapes.append(Text(cx, bottom + 18, main, 12, anchor="middle"))
            if below:
                shapes.append(Text(cx, bottom + 33, below, 11, anchor="middle", fill=MUTED))
    return shapes


# ------------------------------------------------------------------------------- output


def svg(shapes: Sequence[Shape], width: float = WIDTH, height: float = HEIGHT) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}"'
        f' viewBox="0 0 {width:g} {height:g}" font-family={quoteattr(FONT_FAMILY)}>',
    ]
    heading = next((s.text for s in shapes if isinstance(s, Text)), "")
    out.append(f"<title>{escape(heading)}</title>")
    for s in shapes:
        if isinstance(s, Rect):
            out.append(
                f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{s.w:.1f}" height="{s.h:.1f}"'
                f' fill="{s.fill}"{_cls(s.cls)}/>'
            )
        elif isinstance(s, Line):
            out.append(
                f'<line x1="{s.x1:.1f}" y1="{s.y1:.1f}" x2="{s.x2:.1f}" y2="{s.y2:.1f}"'
                f' stroke="{s.stroke}" stroke-width="{s.width:g}"/>'
            )
        else:
            weight = ' font-weight="bold"' if s.bold else ""
            out.append(
                f'<text x="{s.x:.1f}" y="{s.y:.1f}" font-size="{s.size:g}"'
                f' text-anchor="{s.anchor}" fill="{s.fill}"{weight}{_cls(s.cls)}>'
                f"{escape(s.text)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _cls(name: str) -> str:
    return f" class={quoteattr(name)}" if name else ""


def png(shapes: Sequence[Shape], path: Path, width: float = WIDTH, height: float = HEIGHT) -> None:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as e:  # pragma: no cover - Pillow is a dependency
        raise RuntimeError(
            "PNG charts need Pillow >= 10.1 (pip install 'Pillow>=10.1'); an .svg chart does not"
        ) from e
    k = PNG_SCALE
    img = Image.new("RGB", (round(width * k), round(height * k)), BACKGROUND)
    draw = ImageDraw.Draw(img)
    fonts: dict[float, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}
    for s in shapes:
        if isinstance(s, Rect):
            x0, y0 = round(s.x * k), round(s.y * k)
            x1, y1 = round((s.x + s.w) * k) - 1, round((s.y + s.h) * k) - 1
            if x1 >= x0 and y1 >= y0:
                draw.rectangle((x0, y0, x1, y1), fill=s.fill)
        elif isinstance(s, Line):
            draw.line(
                (round(s.x1 * k), round(s.y1 * k), round(s.x2 * k), round(s.y2 * k)),
                fill=s.stroke,
                width=max(1, round(s.width * k)),
            )
        else:
            font = fonts.get(s.size)
            if font is None:
                font = fonts[s.size] = ImageFont.load_default(size=s.size * k)
            w = draw.textlength(s.text, font=font)
            x = s.x * k - {"start": 0.0, "middle": w / 2, "end": w}[s.anchor]
            if isinstance(font, ImageFont.FreeTypeFont):
                draw.text((x, s.y * k), s.text, fill=s.fill, font=font, anchor="ls")
                if s.bold:  # the default font has no bold face: a second pass offset by a pixel
                    draw.text((x + 1, s.y * k), s.text, fill=s.fill, font=font, anchor="ls")
            else:  # pragma: no cover - Pillow built without FreeType: small bitmap font
                draw.text((x, s.y * k - s.size * k), s.text, fill=s.fill, font=font)
    _atomic(path, lambda f: img.save(f, format="PNG", optimize=True))


def _atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_chart(stats: Stats, path: str | os.PathLike[str]) -> Path:
    """Draw reports per period, stacked by kind, to ``path`` (``.png`` or ``.svg``).

    Raises ValueError for any other extension. With no reports the chart says so.
    """
    p = Path(path)
    fmt = p.suffix.lower()
    if fmt not in (".png", ".svg"):
        raise ValueError(
            f"chart file must end in .png or .svg, got {p.name!r}"
            " (.png for pasting into a document, .svg for editing or printing)"
        )
    shapes = layout(stats)
    if fmt == ".svg":
        data = svg(shapes).encode("utf-8")
        _atomic(p, lambda f: f.write(data))
    else:
        png(shapes, p)
    return p
