"""The SP4N-LAPOR! topic tree as last synced (``sms1708 lapor topics --sync``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from sms1708.store.base import Concern


class Topics(Concern):
    def replace(self, topics: Sequence[tuple[int, int, str]], *, now: float) -> None:
        """Keep exactly these ``(id, parent, name)`` topics, in one transaction."""
        with self.transaction() as c:
            c.execute("DELETE FROM lapor_topics")
            c.executemany(
                "INSERT INTO lapor_topics (id, parent, name, synced_at) VALUES (?, ?, ?, ?)",
                [(i, p, n, now) for i, p, n in topics],
            )

    def all(self) -> list[tuple[int, int, str]]:
        return [
            (int(r[0]), int(r[1]), str(r[2]))
            for r in self.conn.execute("SELECT id, parent, name FROM lapor_topics ORDER BY id")
        ]

    def synced_at(self) -> float | None:
        row = self.conn.execute("SELECT MAX(synced_at) FROM lapor_topics").fetchone()
        return float(row[0]) if row and row[0] is not None else None


def synced_topics(db_path: str) -> list[tuple[int, int, str]]:
    """The ``(id, parent, name)`` topics as last synced, read through a read-only connection
    (empty when never synced or no database): the forwarder re-reads them while running."""
    if not Path(db_path).exists():
        return []
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT id, parent, name FROM lapor_topics ORDER BY id").fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [(int(i), int(p), str(n)) for i, p, n in rows]
