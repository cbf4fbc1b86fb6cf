"""Charts (sms1708.chart): SVG by hand, PNG with Pillow, both from one layout."""

from __future__ import annotations

import itertools
import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from sms1708 import chart
from sms1708.reports import Stats, compute, load

from .test_reports import KINDS, WIB, build

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def stats(tmp_path: Path) -> Stats:
    s = build(tmp_path / "db.sqlite")
    try:
        return load(s, tz=WIB)
    finally:
        s.close()


def empty() -> Stats:
    return compute([], tz=WIB)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, each CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        pos += 12 + length
    return out


def svg_texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if cls is None or t.get("class") == cls]


def test_png_is_a_valid_png_of_a_sensible_size(stats: Stats, tmp_path: Path) -> None:
    out = chart.write_chart(stats, tmp_path / "chart.png")
    data = out.read_bytes()
    chunks = png_chunks(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height) == (chart.WIDTH * chart.PNG_SCALE, chart.HEIGHT * chart.PNG_SCALE)
    assert 1000 <= width <= 2400 and 500 <= height <= 1400 and width > height
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    assert 5_000 < len(data) < 500_000
    with Image.open(out) as img:
        img.verify()
    with Image.open(out) as img:
        colours = {c for _, c in img.getcolors(maxcolors=1_000_000) or []}
    # every kind present has its bar colour; there is text (anti-aliased greys) too
    for kind in KINDS:
        rgb = tuple(int(chart.KIND_COLOURS[kind][i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, kind
    assert len(colours) > 20


def test_png_text_is_readable_size(stats: Stats, tmp_path: Path) -> None:
    """The title's glyphs are tall enough to read: dark pixels span > 20 rows near the top."""
    out = chart.write_chart(stats, tmp_path / "chart.png")
    with Image.open(out) as img:
        grey = img.convert("L")
        k = chart.PNG_SCALE
        band = grey.crop((0, 0, grey.width, 45 * k))
        rows = [
            y
            for y in range(band.height)
            if band.crop((0, y, band.width, y + 1)).getextrema()[0] < 100
        ]
    assert rows and rows[-1] - rows[0] > 20


def test_svg_parses_and_has_title_axes_and_legend(stats: Stats, tmp_path: Path) -> None:
    out = chart.write_chart(stats, tmp_path / "chart.svg")
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == (str(chart.WIDTH), str(chart.HEIGHT))
    texts = svg_texts(root)
    assert "Laporan SMS per hari menurut jenis" in texts
    assert any("SMS reports per day by kind" in t and "jumlah (total): 7" in t for t in texts)
    assert "tanggal (date)" in texts and "jumlah laporan (reports)" in texts
    assert svg_texts(root, "legend") == [
        "pengaduan (3)",
        "aspirasi (1)",
        "informasi (1)",
        "status (1)",
        "bantuan (1)",
    ]
    assert "1 Nov" in texts and "10 Nov" in texts
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 6  # one segment per kind per day: 1 + 1 + 2 + 2
    assert {b.get("fill") for b in bars} == set(chart.KIND_COLOURS.values())
    assert root.find(f"{SVG}title") is not None


def test_bar_heights_follow_the_counts(stats: Stats) -> None:
    shapes = chart.layout(stats)
    bars = [s for s in shapes if isinstance(s, chart.Rect) and s.cls == "bar"]
    heights = sorted({round(b.h, 3) for b in bars})
    assert len(heights) == 2 and heights[1] == pytest.approx(2 * heights[0])  # 1 and 2 reports


def test_weekly_chart_labels_weeks_with_their_monday(tmp_path: Path) -> None:
    s = build(tmp_path / "db.sqlite")
    try:
        weekly = load(s, period="week", tz=WIB)
    finally:
        s.close()
    root = ET.fromstring(chart.svg(chart.layout(weekly)))
    texts = svg_texts(root)
    assert [t for t in texts if t.startswith("W4") or t in ("26 Okt", "2 Nov", "9 Nov")] == [
        "W44",
        "26 Okt",
        "W45",
        "2 Nov",
        "W46",
        "9 Nov",
    ]
    assert "Laporan SMS per minggu menurut jenis" in texts
    assert "minggu ISO (ISO week)" in texts


@pytest.mark.parametrize("name", ["empty.png", "empty.svg", "EMPTY.PNG"])
def test_empty_data_says_so(name: str, tmp_path: Path) -> None:
    out = chart.write_chart(empty(), tmp_path / name)
    data = out.read_bytes()
    if name.lower().endswith(".svg"):
        root = ET.fromstring(data)
        assert chart.NO_DATA in svg_texts(root)
        assert svg_texts(root, "legend") == []
    else:
        assert png_chunks(data)[0][0] == b"IHDR"


def test_other_extensions_are_refused(stats: Stats, tmp_path: Path) -> None:
    for name in ("chart.jpg", "chart", "chart.svg.gz", "chart.pdf"):
        with pytest.raises(ValueError, match=r"\.png or \.svg"):
            chart.write_chart(stats, tmp_path / name)
    assert not [p for p in tmp_path.iterdir() if "chart" in p.name]  # nothing written


def test_svg_text_is_escaped(stats: Stats) -> None:
    odd = replace(
        stats,
        kinds=(*stats.kinds, 'a<b & "c"'),
        by_kind={**stats.by_kind, 'a<b & "c"': 2},
        by_period={
            **stats.by_period,
            "2026-11-10": {**stats.by_period["2026-11-10"], 'a<b & "c"': 2},
        },
        tz="</svg>",
    )
    text = chart.svg(chart.layout(odd))
    root = ET.fromstring(text)
    assert 'a<b & "c" (2)' in svg_texts(root, "legend")
    assert any("</svg>" in t for t in svg_texts(root))


def test_many_days_thin_the_labels_and_keep_every_bar(tmp_path: Path) -> None:
    t0 = datetime(2026, 1, 1, 9, tzinfo=WIB)
    rows = [
        {"received_at": (t0 + timedelta(days=d)).isoformat(), "kind": KINDS[d % 5]}
        for d in range(0, 400)  # spans two years: labels carry the year
        for _ in range(1 + d % 3)
    ]
    st = compute(rows, tz=WIB)
    assert len(st.by_period) == 400
    root = ET.parse(chart.write_chart(st, tmp_path / "year.svg")).getroot()
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 400
    ticks = [t for t in svg_texts(root) if t.endswith((" 26", " 27"))]
    assert 5 <= len(ticks) <= 25 and ticks[0] == "1 Jan 26"
    xs = sorted(float(t.get("x") or 0) for t in root.iter(f"{SVG}text") if t.text in ticks)
    assert all(b - a >= chart.text_width("30 Des 26", 12) for a, b in itertools.pairwise(xs))
    chart.write_chart(st, tmp_path / "year.png")  # and the PNG draws too


def test_nice_steps() -> None:
    assert [chart.nice_step(n) for n in (1, 4, 7, 12, 23, 99, 480)] == [1, 1, 2, 5, 5, 20, 100]


def test_category_and_kecamatan_charts_stack_the_largest_and_band_the_rest() -> None:
    day = "2026-11-02T08:00:00+07:00"
    rows = [
        {"received_at": day, "stored_at": 1_794_000_000, "kind": "pengaduan",
         "category": f"kategori {i}", "location": f"Desa X, Kec. K{i % 3}"}
        for i in range(10)
        for _ in range(10 - i)
    ] + [{"received_at": day, "stored_at": 1_794_000_000, "kind": "aspirasi"}]  # fmt: skip
    st = compute(rows, tz=WIB)
    assert sum(st.by_period_category["2026-11-02"].values()) == st.total == 56
    root = ET.fromstring(chart.svg(chart.layout(st, by="category")))
    assert "Laporan SMS per hari menurut kategori" in svg_texts(root)
    legend = svg_texts(root, "legend")
    assert legend[:2] == ["kategori 0 (10)", "kategori 1 (9)"] and len(legend) == chart.TOP + 2
    assert legend[-2:] == [f"{chart.OTHERS} (6)", "tanpa kategori (1)"]  # 3 + 2 + 1; the aspirasi
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert sum(float(b.get("height") or 0) for b in bars) > 0 and len(bars) == chart.TOP + 2
    kec = svg_texts(ET.fromstring(chart.svg(chart.layout(st, by="kecamatan"))), "legend")
    assert kec == ["Kec. K0 (22)", "Kec. K1 (18)", "Kec. K2 (15)", "tanpa kecamatan (1)"]
