"""Follow-ups: does an SMS add to an earlier report rather than make a new one? Pure.

Citizens on feature phones write one report in several SMS: "LAPOR jalan rusak di desa X",
then a minute later "lubangnya besar dekat SD 5, sudah 3 bulan", without a keyword. Such an
SMS is attached to the report as additional text (a *follow-up*), forwarded upstream as an
update of it (``update_of``), and answered with a short receipt.

An SMS is a follow-up of a report when either

- it **names** the report: ``#125 ...``, ``TAMBAH 125 ...`` (the words of ``[followups]`` in
  keywords.toml), or it quotes the gateway's receipt ("No. laporan: 125"); it is attached
  whatever the time, but only to a report **of the same sender** ("no wrong door": a number
  that is someone else's report, or no report at all, leaves the SMS a report of its own, whole);
  what follows the reference must be something to add (not ``CEK``, ``INFO``, ``BANTUAN`` or
  another keyword, not a status question, not empty);
- or, without naming one, it is a keywordless complaint (kind ``pengaduan``, no keyword, no
  question, no help asked) from the same number within ``window`` seconds after that number's
  last report (measured on the SMS centre's timestamps, so a wrong box clock changes nothing;
  ``window`` 0 turns this off).

A follow-up is never attached to another follow-up, to a message handled locally (CEK, help) or
to a purged report. The record a follow-up is forwarded with is the report's (kind, flags,
category, place), with its own text; its own place, when it names one, wins, and a privacy flag
on either side holds for the update.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sms1708.core.grammar import DEFAULT_FOLLOWUP_WORDS, FORWARDED_KINDS, GrammarTables, Record

DEFAULT_WORDS = DEFAULT_FOLLOWUP_WORDS
DEFAULT_WINDOW = 30 * 60.0

#: where a reference was found
HASH, WORD, QUOTE = "hash", "word", "quote"

_HASH = re.compile(r"#\s?([0-9]{1,12})(?![0-9])[\s#*.:,/\-]*")
_NUMBER = re.compile(
    r"[\s#*.:,/\-]*(?:(?:no|nomor|nomer|nmr|laporan)\b[\s.:]*)*#?\s?([0-9]{1,12})(?![0-9])"
    r"[\s#*.:,/\-]*",
    re.IGNORECASE,
)
#: the gateway's receipts, as a citizen's phone quotes them back (see core.replies.TEMPLATES)
_QUOTES = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"No\.\s?laporan\s?:\s?([0-9]{1,12})",
        r"laporan Anda kami terima, No\.\s?([0-9]{1,12})",
        r"Tambahan untuk laporan\s([0-9]{1,12})\sditerima",
        r"Report no\.\s?([0-9]{1,12})",
        r"Report received, no\.\s?([0-9]{1,12})",
        r"Addition to report\s([0-9]{1,12})\sreceived",
    )
)


@dataclass(frozen=True)
class Reference:
    """A report named in an SMS: the number as written and the SMS without the reference."""

    number: str
    text: str
    how: str  # hash | word | quote


@dataclass(frozen=True)
class Report:
    """A report a follow-up may join, as the store knows it."""

    id: int
    own: bool  # sent from the same number as the new SMS
    at: float | None  # SMS centre time of the report (unix), None: unknown
    attachable: bool = True  # a forwarded report, not itself a follow-up, not purged
    kind: str = "pengaduan"
    anonymous: bool = False
    confidential: bool = False
    category: str | None = None
    location: str | None = None
    location_code: str | None = None


@dataclass(frozen=True)
class Attach:
    report_id: int
    record: Record  # what the follow-up is stored and forwarded as
    why: str  # "named" | "window"


def reference(text: str, words: Sequence[str] = DEFAULT_WORDS) -> Reference | None:
    """The report an SMS names at its start (``#125``, ``TAMBAH 125``, ``tambahan no. 125:``)
    or by quoting a receipt anywhere; None if it names none."""
    body = text.strip()
    m = _HASH.match(body)
    if m:
        return Reference(m.group(1), body[m.end() :].strip(), HASH)
    head = re.match(r"[^\W\d_]+", body)
    if head and head.group().upper() in {w.upper() for w in words}:
        n = _NUMBER.match(body, head.end())
        if n:
            return Reference(n.group(1), body[n.end() :].strip(), WORD)
    for q in _QUOTES:
        found = q.search(body)
        if found:
            rest = _unquote(body, found)
            return Reference(found.group(1), rest, QUOTE)
    return None


_WORD = re.compile(r"[^\s#*.:,/\-?!]+")
_GLUED = re.compile(r"([^\W\d_]+)[0-9]{1,12}")


def opens_with_keyword(text: str, tables: GrammarTables) -> bool:
    """Does the SMS start (after privacy flags) with a keyword of any kind, or a typo of one
    the grammar accepts? ("CEK jalan rusak di desa ..." is a complaint for the grammar, whose
    keyword it drops; it still is no follow-up.)"""
    for m in _WORD.finditer(text):
        word = m.group()
        if tables.flag_of(word):
            continue
        glued = _GLUED.fullmatch(word)
        return tables.keyword_of(word) is not None or (
            glued is not None and tables.keyword_of(glued.group(1)) is not None
        )
    return False


def _unquote(body: str, found: re.Match[str]) -> str:
    """The citizen's own words around a quoted receipt: the receipt's sentence(s) removed."""
    end = found.end()
    # a receipt goes on to "Untuk cek status, kirim: CEK 125" (or the English equivalent)
    tail = re.match(
        r"[.\s]*(?:Untuk cek status, kirim: CEK\s?[0-9]+|To check: send CEK\s?[0-9]+"
        r"|Terima kasih|Thank you|Agar bisa ditindaklanjuti,.*?sejak kapan"
        r"|So that it can be acted on,.*?since when)?[.\s]*",
        body[end:],
        re.IGNORECASE | re.DOTALL,
    )
    if tail:
        end += tail.end()
    lead = re.search(
        r"(?:Terima kasih, laporan Anda sudah kami terima\.|Thank you, your report was "
        r"received\.)\s*$",
        body[: found.start()],
        re.IGNORECASE,
    )
    head = body[: lead.start() if lead else found.start()]
    return " ".join(f"{head} {body[end:]}".split())


def seconds(iso: str | None) -> float | None:
    """Unix seconds of an ISO 8601 time with offset; None when it has none or is not one."""
    if not iso:
        return None
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return t.timestamp() if t.utcoffset() is not None else None


def decide(
    record: Record,
    ref: Reference | None,
    rest: Record | None,
    named: Report | None,
    last: Report | None,
    *,
    now: float | None,
    window: float,
    sender_type: str = "international",
    keyword_first: bool = False,
) -> Attach | None:
    """Attach this SMS to a report, or not (None: it is what ``record`` says).

    ``record``: the whole SMS parsed; ``ref``: the report it names (:func:`reference`), with
    ``rest`` the text after the reference parsed, and ``named`` that report as the store found
    it (None: no such report); ``last``: the sender's last report; ``now``: the SMS centre time
    of this SMS (None: unknown, no joining by time); ``window``: seconds (0: no joining by time);
    ``keyword_first``: the SMS (after a named reference: its rest) opens with a keyword
    (:func:`opens_with_keyword`), whatever the grammar made of it.
    """
    if sender_type == "alphanumeric":
        return None
    if ref is not None:
        if named is None or not named.own or not named.attachable or rest is None:
            return None  # not this sender's report: a report of its own, whole
        if keyword_first or rest.keyword is not None or rest.kind not in FORWARDED_KINDS:
            return None
        if not rest.text:
            return None
        return Attach(named.id, merged(rest, named), "named")
    if keyword_first or record.keyword is not None or record.kind != "pengaduan":
        return None
    if not record.text:
        return None
    if last is None or not last.own or not last.attachable or window <= 0:
        return None
    if now is None or last.at is None or not 0 <= now - last.at <= window:
        return None
    return Attach(last.id, merged(record, last), "window")


def merged(own: Record, report: Report) -> Record:
    """The follow-up's record: the report's kind, flags and category (a word of the addition
    does not re-file the report), its own text; its own place where it names one (it may be
    more precise), else the report's."""
    located = own.location is not None
    return replace(
        own,
        kind=report.kind if report.kind in FORWARDED_KINDS else own.kind,
        anonymous=own.anonymous or report.anonymous,
        confidential=own.confidential or report.confidential,
        category=report.category or own.category,
        location=own.location if located else report.location,
        location_code=own.location_code if located else report.location_code,
        reference=None,
        hint=None,
    )
