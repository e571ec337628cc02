"""The images workloads run in, built for each run and labelled with its id.

Two ways to make them, both real (DESIGN 5):

- ``host``: assembled offline, FROM scratch, out of the host's own binaries and the
  shared libraries ``ldd`` names. Needs a Linux host whose architecture matches the
  engine's; works with no registry at all.
- ``registry``: built from a pinned small base image, tools installed by its package
  manager. Needs a reachable registry (or the base image already present).

``auto`` (the default, or ``CROSSDOCK_IMAGE_SOURCE``) takes ``host`` where it can and
``registry`` elsewhere. Which way was used and the tools' versions are recorded.
"""

from __future__ import annotations

import io
import os
import platform as pyplatform
import re
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from bench import signals
from bench.environment.engine import Engine
from bench.environment.host import host_os
from bench.errors import ProvisionError, SampleError, first_line
from bench.provision import containers
from bench.provision.processes import output_tail

#: Pinned base image for the registry way (multi-arch index digest of alpine 3.20).
BASE_IMAGE = "alpine:3.20@sha256:d9e853e87e55526f6b2917df91a2115c36dd7c696a35be12163d44e6e2a4b6bc"

#: image name -> tools it holds (busybox provides the shell and coreutils in both).
IMAGES: dict[str, tuple[str, ...]] = {
    "busybox": ("busybox",),
    "tools": ("busybox", "fio", "iperf3"),
}
#: how each tool reports its version, inside the image.
_VERSION_COMMANDS: dict[str, list[str]] = {
    "busybox": ["busybox"],
    "fio": ["fio", "--version"],
    "iperf3": ["iperf3", "--version"],
}
_APK_PACKAGES = {"busybox": "busybox", "fio": "fio", "iperf3": "iperf3"}
_ARCH_ALIASES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


class ImageError(ProvisionError):
    """An image could not be made; the message says why and what would fix it."""


@dataclass(frozen=True)
class BuiltImage:
    """An image made for this run: its tag, id, how it was made and the tools' versions."""

    name: str
    tag: str
    id: str
    method: str
    tool_versions: Mapping[str, str]
    size_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tag": self.tag,
            "id": self.id,
            "method": self.method,
            "tool_versions": dict(self.tool_versions),
            "size_bytes": self.size_bytes,
        }


def build(engine: Engine, name: str, *, run_id: str, labels: Mapping[str, str]) -> BuiltImage:
    """Make image *name* (a key of :data:`IMAGES`) for run *run_id*."""
    if name not in IMAGES:
        raise ImageError(f"unknown image {name!r} (valid: {', '.join(IMAGES)})")
    method = choose_method(engine)
    context = (host_context if method == "host" else registry_context)(IMAGES[name], labels)
    tag = f"crossdock-{name}:{run_id.lower()}"
    try:
        # an interrupted client would leave the build finishing after the cleanup
        with signals.deferred():
            image, _ = engine.client.images.build(
                fileobj=context,
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                pull=False,
                # host assembly needs no network; the registry way fetches packages
                network_mode="none" if method == "host" else None,
            )
    except (docker.errors.BuildError, docker.errors.APIError) as e:
        hint = (
            "no registry reachable? set CROSSDOCK_IMAGE_SOURCE=host on a Linux host with "
            "busybox-static, fio and iperf3 installed"
            if method == "registry"
            else "check that the host binaries run on the engine (same architecture)"
        )
        raise ImageError(f"building image {name!r} ({method}) failed: {e}; {hint}") from None
    versions = {tool: _tool_version(engine, tag, tool, labels) for tool in IMAGES[name]}
    return BuiltImage(name, tag, str(image.id), method, versions, int(image.attrs.get("Size", 0)))


def choose_method(engine: Engine) -> str:
    """``host`` or ``registry``, per ``CROSSDOCK_IMAGE_SOURCE`` (``auto`` by default)."""
    wanted = os.environ.get("CROSSDOCK_IMAGE_SOURCE", "auto")
    if wanted not in ("auto", "host", "registry"):
        raise ImageError(f"CROSSDOCK_IMAGE_SOURCE={wanted!r} (valid: auto, host, registry)")
    problem = host_assembly_problem(engine.info.get("Architecture", ""))
    if wanted == "host" and problem:
        raise ImageError(f"cannot assemble images from host binaries: {problem}")
    if wanted == "auto":
        return "registry" if problem else "host"
    return wanted


def host_assembly_problem(engine_arch: str) -> str | None:
    """Why host binaries cannot make the images for an engine of *engine_arch*, or None."""
    if host_os() != "linux":
        return f"the host runs {host_os()}, whose binaries do not run in Linux containers"
    host_arch = _ARCH_ALIASES.get(pyplatform.machine().lower(), pyplatform.machine())
    engine_norm = _ARCH_ALIASES.get(engine_arch.lower(), engine_arch)
    if host_arch != engine_norm:
        return f"host architecture {host_arch} differs from the engine's {engine_norm or '?'}"
    missing = [t for t in IMAGES["tools"] if not shutil.which(t)]
    if missing:
        return (
            f"not installed on the host: {', '.join(missing)} (Debian: busybox-static fio iperf3)"
        )
    return None


def label_line(labels: Mapping[str, str]) -> str:
    """One LABEL instruction right after FROM: every intermediate container of the build
    carries all the run's labels, so an interrupted build's leftovers are recognised."""
    return "LABEL " + " ".join(f'"{k}"="{v}"' for k, v in sorted(labels.items()))


def host_context(tools: tuple[str, ...], labels: Mapping[str, str]) -> io.BytesIO:
    """A build context (tar) of a FROM-scratch image holding *tools* from the host, each
    with the shared libraries it loads, at the paths the host has them."""
    files: dict[str, Path] = {}
    for tool in tools:
        exe = shutil.which(tool)
        if exe is None:
            raise ImageError(f"{tool} is not installed on the host")
        files[f"/bin/{tool}"] = Path(exe).resolve()
        for lib in shared_libraries(Path(exe)):
            files[str(lib)] = lib.resolve()
    dockerfile = "\n".join(
        [
            "FROM scratch",
            label_line(labels),
            "COPY rootfs/ /",
            'RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/data", "/usr/bin", "/sbin"]',
            'RUN ["/bin/busybox", "chmod", "1777", "/tmp"]',
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
            'CMD ["/bin/sh"]',
            "",
        ]
    )
    return _tar({"Dockerfile": dockerfile.encode()}, {f"rootfs{k}": v for k, v in files.items()})


def registry_context(tools: tuple[str, ...], labels: Mapping[str, str]) -> io.BytesIO:
    """A build context (tar) installing *tools* on the pinned :data:`BASE_IMAGE`."""
    packages = " ".join(_APK_PACKAGES[t] for t in tools)
    dockerfile = (
        f"FROM {BASE_IMAGE}\n{label_line(labels)}\n"
        f'RUN apk add --no-cache {packages} && mkdir -p /data\nCMD ["/bin/sh"]\n'
    )
    return _tar({"Dockerfile": dockerfile.encode()}, {})


_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def shared_libraries(executable: Path) -> list[Path]:
    """The shared libraries *executable* loads (``ldd``), including the dynamic loader;
    empty for a static binary."""
    try:
        out = subprocess.run(
            ["ldd", str(executable)], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as e:
        raise ImageError(f"cannot run ldd to find the libraries of {executable}: {e}") from None
    return [Path(m.group(1)) for m in map(_LDD_LINE.search, out.stdout.splitlines()) if m]


def _tar(generated: Mapping[str, bytes], copied: Mapping[str, Path]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in generated.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, source in copied.items():
            info = tar.gettarinfo(str(source), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with source.open("rb") as f:
                tar.addfile(info, f)
    buffer.seek(0)
    return buffer


def _tool_version(engine: Engine, tag: str, tool: str, labels: Mapping[str, str]) -> str:
    host_config = engine.api.create_host_config(network_mode="none")
    spec = containers.Spec(tag, _VERSION_COMMANDS[tool], labels, host_config)
    try:
        out = containers.run(engine.api, spec, timeout=60)
    except (docker.errors.DockerException, SampleError) as e:
        return f"unknown ({first_line(e, 120)})"
    if out.code != 0:
        return f"unknown (exit {out.code}{output_tail(out.stderr, prefix=': ', limit=100)})"
    text = out.stdout.strip() or out.stderr.strip()
    return text.splitlines()[0].strip() if text else "unknown"
