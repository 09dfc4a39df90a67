"""Typed answers of the Graph API, parsed defensively: a missing or mistyped key raises UnexpectedResponseError,
never KeyError/TypeError."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from softdukan.whatsapp.client.http import UnexpectedResponseError, expect_object, expect_str


def _first(body: dict[str, Any], key: str) -> dict[str, Any]:
    items = body.get(key)
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise UnexpectedResponseError(200, f"expected a non-empty list of objects {key!r} in {str(body)[:200]}")
    return items[0]


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """§3.0: ``messages[0].id`` is the wamid; ``contacts[0]`` echoes the recipient."""

    wamid: str
    wa_id: str | None
    input: str | None
    message_status: str | None  # "accepted" | "held_for_quality_assessment" on template sends; often absent

    @classmethod
    def parse(cls, payload: Any) -> SentMessage:
        body = expect_object(payload)
        message = _first(body, "messages")
        contacts = body.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict) else {}
        return cls(
            wamid=expect_str(message, "id"),
            wa_id=_opt_str(contact, "wa_id"),
            input=_opt_str(contact, "input"),
            message_status=_opt_str(message, "message_status"),
        )


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """§4: the download URL expires after 5 minutes."""

    id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None

    @classmethod
    def parse(cls, payload: Any) -> MediaInfo:
        body = expect_object(payload)
        size = body.get("file_size")
        if isinstance(size, str) and size.strip().isdigit():
            size = int(size)  # Meta sends it as a string ("61901")
        return cls(
            id=expect_str(body, "id"),
            url=expect_str(body, "url"),
            mime_type=_opt_str(body, "mime_type"),
            sha256=_opt_str(body, "sha256"),
            file_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class TemplateCreated:
    """§9.1: ``{"id","status":"PENDING","category"}`` (Meta may re-categorize on create)."""

    id: str
    status: str
    category: str | None

    @classmethod
    def parse(cls, payload: Any) -> TemplateCreated:
        body = expect_object(payload)
        return cls(id=expect_str(body, "id"), status=expect_str(body, "status"), category=_opt_str(body, "category"))


@dataclass(frozen=True, slots=True)
class TemplatePage:
    """One page of ``GET /{waba}/message_templates``; ``after`` is None on the last page."""

    data: list[dict[str, Any]] = field(default_factory=list)
    after: str | None = None

    @classmethod
    def parse(cls, payload: Any) -> TemplatePage:
        data, after = parse_page(payload)
        return cls(data=data, after=after)


def parse_page(payload: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Graph paging: ``{"data":[…], "paging":{"cursors":{"after"}, "next"}}``. There is a next page only when
    ``paging.next`` is present (the last page may still carry cursors)."""
    body = expect_object(payload)
    data = body.get("data")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UnexpectedResponseError(200, f"expected 'data' to be a list of objects in {str(body)[:200]}")
    paging = body.get("paging")
    after: str | None = None
    if isinstance(paging, dict) and paging.get("next"):
        cursors = paging.get("cursors")
        if isinstance(cursors, dict):
            after = _opt_str(cursors, "after")
    return data, after
