"""What a message means when it says it in words rather than with a keyword. Pure.

The grammar (:mod:`sms1708.core.grammar`) reads keywords and flags at the start of a message.
People also write "gimana caranya lapor", "mau tanya ...", "laporan saya nomor 77 sudah sampai
mana?", "kami mengusulkan ...", "tolong rahasiakan nama saya". This module reads those phrasings
from a :class:`Phrases` table (the ``[phrases]`` and ``[privacy]`` sections of keywords.toml) and
says which kind, reference or flags they point to. Anything it does not recognise stays what the
grammar made of it: a complaint (no wrong door).

A phrase is one or more words, any case; a word ending in ``*`` matches every word starting with
it. Matching is on whole words, so "rahasia umum" never matches inside another word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sms1708.core.lexicon import split_words

Phrase = tuple[str, ...]


def _items(text: str) -> tuple[str, ...]:
    """``"a b, c"`` -> ``("a b", "c")``: the defaults below are written as comma lists."""
    return tuple(" ".join(x.split()) for x in text.split(",") if x.strip())


#: the built-in phrase table: the same as keywords.toml's [phrases] and [privacy] (a test checks)
DEFAULT_PHRASES: Mapping[str, Sequence[str]] = {
    # asking how to use the service: bantuan when the message says little else
    "help": _items(
        """
        cara lapor, caranya lapor, cara melapor, cara pelaporan, cara mengadu, cara pengaduan,
        cara kirim, cara sms, cara ngelapor, cara laporan, gimana caranya, bagaimana caranya,
        gmn caranya, gmana caranya, bgmn caranya, format sms*, formatnya, format lapor*,
        format pengaduan, format aduan, ketik apa, kirim ke mana, kirim kemana
        """
    ),
    # announcing a question: informasi (regional: Palembang "nak/galak nanyo", Javanese
    # "nyuwun pirsa", "arep takon", Sundanese "bade naros")
    "ask": _items(
        """
        mau tanya, mau nanya, mau bertanya, mo tanya, mw tanya, mau tny, numpang tanya,
        numpang nanya, numpang tny, ingin bertanya, ingin tanya, boleh tanya, boleh nanya,
        izin tanya, ijin tanya, sekedar tanya, mohon info, mohon informasi, minta info,
        minta informasi, mohon infonya, nak nanyo, nak tanyo, galak nanyo, galak tanyo,
        numpang nanyo, nyuwun pirsa, nyuwun pirso, arep takon, ajeng takon, badhe takon,
        bade naros, bade tumaros, hoyong naros
        """
    ),
    # a question word near the start, with no complaint word: informasi
    "question_words": _items(
        """
        kapan, apakah, apa, apa2, adakah, dimana, berapa, bisakah, bolehkah, kpn, brp, apkh,
        syaratnya, syarat, jadwal, kapankah, dmn
        """
    ),
    # words of a complaint: a question with one of these is a complaint phrased as a question
    # (Palembang/Musi "dak" = tidak, "katek" = tidak ada; Javanese "ora", "durung"; Sundanese
    # "teu", "acan")
    "complaint_words": _items(
        """
        rusak, belum, blm, blum, tidak, tdk, gak, ga, gk, nggak, ngga, enggak, kenapa, mengapa,
        knp, napa, kok, mati, padam, bocor, macet, pungli, dipungut, dipotong, hilang, lambat,
        terlambat, mahal, lama, tolong, dak, katek, ora, durung, teu, acan, parah, putus, banjir,
        korupsi, dimintai, diminta, ditolak, dipersulit, susah
        """
    ),
    # courtesy words skipped before a question word (Sundanese "punten", Javanese "nuwun
    # sewu", "nyuwun sewu", "sugeng")
    "courtesy": _items(
        """
        pak, bu, bpk, ibu, bapak, mas, mbak, min, admin, kak, permisi, maaf, mohon,
        assalamualaikum, asslamualaikum, ass, salam, selamat, pagi, siang, sore, malam, halo,
        hallo, hai, punten, nuwun, nyuwun, sewu, sugeng, wr, wb, sy, saya, kami, yth, mo, mau
        """
    ),
    # aspirations: these words anywhere make a message without a keyword an aspirasi
    "aspiration": _items(
        """
        usul, usulan, usulkan, mengusulkan, kami usulkan, saya usulkan, masukan, saran,
        menyarankan, aspirasi, aspirasinya
        """
    ),
    # ... except when the word means something else here ("masukan ke daftar": put into)
    "not_aspiration": _items(
        """
        masukan ke, masukan kedalam, masukan dalam, masukan nama, masukan data, sudah diusulkan,
        usulan tidak, usulan tdk, usulan kami tidak, usulan kami tdk, usulan ditolak
        """
    ),
    # a status question: a report word, then its number, then one of these
    "report_words": ("laporan", "pengaduan", "aduan", "tiket", "laporanku", "lapornya"),
    "progress": _items(
        """
        sampai mana, sampe mana, smp mana, sdh sampai, sudah sampai, gimana, bagaimana, bgmn,
        gmn, kabarnya, kabar, perkembangan, perkembangannya, tindak lanjut, tindak lanjutnya,
        ditindaklanjuti, ditindak lanjuti, diproses, diproses?, ditanggapi, direspon, direspons,
        status, statusnya, progres, progress, kapan, sudah diterima, sdh diterima,
        diterima belum
        """
    ),
}

DEFAULT_PRIVACY: Mapping[str, Sequence[str]] = {
    # hiding words: near an identity word they ask for anonymity, alone for confidentiality
    "hide": _items(
        """
        rahasiakan, dirahasiakan, merahasiakan, rahasiain, dirahasiain, sembunyikan,
        disembunyikan, samarkan, disamarkan
        """
    ),
    # withholding phrases: only near an identity word, and then they ask for anonymity
    "withhold": _items(
        """
        jangan sebut, jangan disebut, jangan sebutkan, jangan disebutkan, jgn sebut, jgn disebut,
        jangan cantumkan, jangan dicantumkan, jangan tulis, jangan ditulis, jangan tampilkan,
        jangan ditampilkan, jangan dibuka, jangan bocorkan, jangan dibocorkan,
        tidak usah disebut, tdk usah disebut, gak usah disebut, ga usah disebut, tanpa nama,
        tanpa identitas, tidak mau disebut, tdk mau disebut, dak usah disebut, ojo disebut,
        ulah disebut
        """
    ),
    "identity": ("nama", "identitas", "jati diri", "data diri", "nomor saya", "no hp saya"),
    # a flag word in another sense: no flag
    "not_flags": _items(
        """
        rahasia umum, rahasia negara, rahasia publik, rahasia dapur, surat kaleng anonim,
        surat anonim, pesan anonim, telepon anonim, telpon anonim, akun anonim, nomor anonim,
        penelepon anonim
        """
    ),
}

#: words after a number that make it a count, not a report number
_COUNTED = frozenset(
    _items("kali, x, bulan, bln, hari, hr, tahun, thn, minggu, mgg, jam, orang, org, rumah, rt, rw")
    + _items("kk, rb, ribu, juta, jt")
)
_WINDOW = 3  # words between an identity word and a hiding phrase
_QUESTION_START = 4  # a question word must be among the first words (after courtesy words)
_HELP_WORDS = 9  # a help phrase in a longer message is part of a report


def phrase_words(text: str) -> Phrase:
    return tuple(w.lower() for w in re.findall(r"[^\W_]+\*?", text))


def _word_match(pattern: str, word: str) -> bool:
    return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern


@dataclass(frozen=True)
class PhraseIndex:
    """``phrases`` looked up by their first word, built once per table: at each word of a
    message only the phrases that can start there are tried (a dict look-up, plus the few whose
    first word is a ``prefix*``), not every phrase of the table."""

    #: first word -> ``(order, phrase)``, in table order
    exact: Mapping[str, tuple[tuple[int, Phrase], ...]]
    #: ``(prefix, order, phrase)`` for the phrases whose first word ends in ``*``
    prefixed: tuple[tuple[str, int, Phrase], ...]

    @classmethod
    def of(cls, phrases: Sequence[Phrase]) -> PhraseIndex:
        exact: dict[str, list[tuple[int, Phrase]]] = {}
        prefixed: list[tuple[str, int, Phrase]] = []
        for order, p in enumerate(phrases):
            if not p:
                continue
            if p[0].endswith("*"):
                prefixed.append((p[0][:-1], order, p))
            else:
                exact.setdefault(p[0], []).append((order, p))
        return cls({k: tuple(v) for k, v in exact.items()}, tuple(prefixed))

    def find(self, words: Sequence[str]) -> list[tuple[int, int]]:
        """Every ``(start, end)`` word span of ``words`` where one of the phrases is, by start
        and then in table order (as :func:`find`)."""
        out: list[tuple[int, int]] = []
        n = len(words)
        for i, w in enumerate(words):
            starting = self.exact.get(w, ())
            if self.prefixed:
                more = [(o, p) for pre, o, p in self.prefixed if w.startswith(pre)]
                if more:
                    starting = tuple(sorted((*starting, *more), key=lambda op: op[0]))
            for _, p in starting:
                end = i + len(p)
                if end <= n and all(
                    _word_match(q, x) for q, x in zip(p[1:], words[i + 1 : end], strict=True)
                ):
                    out.append((i, end))
        return out


def find(words: Sequence[str], phrases: Sequence[Phrase]) -> list[tuple[int, int]]:
    """Every ``(start, end)`` word span of ``words`` where one of ``phrases`` is: by start, and
    at one start in the order of ``phrases``."""
    return PhraseIndex.of(phrases).find(words)


@dataclass(frozen=True)
class Phrases:
    """The phrase tables (see :data:`DEFAULT_PHRASES`, :data:`DEFAULT_PRIVACY`)."""

    phrases: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_PHRASES)
    privacy: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_PRIVACY)

    @cached_property
    def _p(self) -> dict[str, tuple[Phrase, ...]]:
        out = {k: tuple(phrase_words(x) for x in v) for k, v in self.phrases.items()}
        out.update({k: tuple(phrase_words(x) for x in v) for k, v in self.privacy.items()})
        for key in (*DEFAULT_PHRASES, *DEFAULT_PRIVACY):
            out.setdefault(key, ())
        return out

    @cached_property
    def _index(self) -> dict[str, PhraseIndex]:
        return {k: PhraseIndex.of(v) for k, v in self._p.items()}

    @cached_property
    def _single(self) -> dict[str, frozenset[str]]:
        return {k: frozenset(p[0] for p in v if len(p) == 1) for k, v in self._p.items()}

    def _find(self, words: Sequence[str], key: str) -> list[tuple[int, int]]:
        return self._index[key].find(words)

    def _words(self, key: str) -> frozenset[str]:
        return self._single[key]

    # ------------------------------------------------------------------ kinds

    def status_reference(self, text: str, *, strict: bool = False) -> str | None:
        """The report number of a status question ("laporan saya nomor 77 sudah sampai mana?"):
        a report word, at most three words, the number, and a progress word anywhere. With
        ``strict`` (the message started with a keyword) a ``?`` alone is not enough."""
        words = [w.low for w in split_words(text, limit=60)]
        reports = self._words("report_words")
        number: str | None = None
        for i, w in enumerate(words):
            if w in reports:
                for j in range(i + 1, min(i + 5, len(words))):
                    if re.fullmatch(r"[0-9]{1,12}", words[j]):
                        after = words[j + 1] if j + 1 < len(words) else ""
                        if after not in _COUNTED:  # "2 kali", "3 bulan": not a number of a report
                            number = words[j]
                        break
                    if any(ch.isdigit() for ch in words[j]):
                        break
                if number:
                    break
        if number is None:
            return None
        if self._find(words, "progress") or (not strict and "?" in text):
            return number
        return None

    def is_help(self, text: str) -> bool:
        """A short message asking how to report ("gimana caranya lapor", "format smsnya apa")."""
        words = [w.low for w in split_words(text, limit=40)]
        if not 0 < len(words) <= _HELP_WORDS:
            return False
        return bool(self._find(words, "help") or self._find([_base(w) for w in words], "help"))

    def asks(self, text: str) -> bool:
        """An asking phrase near the start: "mau tanya ...", "numpang tanya ...", "nyuwun pirsa"."""
        words = [w.low for w in split_words(text, limit=12)]
        return any(s < 6 for s, _ in self._find(words, "ask"))

    def is_question(self, text: str) -> bool:
        """A question word near the start of a message with no complaint word ("kapan
        pendaftaran PPPK dibuka?"): a request for information."""
        words = [w.low for w in split_words(text, limit=80)]
        courtesy = self._words("courtesy")
        lead = [w for w in words[:8] if w not in courtesy][:_QUESTION_START]
        if not set(lead) & self._words("question_words"):
            return False
        return not (set(words) & self._words("complaint_words"))

    def is_aspiration(self, text: str) -> bool:
        """An aspiration said in words: "usul", "mengusulkan", "masukan" ... anywhere."""
        words = [w.low for w in split_words(text, limit=200)]
        hits = {s for s, _ in self._find(words, "aspiration")}
        for s, e in self._find(words, "not_aspiration"):
            hits -= set(range(s, e))
        return bool(hits)

    # ------------------------------------------------------------------ privacy

    def privacy_flags(self, text: str) -> set[str]:
        """``anonymous`` / ``confidential`` asked for in a phrase: "tolong rahasiakan nama saya"
        and "jangan sebut nama saya" (anonymous), "mohon laporan ini dirahasiakan"
        (confidential)."""
        words = [_base(w.low) for w in split_words(text, limit=200)]
        identity = [s for s, _ in self._find(words, "identity")]

        def near_identity(s: int, e: int) -> bool:
            return any(s - _WINDOW - 1 <= i <= e + _WINDOW for i in identity)

        flags: set[str] = set()
        for s, e in self._find(words, "hide"):
            flags.add("anonymous" if near_identity(s, e) else "confidential")
        for s, e in self._find(words, "withhold"):
            if near_identity(s, e) or words[s] == "tanpa":
                flags.add("anonymous")
        return flags

    def not_flag_spans(self, words: Sequence[str]) -> set[int]:
        """Indices of ``words`` (lower case) that are a flag word used in another sense."""
        out: set[int] = set()
        for s, e in self._find(words, "not_flags"):
            out.update(range(s, e))
        return out


def _base(low: str) -> str:
    """``namanya`` -> ``nama``, ``smsnya`` -> ``sms``."""
    return low[:-3] if low.endswith("nya") and len(low) > 5 else low
