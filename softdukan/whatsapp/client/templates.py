"""Template management: ``/{waba-id}/message_templates`` and ``/{template-id}`` (reference §9)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from softdukan.whatsapp.client.http import GraphBase, expect_object, expect_success, path_id
from softdukan.whatsapp.client.types import TemplateCreated, TemplatePage

TEMPLATE_FIELDS: tuple[str, ...] = (
    "id", "name", "language", "status", "category", "components", "parameter_format", "rejected_reason",
    "quality_score",
)
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")


def _check_category(category: str) -> str:
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}; got {category!r:.40}")
    return category.upper()


class TemplatesAPI(GraphBase):
    async def create_template(
        self,
        waba_id: str,
        *,
        name: str,
        language: str,
        category: str,
        components: Sequence[dict[str, Any]],
        parameter_format: str | None = None,
    ) -> TemplateCreated:
        """Submit a template for review; it starts PENDING."""
        body: dict[str, Any] = {
            "name": name,
            "language": language,
            "category": _check_category(category),
            "components": list(components),
        }
        if parameter_format is not None:
            if parameter_format.upper() not in PARAMETER_FORMATS:
                raise ValueError("parameter_format must be POSITIONAL or NAMED")
            body["parameter_format"] = parameter_format.upper()
        answer = await self.request("POST", f"{path_id(waba_id, 'waba_id')}/message_templates", json=body)
        return TemplateCreated.parse(answer)

    async def list_templates(
        self,
        waba_id: str,
        *,
        limit: int = 100,
        after: str | None = None,
        status: str | None = None,
        name: str | None = None,
        fields: Sequence[str] = TEMPLATE_FIELDS,
    ) -> TemplatePage:
        """One page of templates; pass ``page.after`` to get the next one."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        params = {"fields": list(fields), "limit": limit, "after": after, "status": status, "name": name}
        answer = await self.request("GET", f"{path_id(waba_id, 'waba_id')}/message_templates", params=params)
        return TemplatePage.parse(answer)

    async def iter_templates(
        self,
        waba_id: str,
        *,
        limit: int = 100,
        status: str | None = None,
        name: str | None = None,
        fields: Sequence[str] = TEMPLATE_FIELDS,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every template of the account, following ``paging.cursors.after`` page by page."""
        after: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.list_templates(
                waba_id, limit=limit, after=after, status=status, name=name, fields=fields
            )
            for item in page.data:
                yield item
            if page.after is None or page.after in seen or not page.data:
                return  # last page (or a server repeating a cursor: never loop forever)
            seen.add(page.after)
            after = page.after

    async def get_template(self, template_id: str, fields: Sequence[str] = TEMPLATE_FIELDS) -> dict[str, Any]:
        answer = await self.request("GET", path_id(template_id, "template_id"), params={"fields": list(fields)})
        return expect_object(answer)

    async def edit_template(
        self,
        template_id: str,
        *,
        components: Sequence[dict[str, Any]] | None = None,
        category: str | None = None,
    ) -> None:
        """Edit an existing template (10 edits per 30 days, 1 per 24 h when approved)."""
        if components is None and category is None:
            raise ValueError("give the new components, the new category, or both")
        body: dict[str, Any] = {}
        if components is not None:
            body["components"] = list(components)
        if category is not None:
            body["category"] = _check_category(category)
        expect_success(await self.request("POST", path_id(template_id, "template_id"), json=body))

    async def delete_template(self, waba_id: str, name: str, hsm_id: str | None = None) -> None:
        """Delete a template by name (all languages), or one language with ``hsm_id`` (its template id)."""
        if not isinstance(name, str) or not name:
            raise ValueError("the template name is required")
        params = {"name": name, "hsm_id": path_id(hsm_id, "hsm_id") if hsm_id is not None else None}
        answer = await self.request("DELETE", f"{path_id(waba_id, 'waba_id')}/message_templates", params=params)
        expect_success(answer)
