#!/usr/bin/env bash
# The newcomer's one command (`npm run demo`): prepares this machine, builds orch, starts 5 simulated VMs
# (Docker containers with systemd + sshd) for inventory minimal-5vm, deploys the site playbook onto them over SSH,
# then shows the recap and how to reach the hosts.
set -euo pipefail

cd "$(dirname "$0")/.."
INVENTORY=${DEMO_INVENTORY:-minimal-5vm}
PLAYBOOK=${DEMO_PLAYBOOK:-site}
T0=$(date +%s)

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Preparing this machine (docker, debootstrap, apt cache, inotify limits)"
bash scripts/setup-host.sh

if [ ! -d node_modules ]; then
  step "Installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

step "Building orch"
npm run build --silent

step "Starting the simulated hosts of inventory $INVENTORY (the first time builds the host image, ~1 min)"
bin/orch sim up --inventory "$INVENTORY"

step "Deploying: orch run $PLAYBOOK --inventory $INVENTORY --sim"
rc=0
bin/orch run "$PLAYBOOK" --inventory "$INVENTORY" --sim || rc=$?

if [ "$rc" -eq 0 ]; then
  step "Running it again: a converged platform changes nothing"
  bin/orch run "$PLAYBOOK" --inventory "$INVENTORY" --sim --plain || rc=$?
fi

step "The simulated hosts"
bin/orch sim status --inventory "$INVENTORY" || true

cat <<EOF

Next:
  bin/orch sim status --inventory $INVENTORY          hosts, addresses, uptime, and the ssh command line to log in
  bin/orch run $PLAYBOOK --inventory $INVENTORY --sim     run again: nothing should change
  bin/orch sim down --inventory $INVENTORY            remove the simulated hosts

EOF
echo "demo finished in $(( $(date +%s) - T0 )) s$( [ "$rc" -eq 0 ] || echo ", the deployment FAILED (exit $rc): see the recap above")"
exit "$rc"
