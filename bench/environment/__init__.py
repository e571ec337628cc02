"""Where the measurements happen: the engine (how to reach it, labels, cleanup), the host,
saved ``docker info`` / ``docker version`` captures, the evidence platform detection reads,
the platform vocabulary and its detection rules, the daemon's userland-proxy setting, and
the records a results file keeps of all of them."""
