"""One pure place decides every SMS the gateway sends: its text and recipient are composed in
``core/gate.py`` (beside the guards that decide whether it goes), nowhere else; the texts are
the ones citizens have always received."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sms1708.core import gate

PACKAGE = Path(__file__).resolve().parent.parent / "sms1708"
#: the templates themselves, and the one module that composes SMS from them
COMPOSERS = {"core/gate.py", "core/replies.py"}


def test_sms_texts_are_composed_in_the_gate_only() -> None:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PACKAGE))
        if name in COMPOSERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            f = node.func if isinstance(node, ast.Call) else None
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "replies"
                and f.attr in {"render", "receipt"}
            ):
                bad.append(f"{name}:{node.lineno}")
    assert not bad, f"an SMS text composed outside core/gate.py: {bad}"


def test_answers_to_received_sms() -> None:
    a = gate.answer("pengaduan", ref="7", language="id")
    assert a == gate.Answer(
        "Terima kasih, laporan Anda sudah kami terima. No. laporan: 7. "
        "Untuk cek status, kirim: CEK 7",
        "receipt",
    )
    assert gate.answer("pengaduan", ref="7", language="id", update_of=3) == gate.Answer(
        "Tambahan untuk laporan 3 diterima. Terima kasih.", "update_receipt"
    )
    cek = gate.answer("status", ref="9", language="id", asked="4", asked_state="delivered")
    assert cek == gate.Answer("Laporan 4: sudah diteruskan ke LAPOR.", "status")
    unknown = gate.answer("status", ref="9", language="id", asked="")
    assert unknown.text == "Laporan ? tidak ditemukan untuk nomor ini. Kirim CEK nomor laporan."
    assert gate.answer("bantuan", ref="9", language="id").purpose == "bantuan"
    assert gate.answer("pengaduan", ref="9", language="id", short=True).text.startswith(
        "Laporan Anda kami terima, No. 9."
    )


def test_the_tracking_id_is_told_once_by_the_primary_destination_for_reports_only() -> None:
    kw = {"ref": "12", "language": "id", "notify": True, "primary": True, "update": False}
    t = gate.tracking_texts("LAP-1", **kw)  # type: ignore[arg-type]
    assert t is not None
    assert t.notice == (
        "Laporan 12 sudah diteruskan ke LAPOR! dengan No. Tracking LAP-1. "
        "Pantau di lapor.go.id atau kirim CEK LAP-1"
    )
    assert t.receipt == (
        "Terima kasih, laporan Anda diterima. No. laporan: 12, No. Tracking LAPOR!: LAP-1. "
        "Untuk cek status, kirim: CEK 12"
    )
    for change in ({"primary": False}, {"update": True}, {"notify": False}):
        assert gate.tracking_texts("LAP-1", **{**kw, **change}) is None  # type: ignore[arg-type]
    assert gate.tracking_texts(None, **kw) is None  # type: ignore[arg-type]
    assert gate.tracking_texts("X" * 21, **kw) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "notify"), [(None, True), ("", True), ("Selesai", False)])
def test_no_status_text_without_a_status_or_with_notices_off(
    status: str | None, notify: bool
) -> None:
    assert (
        gate.status_change_text(status, ref="1", tracking="T", language="id", notify=notify) is None
    )


def test_a_status_change_text() -> None:
    text = gate.status_change_text("Selesai", ref="1", tracking="T", language="id", notify=True)
    assert text == "Laporan 1 (LAPOR! T): Selesai"


def test_an_operator_sms_is_an_operator_purpose() -> None:
    out = gate.operator_sms("m", "+6281234567890", "halo", message_id=3)
    assert (out.purpose, out.recipient, out.message_id) == (gate.OPERATOR, "+6281234567890", 3)
