#!/bin/bash
# Build crossdock's reference VM image: Debian bookworm with Docker Engine, booted by
# `crossdock vm up`. Only Debian packages go in (mmdebstrap, the mirrors given below).
# Run as root. Arguments: OUT_DIR SSH_PUBKEY_FILE; env CROSSDOCK_VM_MIRRORS overrides the
# apt sources (one "deb URI SUITE COMPONENT" line each).
set -euo pipefail
OUT=$1
PUBKEY=$2
MIRRORS=${CROSSDOCK_VM_MIRRORS:-"deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main"}
ROOT="$OUT/rootfs"
rm -rf "$ROOT"
mkdir -p "$OUT"
mapfile -t sources <<<"$MIRRORS"

echo "crossdock-vm: installing Debian bookworm with docker.io into $ROOT"
mmdebstrap --variant=minbase --quiet \
  --include=linux-image-amd64,initramfs-tools,systemd-sysv,dbus,udev,kmod,iproute2,procps,docker.io,ca-certificates,openssh-server \
  bookworm "$ROOT" "${sources[@]}"

echo crossdock-vm > "$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 crossdock-vm\n' > "$ROOT/etc/hosts"
echo '/dev/vda / ext4 rw,discard,errors=remount-ro 0 1' > "$ROOT/etc/fstab"
# Debian's tmpfiles.d "D /tmp" empties /tmp at boot; a share mounted below /tmp must never
# be cleaned, so /tmp is only created.
echo 'd /tmp 1777 root root -' > "$ROOT/etc/tmpfiles.d/tmp.conf"

# The host folders are mounted at the paths the kernel command line names (crossdock.work=
# through virtiofs, crossdock.alt= through 9p), before the engine starts.
cat > "$ROOT/usr/local/sbin/crossdock-shares" <<'SH'
#!/bin/sh
set -eu
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    crossdock.work=*) work=${arg#*=} ;;
    crossdock.alt=*) alt=${arg#*=} ;;
  esac
done
if [ -n "${work:-}" ]; then
  mkdir -p "$work" && mount -t virtiofs crossdock-work "$work"
fi
if [ -n "${alt:-}" ]; then
  mkdir -p "$alt" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=mmap crossdock-alt "$alt"
fi
SH
chmod 755 "$ROOT/usr/local/sbin/crossdock-shares"
cat > "$ROOT/etc/systemd/system/crossdock-shares.service" <<'UNIT'
[Unit]
Description=crossdock host folders (virtiofs, 9p)
DefaultDependencies=no
After=local-fs.target
Before=docker.service containerd.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/crossdock-shares
[Install]
WantedBy=multi-user.target
UNIT

# Network: QEMU user networking (guest 10.0.2.15, host loopback at 10.0.2.2, DNS 10.0.2.3).
mkdir -p "$ROOT/etc/systemd/network"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' > "$ROOT/etc/systemd/network/20-wired.network"
echo 'nameserver 10.0.2.3' > "$ROOT/etc/resolv.conf"
# The engine listens on its unix socket only; host.docker.internal (host-gateway) is the
# host's loopback as QEMU forwards it. Nothing forwards the ports the engine publishes to
# the host, and the engine says so in its labels.
echo 'DOCKER_OPTS="--host-gateway-ip=10.0.2.2 --label crossdock.published-ports=not-forwarded"' \
  > "$ROOT/etc/default/docker"
# The engine socket is reached through ssh with this key only.
install -d -m 700 "$ROOT/root/.ssh"
install -m 600 "$PUBKEY" "$ROOT/root/.ssh/authorized_keys"
printf 'PasswordAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n' \
  > "$ROOT/etc/ssh/sshd_config.d/crossdock.conf"
chroot "$ROOT" systemctl enable systemd-networkd crossdock-shares ssh docker containerd >/dev/null 2>&1
chroot "$ROOT" systemctl mask systemd-networkd-wait-online.service apt-daily.timer \
  apt-daily-upgrade.timer e2scrub_all.timer man-db.timer fstrim.timer >/dev/null 2>&1
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*

echo "crossdock-vm: writing the disk image"
cp -L "$ROOT/vmlinuz" "$OUT/vmlinuz.new"
cp -L "$ROOT/initrd.img" "$OUT/initrd.img.new"
cp "$ROOT/etc/ssh/ssh_host_ed25519_key.pub" "$OUT/host_key.pub.new"
rm -f "$OUT/disk.raw.new"
mkfs.ext4 -q -F -L crossdock-vm -d "$ROOT" "$OUT/disk.raw.new" 8G
rm -rf "$ROOT"
for f in vmlinuz initrd.img host_key.pub disk.raw; do mv "$OUT/$f.new" "$OUT/$f"; done
echo "crossdock-vm: image ready in $OUT"
