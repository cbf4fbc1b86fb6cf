"""The command line's actions in the console's audit log (who, when, what), like the console's
own: replay, reparse, send, block/unblock, export and purge. The actor is ``cli:`` and the
operator at the terminal (the sudo caller where there is one), as `sms1708 user` writes its
account changes."""

from __future__ import annotations

from typing import Any

from sms1708 import sitetime

#: how an actor at the command line is written (the console writes the account name)
CLI = "cli:"


def audit(store: Any, action: str, target: str | None = None, detail: str | None = None) -> None:
    """Record one command-line action, with the operator's name, now."""
    from sms1708.cli.common import operator_name

    store.accounts.audit(
        CLI + operator_name(), action, now=sitetime.now(), target=target, detail=detail
    )


def ids(items: Any) -> str:
    """Complaint ids for the target column: ``#3 #7 #9``, the first 20 and how many more."""
    listed = sorted(int(i) for i in items)
    text = " ".join(f"#{i}" for i in listed[:20])
    return text + (f" (+{len(listed) - 20})" if len(listed) > 20 else "")


def sent(queued: Any) -> str:
    """What became of an SMS `sms1708 send` queued (its text is not kept here)."""
    if queued.refused:
        return f"reply #{queued.reply_id} refused: {queued.refused}"
    forced = f" past {queued.overridden} (--force)" if queued.overridden else ""
    return f"reply #{queued.reply_id} queued{forced}"
