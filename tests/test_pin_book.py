"""Where `sms1708 check` records refused SIM PINs (diagnose.PinBook.open), and the config it
probes with --port (diagnose.with_port), without the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sms1708.config import from_mapping
from sms1708.diagnose import PinBook, with_port


def test_a_missing_database_is_created_as_the_daemon_would(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    book = PinBook.open(path)
    try:
        assert book.store is not None and book.problem == ""
        assert path.exists()
    finally:
        book.close()
    book.close()  # closing twice, or a book without a store, is harmless
    PinBook(None, "x").close()


def test_a_database_that_cannot_be_opened_gives_a_book_without_a_store(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    where = tmp_path / "a-file" / "db.sqlite"
    book = PinBook.open(where)
    assert book.store is None
    assert book.problem.startswith(f"cannot open {where}: ")
    assert not where.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands a database to another user")
def test_created_by_root_it_belongs_to_the_owner_of_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "var-lib-sms1708"
    folder.mkdir()
    os.chown(folder, 4321, 4322)
    book = PinBook.open(folder / "db.sqlite")
    book.close()
    st = (folder / "db.sqlite").stat()
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    # an existing database keeps its owner
    os.chown(folder, 0, 0)
    PinBook.open(folder / "db.sqlite").close()
    assert (folder / "db.sqlite").stat().st_uid == 4321


def test_with_port_probes_one_modem_on_that_port() -> None:
    cfg = from_mapping(
        {
            "modems": [
                {"name": "a", "port": "/dev/ttyUSB0", "baudrate": 9600},
                {"name": "b", "port": "/dev/ttyUSB1"},
            ]
        }
    )
    probed = with_port(cfg, "/dev/serial/by-id/huawei-if02")
    assert [(m.name, m.port, m.baudrate) for m in probed.modems] == [
        ("a", "/dev/serial/by-id/huawei-if02", 9600)
    ]
    assert with_port(cfg, "/dev/ttyACM0", 115200).modem.baudrate == 115200
    assert cfg.modems[0].port == "/dev/ttyUSB0"  # the loaded config is left as it was
