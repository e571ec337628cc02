"""Saved ``docker info`` / ``docker version`` captures, read back into the engine API's shape.

A capture is what someone pasted: the docker CLI's text output, the API's JSON (``/info``,
``/version`` or ``docker version -f '{{json .}}'``), or an error message carrying a (possibly
truncated) JSON body. Leading ``#`` lines are comments. Whatever the form, the result uses
the API's key names (``OperatingSystem``, ``KernelVersion``, ``NCPU``, ``MemTotal``, ...), so
platform detection reads one shape. Partial captures give partial dicts, never an error.
"""

from __future__ import annotations

import itertools
import json
import re
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
    body = _strip_comments(text)
    document = _json_document(body)
    return _from_api(document) if document is not None else _from_cli(body)


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


def _strip_comments(text: str) -> str:
    return "\n".join(itertools.dropwhile(lambda line: line.startswith("#"), text.splitlines()))


# A CLI section header, at column 0: "Client:", "Server: Docker Desktop 4.33.0 (160616)".
_SECTION = re.compile(r"(?P<kind>Client|Server):\s*(?P<header>.*)")


# --- API JSON ------------------------------------------------------------------------------


def _json_document(body: str) -> Any:
    """The JSON value the capture holds, or None when it is CLI text. An error message
    wrapping a JSON body (and no CLI section header) counts as JSON from its first '{"'."""
    stripped = body.lstrip()
    if stripped.startswith("{"):
        return _decode_json(stripped)
    has_sections = any(_SECTION.match(line) for line in body.splitlines())
    start = body.find('{"')
    return None if has_sections or start < 0 else _decode_json(body[start:])


def _decode_json(text: str) -> Any:
    """Decode the JSON value text starts with; a value cut off part-way (a truncated paste)
    is closed after its last complete member. None when neither decodes."""
    decoder = json.JSONDecoder()
    for candidate in (text, _close_truncated(text)):
        try:
            return decoder.raw_decode(candidate)[0]
        except json.JSONDecodeError:
            continue
    return None


def _close_truncated(text: str) -> str:
    """text cut at its last comma outside a string, with the brackets open there closed."""
    closers = {"{": "}", "[": "]"}
    stack: list[str] = []
    cut: tuple[int, tuple[str, ...]] = (0, ())
    in_string = escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in closers:
            stack.append(closers[char])
        elif stack and char == stack[-1]:
            stack.pop()
        elif char == ",":
            cut = (i, tuple(stack))
    end, still_open = cut
    return text[:end] + "".join(reversed(still_open))


def _from_api(document: Any) -> Capture:
    """Sort an API document by its keys: ``docker version -f json`` has Client/Server,
    ``/info`` has OperatingSystem (or KernelVersion and NCPU), ``/version`` has ApiVersion
    and Components or Platform."""
    if not isinstance(document, dict):
        return Capture(info=None, version=None, client={})
    if isinstance(document.get("Server"), dict) or isinstance(document.get("Client"), dict):
        return Capture(
            info=None,
            version=_dict_or_none(document.get("Server")),
            client=_dict_or_none(document.get("Client")) or {},
        )
    keys = document.keys()
    if "OperatingSystem" in keys or {"KernelVersion", "NCPU"} <= keys:
        client = _dict_or_none(document.get("ClientInfo")) or {}
        return Capture(info=document, version=None, client=client)
    if "ApiVersion" in keys and keys & {"Components", "Platform"}:
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
    """Read CLI text section by section; a Server section is `docker version` output when
    it names a platform or lists an Engine component, else `docker info` output."""
    info: dict[str, Any] | None = None
    version: dict[str, Any] | None = None
    client: dict[str, Any] = {}
    for kind, header, lines in _sections(body):
        items = _items(lines, level=1)
        if kind == "Client":
            client |= _mapped(items, _CLIENT_FIELDS, keep_unknown=False)
            client |= {"Platform": {"Name": header}} if header else {}
        elif header or any(_is_component(item) and item.key == "Engine" for item in items):
            version = _version(header, items)
        else:
            info = _mapped(items, _INFO_FIELDS, keep_unknown=False) or None
    return Capture(info=info, version=version, client=client)


def _sections(body: str) -> list[tuple[str, str, list[_Line]]]:
    """(kind, header, lines) per "Client:"/"Server:" section. Lines before the first header
    (a paste that starts mid-output) form an implicit Server section."""
    sections: list[tuple[str, str, list[_Line]]] = [("Server", "", [])]
    for raw in body.splitlines():
        text = raw.strip()
        if not text or text == "...":
            continue
        indent = len(raw) - len(raw.lstrip())
        section = _SECTION.fullmatch(text) if indent == 0 else None
        if section is not None:
            sections.append((section["kind"], section["header"], []))
        else:
            sections[-1][2].append((indent, text))
    return [s for s in sections if s[1] or s[2]]


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
    return {"Platform": {"Name": header}, "Components": components, **top}
