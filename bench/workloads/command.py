"""A user's own command, timed with its workspace on each place files can live.

``command`` runs through ``sh -c`` inside a copy of the workspace (``workspace``: a host
directory such as the project itself, copied, never mounted, so the original is never
touched; a relative path is relative to the scenario file's folder; empty for an empty
directory; only regular files, folders and symbolic links are copied), on each
``target`` of the file I/O kind and natively. Before every sample the copy is restored
from a pristine copy kept beside it and ``setup`` runs, both untimed; then the command is
timed by busybox ``ts`` on the clock of the machine doing the work (the host's static
busybox is lent to images without one).
A non-zero exit fails the variant with the end of the command's output.
"""

from __future__ import annotations

import io
import shlex
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.errors import SampleError
from bench.plan import ParamSpec, Scalar, Scenario, Variant
from bench.provision import places
from bench.provision.context import RunContext
from bench.provision.processes import output_tail

#: crossdock's own images; any other ``image`` value is an image reference used as is
OWN_IMAGES = ("tools", "busybox")
_SKIP = (".git", ".nox", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
         ".pytest_cache", "results", "reports")  # fmt: skip
_PRISTINE = ".crossdock-pristine"
_LOG = ".crossdock-command.log"
_STAGE = "/.crossdock-stage"


class CommandWorkload:
    """The ``command`` kind (see module docstring)."""

    kind = "command"
    params: Mapping[str, ParamSpec] = {
        "target": ParamSpec(str, "native", places.TARGETS),
        "command": ParamSpec(str, "", help="shell command to time, run in the workspace"),
        "setup": ParamSpec(str, "", help="shell command run untimed before each sample"),
        "workspace": ParamSpec(str, "", help="host directory copied in as the workspace"),
        "image": ParamSpec(str, "tools", help="tools, busybox, or an image reference"),
    }
    metrics: tuple[str, ...] = ("command",)

    def __init__(self) -> None:
        self._places: dict[str, places.Place] = {}

    def check_variant(self, variant: Mapping[str, Scalar]) -> str | None:
        if not str(variant["command"]).strip():
            return "command is required: the shell command to time"
        return None

    def needs_engine(self, variant: Variant) -> bool:
        return variant["target"] != "native"

    def prepare(self, ctx: RunContext, scenario: Scenario, variants: Sequence[Variant]) -> None:
        for variant in variants:
            target = str(variant["target"])
            if target in self._places:
                continue
            workspace = workspace_dir(scenario, str(variant["workspace"]))
            image = str(variant["image"])
            own = image in OWN_IMAGES
            place = places.open_place(
                ctx,
                target,
                name=scenario.name,
                image=ctx.image(image).tag if own and target != "native" else image,
                tmpfs_bytes=_size(workspace) * 3 + 256 * 1024**2,
                inject_busybox=not own,
            )
            self._places[target] = place
            if place.skip is None and place.busybox is not None:
                self._stage(ctx, place, workspace)

    def finish(self, ctx: RunContext, scenario: Scenario) -> None:
        for place in self._places.values():
            places.close_place(ctx, place)
        self._places.clear()

    def skip_reason(self, ctx: RunContext, variant: Variant) -> str | None:
        place = self._places[str(variant["target"])]
        if place.skip:
            return place.skip
        if place.busybox is None:
            return (
                "busybox is not installed on the host (Debian/Ubuntu: apt install busybox-static)"
            )
        return None

    def sample(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        place = self._places[str(variant["target"])]
        bb = str(place.busybox)
        work = f"{place.path}/workspace"
        reset = (
            f"cd {place.path} && {bb} rm -rf workspace && {bb} cp -a {_PRISTINE} workspace"
            f" && cd workspace && {bb} sh -c {shlex.quote(str(variant['setup']) or 'true')}"
        )
        done = place.run(ctx, [bb, "sh", "-c", reset], timeout=scenario.timeout)
        if done.code != 0:
            raise SampleError(f"restoring the workspace or setup failed: {_tail(done.stderr)}")
        timed = (
            f"cd {work} && {{ echo start; {bb} sh -c {shlex.quote(str(variant['command']))}"
            f" >../{_LOG} 2>&1; echo \"end $?\"; }} | {bb} ts '%.s'"
        )
        done = place.run(ctx, [bb, "sh", "-c", timed], timeout=scenario.timeout)
        return _elapsed(done.stdout, lambda: _log(ctx, place))

    def describe(
        self, ctx: RunContext, variant: Variant
    ) -> tuple[dict[str, str] | None, dict[str, object]]:
        place = self._places[str(variant["target"])]
        extra: dict[str, object] = {
            "fs_type": place.fs_type,
            "image": str(variant["image"]),
            "timing": "busybox ts around sh -c, clock of the place",
            "busybox": "lent by the host" if place.busybox == places.INJECTED_BUSYBOX else "own",
        }
        return {"name": "sh", "version": "busybox"}, extra

    def _stage(self, ctx: RunContext, place: places.Place, workspace: Path | None) -> None:
        """Put the pristine copy of *workspace* at the place, once."""
        bb = str(place.busybox)
        place.run(ctx, [bb, "mkdir", "-p", f"{place.path}/{_PRISTINE}"], timeout=60)
        if workspace is None:
            return
        if place.container is None:
            shutil.copytree(
                workspace, Path(place.path) / _PRISTINE, dirs_exist_ok=True, symlinks=True,
                ignore=_ignored,
            )  # fmt: skip
            return
        bundle = io.BytesIO()
        with tarfile.open(fileobj=bundle, mode="w") as tar:
            tar.add(str(workspace), arcname=_PRISTINE, filter=_skip_junk)
        # the archive API writes to the container's own filesystem and cannot reach a
        # tmpfs mount: stage it there, then copy it into place from inside
        api = ctx.require_engine().api
        api.put_archive(place.container, "/", _stage_dir())
        api.put_archive(place.container, _STAGE, bundle.getvalue())
        done = place.run(
            ctx,
            [bb, "cp", "-a", f"{_STAGE}/{_PRISTINE}/.", f"{place.path}/{_PRISTINE}/"],
            timeout=600,
        )
        if done.code != 0:
            raise SampleError(f"copying the workspace into place failed: {_tail(done.stderr)}")
        place.run(ctx, [bb, "rm", "-rf", _STAGE], timeout=600)


def _stage_dir() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(_STAGE.lstrip("/"))
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
    return buffer.getvalue()


def workspace_dir(scenario: Scenario, workspace: str) -> Path | None:
    """The folder *workspace* names (relative to the scenario file's folder when it has
    one), None for none; SampleError when it is not a folder."""
    if not workspace:
        return None
    path = Path(workspace).expanduser()
    if not path.is_absolute() and scenario.path is not None:
        path = scenario.path.parent / path
    if not path.is_dir():
        raise SampleError(f"workspace {workspace!r} is not a directory (looked at {path})")
    return path.resolve()


def _ignored(folder: str, names: list[str]) -> set[str]:
    """What a copy of the workspace leaves out: :data:`_SKIP` and anything that is not a
    regular file, a folder or a symbolic link (sockets, fifos, devices)."""
    return {name for name in names if name in _SKIP or not _copyable(Path(folder) / name)}


def _copyable(path: Path) -> bool:
    return path.is_symlink() or path.is_file() or path.is_dir()


def _skip_junk(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if Path(info.name).name in _SKIP or not (info.isreg() or info.isdir() or info.issym()):
        return None
    return info


def _size(workspace: Path | None) -> int:
    if workspace is None:
        return 0
    return sum(p.stat().st_size for p in workspace.rglob("*") if p.is_file() and not p.is_symlink())


def _elapsed(stamped: str, log: object) -> dict[str, float]:
    stamps: dict[str, tuple[float, str]] = {}
    for line in stamped.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] in ("start", "end"):
            stamps[parts[1]] = (float(parts[0]), parts[2] if len(parts) > 2 else "")
    if "start" not in stamps or "end" not in stamps:
        raise SampleError("the command's timing marks are missing (was it killed?)")
    if stamps["end"][1] != "0":
        tail = log() if callable(log) else ""
        raise SampleError(f"the command exited with {stamps['end'][1]}: {tail}")
    return {"command": stamps["end"][0] - stamps["start"][0]}


def _log(ctx: RunContext, place: places.Place) -> str:
    done = place.run(
        ctx, [str(place.busybox), "tail", "-n", "5", f"{place.path}/{_LOG}"], timeout=30
    )
    return _tail(done.stdout)


def _tail(text: str) -> str:
    return output_tail(text, lines=3, limit=400, empty="(no output)")
