# Shared by scripts/build-wheels and scripts/check-wheels (sourced, not run): where the Debian 11
# chroot and the caches live, and how commands run inside it. docs/wheels.md explains the design.
#
# MOMENTO_WHEELS_CACHE  the chroot, CPython sources, pip and ccache caches (kept between runs)
# MOMENTO_WHEELS_OUT    where the repaired wheels go (default: dist/wheels in the clone)
# MOMENTO_WHEELS_PYTHONS the CPython versions (default: 3.9 3.10 3.11 3.12 3.13)

wheels_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
wheels_cache=${MOMENTO_WHEELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/momento-auth/wheels}
wheels_out=${MOMENTO_WHEELS_OUT:-$wheels_root/dist/wheels}
read -r -a wheels_pythons <<<"${MOMENTO_WHEELS_PYTHONS:-3.9 3.10 3.11 3.12 3.13}"
chroot_dir=$wheels_cache/bullseye
# The manylinux policy these wheels meet: glibc 2.31 (Debian 11, Ubuntu 20.04, Amazon Linux
# 2023 and AWS Lambda, RHEL 9).
wheels_plat=manylinux_2_31_x86_64

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '%s: FAILED: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# The interpreter for CPython X.Y inside the chroot: Debian 11's own 3.9, the others built from
# source into /opt/python (packaging/wheels/build-cpython.sh).
chroot_python() {
  if [ "$1" = 3.9 ]; then echo /usr/bin/python3.9; else echo "/opt/python/$1/bin/python$1"; fi
}

# Runs a command inside the chroot with a clean environment (the host's PIP_*, virtualenv and
# proxy-CA variables name host paths), niced: builds there are long and the machine is shared.
# CC/CXX: one compiler path for every CPython (Debian's 3.9 would name x86_64-linux-gnu-g++), so
# ccache serves the library's objects to every wheel.
in_chroot() {
  nice -n 10 chroot "$chroot_dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/opt/tools/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CC=gcc CXX=g++ CCACHE_DIR=/var/cache/ccache CCACHE_BASEDIR=/build CMAKE_BUILD_PARALLEL_LEVEL=2 "$@"
}

# /proc and /dev for the chroot while the script runs, unmounted on exit. One script at a time
# uses the chroot (a lock), so mounts are never stacked.
chroot_mounts=()
chroot_enter() {
  [ "$(id -u)" -eq 0 ] || die "chroot and debootstrap need root"
  mkdir -p "$wheels_cache"
  exec 9>"$wheels_cache/.lock"
  flock -n 9 || { echo "waiting for another build-wheels/check-wheels run to finish"; flock 9; }
  trap chroot_leave EXIT
  trap 'exit 130' INT TERM
  local m
  for m in proc dev dev/pts; do
    if ! mountpoint -q "$chroot_dir/$m"; then
      case $m in
        proc) mount -t proc proc "$chroot_dir/proc" ;;
        *) mount --bind "/$m" "$chroot_dir/$m" ;;
      esac
      chroot_mounts=("$chroot_dir/$m" "${chroot_mounts[@]}")
    fi
  done
  cp -L /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
}
chroot_leave() {
  local m
  for m in "${chroot_mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  chroot_mounts=()
}
