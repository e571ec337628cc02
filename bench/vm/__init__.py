"""crossdock's reference VM engine: Docker Engine in a Debian VM under QEMU, the host's
work directory shared into it through virtiofs and a second folder through 9p, its API
reached through an ssh-forwarded unix socket (the architecture of lima and Docker
Desktop). ``crossdock vm up|down|status``."""
