#!/bin/sh
# Installs the guest server into a VM image tree: install.sh ROOTDIR puts the bundled
# guest-server.js at ROOTDIR/opt/cms/, the systemd unit in ROOTDIR/etc/systemd/system/ (enabled
# for multi-user.target) and the rc.local line in ROOTDIR/etc/rc.local. Idempotent; changes
# nothing outside ROOTDIR. CMS_GUEST_JS overrides where the bundle is taken from.
set -eu

usage() {
  echo "usage: $0 ROOTDIR   (e.g. $0 /mnt/image, or $0 / inside the VM)" >&2
  exit 2
}

[ "$#" -eq 1 ] || usage
[ -n "$1" ] || usage
ROOT=${1%/}
[ -d "${ROOT:-/}" ] || { echo "install.sh: ROOTDIR '$1' is not a directory" >&2; exit 1; }

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
BUNDLE=${CMS_GUEST_JS:-$HERE/dist/guest-server.js}
UNIT_SRC=$HERE/cms-guest.service
RC_SRC=$HERE/rc.local

if [ ! -f "$BUNDLE" ]; then
  echo "install.sh: $BUNDLE not found: build it first with 'npm run build' (or 'node build/build.mjs')" >&2
  exit 1
fi
for file in "$UNIT_SRC" "$RC_SRC"; do
  [ -f "$file" ] || { echo "install.sh: $file is missing from the guest-server folder" >&2; exit 1; }
done

# The bundle, written to a temporary name first so a running guest never sees half a file.
mkdir -p "$ROOT/opt/cms"
cp "$BUNDLE" "$ROOT/opt/cms/.guest-server.js.new"
chmod 0755 "$ROOT/opt/cms/.guest-server.js.new"
mv -f "$ROOT/opt/cms/.guest-server.js.new" "$ROOT/opt/cms/guest-server.js"

# The unit, enabled the way `systemctl enable` does it (an absolute symlink in the wants folder).
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
cp "$UNIT_SRC" "$ROOT/etc/systemd/system/cms-guest.service"
chmod 0644 "$ROOT/etc/systemd/system/cms-guest.service"
ln -sfn /etc/systemd/system/cms-guest.service "$ROOT/etc/systemd/system/multi-user.target.wants/cms-guest.service"

# rc.local: add our start line once, before a final 'exit 0' if the file has one.
RC=$ROOT/etc/rc.local
LINE=$(grep -F '/opt/cms/guest-server.js' "$RC_SRC")
if [ ! -f "$RC" ]; then
  printf '#!/bin/sh\n%s\nexit 0\n' "$LINE" > "$RC"
elif ! grep -qF '/opt/cms/guest-server.js' "$RC"; then
  TMP=$RC.cms-new
  awk -v line="$LINE" '
    { lines[NR] = $0 }
    END {
      last = 0
      for (i = NR; i >= 1; i--) if (lines[i] ~ /^[ \t]*exit[ \t]+0[ \t]*$/) { last = i; break }
      for (i = 1; i <= NR; i++) { if (i == last) print line; print lines[i] }
      if (last == 0) print line
    }' "$RC" > "$TMP"
  mv -f "$TMP" "$RC"
fi
chmod 0755 "$RC"

echo "install.sh: installed the guest server into ${ROOT:-/}"
