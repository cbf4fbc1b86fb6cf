"""The official Kemendagri place list -> the grammar's places table (``sms1708 places import``).

The list is published as ``code, name`` rows, one per province (``16``), kabupaten/kota
(``16.03``), kecamatan (``16.03.02``) and desa/kelurahan (``16.03.02.2011``; a fourth part
starting with ``1`` is a kelurahan, with ``2`` a desa). Two common layouts are read:

- CSV: ``kode,nama`` (any of ``, ; | tab``; a header line and extra columns are skipped);
- an SQL dump: ``INSERT INTO wilayah (kode, nama) VALUES ('16.03.02','Muara Enim'), ...``
  (the layout of public repositories such as cahyadsn/wilayah; ``''`` is a quote).

:func:`read_rows` reads either from text, :func:`select` takes one kabupaten, :func:`to_toml`
writes the places table (the format of ``sms1708/data/places-muara-enim.toml``) with codes,
spelling variants and the kecamatan of every desa.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sms1708.errors import ConfigError

CODE = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
_SQL_ROW = re.compile(r"\(\s*'([0-9.]+)'\s*,\s*'((?:[^']|'')*)'")
_KAB_TITLES = ("kabupaten ", "kab. ", "kab ")
#: single-word names that are everyday words: matched only after a prefix (desa/kec.)
_EVERYDAY_WORDS = """
    aur babat baru belimbing beringin betung dalam guci jambu jaya jiwa kemang lambur menanti
    pasar siku tanjung tengah ujung kota ulak suban makmur harapan merdeka damai sari mulya indah
    permai sentosa sejahtera lestari gunung bukit air
"""
EVERYDAY = frozenset(_EVERYDAY_WORDS.split())
#: first words often written glued to the rest ("Sukamerindu" = "Suka Merindu")
GLUED_HEADS = (
    "suka", "tanjung", "sungai", "muara", "karang", "talang", "air", "pagar", "gunung", "lubuk",
    "batu", "teluk", "sumber", "tebing", "tanah", "kota", "padang", "ulak", "banu", "sugih",
)  # fmt: skip
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7"}


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    level: str  # "desa" | "kelurahan"


@dataclass
class Kecamatan:
    code: str
    name: str
    villages: list[Village] = field(default_factory=list)


@dataclass(frozen=True)
class Kabupaten:
    code: str
    name: str
    kecamatan: tuple[Kecamatan, ...]


def _clean_name(name: str) -> str:
    name = " ".join(name.replace("''", "'").split())
    if not (name.isupper() and len(name) > 3):
        return name
    return " ".join(w if w in _ROMAN else w.capitalize() for w in name.split())


def read_rows(text: str) -> list[tuple[str, str]]:
    """``(code, name)`` rows of a CSV or SQL-dump text; rows without a code are skipped."""
    if re.search(r"insert\s+into", text[:200_000], re.IGNORECASE):
        rows = [(c, _clean_name(n)) for c, n in _SQL_ROW.findall(text)]
    else:
        sample = text[:4096]
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;|\t")
        except csv.Error:
            dialect = csv.excel
        rows = []
        for rec in csv.reader(text.splitlines(), dialect):
            cells = [c.strip().strip("'\"") for c in rec]
            if len(cells) >= 2 and CODE.fullmatch(cells[0]) and cells[1]:
                rows.append((cells[0], _clean_name(cells[1])))
    return [(c, n) for c, n in rows if CODE.fullmatch(c)]


def select(rows: Iterable[tuple[str, str]], kabupaten: str) -> Kabupaten:
    """The kabupaten with code ``kabupaten`` (``16.03``), its kecamatan and desa/kelurahan."""
    if not re.fullmatch(r"[0-9]{2}\.[0-9]{2}", kabupaten):
        raise ConfigError("--kabupaten", f"{kabupaten!r} is not a kabupaten code like 16.03")
    name: str | None = None
    kec: dict[str, Kecamatan] = {}
    villages: list[tuple[str, str]] = []
    for code, nm in rows:
        if code == kabupaten:
            name = nm
        elif code.startswith(kabupaten + "."):
            parts = code.split(".")
            if len(parts) == 3:
                kec[code] = Kecamatan(code, nm)
            elif len(parts) == 4:
                villages.append((code, nm))
    if name is None and not kec:
        raise ConfigError("--kabupaten", f"no rows for {kabupaten} in the file")
    for code, nm in villages:
        parent = code.rsplit(".", 1)[0]
        if parent not in kec:
            raise ConfigError(code, f"desa/kelurahan {nm!r} has no kecamatan row {parent}")
        level = "kelurahan" if code.rsplit(".", 1)[1].startswith("1") else "desa"
        kec[parent].villages.append(Village(code, nm, level))
    label = name or kabupaten
    for title in _KAB_TITLES:
        if label.lower().startswith(title):
            label = label[len(title) :]
    ordered = tuple(sorted(kec.values(), key=lambda k: k.code))
    for k in ordered:
        k.villages.sort(key=lambda v: v.code)
    return Kabupaten(kabupaten, label.strip(), ordered)


def variants(name: str) -> list[str]:
    """Spellings people use besides the official name: roman numerals as digits ("Pasar II" ->
    "Pasar 2"), a glued first word apart ("Sukamerindu" -> "Suka Merindu"), a hyphen as a space.
    Abbreviations (Tj., Sei) and prefixes (Desa/Ds./Kel.) are the gazetteer's own business."""
    out: list[str] = []
    words = name.replace("-", " ").split()
    if any(w in _ROMAN for w in words):
        out.append(" ".join(_ROMAN.get(w, w) for w in words))
    if "-" in name:
        out.append(" ".join(words))
    if len(words) == 1:
        low = words[0].lower()
        for head in GLUED_HEADS:
            if low.startswith(head) and len(low) - len(head) >= 3:
                out.append(f"{words[0][: len(head)]} {words[0][len(head) :].capitalize()}")
                break
    return [v for v in dict.fromkeys(out) if v.lower() != name.lower()]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _entry(v: Village) -> str:
    alias = variants(v.name)
    extra = f", aliases = [{', '.join(_q(a) for a in alias)}]" if alias else ""
    return f"    {{ name = {_q(v.name)}, code = {_q(v.code)}{extra} }},"


def to_toml(kab: Kabupaten, *, source: str) -> str:
    """The places table for ``kab`` (see ``sms1708/data/places-muara-enim.toml``)."""
    names = [k.name for k in kab.kecamatan] + [v.name for k in kab.kecamatan for v in k.villages]
    common = sorted({n for n in names if n.lower() in EVERYDAY})
    count: dict[str, list[str]] = {}
    for k in kab.kecamatan:
        for v in k.villages:
            count.setdefault(v.name.lower(), []).append(k.name)
    twice = {n: ks for n, ks in count.items() if len(ks) > 1}
    out = [
        f"# Places of Kabupaten {kab.name} ({kab.code}) with their Kemendagri codes.",
        f"# Generated by `sms1708 places import` from {source}.",
        "# Edit freely (aliases: other spellings seen in use); the format is described in",
        "# sms1708/data/places-muara-enim.toml. Names in several kecamatan resolve only with a",
        "# kecamatan named in the same SMS (else the kecamatan alone, or no place: never a guess):",
    ]
    out += [f"#   {n.title()}: {', '.join(ks)}" for n, ks in sorted(twice.items())] or ["#   none"]
    out += [
        "",
        f"kabupaten = {_q(kab.name)}",
        f"kabupaten_code = {_q(kab.code)}",
        f"common_words = [{', '.join(_q(c) for c in common)}]",
    ]
    for k in kab.kecamatan:
        out += ["", "[[kecamatan]]", f"name = {_q(k.name)}", f"code = {_q(k.code)}"]
        alias = variants(k.name)
        if alias:
            out.append(f"aliases = [{', '.join(_q(a) for a in alias)}]")
        for level in ("kelurahan", "desa"):
            vs = [v for v in k.villages if v.level == level]
            if vs:
                out += [f"{level} = [", *(_entry(v) for v in vs), "]"]
    return "\n".join(out) + "\n"


def read_file(path: str) -> str:
    """The text of a code list file (UTF-8, or Latin-1 as some exports are)."""
    p = Path(path).expanduser()
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(p), "file not found") from None
    except OSError as e:
        raise ConfigError(str(p), f"cannot be read: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def import_places(path: str, kabupaten: str) -> tuple[Kabupaten, str]:
    """Read ``path``, take ``kabupaten``: the kabupaten and its places table (TOML text)."""
    rows = read_rows(read_file(path))
    if not rows:
        raise ConfigError(path, "no code,name rows found (expected CSV or an SQL INSERT dump)")
    kab = select(rows, kabupaten)
    return kab, to_toml(kab, source=Path(path).name)
