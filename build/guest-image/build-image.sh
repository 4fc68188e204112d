#!/usr/bin/env bash
# Builds the minimal pool guest from Debian packages alone: the Debian kernel (unpacked to the
# uncompressed vmlinux ELF, which QEMU boots directly and fast even under TCG), an lz4 initramfs
# with busybox, this host's Node binary and its shared libraries, the one-file guest server
# (installed by guest-server/install.sh), the virtio network modules and an init that brings eth0
# up and starts the server. It bakes in no manager address and no token. The result is cached:
# a second run with the same inputs (package versions, Node, guest server, these files) is a no-op.
#
#   build-image.sh [OUTDIR]       prints the path of OUTDIR/manifest.json on stdout
#
# Environment: CMS_GUEST_JS (guest-server bundle), CMS_NODE_BIN (node binary to ship),
# CMS_GUEST_KERNEL_DEB / CMS_GUEST_BUSYBOX_DEB (local .deb files instead of `apt-get download`),
# CMS_GUEST_KERNEL_META (kernel metapackage; default linux-image-cloud-amd64),
# CMS_IMAGE_FORCE=1 (rebuild even when cached), CMS_GUEST_SNAPSHOT_CPU (the emulated CPU the guest's
# Node start-up snapshot is made for, as QEMU's -cpu; empty for none; default kvm64,+rdrand).
set -euo pipefail

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
ROOT=$(CDPATH='' cd -- "$HERE/../.." && pwd)
if [ "$(id -u)" = 0 ]; then DEFAULT_OUT=/var/lib/cms/guest-image; else DEFAULT_OUT=${XDG_CACHE_HOME:-$HOME/.cache}/cms/guest-image; fi
OUT=${1:-$DEFAULT_OUT}
GUEST_JS=${CMS_GUEST_JS:-$ROOT/guest-server/dist/guest-server.js}
NODE_BIN=${CMS_NODE_BIN:-$(command -v node)}
# The kernel metapackage: Debian's cloud flavour, built for virtual machines (virtio, ACPI, ext4, no
# bare-metal drivers). Measured under TCG against the generic linux-image-amd64 (which
# CMS_GUEST_KERNEL_META=linux-image-amd64 selects), alternating boots: QEMU alone, the server
# registered ~0.15 s sooner (medians of 10); through libvirt, served ~0.07 s sooner (medians of 8).
KERNEL_META=${CMS_GUEST_KERNEL_META:-linux-image-cloud-amd64}
# Modules the guest loads, in order after their dependencies (resolved below from each .ko).
WANTED_MODULES=(virtio_pci virtio_rng virtio_net virtio_blk button evdev)
# Only these parts of the kernel package are unpacked; a dependency outside them fails the build.
MODULE_DIRS=(drivers/virtio drivers/char/hw_random drivers/net drivers/block net/core drivers/acpi drivers/input)
# Boot time under TCG emulation: cryptomgr.notests skips the kernel's crypto self-tests (~0.3 s), the
# blacklisted initcalls set up tracing and a KDF self-test, rcu_expedited shortens the grace periods
# boot waits for; none of it is something the guest uses. No keyboard, one serial port, no audit.
# random.trust_cpu=on: the random pool is ready at once where the (emulated) CPU has RDRAND.
# ipv6.disable=1: the guest speaks IPv4 only, and IPv6's set-up waited for the initramfs unpack.
# rodata=off: making the kernel's text read-only and checking its page tables for W+X mappings
# came after the unpack, right before /init (~0.1 s of an emulated boot); the guest runs a single
# program, as root, which could change the kernel anyway.
CMDLINE_BASE='console=ttyS0 rootfstype=ramfs quiet loglevel=3 panic=-1 mitigations=off tsc=reliable no_timer_check random.trust_cpu=on cryptomgr.notests initcall_blacklist=init_kprobe_trace,crypto_kdf108_init,init_blk_tracer rcupdate.rcu_expedited=1 i8042.noaux i8042.nokbd 8250.nr_uarts=1 nowatchdog audit=0 ipv6.disable=1 rodata=off'

say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "missing tool '$1': apt-get install $2"; }

need dpkg-deb dpkg
need cpio cpio
need lz4 lz4
need xz xz-utils
need sha256sum coreutils
[ -x "$NODE_BIN" ] || die "no node binary at '$NODE_BIN' (set CMS_NODE_BIN)"
[ -f "$GUEST_JS" ] || die "$GUEST_JS not found: run 'node build/build.mjs' first"

# Node refuses a start-up snapshot made on another CPU (V8 keys it by CPU features), so it is made
# by the shipped Node under qemu-user emulating the template's CPU (electron/core/kvm/tcg-cpu.ts).
# Without qemu-user the guest starts from its script and code cache (it registers ~0.45 s later under TCG).
SNAPSHOT_CPU=${CMS_GUEST_SNAPSHOT_CPU-kvm64,+rdrand}
QEMU_USER_ID=none
[[ "$SNAPSHOT_CPU" =~ ^[A-Za-z0-9,+=_.-]*$ ]] || die "CMS_GUEST_SNAPSHOT_CPU '$SNAPSHOT_CPU' is not a QEMU -cpu value"
if [ -n "$SNAPSHOT_CPU" ]; then
  if command -v qemu-x86_64 >/dev/null 2>&1; then
    QEMU_USER_ID=$(qemu-x86_64 --version | head -n 1)
  else
    say "no qemu-x86_64 (apt-get install qemu-user): the guest will start without a Node start-up snapshot"
    SNAPSHOT_CPU=""
  fi
fi

started_s=$(date +%s.%N)

# ---- which Debian packages: the kernel the $KERNEL_META metapackage points at, and busybox-static.
apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'; }
ensure_apt_lists() {
  local candidate
  candidate=$(apt_candidate busybox-static)
  if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
    [ "$(id -u)" = 0 ] || die "apt has no package lists: run 'sudo apt-get update' (or set CMS_GUEST_KERNEL_DEB and CMS_GUEST_BUSYBOX_DEB)"
    say "apt has no package lists: apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
  fi
}
deb_id() { dpkg-deb -f "$1" Package Version | tr '\n' ' '; }

if [ -n "${CMS_GUEST_KERNEL_DEB:-}" ] && [ -n "${CMS_GUEST_BUSYBOX_DEB:-}" ]; then
  KERNEL_ID=$(deb_id "$CMS_GUEST_KERNEL_DEB")
  BUSYBOX_ID=$(deb_id "$CMS_GUEST_BUSYBOX_DEB")
else
  need apt-get apt
  ensure_apt_lists
  KERNEL_PKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$KERNEL_PKG" ] || die "cannot resolve the kernel package of $KERNEL_META (apt-cache depends)"
  KERNEL_ID="$KERNEL_PKG $(apt_candidate "$KERNEL_PKG") "
  BUSYBOX_ID="busybox-static $(apt_candidate busybox-static) "
fi

# ---- the cache key: every input's identity.
NODE_SHA=$(sha256sum "$NODE_BIN" | cut -d' ' -f1)
KEY=$(
  {
    echo "kernel $KERNEL_ID"
    echo "busybox $BUSYBOX_ID"
    echo "node $NODE_SHA"
    echo "modules ${WANTED_MODULES[*]}"
    echo "cmdline $CMDLINE_BASE"
    echo "snapshot $SNAPSHOT_CPU $QEMU_USER_ID"
    sha256sum "$GUEST_JS" "$HERE/build-image.sh" "$HERE/init" "$HERE/fstab" "$HERE/cached-start.cjs" "$HERE/make-code-cache.cjs" "$HERE/snapshot-entry.cjs" "$HERE/udhcpc.script" "$ROOT/guest-server/install.sh" | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
)
MANIFEST=$OUT/manifest.json
if [ "${CMS_IMAGE_FORCE:-0}" != 1 ] && [ -f "$MANIFEST" ] && grep -q "\"key\": \"$KEY\"" "$MANIFEST" &&
  [ -f "$OUT/vmlinux" ] && [ -f "$OUT/initramfs.lz4" ] && [ -f "$OUT/probe-initramfs.lz4" ]; then
  say "cached: inputs unchanged ($OUT)"
  echo "$MANIFEST"
  exit 0
fi

mkdir -p "$OUT"
# QEMU runs as an unprivileged user (libvirt-qemu) and must read the kernel, initramfs and disks.
chmod 0755 "$OUT"
WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT/debs"

fetch_deb() { # PACKAGE VERSION -> path of the .deb in $OUT/debs
  local pkg=$1 version=$2 file
  file=$(find "$OUT/debs" -maxdepth 1 -name "${pkg}_*.deb" -print | while read -r f; do
    [ "$(dpkg-deb -f "$f" Version)" = "$version" ] && echo "$f"
  done | head -n 1)
  if [ -z "$file" ]; then
    say "downloading $pkg $version"
    # apt's sandbox user cannot write here; downloading as root is what we want anyway.
    (cd "$WORK" && apt-get download -q "$pkg=$version" >&2 2>/dev/null) || (cd "$WORK" && apt-get download "$pkg=$version" >&2) || die "apt-get download $pkg=$version failed"
    find "$OUT/debs" -maxdepth 1 -name "${pkg}_*.deb" -delete
    file=$OUT/debs/$(basename "$(ls "$WORK/${pkg}"_*.deb)")
    mv "$WORK/${pkg}"_*.deb "$file"
  fi
  echo "$file"
}

if [ -n "${CMS_GUEST_KERNEL_DEB:-}" ] && [ -n "${CMS_GUEST_BUSYBOX_DEB:-}" ]; then
  KERNEL_DEB=$CMS_GUEST_KERNEL_DEB
  BUSYBOX_DEB=$CMS_GUEST_BUSYBOX_DEB
else
  read -r kpkg kver <<<"$KERNEL_ID"
  read -r bpkg bver <<<"$BUSYBOX_ID"
  KERNEL_DEB=$(fetch_deb "$kpkg" "$kver")
  BUSYBOX_DEB=$(fetch_deb "$bpkg" "$bver")
fi

# ---- kernel: the boot image and the few module folders we need.
mkdir -p "$WORK/kernel"
patterns=('./boot/vmlinuz-*')
for dir in "${MODULE_DIRS[@]}"; do patterns+=("./lib/modules/*/kernel/$dir"); done
dpkg-deb --fsys-tarfile "$KERNEL_DEB" | tar -x -C "$WORK/kernel" --wildcards "${patterns[@]}"
VMLINUZ=$(ls "$WORK"/kernel/boot/vmlinuz-* | head -n 1)
KVER=${VMLINUZ##*/vmlinuz-}
MODROOT=$WORK/kernel/lib/modules/$KVER/kernel

# The bzImage wraps a compressed vmlinux: xz in Debian's generic kernel, lz4 (legacy frames) in its
# cloud kernel. Decompressing it here once saves the guest seconds of decompression under TCG.
extract_vmlinux() { # MAGIC-REGEX DECOMPRESSOR...
  local magic=$1 offset
  shift
  for offset in $(LC_ALL=C grep -obUaP "$magic" "$VMLINUZ" | cut -d: -f1); do
    tail -c +$((offset + 1)) "$VMLINUZ" | "$@" >"$WORK/vmlinux" 2>/dev/null || true
    if [ "$(head -c 4 "$WORK/vmlinux" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then return 0; fi
  done
  return 1
}
extract_vmlinux '\xfd7zXZ\x00' xz -dc ||
  extract_vmlinux '\x28\xb5\x2f\xfd' zstd -dc ||
  extract_vmlinux '\x1f\x8b\x08' gzip -dc ||
  extract_vmlinux '\x02\x21\x4c\x18' lz4 -dc ||
  die "could not unpack vmlinux from $VMLINUZ (not xz, zstd, gzip or lz4?)"

# ---- the initramfs tree.
TREE=$WORK/tree
mkdir -p "$TREE"/{bin,sbin,usr/bin,usr/sbin,etc/cms,lib/modules/cms,proc,sys,dev,tmp,run,var/log,root}
chmod 1777 "$TREE/tmp"
dpkg-deb --fsys-tarfile "$BUSYBOX_DEB" | tar -x -C "$WORK" ./bin/busybox
install -m 0755 "$WORK/bin/busybox" "$TREE/bin/busybox"
for applet in $("$TREE/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$TREE/bin/$applet"
done

# Modules in dependency order, read from each .ko's own "depends=" field (the package ships no
# modules.dep; depmod runs at install time).
declare -A MODULE_PATH=()
while IFS= read -r ko; do
  name=$(basename "$ko" .ko)
  MODULE_PATH[$name]=$ko
  MODULE_PATH[${name//-/_}]=$ko
done < <(find "$MODROOT" -name '*.ko')
declare -A LOADED=()
ORDER=()
add_module() {
  local name=${1//-/_} ko deps dep
  [ -z "${LOADED[$name]:-}" ] || return 0
  ko=${MODULE_PATH[$name]:-}
  [ -n "$ko" ] || die "kernel module '$name' is not in ${MODULE_DIRS[*]}"
  LOADED[$name]=1
  deps=$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -n 1)
  for dep in ${deps//,/ }; do add_module "$dep"; done
  cp "$ko" "$TREE/lib/modules/cms/$name.ko"
  ORDER+=("$name")
}
for module in "${WANTED_MODULES[@]}"; do add_module "$module"; done
printf '%s\n' "${ORDER[@]}" >"$TREE/etc/cms/modules"

# Node and exactly the shared libraries it links (resolved by the host's loader).
install -D -m 0755 "$NODE_BIN" "$TREE/usr/bin/node"
# Debug symbols cost guest RAM (the initramfs lives in it) and QEMU RAM (it keeps the initrd).
if command -v strip >/dev/null 2>&1; then strip --strip-all "$TREE/usr/bin/node"; fi
while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$TREE$lib"
done < <(ldd "$NODE_BIN" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(/ { print $1 }')

# The guest server, installed the supported way (also leaves its systemd unit and rc.local line),
# and the V8 code cache of it that the init starts it with, made by the Node binary shipped here.
CMS_GUEST_JS=$GUEST_JS sh "$ROOT/guest-server/install.sh" "$TREE" >&2
install -m 0644 "$HERE/cached-start.cjs" "$TREE/opt/cms/cached-start.cjs"
"$NODE_BIN" "$HERE/make-code-cache.cjs" "$TREE/opt/cms/guest-server.js" "$TREE/opt/cms/guest-server.js.v8cache"
# The start-up snapshot: Node with the server loaded and compiled (snapshot-entry.cjs), for the emulated CPU.
# Checked the way the guest uses it: started from it under the same CPU, the server's main runs.
if [ -n "$SNAPSHOT_CPU" ]; then
  SNAPSHOT=$TREE/opt/cms/guest-server.snapshot
  qemu-x86_64 -cpu "$SNAPSHOT_CPU" "$NODE_BIN" --snapshot-blob "$SNAPSHOT" --build-snapshot "$HERE/snapshot-entry.cjs" "$TREE/opt/cms/guest-server.js" 2>"$WORK/snapshot.log" ||
    die "building the Node start-up snapshot under qemu-x86_64 -cpu $SNAPSHOT_CPU failed (CMS_GUEST_SNAPSHOT_CPU= builds the image without one): $(tail -n 5 "$WORK/snapshot.log")"
  [ "$(qemu-x86_64 -cpu "$SNAPSHOT_CPU" "$NODE_BIN" --snapshot-blob "$SNAPSHOT" -- --version)" = "$("$NODE_BIN" "$TREE/opt/cms/guest-server.js" --version)" ] ||
    die "the Node start-up snapshot does not start the guest server under qemu-x86_64 -cpu $SNAPSHOT_CPU (CMS_GUEST_SNAPSHOT_CPU= builds the image without one)"
  chmod 0644 "$SNAPSHOT"
fi

install -m 0755 "$HERE/init" "$TREE/init"
install -m 0644 "$HERE/fstab" "$TREE/etc/fstab"
install -m 0755 "$HERE/udhcpc.script" "$TREE/etc/cms/udhcpc.script"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$TREE/etc/passwd"
printf 'root:x:0:\n' >"$TREE/etc/group"
printf '127.0.0.1 localhost\n' >"$TREE/etc/hosts"

make_initramfs() { # TREE OUTPUT
  # The kernel only unpacks lz4's legacy frame format (-l).
  # -9: a smaller initrd in guest and QEMU memory; decompression is as fast as at -1.
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | lz4 -l -9 -q -c >"$2"
}
make_initramfs "$TREE" "$WORK/initramfs.lz4"

# The accelerator probe's initramfs: busybox and init only, so it loads in no time.
PROBE=$WORK/probe
mkdir -p "$PROBE"/{bin,proc,sys,dev,tmp,run,var/log,etc/cms}
cp -a "$TREE"/bin/. "$PROBE/bin/"
install -m 0755 "$HERE/init" "$PROBE/init"
install -m 0644 "$HERE/fstab" "$PROBE/etc/fstab"
: >"$PROBE/etc/cms/modules"
make_initramfs "$PROBE" "$WORK/probe-initramfs.lz4"

NODE_VERSION=$("$NODE_BIN" --version)
built_s=$(date +%s.%N)
cat >"$WORK/manifest.json" <<EOF
{
  "format": 1,
  "key": "$KEY",
  "kernel": "vmlinux",
  "initrd": "initramfs.lz4",
  "probeInitrd": "probe-initramfs.lz4",
  "cmdline": "$CMDLINE_BASE",
  "kernelRelease": "$KVER",
  "kernelPackage": "$(echo $KERNEL_ID)",
  "busyboxPackage": "$(echo $BUSYBOX_ID)",
  "nodeVersion": "$NODE_VERSION",
  "modules": "$(echo "${ORDER[@]}")",
  "snapshotCpu": $([ -n "$SNAPSHOT_CPU" ] && echo "\"$SNAPSHOT_CPU\"" || echo null),
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": $(awk -v a="$started_s" -v b="$built_s" 'BEGIN { printf "%.1f", b - a }')
}
EOF
chmod 0644 "$WORK/vmlinux" "$WORK/initramfs.lz4" "$WORK/probe-initramfs.lz4" "$WORK/manifest.json"
# The manifest goes last: a reader that sees the new key sees the new files.
for file in vmlinux initramfs.lz4 probe-initramfs.lz4 manifest.json; do mv -f "$WORK/$file" "$OUT/$file"; done
say "built $OUT in $(awk -v a="$started_s" -v b="$built_s" 'BEGIN { printf "%.1f", b - a }') s (kernel $KVER, node $NODE_VERSION, $(du -m "$OUT/initramfs.lz4" | cut -f1) MiB initramfs)"
echo "$MANIFEST"
