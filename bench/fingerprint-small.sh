#!/usr/bin/env bash
# Fingerprint of the state managed by the small workload (bench/roles/bench-small/render.ts) on one host.
#   ./fingerprint-small.sh IP KEY
# Same output format as fingerprint.sh: one line per managed path (type, owner:group, mode, sha256), then the
# orchbench passwd and group lines. `| sha256sum | cut -c1-12` is the state_sha that bench/run.mjs compares.
set -euo pipefail
IP=${1:?IP}
KEY=${2:?KEY}
exec ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o LogLevel=ERROR -o ConnectTimeout=5 root@"$IP" '
    set -e
    for p in /var/log/orch-bench.log /etc/orch-bench.conf /var/lib/orch-bench /var/lib/orch-bench/initialised; do
      if [ -L "$p" ]; then echo "$p link $(readlink "$p")";
      elif [ -d "$p" ]; then echo "$p dir $(stat -c "%U:%G %a" "$p")";
      elif [ -e "$p" ]; then echo "$p file $(stat -c "%U:%G %a" "$p") $(sha256sum < "$p" | cut -c1-64)";
      else echo "$p absent"; fi
    done
    getent passwd orchbench || echo "no user orchbench"; getent group orchbench || echo "no group orchbench"
  '
