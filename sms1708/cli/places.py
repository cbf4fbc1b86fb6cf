"""``sms1708 places``: load a district's official place list (Kemendagri codes) for the grammar."""

from __future__ import annotations

from pathlib import Path

import click

from sms1708.cli.common import EXIT_CONFIG, fail
from sms1708.errors import ConfigError


@click.group("places")
def places() -> None:
    """Official place lists (kecamatan, desa/kelurahan with Kemendagri codes)."""


@places.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--kabupaten",
    required=True,
    metavar="CODE",
    help="The kabupaten/kota to take, by its Kemendagri code (e.g. 16.03 = Muara Enim).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the places table here (default: print it). Then set [grammar] places = PATH.",
)
def places_import(file: str, kabupaten: str, out: str | None) -> None:
    """Read the Kemendagri code list FILE (CSV "code,name" rows or an SQL INSERT dump) and
    write the grammar's places table for one kabupaten: kecamatan, desa and kelurahan with
    their codes and common spellings."""
    from sms1708.places_import import import_places
    from sms1708.table_files import places_from_text

    try:
        kab, text = import_places(file, kabupaten)
        gazetteer = places_from_text(out or "places table", text)  # loads back
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    villages = [v for k in kab.kecamatan for v in k.villages]
    kel = sum(1 for v in villages if v.level == "kelurahan")
    summary = (
        f"{kab.code} {kab.name}: {len(kab.kecamatan)} kecamatan, {len(villages) - kel} desa,"
        f" {kel} kelurahan ({len(gazetteer.places)} places)"
    )
    if out is None:
        click.echo(text, nl=False)
        click.echo(summary, err=True)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"{summary}; written to {out}")
    click.echo(f'Use it: set places = "{Path(out).resolve()}" under [grammar] and restart.')
