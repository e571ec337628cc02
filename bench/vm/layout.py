"""Where the reference VM keeps its files, and what a running VM recorded about itself.

Everything lives under one directory (``CROSSDOCK_VM_DIR``, else
``$XDG_CACHE_HOME/crossdock-vm``): the built image in ``image/``, the client's ssh key,
and in ``run/`` the sockets, logs and process ids of a running VM.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.environment.engine import VM_CONTEXT
from bench.provision.context import cache_root

#: the docker context ``crossdock vm up`` creates, and the VM's host name
CONTEXT = VM_CONTEXT


def vm_root() -> Path:
    """The VM's directory: ``CROSSDOCK_VM_DIR``, else the user's cache directory."""
    configured = os.environ.get("CROSSDOCK_VM_DIR")
    if configured:
        return Path(configured)
    return cache_root() / "crossdock-vm"


@dataclass(frozen=True)
class Layout:
    """The VM's files, all under :attr:`root`."""

    root: Path

    @property
    def image(self) -> Path:
        return self.root / "image"

    @property
    def disk(self) -> Path:
        return self.image / "disk.raw"

    @property
    def kernel(self) -> Path:
        return self.image / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.image / "initrd.img"

    @property
    def host_key(self) -> Path:
        """The guest's ssh host key, read from the image when it was built."""
        return self.image / "host_key.pub"

    @property
    def image_digest(self) -> Path:
        """The SHA-256 of the ``build.sh`` that built the image."""
        return self.image / "build.sha256"

    @property
    def key(self) -> Path:
        """The client key the guest's ``authorized_keys`` holds."""
        return self.root / "id_ed25519"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def run_file(self, name: str) -> Path:
        return self.run / name

    @property
    def docker_sock(self) -> Path:
        """The engine's socket on the host, forwarded by ssh from the guest's."""
        return self.run_file("docker.sock")

    @property
    def state_file(self) -> Path:
        return self.run_file("state.json")

    def built(self) -> bool:
        """Whether a complete image is there (the build writes its files last)."""
        return all(p.is_file() for p in (self.disk, self.kernel, self.initrd, self.host_key))


@dataclass(frozen=True)
class State:
    """What ``vm up`` recorded about the running VM."""

    ssh_port: int
    accel: str
    accel_reason: str
    workdir: str
    altdir: str
    pids: dict[str, int]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> State | None:
        """The recorded state, or ``None`` when there is none (or it is unreadable)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None
