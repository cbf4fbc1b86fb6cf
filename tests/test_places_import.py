"""`sms1708 places import`: the official Kemendagri code list -> the grammar's places table.

Two small fixtures hold a few real rows of the list (Kab. Muara Enim, 16.03) in the two layouts
it is published in: CSV ``kode,nama`` (upper case, as some exports are) and the SQL dump of
public repositories (``INSERT INTO wilayah (kode, nama) VALUES ('16.03.02','Muara Enim'), ...``).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from sms1708.cli import main
from sms1708.core.grammar import parse_strict
from sms1708.modem.emulator import EmulatedModem
from sms1708.places_import import read_rows, select, to_toml, variants
from sms1708.table_files import default_tables, load_tables
from sms1708.upstream.standin import StandIn

DATA = Path(__file__).parent / "data" / "places"
LAYOUTS = ["wilayah-sample.sql", "wilayah-sample.csv"]


def _import(tmp_path: Path, name: str) -> Path:
    out = tmp_path / "places.toml"
    r = CliRunner().invoke(
        main, ["places", "import", str(DATA / name), "--kabupaten", "16.03", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "16.03 Muara Enim: 4 kecamatan, 8 desa, 3 kelurahan" in r.output
    return out


@pytest.mark.parametrize("name", LAYOUTS)
def test_both_layouts_give_the_same_kabupaten(name: str) -> None:
    kab = select(read_rows((DATA / name).read_text(encoding="utf-8")), "16.03")
    assert (kab.code, kab.name) == ("16.03", "Muara Enim")
    assert [(k.code, k.name) for k in kab.kecamatan] == [
        ("16.03.01", "Tanjung Agung"),
        ("16.03.02", "Muara Enim"),
        ("16.03.08", "Semende Darat Laut"),
        ("16.03.16", "Sungai Rotan"),
    ]
    muara_enim = kab.kecamatan[1]
    assert [(v.code, v.name, v.level) for v in muara_enim.villages] == [
        ("16.03.02.1007", "Pasar II Muara Enim", "kelurahan"),
        ("16.03.02.1010", "Muara Enim", "kelurahan"),
        ("16.03.02.1016", "Air Lintang", "kelurahan"),
        ("16.03.02.2001", "Tanjung Raja", "desa"),
        ("16.03.02.2011", "Kepur", "desa"),
    ]


def test_the_sql_layout_reads_quotes_and_other_kabupaten_are_left_out() -> None:
    rows = read_rows((DATA / "wilayah-sample.sql").read_text(encoding="utf-8"))
    assert ("16.04.12.2026", "Jenti'an") in rows
    kab = select(rows, "16.03")
    assert all(k.code.startswith("16.03.") for k in kab.kecamatan)


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_written_table_gives_codes_to_records(tmp_path: Path, name: str) -> None:
    tables = load_tables(places=str(_import(tmp_path, name)))

    def place(sms: str) -> tuple[str | None, str | None]:
        r = parse_strict(sms, tables)
        return r.location, r.location_code

    assert place("LAPOR jalan rusak di ds kepur") == (
        "Desa Kepur, Kec. Muara Enim",
        "16.03.02.2011",
    )
    assert place("banjir di kec sungai rotan") == ("Kec. Sungai Rotan", "16.03.16")
    assert place("air mati di kel. air lintang") == (
        "Kel. Air Lintang, Kec. Muara Enim",
        "16.03.02.1016",
    )
    # spelling variants: a roman numeral as a digit, a glued name apart, abbreviations
    assert place("pasar 2 muara enim banjir")[1] == "16.03.02.1007"
    assert place("jalan di suka merindu rusak")[1] == "16.03.16.2005"
    assert place("jembatan di sei rotan putus")[1] == "16.03.16"
    assert place("lampu mati di tj raja")[1] == "16.03.02.2001"


def test_a_desa_in_two_kecamatan_needs_its_kecamatan_never_a_guess(tmp_path: Path) -> None:
    tables = load_tables(places=str(_import(tmp_path, "wilayah-sample.sql")))
    text = _import(tmp_path, "wilayah-sample.sql").read_text(encoding="utf-8")
    assert "#   Pulau Panggung: Tanjung Agung, Semende Darat Laut" in text
    alone = parse_strict("jalan ke desa pulau panggung amblas", tables)
    assert (alone.location, alone.location_code) == (None, None)
    for kec, code in (("tanjung agung", "16.03.01.2024"), ("semende darat laut", "16.03.08.2008")):
        r = parse_strict(f"jalan ke desa pulau panggung kec {kec} amblas", tables)
        assert r.location_code == code, kec


def test_variants() -> None:
    assert variants("Pasar II Muara Enim") == ["Pasar 2 Muara Enim"]
    assert variants("Sukamerindu") == ["Suka Merindu"]
    assert variants("Kepur") == []
    assert variants("Siurai-Urai") == ["Siurai Urai"]


def test_names_that_are_everyday_words_need_a_prefix() -> None:
    rows = [
        ("16.03", "Kabupaten Muara Enim"),
        ("16.03.23", "Belimbing"),
        ("16.03.23.2010", "Dalam"),
    ]
    text = to_toml(select(rows, "16.03"), source="x")
    assert 'common_words = ["Belimbing", "Dalam"]' in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kabupaten", "16.99"], "no rows for 16.99"),
        (["--kabupaten", "1603"], "not a kabupaten code"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], message: str) -> None:
    r = CliRunner().invoke(main, ["places", "import", str(DATA / "wilayah-sample.csv"), *args])
    assert r.exit_code == 2 and message in r.output


def test_a_file_without_rows_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "x.csv"
    empty.write_text("nothing here\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["places", "import", str(empty), "--kabupaten", "16.03"])
    assert r.exit_code == 2 and "no code,name rows" in r.output


def test_the_shipped_example_carries_official_codes() -> None:
    t = default_tables()
    coded = {p.name: p.code for p, _ in t.gazetteer.places}
    assert coded["Muara Enim"] and all(code for code in coded.values())
    r = parse_strict("lapor banjir di ds kepur", t)
    assert r.location_code == "16.03.02.2011"
    r = parse_strict("lapor jalan rusak di gelumbang", t)
    assert (r.location, r.location_code) == ("Kec. Gelumbang", "16.03.06")
    old = dataclasses.replace(t, gazetteer=dataclasses.replace(t.gazetteer, places=()))
    assert parse_strict("lapor banjir di ds kepur", old).location_code is None


def test_an_imported_list_works_end_to_end_through_the_daemon(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    places = _import(tmp_path, "wilayah-sample.csv")
    cfg = make_config(modem, upstream, grammar={"places": str(places)})
    d = daemon(cfg, env={"SMS1708_UPSTREAM_TOKEN": "t"})
    assert d.wait_event("modem_ready"), d.events()
    modem.receive_sms(
        "+6281234567890", "LAPOR jalan ke desa pulau panggung kec tanjung agung putus"
    )
    assert upstream.wait_for(1, timeout=30), d.events()
    body = next(iter(upstream.delivered().values())).body
    assert body["location"] == "Desa Pulau Panggung, Kec. Tanjung Agung"
    assert body["location_code"] == "16.03.01.2024"
    conn = sqlite3.connect(tmp_path / "sms1708.db")
    try:
        assert conn.execute("SELECT location_code FROM messages").fetchone() == ("16.03.01.2024",)
    finally:
        conn.close()
    assert d.terminate() == 0
