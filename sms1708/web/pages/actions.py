"""What operators do to one complaint: replay (dry run first), reply to the citizen, reveal the
number, correct category/location, detach a follow-up SMS, block the number. Each needs the
operator role, a valid CSRF token (checked by the app for every POST) and is written to the
audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sms1708 import sitetime
from sms1708.core import gate
from sms1708.core.mask import mask_number
from sms1708.core.pdu import encode_submit
from sms1708.errors import PduEncodeError
from sms1708.store.console import CORRECTABLE
from sms1708.web.app import Ctx
from sms1708.web.http import HTTPError, Response, redirect
from sms1708.web.pages.complaints import detail_page, load

if TYPE_CHECKING:
    from sms1708.web.app import App

MAX_REPLY = 640  # four SMS parts in GSM-7


def _mid(ctx: Ctx) -> int:
    return int(ctx.req.params["id"])


def replay_preview(ctx: Ctx) -> Response:
    ctx.require("operator")
    ids = ctx.store.outbox.replay(message_id=_mid(ctx), now=ctx.now, dry_run=True)
    return detail_page(ctx, replay_ids=ids)


def replay(ctx: Ctx) -> Response:
    ctx.require("operator")
    ids = ctx.store.outbox.replay(message_id=_mid(ctx), now=ctx.now, dry_run=False)
    if not ids:
        return detail_page(ctx, status=409, replay_ids=[])
    ctx.audit("replay", target=f"laporan {_mid(ctx)}")
    return redirect(f"/laporan/{_mid(ctx)}?ok=replayed")


def reply(ctx: Ctx) -> Response:
    ctx.require("operator")
    m = load(ctx)
    text = ctx.req.form.get("text", "").replace("\r\n", "\n").strip()
    if ctx.req.form.get("preview"):
        return detail_page(ctx, draft=text)
    if not text:
        ctx.notices.append(ctx.t("reply_empty"))
        return detail_page(ctx, status=400, draft=text)
    if len(text) > MAX_REPLY:
        raise HTTPError(400, f"at most {MAX_REPLY} characters")
    try:
        encode_submit(m["sender"], text)
    except PduEncodeError as e:
        raise HTTPError(400, f"cannot send: {e}") from None
    # the operator `send` path: through the gate into the reply queue; the daemon sends it
    out = gate.operator_sms(ctx.app.cfg.modems[0].name, m["sender"], text, message_id=m["id"])
    queued = ctx.store.replies.queue(
        out, guard=ctx.app.cfg.replies.guard(), now=ctx.now, by=ctx.user
    )
    target = f"laporan {m['id']}"
    if queued.refused:
        ctx.audit(
            "reply_refused", target=target, detail=f"reply #{queued.reply_id}: {queued.refused}"
        )
        ctx.notices.append(ctx.t("reply_refused", reason=queued.refused))
        return detail_page(ctx, status=409, draft=text)
    ctx.audit("reply", target=target, detail=f"reply #{queued.reply_id}, {len(text)} chars")
    return redirect(f"/laporan/{m['id']}?ok=reply_queued")


def reveal(ctx: Ctx) -> Response:
    ctx.require("operator")
    m = load(ctx)
    ctx.audit("reveal_number", target=f"laporan {m['id']}", detail=mask_number(m["sender"]))
    return detail_page(ctx, revealed=m["sender"])


def correct(ctx: Ctx) -> Response:
    ctx.require("operator")
    m = load(ctx)
    changed = []
    for field in CORRECTABLE:
        if field not in ctx.req.form:
            continue
        value = ctx.req.form[field].strip()[:120] or None
        if value != m[field]:
            old = ctx.store.console.correct(m["id"], field, value, by=ctx.user, now=ctx.now)
            changed.append(f"{field}: {old!r} -> {value!r}")
    if changed:
        summary = "; ".join(changed)
        ctx.audit("correct", target=f"laporan {m['id']}", detail=summary)
        # a destination that has the report already gets the correction as an update
        at = sitetime.local(ctx.now).isoformat(timespec="seconds")
        sent_to = ctx.store.console.queue_correction(
            m["id"], summary, by=ctx.user, now=ctx.now, received_at=at
        )
        if sent_to:
            ctx.audit(
                "correction_forwarded", target=f"laporan {m['id']}", detail=", ".join(sent_to)
            )
    return redirect(f"/laporan/{m['id']}?ok=corrected")


def reparse(ctx: Ctx) -> Response:
    """Read the SMS again with the current grammar tables (like `sms1708 reparse`, for one)."""
    ctx.require("operator")
    m = load(ctx)
    if m.get("purged_at"):
        raise HTTPError(409, "this report's text was purged (retention)")
    from sms1708 import reparse as rereading
    from sms1708.daemon import grammar_tables

    if m.get("update_of") is not None:
        # its record is its report's (kind, flags, category): detach it to read it on its own
        raise HTTPError(409, "a follow-up SMS takes its record from its report; detach it first")
    diff = rereading.diff(m, grammar_tables(ctx.app.cfg))
    if diff:
        ctx.store.maintenance.apply_records({m["id"]: diff})
    detail = rereading.Change(m["id"], m, diff).summary() or "no change"
    ctx.audit("reparse", target=f"laporan {m['id']}", detail=detail[:500])
    return redirect(f"/laporan/{m['id']}?ok=reparsed")


def detach(ctx: Ctx) -> Response:
    """A follow-up SMS joined the wrong report: make it a report of its own (like
    `sms1708 detach --yes`): read again, a fresh key, forwarded as a new report."""
    ctx.require("operator")
    m = load(ctx)
    from sms1708.daemon import grammar_tables

    try:
        d = ctx.store.followups.detach(
            m["id"],
            tables=grammar_tables(ctx.app.cfg),
            routing=ctx.app.cfg.upstream.routing(),
            now=ctx.now,
            dry_run=False,
        )
    except (LookupError, ValueError) as e:
        raise HTTPError(409, str(e.args[0])) from None
    ctx.audit(
        "detach", target=f"laporan {m['id']}", detail=f"from laporan {d.report_id}, now {d.kind}"
    )
    return redirect(f"/laporan/{m['id']}?ok=detached")


def block(ctx: Ctx) -> Response:
    ctx.require("operator")
    m = load(ctx)
    reason = ctx.req.form.get("reason", "").strip()[:200]
    ctx.store.blocked.block(m["sender"], by=ctx.user, reason=reason, now=ctx.now)
    ctx.audit("block_number", target=mask_number(m["sender"]), detail=reason or None)
    return redirect(f"/laporan/{m['id']}?ok=blocked")


def unblock(ctx: Ctx) -> Response:
    ctx.require("operator")
    m = load(ctx)
    ctx.store.blocked.unblock(m["sender"], by=ctx.user, now=ctx.now)
    ctx.audit("unblock_number", target=mask_number(m["sender"]))
    return redirect(f"/laporan/{m['id']}?ok=unblocked")


def register(app: App) -> None:
    app.page("GET", "/laporan/<int:id>/kirim-ulang", replay_preview)
    app.page("POST", "/laporan/<int:id>/kirim-ulang", replay)
    app.page("POST", "/laporan/<int:id>/balas", reply)
    app.page("POST", "/laporan/<int:id>/nomor", reveal)
    app.page("POST", "/laporan/<int:id>/koreksi", correct)
    app.page("POST", "/laporan/<int:id>/baca-ulang", reparse)
    app.page("POST", "/laporan/<int:id>/pisahkan", detach)
    app.page("POST", "/laporan/<int:id>/blokir", block)
    app.page("POST", "/laporan/<int:id>/buka-blokir", unblock)
