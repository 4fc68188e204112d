#!/bin/sh
# Starts and stops virtlogd + libvirtd (system mode) for the real-hypervisor tests and benchmark,
# on machines where no libvirtd runs (CI, containers). It remembers what IT started under
# /run/cms-libvirt and only ever stops those processes; a daemon someone else runs is left alone.
#
#   libvirt-daemons.sh start     start what is missing; exit 0 when qemu:///system answers
#   libvirt-daemons.sh stop      stop only the daemons this script started
#   libvirt-daemons.sh restart-libvirtd   stop and start libvirtd again (only if started here)
#   libvirt-daemons.sh status    print one JSON line: running / started-here per daemon
#
# Exit codes: 0 ok, 2 usage, 3 libvirtd cannot run here (not root, not installed), 1 other failure.
set -eu

STATE_DIR=${CMS_LIBVIRT_STATE_DIR:-/run/cms-libvirt}
URI=qemu:///system
# libvirtd takes about 8 s from cold on a busy 2-core machine; leave room for a loaded CI.
READY_TIMEOUT_S=${CMS_LIBVIRT_READY_TIMEOUT_S:-60}

say() { echo "libvirt-daemons: $*" >&2; }

# True when the process in pid file $1 runs and is the program named $2.
pid_alive() {
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

daemon_running() {
  pid_alive "/run/$1.pid" "$1"
}

answers() {
  virsh -q -c "$URI" version >/dev/null 2>&1
}

prepare_system() {
  # What Debian's libvirt-daemon-system would add, without pulling in a systemd upgrade.
  mkdir -p /var/log/libvirt /var/log/libvirt/qemu /var/lib/libvirt /var/lib/libvirt/qemu /var/cache/libvirt /run/libvirt
  if ! getent group libvirt-qemu >/dev/null 2>&1; then
    groupadd --system libvirt-qemu
  fi
  if ! getent passwd libvirt-qemu >/dev/null 2>&1; then
    useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
  fi
  if getent group kvm >/dev/null 2>&1; then usermod -a -G kvm libvirt-qemu 2>/dev/null || true; fi
  # Only write qemu.conf when there is none: an administrator's file is never touched.
  if [ ! -e /etc/libvirt/qemu.conf ]; then
    mkdir -p /etc/libvirt
    cat >/etc/libvirt/qemu.conf <<'EOF'
# Written by the Cloud Management System's build/libvirt/libvirt-daemons.sh because none existed.
# QEMU runs as this unprivileged user; libvirt hands it the kernel, initramfs and disk files.
user = "libvirt-qemu"
group = "libvirt-qemu"
EOF
  fi
}

start_one() {
  name=$1
  if daemon_running "$name"; then
    return 0
  fi
  rm -f "$STATE_DIR/$name.started"
  "/usr/sbin/$name" --daemon --pid-file "/run/$name.pid"
  # --daemon returns once the pid file is written.
  i=0
  while ! daemon_running "$name"; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { say "$name did not write /run/$name.pid"; return 1; }
    sleep 0.1
  done
  cat "/run/$name.pid" >"$STATE_DIR/$name.started"
  say "started $name (pid $(cat "/run/$name.pid"))"
}

stop_one() {
  name=$1
  marker=$STATE_DIR/$name.started
  [ -f "$marker" ] || return 0
  pid=$(cat "$marker")
  if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; do
      i=$((i + 1))
      if [ "$i" -gt 150 ]; then
        say "$name (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
    say "stopped $name (pid $pid)"
  fi
  rm -f "$marker"
}

wait_ready() {
  i=0
  while ! answers; do
    i=$((i + 1))
    if [ "$i" -gt $((READY_TIMEOUT_S * 5)) ]; then
      say "libvirtd did not answer on $URI within ${READY_TIMEOUT_S} s"
      return 1
    fi
    sleep 0.2
  done
}

started_here() {
  [ -f "$STATE_DIR/$1.started" ] && echo true || echo false
}

cmd_start() {
  if answers; then
    say "libvirtd already answers on $URI: using it as it is"
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    say "cannot start libvirtd: not root (start it yourself, e.g. 'sudo systemctl start libvirtd')"
    exit 3
  fi
  for bin in /usr/sbin/libvirtd /usr/sbin/virtlogd; do
    [ -x "$bin" ] || { say "cannot start libvirtd: $bin is not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu)"; exit 3; }
  done
  mkdir -p "$STATE_DIR"
  prepare_system
  start_one virtlogd
  start_one libvirtd
  wait_ready
}

cmd_stop() {
  # libvirtd first: it talks to virtlogd while it shuts down.
  stop_one libvirtd
  stop_one virtlogd
  rmdir "$STATE_DIR" 2>/dev/null || true
}

cmd_restart_libvirtd() {
  if [ "$(started_here libvirtd)" != true ]; then
    say "libvirtd was not started by this script: not restarting someone else's daemon"
    exit 4
  fi
  stop_one libvirtd
  start_one libvirtd
  wait_ready
}

cmd_status() {
  printf '{"libvirtd":{"running":%s,"startedHere":%s},"virtlogd":{"running":%s,"startedHere":%s},"answers":%s}\n' \
    "$(daemon_running libvirtd && echo true || echo false)" "$(started_here libvirtd)" \
    "$(daemon_running virtlogd && echo true || echo false)" "$(started_here virtlogd)" \
    "$(answers && echo true || echo false)"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart-libvirtd) cmd_restart_libvirtd ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|restart-libvirtd|status" >&2
    exit 2
    ;;
esac
