"""Template variables in text: `{{1}}` (positional) or `{{first_name}}` (named), reference §9.1."""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
POSITIONAL_NAME = re.compile(r"[1-9][0-9]{0,2}")
NAMED_NAME = re.compile(r"[a-z_][a-z0-9_]{0,59}")


@dataclass(frozen=True, slots=True)
class Scan:
    """What a text holds: variable names in order of appearance (repeats kept), and malformed placeholders."""

    names: list[str]
    malformed: list[str]
    stray_braces: bool

    @property
    def distinct(self) -> list[str]:
        return list(dict.fromkeys(self.names))


def scan(text: str | None, *, named: bool) -> Scan:
    names: list[str] = []
    malformed: list[str] = []
    pattern = NAMED_NAME if named else POSITIONAL_NAME
    for match in PLACEHOLDER.finditer(text or ""):
        inner = match.group(1)
        if pattern.fullmatch(inner):
            names.append(inner)
        else:
            malformed.append(match.group(0)[:40])
    rest = PLACEHOLDER.sub("", text or "")
    return Scan(names, malformed, "{{" in rest or "}}" in rest)


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each well-formed variable replaced by its value (unknown ones kept as written)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
