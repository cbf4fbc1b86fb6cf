"""Realistic citizens' SMS and the record the grammar makes of each, with the shipped tables.

Informal Indonesian as typed on feature phones: abbreviations (jln, tdk, sdh, yg, blm, kec.,
ds.), typos in keywords and place names, emoji, hostile-looking text, every separator. Each row
gives the whole expected record: kind, text, flags, category, location, reference, hint.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sms1708.core.grammar import Record, parse_strict
from sms1708.table_files import default_tables

P, A, IN, S, B = "pengaduan", "aspirasi", "informasi", "status", "bantuan"
INFRA, LISTRIK, AIR, DIDIK, SEHAT = (
    "infrastruktur",
    "listrik",
    "air bersih",
    "pendidikan",
    "kesehatan",
)
DUK, PUNGLI, BENCANA, LH, DD, BANSOS = (
    "administrasi kependudukan",
    "pungli",
    "bencana",
    "lingkungan hidup",
    "dana desa",
    "bantuan sosial",
)
SHORT = "short"


@dataclass(frozen=True)
class Case:
    sms: str
    kind: str
    text: str
    category: str | None = None
    location: str | None = None
    reference: str | None = None
    anonymous: bool = False
    confidential: bool = False
    hint: str | None = None

    def check(self, r: Record) -> None:
        got = Case(
            self.sms,
            r.kind,
            r.text,
            r.category,
            r.location,
            r.reference,
            r.anonymous,
            r.confidential,
            r.hint,
        )
        assert got == self


CASES = [
    # ---------------------------------------------------------------- keyword, any separator
    Case(
        "LAPOR jalan rusak parah di desa Tanjung Raja kec. Muara Enim, sdh 3 bulan tdk diperbaiki",
        P,
        "jalan rusak parah di desa Tanjung Raja kec. Muara Enim, sdh 3 bulan tdk diperbaiki",
        INFRA,
        "Desa Tanjung Raja, Kec. Muara Enim",
    ),
    Case(
        "lapor#jln berlubang depan SDN 3 tanjung enim",
        P,
        "jln berlubang depan SDN 3 tanjung enim",
        INFRA,
        "Kel. Tanjung Enim, Kec. Lawang Kidul",
    ),
    Case(
        "LAPOR:lampu jalan mati sdh seminggu di ds. Lingga",
        P,
        "lampu jalan mati sdh seminggu di ds. Lingga",
        LISTRIK,
        "Desa Lingga, Kec. Lawang Kidul",
    ),
    Case(
        "Lapor. Air PDAM tdk mengalir 3 hari di kel air lintang",
        P,
        "Air PDAM tdk mengalir 3 hari di kel air lintang",
        AIR,
        "Kel. Air Lintang, Kec. Muara Enim",
    ),
    Case(
        "lapor*sampah menumpuk di pasar tanjung enim bau busuk",
        P,
        "sampah menumpuk di pasar tanjung enim bau busuk",
        LH,
        "Kel. Pasar Tanjung Enim, Kec. Lawang Kidul",
    ),
    Case(
        "LAPOR - jembatan gantung di desa Kasai putus",
        P,
        "jembatan gantung di desa Kasai putus",
        INFRA,
        "Desa Kasai, Kec. Sungai Rotan",
    ),
    Case(
        "LAPOR/ banjir setinggi lutut di Gelumbang",
        P,
        "banjir setinggi lutut di Gelumbang",
        BENCANA,
        "Kec. Gelumbang",
    ),
    Case("Lapor  ,  jalan   rusak  ", P, "jalan rusak", INFRA, hint=SHORT),
    Case(
        "LAPOR\njalan longsor\r\ndi desa muara lawai",
        P,
        "jalan longsor di desa muara lawai",
        BENCANA,
        "Desa Muara Lawai, Kec. Muara Enim",
    ),
    # "%" is not a separator: "LAPOR%%%" is not the keyword (like "LAPORjalan")
    Case("LAPOR%%% x", P, "LAPOR%%% x", hint=SHORT),
    # ---------------------------------------------------------------- keyword typos
    Case("lapr jalan ke kebun rusak parah", P, "jalan ke kebun rusak parah", INFRA),
    Case("laopr guru sering tdk masuk kelas", P, "guru sering tdk masuk kelas", DIDIK),
    Case("Lapoor: puskesmas tutup jam 10 pagi", P, "puskesmas tutup jam 10 pagi", SEHAT),
    Case("pengadan: obat di pustu kosong", P, "obat di pustu kosong", SEHAT),
    Case(
        "pengaduna pungli pembuatan KTP di kecamatan",
        P,
        "pungli pembuatan KTP di kecamatan",
        PUNGLI,
    ),
    Case("KOMPLEN listrik sering padam tiap malam", P, "listrik sering padam tiap malam", LISTRIK),
    Case("keluhan: bidan desa jarang ada di tempat", P, "bidan desa jarang ada di tempat", SEHAT),
    Case(
        "ADUAN#akte kelahiran anak blm jadi 2 bulan",
        P,
        "akte kelahiran anak blm jadi 2 bulan",
        DUK,
    ),
    # "kk" in lower case is also "kakak": only KK in capitals is Kartu Keluarga
    Case("Aduan kk saya salah nama", P, "kk saya salah nama"),
    Case(
        "ADUAN KK SAYA SALAH NAMA, SDH 2X KE DISDUKCAPIL",
        P,
        "KK SAYA SALAH NAMA, SDH 2X KE DISDUKCAPIL",
        DUK,
    ),
    Case("aspirsi perbaiki irigasi sawah warga", A, "perbaiki irigasi sawah warga", INFRA),
    Case("STATSU 1916449", S, "", reference="1916449"),
    # ---------------------------------------------------------------- everyday words, not keywords
    Case(
        "lapar pak, sembako dari desa blm dibagi",
        P,
        "lapar pak, sembako dari desa blm dibagi",
        BANSOS,
    ),
    Case("laper bgt, raskin 3 bulan tdk turun", P, "laper bgt, raskin 3 bulan tdk turun", BANSOS),
    Case("sarana sekolah di SD 5 rusak parah", P, "sarana sekolah di SD 5 rusak parah", DIDIK),
    Case("sarang walet bikin bising warga", P, "sarang walet bikin bising warga"),
    Case("pengadaan barang di desa tdk transparan", P, "pengadaan barang di desa tdk transparan"),
    Case("pengajuan KTP sdh 3 bulan blm jadi", P, "pengajuan KTP sdh 3 bulan blm jadi", DUK),
    Case("pengadilan tdk adil", P, "pengadilan tdk adil"),
    Case(
        "tanpa ada perbaikan, jalan makin hancur",
        P,
        "tanpa ada perbaikan, jalan makin hancur",
        INFRA,
    ),
    Case("statis", P, "statis", hint=SHORT),
    # ---------------------------------------------------------------- privacy flags
    Case(
        "RAHASIA lapor pungli di kantor desa, diminta 50rb utk surat pindah",
        P,
        "pungli di kantor desa, diminta 50rb utk surat pindah",
        PUNGLI,
        confidential=True,
    ),
    Case(
        "lapor anonim kades korupsi dana desa",
        P,
        "kades korupsi dana desa",
        DD,
        anonymous=True,
    ),
    Case(
        "LAPOR#RAHASIA#ANONIM#guru minta uang perpisahan 200rb",
        P,
        "guru minta uang perpisahan 200rb",
        PUNGLI,
        anonymous=True,
        confidential=True,
    ),
    Case(
        "rahsia lapor ada calo di kantor disdukcapil",
        P,
        "ada calo di kantor disdukcapil",
        PUNGLI,
        confidential=True,
    ),
    Case(
        "lapor jalan desa pedataran amblas, anonim",
        P,
        "jalan desa pedataran amblas",
        INFRA,
        "Desa Pedataran, Kec. Gelumbang",
        anonymous=True,
    ),
    # inside a sentence the flag is set (privacy errs on the safe side) and the word stays
    Case(
        "lapor ini bukan rahasia lagi pak, kades jual tanah kas desa",
        P,
        "ini bukan rahasia lagi pak, kades jual tanah kas desa",
        confidential=True,
    ),
    Case(
        "ANONYMOUS aspirasi: tolong dibangun jembatan di desa putak",
        A,
        "tolong dibangun jembatan di desa putak",
        INFRA,
        "Desa Putak, Kec. Gelumbang",
        anonymous=True,
    ),
    Case(
        "lapor jalan rusak #RAHASIA# mohon segera",
        P,
        "jalan rusak # mohon segera",
        INFRA,
        confidential=True,
    ),
    Case("lapor anonimitas pelapor hrs dijaga", P, "anonimitas pelapor hrs dijaga"),
    Case("cek no 99 rahasia", S, "", reference="99", confidential=True),
    Case("RAHASIA", B, "", confidential=True),
    # ---------------------------------------------------------------- aspirasi
    # lampu jalan (listrik) and jalan poros (infrastruktur) score the same: no guess
    Case(
        "ASPIRASI tambah lampu jalan di jalan poros desa Muara Lawai",
        A,
        "tambah lampu jalan di jalan poros desa Muara Lawai",
        None,
        "Desa Muara Lawai, Kec. Muara Enim",
    ),
    Case(
        "usul: dibangun posyandu baru di Kepur",
        A,
        "dibangun posyandu baru di Kepur",
        SEHAT,
        "Desa Kepur, Kec. Muara Enim",
    ),
    Case(
        "saran agar pelayanan di kantor camat lebih ramah",
        A,
        "agar pelayanan di kantor camat lebih ramah",
    ),
    Case(
        "USULAN#pendidikan#Lembak#tambah guru honorer",
        A,
        "tambah guru honorer",
        DIDIK,
        "Kec. Lembak",
    ),
    Case("usul", A, "", hint=SHORT),
    # ---------------------------------------------------------------- informasi
    Case("INFO jadwal posyandu bulan ini", IN, "jadwal posyandu bulan ini", SEHAT),
    Case(
        "tanya syarat bikin akta kelahiran apa aja",
        IN,
        "syarat bikin akta kelahiran apa aja",
        DUK,
    ),
    Case("Nanya pak, kapan BLT cair?", IN, "pak, kapan BLT cair?", DD),
    Case("informasi#pendaftaran ppdb sd negeri", IN, "pendaftaran ppdb sd negeri", DIDIK),
    Case("INFORMASI", IN, ""),
    # "mau tanya ..." announces a question (issue 14: read what people mean); the text stays whole
    Case("Sy mau tanya, apakah ada info loker?", IN, "Sy mau tanya, apakah ada info loker?"),
    # ---------------------------------------------------------------- status
    Case("cek 12345", S, "", reference="12345"),
    Case("STATUS #1916449", S, "", reference="1916449"),
    Case("CEK1916449", S, "", reference="1916449"),
    Case("cek#123", S, "", reference="123"),
    Case("Cek laporan no. 1916449 sdh sampai mana", S, "sdh sampai mana", reference="1916449"),
    Case("status laporan saya 77", S, "", reference="77"),
    Case("cek", S, ""),
    Case("status", S, ""),
    Case("cek status", S, "status"),
    # no number and a real report after CEK: a complaint, whole text
    Case(
        "cek jalan rusak di desa kami sdh lama tdk diperbaiki",
        P,
        "cek jalan rusak di desa kami sdh lama tdk diperbaiki",
        INFRA,
    ),
    Case("cek1234567890123", P, "cek1234567890123", hint=SHORT),
    # ---------------------------------------------------------------- bantuan
    Case("?", B, ""),
    Case("", B, ""),
    Case("   ", B, ""),
    Case("HELP", B, ""),
    Case("menu?", B, ""),
    Case("bantuan", B, ""),
    Case("bantuan cara lapor gmn", B, "cara lapor gmn"),
    Case("? apa ini", B, "apa ini"),
    Case("lapor?", B, ""),
    # "bantuan" is also an everyday word: a real report after it is a complaint
    Case(
        "bantuan sosial tdk sampai ke warga miskin",
        P,
        "bantuan sosial tdk sampai ke warga miskin",
        BANSOS,
    ),
    Case(
        "BANTUAN PKH dipotong oknum pendamping",
        P,
        "BANTUAN PKH dipotong oknum pendamping",
        BANSOS,
    ),
    # ---------------------------------------------------------------- no keyword: free text
    Case(
        "jalan di desa kartamulia banyak lubang, tolong diperbaiki",
        P,
        "jalan di desa kartamulia banyak lubang, tolong diperbaiki",
        INFRA,
        "Desa Kerta Mulya, Kec. Gelumbang",
    ),
    Case(
        "Assalamualaikum pak bupati, jembatan di muara dua semende putus dihantam banjir",
        P,
        "Assalamualaikum pak bupati, jembatan di muara dua semende putus dihantam banjir",
        BENCANA,
        "Desa Muara Dua, Kec. Semende Darat Laut",
    ),
    Case(
        "pak tolong lampu jalan di depan masjid mati",
        P,
        "pak tolong lampu jalan di depan masjid mati",
        LISTRIK,
    ),
    Case(
        "mohon maaf mengganggu, anak saya tdk dapat KIP padahal keluarga miskin",
        P,
        "mohon maaf mengganggu, anak saya tdk dapat KIP padahal keluarga miskin",
        DIDIK,
    ),
    Case(
        "SMS ini dari warga tegal rejo, got mampet jadi banjir tiap hujan",
        P,
        "SMS ini dari warga tegal rejo, got mampet jadi banjir tiap hujan",
        BENCANA,
        "Desa Tegal Rejo, Kec. Lawang Kidul",
    ),
    Case(
        "Jln. lintas Muara Enim - Lahat rusak berat",
        P,
        "Jln. lintas Muara Enim - Lahat rusak berat",
        INFRA,
        "Kec. Muara Enim",
    ),
    # two kecamatan: no single place
    Case(
        "jalan rusak dari Gelumbang ke Muara Enim",
        P,
        "jalan rusak dari Gelumbang ke Muara Enim",
        INFRA,
    ),
    Case(
        "Kpd Yth Bpk Bupati Muara Enim, sy warga ds kepur mau melaporkan pungli di SMP",
        P,
        "Kpd Yth Bpk Bupati Muara Enim, sy warga ds kepur mau melaporkan pungli di SMP",
        PUNGLI,
        "Desa Kepur, Kec. Muara Enim",
    ),
    Case(
        "minta tolong pak, ada pohon tumbang menutup jalan di lubai ulu",
        P,
        "minta tolong pak, ada pohon tumbang menutup jalan di lubai ulu",
        BENCANA,
        "Kec. Lubai Ulu",
    ),
    Case(
        "Sampah di TPS pasar muara enim tdk diangkut 2 minggu",
        P,
        "Sampah di TPS pasar muara enim tdk diangkut 2 minggu",
        LH,
        "Kec. Muara Enim",
    ),
    Case(
        "limbah tambang batubara mencemari sungai di tanjung enim",
        P,
        "limbah tambang batubara mencemari sungai di tanjung enim",
        LH,
        "Kel. Tanjung Enim, Kec. Lawang Kidul",
    ),
    Case(
        "Kebakaran lahan di Benakat, asap tebal",
        P,
        "Kebakaran lahan di Benakat, asap tebal",
        BENCANA,
        "Kec. Benakat",
    ),
    Case(
        "warga semendo darat laut mengeluh jalan longsor",
        P,
        "warga semendo darat laut mengeluh jalan longsor",
        BENCANA,
        "Kec. Semende Darat Laut",
    ),
    Case("kec. gelumbng banjir", P, "kec. gelumbng banjir", BENCANA, "Kec. Gelumbang"),
    # place names that are everyday words, and near-misses of place names
    Case("gelombang PHK di pabrik", P, "gelombang PHK di pabrik"),
    Case(
        "pohon belimbing tetangga tumbang ke rumah",
        P,
        "pohon belimbing tetangga tumbang ke rumah",
        BENCANA,
    ),
    Case(
        "lapor jalan di kec. belimbing rusak",
        P,
        "jalan di kec. belimbing rusak",
        INFRA,
        "Kec. Belimbing",
    ),
    Case(
        "lapor jalan rusak di ds sukamaju kec cibeber",
        P,
        "jalan rusak di ds sukamaju kec cibeber",
        INFRA,
    ),
    # ambiguous topics: no guess
    Case(
        "lapor guru dan bidan desa jarang masuk kerja", P, "guru dan bidan desa jarang masuk kerja"
    ),
    Case("jalan ke puskesmas rusak", P, "jalan ke puskesmas rusak"),
    Case("lapor sekolah banjir", P, "sekolah banjir", BENCANA, hint=SHORT),
    Case(
        "lapor jalan dan jembatan di desa kami rusak, juga sekolah bocor",
        P,
        "jalan dan jembatan di desa kami rusak, juga sekolah bocor",
        INFRA,
    ),
    Case(
        "lapor guru SD minta uang les wajib 100rb/bulan",
        P,
        "guru SD minta uang les wajib 100rb/bulan",
        PUNGLI,
    ),
    Case("lapor ada kejadian pencurian sapi di desa", P, "ada kejadian pencurian sapi di desa"),
    # ---------------------------------------------------------------- structured forms
    Case(
        "LAPOR tanjungenim air mati",
        P,
        "air mati",
        AIR,
        "Kel. Tanjung Enim, Kec. Lawang Kidul",
    ),
    Case(
        "LAPOR desa Sukajadi listrik padam 2 hari",
        P,
        "listrik padam 2 hari",
        LISTRIK,
        "Desa Sukajadi, Kec. Sungai Rotan",
    ),
    Case(
        "LAPOR#infrastruktur#kec lawang kidul#jalan amblas",
        P,
        "jalan amblas",
        INFRA,
        "Kec. Lawang Kidul",
    ),
    Case(
        "LAPOR#kesehtan#Gelumbang#dokter puskesmas jarang ada",
        P,
        "dokter puskesmas jarang ada",
        SEHAT,
        "Kec. Gelumbang",
    ),
    # a field that is not a known place stays in the text: nothing is lost
    Case("LAPOR#sampah#desa Sukamaju#numpuk", P, "sampah#desa Sukamaju#numpuk", LH),
    Case("LAPOR#gelumbang#jalan#rusak", P, "jalan#rusak", INFRA, "Kec. Gelumbang"),
    Case(
        "Lapor jln rusak di RT 03/RW 02 ds. Putak",
        P,
        "jln rusak di RT 03/RW 02 ds. Putak",
        INFRA,
        "Desa Putak, Kec. Gelumbang",
    ),
    Case("LAPOR jalan rusak", P, "jalan rusak", INFRA, hint=SHORT),
    Case("lapor", P, "", hint=SHORT),
    Case("LAPOR pungli", P, "pungli", PUNGLI, hint=SHORT),
    # ---------------------------------------------------------------- odd and hostile text
    Case(
        "lapor harga pupuk subsidi Rp 150.000,- per karung, terlalu mahal",
        P,
        "harga pupuk subsidi Rp 150.000,- per karung, terlalu mahal",
    ),
    Case(
        "😡😡 jalan rusak terus, pemerintah kemana?",
        P,
        "😡😡 jalan rusak terus, pemerintah kemana?",
        INFRA,
    ),
    Case("🙏", P, "🙏", hint=SHORT),
    Case("'; DROP TABLE messages;--", P, "'; DROP TABLE messages;--"),
    Case(
        "lapor <script>alert(1)</script> jalan rusak",
        P,
        "<script>alert(1)</script> jalan rusak",
        INFRA,
    ),
    Case("LAPOR 1=1; DELETE FROM users", P, "1=1; DELETE FROM users"),
    Case("lapor x' OR '1'='1 --", P, "x' OR '1'='1 --"),
]


def test_the_table_is_big_enough_and_has_no_duplicates() -> None:
    assert len(CASES) >= 80
    assert len({c.sms for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[repr(c.sms)[:50] for c in CASES])
def test_parse(case: Case) -> None:
    case.check(parse_strict(case.sms, default_tables()))
