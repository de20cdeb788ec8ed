"""Read a LyncPresenceProviderService.exe.config: appSettings and endpoint SIPs, with lines."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from bes_logdiag.errors import ConfigError

ROOT_ELEMENT = "configuration"
APP_SETTINGS = "appSettings"


@dataclass(frozen=True)
class Setting:
    """One `<add key="…" value="…" />` of `<appSettings>`; a missing value attribute reads as ""."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class Refused:
    """Markup .NET refuses when it reads the file, so that the service does not start: `rule` is
    the rules.toml id that words it, `key` the setting's key (else the element's name)."""

    rule: str
    key: str
    line: int
    element: str = ""
    attribute: str = ""
    value: str = ""
    first_line: int | None = None
    """(of the first ``<appSettings>``, when this one repeats it)"""


@dataclass(frozen=True)
class SettingsSource:
    """``<appSettings configSource="appSettings.config">`` (the settings are in that file alone)
    or ``<appSettings file="user.config">`` (its settings laid over these), relative to the
    configuration file: settings this check does not read."""

    attribute: str
    path: str
    line: int

    @property
    def instead(self) -> bool:
        return self.attribute == "configSource"


@dataclass(frozen=True)
class EndpointItem:
    """One `<add item="…" />` of `<ucmaEndpointSips><collection>`."""

    sip: str
    line: int


def as_settings(key: str, items: Iterable[EndpointItem]) -> Iterator[Setting]:
    """Endpoint items as settings of `key`, so one helper words the findings about either."""
    for item in items:
        yield Setting(key, item.sip, item.line)


@dataclass(frozen=True)
class PresenceConfig:
    """The parts of one host's Presence configuration file that the checks read."""

    path: str
    settings: tuple[Setting, ...]
    """Every appSettings entry in file order, repeats included; those a later ``<clear />`` or
    ``<remove key="…" />`` takes away are not among them."""
    endpoints: tuple[EndpointItem, ...]
    app_settings_line: int | None
    """Line of the first `<appSettings>`; None when the file has none."""
    endpoints_line: int | None
    """Line of the endpoint collection element (`<ucmaEndpointSips>`); None when absent."""
    refused: tuple[Refused, ...] = ()
    source: SettingsSource | None = None
    """Where ``<appSettings>`` says its settings are, besides (``file``) or instead of
    (``configSource``) the file itself: not read."""

    def get(self, key: str) -> Setting | None:
        """The entry for `key`, or None. .NET looks appSettings keys up without regard to case
        and the last entry of a repeated key wins, so this does the same."""
        wanted = key.casefold()
        found = None
        for setting in self.settings:
            if setting.key.casefold() == wanted:
                found = setting
        return found

    def value(self, key: str) -> str:
        """The value of `key`, "" when the key is absent."""
        setting = self.get(key)
        return setting.value if setting is not None else ""

    def line_of(self, key: str) -> int | None:
        """The line of `key`, else of `<appSettings>` (where it would go), else None."""
        setting = self.get(key)
        return setting.line if setting is not None else self.app_settings_line


_DECLARED = re.compile(rb"""\A\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z][\w.:-]*)["']""")


def _declared_encoding(data: bytes) -> str:
    """The encoding an XML declaration names (``windows-1252`` as Notepad's "ANSI"), else UTF-8."""
    found = _DECLARED.match(data[:200])
    if found:
        try:
            return codecs.lookup(found.group(1).decode("ascii")).name
        except LookupError:
            pass
    return "utf-8"


def decode_text(data: bytes, name: str) -> str:
    """Decode a file's bytes: a BOM (UTF-8, UTF-16), UTF-16 by a first `<`, else the encoding
    the XML declaration names, else UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(b"<\x00"):
        encoding = "utf-16-le"
    elif data.startswith(b"\x00<"):
        encoding = "utf-16-be"
    else:
        encoding = _declared_encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        reason = f"{e.reason} at byte {e.start}"
        raise ConfigError(f"{name}: not valid {encoding} text ({reason})") from e


def read_text(path: Path, name: str | None = None) -> str:
    """The decoded text of `path`; ConfigError (naming the file) when it cannot be read."""
    shown = name if name is not None else str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{shown}: cannot read: {e.strerror or e}") from e
    return decode_text(data, shown)


def load_config(path: Path, collection: str) -> PresenceConfig:
    """Read and parse one configuration file; `collection` names the endpoint section element."""
    return parse_config(read_text(path), str(path), collection)


def parse_config(text: str, name: str, collection: str) -> PresenceConfig:
    """Parse configuration XML; malformed XML raises ConfigError as `NAME:LINE:COL: …`."""
    builder = _Builder(collection)
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda tag, attrs: builder.start(tag, attrs, parser.CurrentLineNumber)
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = lambda data: builder.text(data, parser.CurrentLineNumber)
    parser.StartCdataSectionHandler = lambda: builder.cdata(parser.CurrentLineNumber)
    parser.EntityDeclHandler = _reject_entities
    try:
        parser.Parse(text, True)
    except expat.ExpatError as e:
        reason = expat.ErrorString(e.code) if e.code is not None else str(e)
        # expat counts columns from 0; editors count from 1.
        raise ConfigError(f"{name}:{e.lineno}:{e.offset + 1}: malformed XML: {reason}") from e
    except _EntityError as e:
        line, col = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
        raise ConfigError(f"{name}:{line}:{col}: malformed XML: {e}") from e
    if builder.root != ROOT_ELEMENT:
        raise ConfigError(
            f"{name}:1:1: not a .NET configuration file: the root element is "
            f"<{builder.root}>, not <{ROOT_ELEMENT}>"
        )
    return PresenceConfig(
        path=name,
        settings=tuple(builder.settings),
        endpoints=tuple(builder.endpoints),
        app_settings_line=builder.app_settings_line,
        endpoints_line=builder.endpoints_line,
        refused=tuple(builder.refused),
        source=builder.source,
    )


class _EntityError(Exception):
    pass


def _reject_entities(name: str, *_: object) -> None:
    # A hand-edited .exe.config has no reason to declare entities; refusing them keeps entity
    # expansion tricks out of the parser.
    raise _EntityError(f"entity declarations are not allowed (<!ENTITY {name} …>)")


class _Builder:
    """Collects settings and endpoint items while expat walks the document."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.stack: list[str] = []
        self.root: str | None = None
        self.settings: list[Setting] = []
        self.endpoints: list[EndpointItem] = []
        self.app_settings_line: int | None = None
        self.endpoints_line: int | None = None
        self.refused: list[Refused] = []
        self._top_app_settings: int | None = None
        """The line of the first ``<appSettings>`` right under ``<configuration>``."""
        self.source: SettingsSource | None = None
        self._top_collection: int | None = None
        """The line of the first endpoint section right under ``<configuration>``."""
        self._in_text = False
        """Within a run of text inside ``<appSettings>`` already told (`text`)."""

    def start(self, tag: str, attrs: dict[str, str], line: int) -> None:
        self._in_text = False
        if self.root is None:
            self.root = tag
        parent = self.stack[-1] if self.stack else None
        grandparent = self.stack[-2] if len(self.stack) > 1 else None
        if tag == APP_SETTINGS:
            # (a section may also stand in a <location>, for a scope of its own: read, as ever)
            if self.app_settings_line is None:
                self.app_settings_line = line
            if parent == ROOT_ELEMENT:
                if self._top_app_settings is not None:
                    self.refused.append(
                        Refused("app-settings-repeated", tag, line, first_line=self._top_app_settings)
                    )
                else:
                    self._top_app_settings = line
                    named = [(a, attrs[a].strip()) for a in ("configSource", "file") if attrs.get(a, "")]
                    if named and named[0][1]:
                        self.source = SettingsSource(*named[0], line)
        elif tag.casefold() == APP_SETTINGS.casefold():
            self.refused.append(Refused("app-settings-name", tag, line, element=tag))
        elif self.collection and tag.casefold() == self.collection.casefold():
            # (a section may also stand in a <location>, for a scope of its own: read, as ever)
            self._collection(tag, line, top=parent == ROOT_ELEMENT)
        elif parent is not None and parent.casefold() == APP_SETTINGS.casefold():
            self._app_setting(tag, attrs, line)
        elif (
            tag == "add"
            and parent == "collection"
            and grandparent is not None
            and grandparent.casefold() == self.collection.casefold()
        ):
            self._endpoint(attrs, line)
        self.stack.append(tag)

    def _collection(self, tag: str, line: int, *, top: bool) -> None:
        """The endpoint section, as .NET reads it: its name with its case (the one the file's
        ``<configSections>`` declares), once right under ``<configuration>``.  Else .NET refuses
        the file; its endpoints are still read as meant."""
        if tag != self.collection:
            renamed = Refused("endpoints-section-name", tag, line, element=tag, value=self.collection)
            self.refused.append(renamed)
        if self.endpoints_line is None:
            self.endpoints_line = line
        if top and self._top_collection is not None:
            self.refused.append(
                Refused("endpoints-section-repeated", tag, line, element=tag, first_line=self._top_collection)
            )
        elif top:
            self._top_collection = line

    def _endpoint(self, attrs: dict[str, str], line: int) -> None:
        """An ``<add item="sip:..." />`` of the endpoint collection: ``item``, in lower case, and
        nothing else, or .NET refuses the file (the address is still read as meant)."""
        meant = {name.casefold(): value for name, value in attrs.items()}
        for name in attrs:
            if name != "item":
                self.refused.append(
                    Refused(
                        "endpoint-attribute-unknown",
                        self.collection,
                        line,
                        "add",
                        attribute=name,
                        value=attrs[name],
                    )  # fmt: skip
                )
        self.endpoints.append(EndpointItem(meant.get("item", ""), line))

    def end(self, tag: str) -> None:
        self._in_text = False
        self.stack.pop()

    def cdata(self, line: int) -> None:
        """A CDATA section: a refusal of its own, even right after text."""
        self._in_text = False
        self.text("<![CDATA[", line)

    def text(self, data: str, line: int) -> None:
        """Text (or a CDATA section) right inside ``<appSettings>``, where .NET reads elements
        only: a setting typed as ``KEY=VALUE``, a comment without its ``<!-- -->``.  .NET refuses
        the file ("cannot contain a CDATA or text element"); told once per run of text."""
        if not data.strip() or not self.stack or self.stack[-1] != APP_SETTINGS or self._in_text:
            return  # (expat hands a run of text on in pieces: told once, up to the next element)
        self._in_text = True
        text = data.strip()
        self.refused.append(Refused("app-settings-text", APP_SETTINGS, line, APP_SETTINGS, value=text))

    def _app_setting(self, tag: str, attrs: dict[str, str], line: int) -> None:
        """One element of ``<appSettings>``, as .NET reads it: ``add`` with exactly ``key`` and
        ``value`` (attribute names are case-sensitive), ``remove`` by key, ``clear``.  Anything
        else makes .NET refuse the whole file.  The settings are still read as the admin meant them
        (``Key=``, ``Value=`` too), so that the other findings hold once the markup is mended."""
        known = {"add": ("key", "value"), "remove": ("key",), "clear": ()}.get(tag)
        if known is None:
            self.refused.append(Refused("app-settings-element", tag, line, element=tag))
            return
        meant = {name.casefold(): value for name, value in attrs.items()}
        key = meant.get("key")
        unknown = [name for name in attrs if name not in known]
        for name in unknown:
            self.refused.append(
                Refused("setting-attribute-unknown", key or tag, line, tag, attribute=name, value=attrs[name])
            )
        if known and key is None and not unknown:
            self.refused.append(Refused("setting-key-missing", tag, line, element=tag))
        if tag == "add" and key is not None:
            self.settings.append(Setting(key, meant.get("value", ""), line))
        elif tag == "remove" and key is not None:
            self.settings = [s for s in self.settings if s.key.casefold() != key.casefold()]
        elif tag == "clear":
            self.settings = []


def whole_number(digits: str) -> str:
    """A run of digits without its leading zeros (``"0"`` for zeros alone): the number as it
    compares, never turned into an int (Python refuses one of over 4,300 digits)."""
    return digits.lstrip("0") or "0"
