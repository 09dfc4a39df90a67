"""Dashboard, backoffice and live-event routes (HTML), mounted beside /v1."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from softdukan.contact.upload_limit import UploadLimitMiddleware
from softdukan.dashboard.context import CsrfCookieMiddleware, csrf_protect
from softdukan.dashboard.render import PACKAGE


def _routers() -> list[APIRouter]:
    from softdukan.auth.views import router as auth_views
    from softdukan.dashboard.views import router as home_views

    routers = [auth_views, home_views]
    for module in ("softdukan.auth.settings_views", "softdukan.organization.views", "softdukan.team.views",
                   "softdukan.audit.views", "softdukan.notification.views", "softdukan.platform.realtime.views",
                   "softdukan.backoffice.views", "softdukan.backoffice.organization_detail",
                   "softdukan.inbound.backoffice", "softdukan.number.views",
                   "softdukan.conversation.views", "softdukan.template.views",
                   # import pages first: "/contacts/import" must not be read as "/contacts/{contact_id}"
                   "softdukan.contact.import_views", "softdukan.contact.views", "softdukan.contact.attribute_views",
                   "softdukan.contact.consent_views", "softdukan.segment.views", "softdukan.broadcast.views",
                   "softdukan.billing.views", "softdukan.wallet.views", "softdukan.wallet.backoffice",
                   "softdukan.plan.backoffice", "softdukan.subscription.purchase_views",
                   "softdukan.subscription.views", "softdukan.subscription.banner", "softdukan.support.views",
                   "softdukan.support.backoffice", "softdukan.policy.views", "softdukan.policy.backoffice",
                   "softdukan.lead.views", "softdukan.lead.backoffice", "softdukan.refund.views",
                   "softdukan.refund.backoffice"):
        try:
            routers.append(__import__(module, fromlist=["router"]).router)
        except ModuleNotFoundError as exc:  # a domain's pages not written yet
            if not module.startswith(str(exc.name)):  # a missing domain, not a broken import inside it
                raise
    return routers


def mount(app: FastAPI) -> None:
    settings = app.state.settings
    # every dashboard form is CSRF-checked by this router-level dependency
    dashboard = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
    for router in _routers():
        dashboard.include_router(router)
    app.include_router(dashboard)
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "dashboard" / "static")), name="static")
    app.add_middleware(CsrfCookieMiddleware, secret_key=settings.softdukan_secret_key, secure=settings.cookie_secure)
    app.add_middleware(UploadLimitMiddleware)  # contact files: refused above the limit before the form is parsed
