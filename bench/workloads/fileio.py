"""File I/O: the same work on each place files can live, and natively on the host.

Targets (``target``): ``native`` (a host directory, the baseline), ``bind`` (that kind of
host directory bind-mounted), ``volume``, ``container`` (the writable layer), ``tmpfs``,
``bind-alt`` (a second shared folder, where there is one) and, inside WSL2,
``bind-windows``. Workloads (``workload``): fio jobs ``seq-read``,
``seq-write`` (1 MiB blocks), ``rand-read``, ``rand-write`` (4 KiB), ``fsync-write``
(4 KiB writes each followed by fsync), ``metadata`` (create / stat / delete many files),
and ``tree``: unpack, walk, read and delete a generated source tree with busybox tools,
each phase timed by busybox ``ts`` on the clock of the machine doing the work.

fio tries direct I/O first (``direct = "auto"``) and falls back to buffered I/O with a
final fsync where the filesystem refuses it; which one was used is recorded per target.
fio's data jobs start cold for their file; ``cache = "cold"`` makes the tree workload cold
too: the page cache of the kernel doing the work is dropped between unpacking the tree and
walking it (:mod:`bench.provision.cache`), as after a reboot or a checkout of another branch.
A warm variant that such a drop (or the trial drop when preparing) has cooled is re-warmed
by one unrecorded run before its next sample, as startup does, so warm stays warm beside
cold variants.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import SampleError
from bench.plan import ParamSpec, Scalar, Scenario, Variant
from bench.provision import cache, places
from bench.provision.context import RunContext
from bench.provision.processes import output_tail
from bench.tools import fio

WORKLOADS: tuple[str, ...] = (*fio.JOBS, "metadata", "tree")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_TREE_PHASES = ("tree_unpack", "tree_walk", "tree_read", "tree_delete")


def parse_size(text: object) -> int:
    """Bytes in a size such as ``"128MiB"``, ``"64m"``, ``"1g"`` or ``"4096"`` (powers of
    1024, as fio reads them). Raises ValueError for anything else."""
    match = _SIZE.match(str(text))
    if not match or isinstance(text, bool):
        raise ValueError(f"{text!r} is not a size (examples: 4096, 64k, 128MiB, 1GiB)")
    return int(float(match.group(1)) * _SCALE[match.group(2)[:1].lower()])


def _size_problem(text: object) -> str | None:
    try:
        return None if parse_size(text) > 0 else "a size must be above 0"
    except ValueError as e:
        return str(e)


@dataclass
class _Tool:
    """How fio and busybox are invoked at a place (host paths, or names in the image)."""

    fio: str | None
    busybox: str | None
    fio_version: str | None = None


class FileioWorkload:
    """The ``fileio`` kind (see module docstring)."""

    kind = "fileio"
    params: Mapping[str, ParamSpec] = {
        "target": ParamSpec(str, "native", places.TARGETS),
        "workload": ParamSpec(str, "seq-read", WORKLOADS),
        "size": ParamSpec(str, "128MiB", help="data file size", validator=_size_problem),
        "duration": ParamSpec(float, 2.0, minimum=0.1, maximum=3600, help="seconds per fio job"),
        "files": ParamSpec(int, 2000, minimum=10, maximum=1_000_000, help="metadata/tree files"),
        "direct": ParamSpec(str, "auto", ("auto", "on", "off"), help="O_DIRECT for fio jobs"),
        "cache": ParamSpec(
            str, "warm", cache.STATES, help="tree: cold = page cache dropped after unpacking"
        ),
    }
    metrics: tuple[str, ...] = (
        "bandwidth", "iops", "lat_p50", "lat_p99", "fsync_p50", "fsync_p99",
        "create_rate", "stat_rate", "delete_rate", *_TREE_PHASES, "tree_total",
    )  # fmt: skip

    def __init__(self) -> None:
        self._places: dict[str, places.Place] = {}
        self._direct: dict[str, tuple[bool, str]] = {}
        self._tools: dict[str, _Tool] = {}
        self._trees: dict[int, Path] = {}
        #: target -> how its kernel's cache is dropped for cold trees, or why it cannot be
        self._cold: dict[str, cache.Method | str] = {}
        #: cache drops so far, and the count each warm variant was last warm after
        self._drops = 0
        self._seen: dict[Variant, int] = {}
        #: whether a target's files are reached through a kernel that is not the host's
        self._in_vm: dict[str, bool] = {}

    # --- protocol ------------------------------------------------------------------------

    def check_variant(self, variant: Mapping[str, Scalar]) -> str | None:
        if variant["cache"] == "cold" and variant["workload"] != "tree":
            return (
                'cache = "cold" applies to the tree workload: fio\'s data jobs already start '
                "cold for their file, metadata creates its own files"
            )
        return None

    def needs_engine(self, variant: Variant) -> bool:
        return variant["target"] != "native"

    def prepare(self, ctx: RunContext, scenario: Scenario, variants: Sequence[Variant]) -> None:
        biggest = max(parse_size(v["size"]) for v in variants)
        for target in dict.fromkeys(str(v["target"]) for v in variants):
            place = places.open_place(
                ctx,
                target,
                name=scenario.name,
                image=ctx.image("tools").tag if target != "native" else "",
                tmpfs_bytes=biggest + 256 * 1024**2,
            )
            self._places[target] = place
            self._tools[target] = self._find_tools(ctx, place)
        tried: dict[cache.Method, str | None] = {}
        for target in dict.fromkeys(str(v["target"]) for v in variants if v["cache"] == "cold"):
            self._cold[target] = cache.usable(ctx, None if target == "native" else "tools", tried)
        self._drops += len(tried)  # the trial drops cool the warm variants too
        in_vm = not cache.shares_host_kernel(ctx)
        self._in_vm = {t: t != "native" and in_vm for t in self._places}

    def finish(self, ctx: RunContext, scenario: Scenario) -> None:
        for place in self._places.values():
            places.close_place(ctx, place)
            if place.container is None and place.target == "native":
                shutil.rmtree(place.path, ignore_errors=True)
        self._places.clear()
        self._direct.clear()
        self._cold.clear()
        self._seen.clear()

    def skip_reason(self, ctx: RunContext, variant: Variant) -> str | None:
        place = self._places[str(variant["target"])]
        if place.skip:
            return place.skip
        tool = self._tools[place.target]
        cold = self._cold_for(variant)
        if isinstance(cold, str):
            return f"a cold tree is not possible here: {cold}"
        if variant["workload"] == "tree":
            return None if tool.busybox else "busybox is not installed on the host " + _HINT
        return None if tool.fio else "fio is not installed on the host " + _HINT

    def sample(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        """One repetition. A warm variant that a cache drop has cooled since its last run
        (another variant's cold tree, or a trial drop) is re-warmed first by one unrecorded
        run: the tree's archive, the tools and the image come back into the cache."""
        if variant["cache"] == "warm" and self._seen.get(variant, 0) != self._drops:
            self._run(ctx, scenario, variant)
        self._seen[variant] = self._drops
        return self._run(ctx, scenario, variant)

    def _run(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        place = self._places[str(variant["target"])]
        workload = str(variant["workload"])
        if workload == "tree":
            return self._tree(ctx, scenario, variant, place)
        tool = self._tools[place.target]
        assert tool.fio is not None  # skip_reason said so
        if workload == "metadata":
            args = fio.metadata_args(directory=place.path, files=int(variant["files"]))
            return fio.metadata_metrics(self._fio(ctx, place, tool.fio, args, scenario.timeout))
        direct, _ = self._direct_mode(ctx, place, str(variant["direct"]))
        args = fio.data_args(
            workload,
            directory=place.path,
            size=parse_size(variant["size"]),
            duration=float(variant["duration"]),
            direct=direct,
        )
        return fio.data_metrics(self._fio(ctx, place, tool.fio, args, scenario.timeout), workload)

    def describe(
        self, ctx: RunContext, variant: Variant
    ) -> tuple[dict[str, str] | None, dict[str, object]]:
        place = self._places[str(variant["target"])]
        tool = self._tools[place.target]
        extra: dict[str, object] = {
            "fs_type": place.fs_type,
            "path": place.path,
            "where": "host" if place.container is None else "container (exec)",
        }
        if place.target != "native":
            extra["image"] = ctx.image("tools").to_json()
        workload = str(variant["workload"])
        if workload == "tree":
            extra["tree"] = {"files": variant["files"], "timing": "busybox ts, clock of the place"}
            method = self._cold_for(variant)
            if isinstance(method, cache.Method):
                extra |= {"cache": cache.tree_cold(method), "cache_method": method.name}
            else:
                extra["cache"] = cache.fileio_state(workload, None)
            return {"name": "busybox", "version": tool.busybox or "unknown"}, extra
        direct: bool | None = None
        if workload != "metadata":
            direct, why = self._direct_mode(ctx, place, str(variant["direct"]))
            extra |= {"direct": direct, "direct_reason": why, "ioengine": "psync"}
        extra["cache"] = cache.fileio_state(workload, direct, in_vm=self._in_vm[place.target])
        return {"name": "fio", "version": tool.fio_version or "unknown"}, extra

    def place_path(self, target: str) -> str:
        """The directory the files of *target* live in (after :meth:`prepare`)."""
        return self._places[target].path

    # --- pieces ----------------------------------------------------------------------------

    def _find_tools(self, ctx: RunContext, place: places.Place) -> _Tool:
        if place.container is not None:
            versions = ctx.image("tools").tool_versions
            return _Tool("fio", "busybox", versions.get("fio"))
        fio_exe, busybox = shutil.which("fio"), shutil.which("busybox")
        version = None
        if fio_exe:
            out = place.run(ctx, [fio_exe, "--version"], timeout=30)
            version = fio.version_line(out.stdout)
        return _Tool(fio_exe, busybox, version)

    def _direct_mode(self, ctx: RunContext, place: places.Place, wanted: str) -> tuple[bool, str]:
        """Whether fio uses O_DIRECT at *place*, and why (probed once per place)."""
        if wanted != "auto":
            return wanted == "on", f"direct = {wanted!r} in the scenario"
        if place.target not in self._direct:
            tool = self._tools[place.target]
            assert tool.fio is not None
            probe = place.run(ctx, [tool.fio, *fio.probe_args(directory=place.path)], timeout=60)
            try:
                if probe.code != 0:
                    raise fio.FioError(probe.stderr.strip() or f"exit {probe.code}")
                fio.parse(probe.stdout)
                self._direct[place.target] = (True, "a direct=1 probe write succeeded")
            except fio.FioError as e:
                self._direct[place.target] = (
                    False,
                    f"the filesystem refused direct=1 ({str(e)[:200]}); buffered with end_fsync",
                )
        return self._direct[place.target]

    def _fio(
        self, ctx: RunContext, place: places.Place, exe: str, args: list[str], timeout: float
    ) -> dict[str, Any]:
        done = place.run(ctx, [exe, *args], timeout=timeout)
        if done.code != 0:
            raise SampleError(
                f"fio exited with {done.code}: {output_tail(done.stderr, empty=NO_MESSAGE)}"
            )
        try:
            return fio.parse(done.stdout)
        except fio.FioError as e:
            raise SampleError(str(e)) from None

    def _tree(
        self, ctx: RunContext, scenario: Scenario, variant: Variant, place: places.Place
    ) -> dict[str, float]:
        files = int(variant["files"])
        source = self._tree_source(ctx, place, files)
        busybox = self._tools[place.target].busybox
        assert busybox is not None
        directory = f"{place.path}/tree"

        def run(part: str) -> str:
            script = tree_script(busybox=busybox, source=source, directory=directory, part=part)
            return self._shell(ctx, place, busybox, script, scenario.timeout)

        method = self._cold_for(variant)
        if not isinstance(method, cache.Method):
            return tree_phases(run("all"))
        unpacked = run("unpack")
        self._drops += 1
        cache.drop(ctx, method)  # syncs first: the unpacked files are on disk, not in memory
        return tree_phases(unpacked + run("rest"))

    def _shell(
        self, ctx: RunContext, place: places.Place, busybox: str, script: str, timeout: float
    ) -> str:
        done = place.run(ctx, [busybox, "sh", "-c", script], timeout=timeout)
        if done.code != 0:
            raise SampleError(
                f"tree workload exited with {done.code}: "
                f"{output_tail(done.stderr, empty=NO_MESSAGE)}"
            )
        return done.stdout

    def _cold_for(self, variant: Variant) -> cache.Method | str | None:
        """How a cold variant's cache is dropped, or why it cannot be; None when warm."""
        return self._cold.get(str(variant["target"])) if variant["cache"] == "cold" else None

    def _tree_source(self, ctx: RunContext, place: places.Place, files: int) -> str:
        """The tree archive, outside the target: in the run's scratch directory for the host,
        in the container's own filesystem (``/src``) for the others."""
        if files not in self._trees:
            path = ctx.scratch("sources") / f"tree-{files}.tar"
            path.write_bytes(source_tree(files))
            self._trees[files] = path
        archive = self._trees[files]
        if place.container is None:
            return str(archive)
        api = ctx.require_engine().api
        bundle = io.BytesIO()
        with tarfile.open(fileobj=bundle, mode="w") as tar:
            tar.add(str(archive), arcname=archive.name)
        api.put_archive(place.container, "/tmp", bundle.getvalue())  # noqa: S108 - in the container
        return f"/tmp/{archive.name}"  # noqa: S108 - in the container


NO_MESSAGE = "(no message)"
_HINT = "(Debian/Ubuntu: apt install fio busybox-static; macOS: brew install fio)"


def tree_script(*, busybox: str, source: str, directory: str, part: str = "all") -> str:
    """A POSIX shell script running the four tree phases with busybox applets, printing a
    marker line before and after them, each stamped by ``busybox ts`` (microseconds).

    *part* ``"unpack"`` runs the first phase only, ``"rest"`` the three others (marked
    ``resume`` first): a cold tree drops the cache between the two."""
    bb = busybox
    unpack = (
        f"set -e; rm -rf {directory}; mkdir -p {directory}; "
        f"{{ echo start; {bb} tar -xf {source} -C {directory}; echo tree_unpack; "
    )
    rest = (
        f"{bb} ls -lR {directory} >/dev/null; echo tree_walk; "
        f"{bb} find {directory} -type f | {bb} xargs {bb} cat >/dev/null; echo tree_read; "
        f"{bb} rm -rf {directory}; echo tree_delete; "
    )
    stamp = f"}} | {bb} ts '%.s'"
    if part == "unpack":
        return unpack + stamp
    if part == "rest":
        return f"set -e; {{ echo resume; {rest}{stamp}"
    return unpack + rest + stamp


def tree_phases(output: str) -> dict[str, float]:
    """Seconds per phase from the stamped marker lines of :func:`tree_script` (the whole
    script's, or its two parts' one after the other, where the pause between them is not
    counted)."""
    stamps: dict[str, float] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                stamps[parts[1]] = float(parts[0])
            except ValueError:
                continue
    order = ("start", *_TREE_PHASES)
    missing = [p for p in order if p not in stamps]
    if missing:
        raise SampleError(f"tree workload did not finish: no {', '.join(missing)} mark")
    values = {b: stamps[b] - stamps[a] for a, b in itertools.pairwise(order)}
    if "resume" in stamps:
        values["tree_walk"] = stamps["tree_walk"] - stamps["resume"]
    if any(v < 0 for v in values.values()):
        raise SampleError("the clock went backwards during the tree workload")
    values["tree_total"] = sum(values[p] for p in _TREE_PHASES)
    return values


def source_tree(files: int, seed: int = 1) -> bytes:
    """A deterministic, source-like tree as an uncompressed tar: *files* files in nested
    directories (about 12 per directory, up to 4 deep), sizes mostly 0.5-8 KiB with a long
    tail, as a ``node_modules`` or a repository checkout looks."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    buffer = io.BytesIO()
    words = [b"const ", b"return ", b"function ", b"import ", b"{ ", b"} ", b"x", b"\n"]
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for i in range(files):
            depth = rng.randint(1, 4)
            parts = [f"d{rng.randint(0, max(1, files // 12 // depth))}" for _ in range(depth)]
            size = min(256 * 1024, int(rng.lognormvariate(7.6, 1.0)))
            body = b"".join(rng.choice(words) for _ in range(size // 4 + 1))[:size]
            info = tarfile.TarInfo("/".join([*parts, f"f{i}.js"]))
            info.size = len(body)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()
