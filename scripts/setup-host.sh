#!/usr/bin/env bash
# Prepare this machine (Debian 12 / bookworm) for orch's tests and demo. Idempotent: safe to run again.
#   - installs what is missing among: docker.io debootstrap apt-cacher-ng openssh-client openssh-server ca-certificates (and maven when no mvn)
#   - points apt-cacher-ng's Debian backend at deb.debian.org and starts it (the simulated hosts' apt cache)
#   - starts dockerd when `docker info` fails (log: /var/log/orch-dockerd.log)
#   - raises fs.inotify limits (each systemd container uses ~5 inotify instances; the default 128 is too low)
# Needs root, or sudo. Without either, prints the commands to run and exits 1.
set -euo pipefail

PACKAGES=(docker.io debootstrap apt-cacher-ng openssh-client openssh-server sudo ca-certificates)
MIN_INOTIFY_INSTANCES=2048
MIN_INOTIFY_WATCHES=524288

did=()
note() { printf '[setup-host] %s\n' "$*"; }
done_() { did+=("$*"); note "$*"; }

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  SUDO=(sudo)
else
  cat >&2 <<EOF
[setup-host] this needs root (or sudo). Run as root:

  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y ${PACKAGES[*]}
  printf 'http://deb.debian.org/debian/\n' > /etc/apt-cacher-ng/backends_debian
  service apt-cacher-ng restart
  docker info >/dev/null 2>&1 || (nohup dockerd >/var/log/orch-dockerd.log 2>&1 &)
  sysctl -w fs.inotify.max_user_instances=${MIN_INOTIFY_INSTANCES} fs.inotify.max_user_watches=${MIN_INOTIFY_WATCHES}
  usermod -aG docker $(id -un)    # then log in again

EOF
  exit 1
fi
as_root() { "${SUDO[@]}" "$@"; }

if [ -r /etc/os-release ]; then
  . /etc/os-release
  if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
    note "warning: made for Debian 12 (bookworm), this is ${PRETTY_NAME:-unknown}; trying anyway"
  fi
fi
command -v apt-get >/dev/null 2>&1 || { note "apt-get not found: install ${PACKAGES[*]} yourself"; exit 1; }

# --- packages -------------------------------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
# Maven: the registry-built test artifacts (src/sim/artifacts) resolve jars from Maven Central with it
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  note "installing: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  done_ "installed ${missing[*]}"
else
  note "packages already installed: ${PACKAGES[*]}"
fi

# --- apt-cacher-ng: use the Debian CDN as backend (the packaged default, ftp.debian.org, may be unreachable) ------
backends=/etc/apt-cacher-ng/backends_debian
want_backend='http://deb.debian.org/debian/'
acng_changed=0
if [ -d /etc/apt-cacher-ng ]; then
  if [ "$(grep -v '^[[:space:]]*#' "$backends" 2>/dev/null | grep -v '^[[:space:]]*$' | head -n1)" != "$want_backend" ]; then
    printf '# set by orch scripts/setup-host.sh: fetch Debian packages from the CDN\n%s\n' "$want_backend" |
      as_root tee "$backends" >/dev/null
    acng_changed=1
    done_ "apt-cacher-ng backend for Debian set to $want_backend"
  fi
  acng_up() { (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null; }
  if [ "$acng_changed" = 1 ] && acng_up; then
    as_root service apt-cacher-ng restart >/dev/null 2>&1 || as_root /etc/init.d/apt-cacher-ng restart >/dev/null 2>&1 || true
    done_ "restarted apt-cacher-ng"
  elif ! acng_up; then
    as_root service apt-cacher-ng start >/dev/null 2>&1 || as_root /etc/init.d/apt-cacher-ng start >/dev/null 2>&1 || true
    for _ in $(seq 20); do acng_up && break; sleep 0.5; done
    if acng_up; then done_ "started apt-cacher-ng (port 3142)"; else note "warning: apt-cacher-ng did not start (tests still work, without apt cache)"; fi
  fi
fi

# --- docker ---------------------------------------------------------------------------------------------------------
if as_root docker info >/dev/null 2>&1; then
  note "docker is running"
else
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    as_root systemctl start docker || true
  fi
  if ! as_root docker info >/dev/null 2>&1; then
    if ! pgrep -x dockerd >/dev/null 2>&1; then
      as_root sh -c 'nohup dockerd >/var/log/orch-dockerd.log 2>&1 </dev/null &'
    fi
  fi
  ok=0
  for _ in $(seq 60); do
    if as_root docker info >/dev/null 2>&1; then ok=1; break; fi
    sleep 1
  done
  if [ "$ok" != 1 ]; then
    note "dockerd did not answer within 60 s; see /var/log/orch-dockerd.log:"
    as_root tail -n 20 /var/log/orch-dockerd.log >&2 || true
    exit 1
  fi
  done_ "started dockerd (log: /var/log/orch-dockerd.log)"
fi
if [ "$(id -u)" -ne 0 ] && ! docker info >/dev/null 2>&1; then
  note "warning: $(id -un) cannot use docker without sudo: run \`sudo usermod -aG docker $(id -un)\` and log in again"
fi

# --- inotify limits -------------------------------------------------------------------------------------------------
sysctl_conf=/etc/sysctl.d/60-orch-sim.conf
raise() {
  local key=$1 min=$2 cur
  cur=$(cat "/proc/sys/${key//.//}" 2>/dev/null || echo 0)
  if [ "$cur" -lt "$min" ]; then
    if as_root sysctl -q -w "$key=$min" >/dev/null 2>&1; then
      done_ "raised $key from $cur to $min"
    else
      note "warning: cannot raise $key ($cur < $min); simulated hosts may fail to boot"
    fi
  fi
  if [ -d /etc/sysctl.d ] && ! grep -qs "^$key" "$sysctl_conf"; then
    if echo "$key = $min" | as_root tee -a "$sysctl_conf" >/dev/null 2>&1; then
      done_ "persisted $key = $min in $sysctl_conf"
    fi
  fi
}
raise fs.inotify.max_user_instances "$MIN_INOTIFY_INSTANCES"
raise fs.inotify.max_user_watches "$MIN_INOTIFY_WATCHES"

# --- node -----------------------------------------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  note "warning: node is not installed (orch needs Node.js >= 20.19)"
elif ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  note "warning: node $(node --version) is too old (orch needs >= 20.19)"
fi

if [ ${#did[@]} -eq 0 ]; then
  note "nothing to do: this machine is ready"
else
  note "done (${#did[@]} change(s))"
fi
