"""The builders' presence hosts with only the appSettings keys the service is known to read.

builders.TRUSTED_SETTINGS also carries UCMA_APPLICATION_PORT and SUBSCRIPTION_EXPIRATION_SECONDS,
which the BEMS guide does not list: `presence check` now warns about such keys (setting-misspelt,
setting-unknown), so the tests of other rules, which expect an otherwise clean file, start from
these settings instead. The unknown-key tests use the builders' settings as they are.
"""

from __future__ import annotations

import builders
from builders import TRUSTED_ENDPOINTS, endpoints_block, swap

UNDOCUMENTED_KEYS = ("UCMA_APPLICATION_PORT", "SUBSCRIPTION_EXPIRATION_SECONDS")

TRUSTED_SETTINGS = "".join(
    line
    for line in builders.TRUSTED_SETTINGS.splitlines(keepends=True)
    if not any(f'"{key}"' in line or f"'{key}'" in line for key in UNDOCUMENTED_KEYS)
)


def dotnet_config(settings: str = TRUSTED_SETTINGS, endpoints: str = TRUSTED_ENDPOINTS) -> str:
    """builders.dotnet_config, from these settings by default."""
    return builders.dotnet_config(settings, endpoints)


MAX_LINE = '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />\n'
"""The limit's line in these settings."""


def with_max_line(text: str) -> str:
    """A host's config (`dotnet_config`) with the limit's line written as ``text``."""
    return dotnet_config(swap(TRUSTED_SETTINGS, MAX_LINE, text))


def host_text(
    n: int, *, app: str = "urn:application:bemspresence", pool: str = "bemspool.corp.example.com"
) -> str:
    """builders.host_text, from these settings: host `n` with its own endpoints."""
    own = f"sip:presence_bems0{n}.corp.example.com@example.com"
    settings = swap(TRUSTED_SETTINGS, builders.OWN_SIP, own)
    settings = swap(settings, 'value="urn:application:bemspresence"', f'value="{app}"')
    settings = swap(settings, 'value="bemspool.corp.example.com"', f'value="{pool}"')
    return dotnet_config(
        settings,
        endpoints_block(own, f"sip:presence_bems0{n}-01.corp.example.com@example.com"),
    )
