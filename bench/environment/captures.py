"""Saved ``docker info`` / ``docker version`` captures, read back into the engine API's shape.

A capture is what someone pasted: the docker CLI's text output (new and old clients, a
``docker version`` and a ``docker info`` one after the other), the API's JSON (``/info``,
``/version`` or ``docker version -f '{{json .}}'``, also cut off part-way, also printed by
docker-py as a Python dict), or an error message or log line carrying such a body. Pastes
come indented as a whole (markdown lists, tabs), quoted (``> `` replies) or inside code
fences; leading ``#`` lines are comments. Whatever the form, the result uses the API's key
names (``OperatingSystem``, ``KernelVersion``, ``NCPU``, ``MemTotal``, ...), so platform
detection reads one shape. Partial captures give partial dicts, never an error.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Capture:
    """A parsed capture: ``info`` as ``GET /info`` returns it, ``version`` as ``GET /version``
    returns it (None when the capture holds no such output), and ``client`` the CLI-side
    facts (``Context``, ``Os``, ``Arch``, ``Version``, ``Plugins`` with their ``Path``)."""

    info: dict[str, Any] | None
    version: dict[str, Any] | None
    client: dict[str, Any]


def parse_capture(text: str) -> Capture:
    """Parse a saved capture (CLI text or API JSON, see the module doc). Never raises on
    unrecognised or partial input: what could not be read is simply absent."""
    body = _normalise(text)
    documents = _api_documents(body)
    if not documents:
        return _from_cli(body)
    parsed = [_from_api(document) for document in documents]
    return Capture(
        info=_merged(c.info for c in parsed),
        version=_merged(c.version for c in parsed),
        client=_merged(c.client for c in parsed) or {},
    )


def _merged(parts: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    found = [part for part in parts if part]
    return {k: v for part in found for k, v in part.items()} if found else None


# Binary units as docker's go-units prints them ("7.667GiB", "991.7 MiB").
_BYTE_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}
_BYTES = re.compile(r"\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[KMGTP]iB|B)\s*")


def parse_bytes(text: str) -> int:
    """Bytes in a size as the docker CLI prints it ("7.667GiB" -> 8232378565), rounded to
    the nearest byte; raises ValueError for anything else."""
    match = _BYTES.fullmatch(text)
    if match is None:
        units = ", ".join(_BYTE_UNITS)
        raise ValueError(f"size {text!r}: expected a number and a unit ({units})")
    return round(float(match["number"]) * _BYTE_UNITS[match["unit"]])


# A quoted reply's markers ("> ", "> > "), and a markdown code fence line.
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _normalise(text: str) -> str:
    """The capture without leading comments, quote markers, code fences and the
    indentation the whole paste shares (a markdown list item, a tab)."""
    lines = itertools.dropwhile(lambda line: line.startswith("#"), text.splitlines())
    kept = [_QUOTE.sub("", line) for line in lines if not _FENCE.match(line)]
    return textwrap.dedent("\n".join(kept))


# A CLI section header: "Client:", "Server: Docker Desktop 4.33.0 (160616)".
_SECTION = re.compile(r"(?P<kind>Client|Server):\s*(?P<header>.*)")


# --- API JSON ------------------------------------------------------------------------------

# Where an API document starts in a paste: JSON, or docker-py's printed dict.
_DOCUMENT_START = re.compile(r"""\{\s*["']""")


def _api_documents(body: str) -> list[Any]:
    """The API documents the capture holds, one after another; [] when it is CLI text. An
    error message or log line wrapping a document (and no CLI section header) counts from
    the document's first '{"'."""
    lines = body.splitlines()
    if not body.lstrip().startswith("{") and any(_SECTION.fullmatch(ln.strip()) for ln in lines):
        return []
    documents = []
    position = 0
    while (start := _DOCUMENT_START.search(body, position)) is not None:
        decoded = _decode(body[start.start() :])
        if decoded is None:
            break
        value, length = decoded
        documents.append(value)
        position = start.start() + length
    return documents


def _decode(text: str) -> tuple[Any, int] | None:
    """(value, characters read) for the JSON value or Python dict literal text starts with.
    A value cut off part-way (a truncated paste) is closed after what was read: at its
    end when that is complete, else after its last complete member. None when none decode."""
    decoder = json.JSONDecoder()
    whole, at_end, at_comma = _closings(text)
    for candidate, span in ((text, whole), (at_end, len(at_end)), (at_comma, len(at_comma))):
        try:
            value, length = decoder.raw_decode(candidate)
        except json.JSONDecodeError:
            try:  # docker-py users paste print(client.version()): a Python dict
                value, length = ast.literal_eval(candidate[:span]), span
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                continue
        return value, min(length, len(text))
    return None


def _closings(text: str) -> tuple[int, str, str]:
    """(length of the first balanced value, text closed at its end, text closed at its last
    comma outside a string) for a value that may be cut off."""
    closers = {"{": "}", "[": "]"}
    stack: list[str] = []
    cut: tuple[int, tuple[str, ...]] = (0, ())
    quote = ""
    escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif quote:
            escaped = char == "\\"
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in closers:
            stack.append(closers[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1, text, text
        elif char == ",":
            cut = (i, tuple(stack))
    end, still_open = cut
    at_comma = text[:end] + "".join(reversed(still_open))
    at_end = "" if quote else text.rstrip().rstrip(",") + "".join(reversed(stack))
    return len(text), at_end, at_comma


# Keys only /info has, and keys /version has (a truncated one may have only the first).
_INFO_KEYS = frozenset(
    ("OperatingSystem", "Containers", "Driver", "DockerRootDir", "ServerVersion", "NCPU", "OSType")
)
_VERSION_KEYS = frozenset(("Platform", "Components", "ApiVersion", "MinAPIVersion"))


def _from_api(document: Any) -> Capture:
    """Sort an API document by its keys: ``docker version -f json`` has Client/Server,
    ``/info`` has OperatingSystem, Containers, Driver, ...; ``/version`` has Platform,
    Components or ApiVersion."""
    if not isinstance(document, dict):
        return Capture(info=None, version=None, client={})
    if isinstance(document.get("Server"), dict) or isinstance(document.get("Client"), dict):
        return Capture(
            info=None,
            version=_dict_or_none(document.get("Server")),
            client=_dict_or_none(document.get("Client")) or {},
        )
    keys = document.keys()
    if keys & _INFO_KEYS:
        client = _dict_or_none(document.get("ClientInfo")) or {}
        return Capture(info=document, version=None, client=client)
    if keys & _VERSION_KEYS:
        return Capture(info=None, version=document, client={})
    return Capture(info=None, version=None, client={})


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


# --- CLI text ------------------------------------------------------------------------------
#
# The CLI prints "Client:" and "Server:" sections at column 0, their entries one space in,
# and nested lists and component details deeper. An entry with the children indented under
# it is an _Item; the same reader serves every level.

_Line = tuple[int, str]  # (indent, text without surrounding spaces)


@dataclass
class _Item:
    key: str
    value: str
    children: list[_Line] = field(default_factory=list)


def _items(lines: Iterable[_Line], level: int) -> list[_Item]:
    """Group lines into items: a line at or left of ``level`` opens one, deeper lines are
    its children. Lines left of the level (a paste that lost its first space, stray tool
    output) open items too rather than being lost."""
    items: list[_Item] = []
    for indent, text in lines:
        if indent <= level or not items:
            key, _, value = text.partition(":")
            items.append(_Item(key.strip(), value.strip()))
        else:
            items[-1].children.append((indent, text))
    return items


def _sub_items(item: _Item) -> list[_Item]:
    return _items(item.children, item.children[0][0]) if item.children else []


def _fields(item: _Item) -> dict[str, str]:
    return {sub.key: sub.value for sub in _sub_items(item)}


_Mapper = Callable[[_Item], dict[str, Any]]


def _to(key: str, convert: Callable[[str], Any] = str) -> _Mapper:
    """A table entry copying the item's value to ``key``, converted."""
    return lambda item: {key: convert(item.value)}


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"not a boolean: {text!r}")
    return text.lower() == "true"


_API_VERSION = re.compile(r"(?P<api>\S+)(?:\s+\(minimum version (?P<min>[^)]+)\))?")


def _api_version(item: _Item) -> dict[str, Any]:
    match = _API_VERSION.match(item.value)
    if match is None:
        return {}
    return {"ApiVersion": match["api"]} | ({"MinAPIVersion": match["min"]} if match["min"] else {})


def _os_arch(item: _Item) -> dict[str, Any]:
    os_name, _, arch = item.value.partition("/")
    return {"Os": os_name, "Arch": arch}


def _labels(item: _Item) -> dict[str, Any]:
    return {"Labels": [text for _, text in item.children]}


def _security_options(item: _Item) -> dict[str, Any]:
    """Each option with its nested settings, as /info lists them: an entry "seccomp" with
    "Profile: builtin" under it -> "name=seccomp,profile=builtin"."""
    return {
        "SecurityOptions": [
            ",".join([f"name={sub.key}"] + [f"{k.lower()}={v}" for k, v in _fields(sub).items()])
            for sub in _sub_items(item)
        ]
    }


def _plugins(item: _Item) -> dict[str, Any]:
    return {"Plugins": [{"Name": sub.key, **_fields(sub)} for sub in _sub_items(item)]}


# `docker info` server labels -> /info keys.
_INFO_FIELDS: Mapping[str, _Mapper] = {
    "Containers": _to("Containers", int),
    "Images": _to("Images", int),
    "Server Version": _to("ServerVersion"),
    "Storage Driver": _to("Driver"),
    "Logging Driver": _to("LoggingDriver"),
    "Cgroup Driver": _to("CgroupDriver"),
    "Cgroup Version": _to("CgroupVersion"),
    "Default Runtime": _to("DefaultRuntime"),
    "Init Binary": _to("InitBinary"),
    "Security Options": _security_options,
    "Kernel Version": _to("KernelVersion"),
    "Operating System": _to("OperatingSystem"),
    "OSType": _to("OSType"),
    "Architecture": _to("Architecture"),
    "CPUs": _to("NCPU", int),
    "Total Memory": _to("MemTotal", parse_bytes),
    "Name": _to("Name"),
    "ID": _to("ID"),
    "Docker Root Dir": _to("DockerRootDir"),
    "Debug Mode": _to("Debug", _bool),
    "HTTP Proxy": _to("HttpProxy"),
    "HTTPS Proxy": _to("HttpsProxy"),
    "No Proxy": _to("NoProxy"),
    "Registry": _to("IndexServerAddress"),
    "Labels": _labels,
    "Experimental": _to("ExperimentalBuild", _bool),
    "Live Restore Enabled": _to("LiveRestoreEnabled", _bool),
    "Default Isolation": _to("Isolation"),
    "Product License": _to("ProductLicense"),
}

# `docker version` labels, for the client and for each server component's details.
_VERSION_FIELDS: Mapping[str, _Mapper] = {
    "Version": _to("Version"),
    "API version": _api_version,
    "Go version": _to("GoVersion"),
    "Git commit": _to("GitCommit"),
    "Built": _to("BuildTime"),
    "OS/Arch": _os_arch,
    "Kernel version": _to("KernelVersion"),
    "Experimental": _to("Experimental"),
}

# Client section of either command.
_CLIENT_FIELDS: Mapping[str, _Mapper] = {
    **_VERSION_FIELDS,
    "Context": _to("Context"),
    "Debug Mode": _to("Debug", _bool),
    "Cloud integration": _to("CloudIntegration"),
    "Plugins": _plugins,
}


def _mapped(
    items: Iterable[_Item], table: Mapping[str, _Mapper], *, keep_unknown: bool
) -> dict[str, Any]:
    """Items translated by ``table``. A value that does not convert (masked, elided) is left
    out; unknown labels are dropped, or kept with spaces removed when ``keep_unknown``
    (component details that are already API keys, like Podman's "KernelVersion")."""
    out: dict[str, Any] = {}
    for item in items:
        mapper = table.get(item.key)
        if mapper is None:
            if keep_unknown and item.key:
                out[item.key.replace(" ", "")] = item.value
            continue
        try:
            out.update(mapper(item))
        except ValueError:
            continue
    return out


def _from_cli(body: str) -> Capture:
    """Read CLI text section by section. A Server section is `docker version` output when
    it names a platform, lists an Engine component or (old clients) has the version's own
    fields, else `docker info` output; several info sections (old-style `docker info`
    after a `docker version`) add up. A leading headerless section followed by a Server
    section is a client section whose "Client:" line the paste lost."""
    info: dict[str, Any] = {}
    version: dict[str, Any] | None = None
    client: dict[str, Any] = {}
    sections = _sections(body)
    for i, section in enumerate(sections):
        items = _items(section.lines, level=section.level())
        later = sections[i + 1 :]
        lost_client = (
            i == 0 and not section.explicit and later and later[0].kind == "Server"
        ) and _has_version_fields(items)
        if section.kind == "Client" or lost_client:
            client |= _mapped(items, _CLIENT_FIELDS, keep_unknown=False)
            client |= {"Platform": {"Name": section.header}} if section.header else {}
        elif section.explicit and (section.header or _is_version(items)):
            version = _version(section.header, items)
        else:
            info |= _mapped(items, _INFO_FIELDS, keep_unknown=False)
    return Capture(info=info or None, version=version, client=client)


@dataclass
class _Section:
    """Lines of one "Client:"/"Server:" section, indented relative to its header (or, for
    a section without one, to its first line)."""

    kind: str
    header: str
    explicit: bool
    base: int | None
    lines: list[_Line] = field(default_factory=list)

    def level(self) -> int:
        """The indent of this section's entries: the shallowest, or for a section without
        a header the more common of the two shallowest (a paste that starts mid-output
        loses its first line's indent; old-style `docker info` has none)."""
        indents = sorted({indent for indent, _ in self.lines})
        if self.explicit or len(indents) < 2:
            return indents[0] if indents else 0
        counts = [sum(1 for indent, _ in self.lines if indent == i) for i in indents[:2]]
        return indents[0] if counts[0] >= counts[1] else indents[1]


def _sections(body: str) -> list[_Section]:
    """The "Client:"/"Server:" sections, headers at any indent. Lines before the first
    header (a paste that starts mid-output), and lines back at or left of a header after
    its entries (old-style `docker info`, warnings, prose between two outputs) form
    implicit Server sections."""
    sections = [_Section("Server", "", explicit=False, base=None)]
    for raw in body.splitlines():
        text = raw.strip()
        if not text or text == "...":
            continue
        indent = len(raw) - len(raw.lstrip())
        header = _SECTION.fullmatch(text)
        current = sections[-1]
        if header is not None:
            sections.append(_Section(header["kind"], header["header"], True, indent))
            continue
        if _ends(current, indent, text):
            current = _Section("Server", "", explicit=False, base=indent)
            sections.append(current)
        if current.base is None:
            current.base = indent
        current.lines.append((max(0, indent - current.base - current.explicit), text))
    return [s for s in sections if s.header or s.lines]


def _ends(section: _Section, indent: int, text: str) -> bool:
    """Whether a line ends *section*: back at or left of its header, after nested entries,
    and a `docker info` label (multi-line values, like Podman's crun version, stay)."""
    back = section.explicit and indent <= (section.base or 0)
    nested = any(depth > 0 for depth, _ in section.lines)
    return back and nested and text.partition(":")[0] in _INFO_FIELDS


def _has_version_fields(items: Sequence[_Item]) -> bool:
    return any(item.key in ("API version", "OS/Arch") for item in items)


def _is_version(items: Sequence[_Item]) -> bool:
    """A Server section is `docker version`'s: an Engine component, or the old clients'
    engine fields at the top (`docker info` prints neither)."""
    engine = any(_is_component(item) and item.key == "Engine" for item in items)
    return engine or _has_version_fields(items)


def _is_component(item: _Item) -> bool:
    return not item.value and "Version" in _fields(item)


def _version(header: str, items: Sequence[_Item]) -> dict[str, Any]:
    """/version from the Server section: the platform name from its header, a component per
    entry, and the Engine component's details at the top level, as the API has them."""
    components = []
    top: dict[str, Any] = {}
    for item in filter(_is_component, items):
        details = _mapped(_sub_items(item), _VERSION_FIELDS, keep_unknown=True)
        if item.key == "Engine":
            top = dict(details)
        number = details.pop("Version", "")
        components.append({"Name": item.key, "Version": number, "Details": details})
    if not components:  # an old client: the engine's fields are the section's own
        top = _mapped(items, _VERSION_FIELDS, keep_unknown=False)
    return {"Platform": {"Name": header}, "Components": components, **top}
