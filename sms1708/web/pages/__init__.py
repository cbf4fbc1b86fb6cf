"""The console's pages, one module per area; :func:`register` wires their routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sms1708.web.app import App


def register(app: App) -> None:
    from sms1708.web.pages import actions, admin, complaints, dashboard, session, stats

    for module in (session, dashboard, complaints, actions, stats, admin):
        module.register(app)
