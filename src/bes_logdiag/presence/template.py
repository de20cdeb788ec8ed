"""Message templates of the Presence rules: str.format, a singular|plural spec, unknown fields shown."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

PLURAL = "|"
"""In a message template, `{count:one|many}` prints `one` when count is 1, else `many`; either side
may name fields, e.g. `{count:this domain has|these {count} domains have}`."""


def fill(template: str, fields: Mapping[str, object]) -> str:
    """`template` with `fields` filled in; a field it names but `fields` lacks is printed as
    written (`{name}`), so a typo in the rule file shows in the output instead of crashing."""
    return _TEMPLATE.vformat(template, (), _Fields(fields))


class _Fields(dict[str, object]):
    """Template values; an unknown field is left as `{name}` rather than raising."""

    def __missing__(self, name: str) -> str:
        return _Unknown("{" + name + "}")


class _Unknown(str):
    """The text shown for a field a rule does not supply, whatever its format spec."""


class _Template(string.Formatter):
    """str.format, plus the singular|plural format spec (see PLURAL)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Unknown):
            return value
        if PLURAL in format_spec:
            singular, plural = format_spec.split(PLURAL, 1)
            return singular if value == 1 and not isinstance(value, bool) else plural
        return str(super().format_field(value, format_spec))


_TEMPLATE = _Template()
