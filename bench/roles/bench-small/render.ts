/**
 * The "small" benchmark workload (engine issue 7 section 6): four tasks, the same for every tool
 * (orch role `bench-small`, Ansible playbook `bench/playbooks/small.ansible.yml`, the floors of
 * bench/run.mjs). Constants and the one rendered file live here so the role and the floors share them.
 *
 *   1. user `orchbench`: uid 2600, system account, home /var/lib/orch-bench (not created), shell nologin
 *      (useradd makes its same-name group)
 *   2. log file /var/log/orch-bench.log: orchbench:orchbench 0640, empty on a fresh host
 *   3. copied file /etc/orch-bench.conf: root:orchbench 0640, per-host content (configFile below)
 *   4. one shell command, guarded by `creates: /var/lib/orch-bench/initialised`: creates the data
 *      directory (orchbench:orchbench 0750) and the marker, once
 *
 * The paths sit in directories the image already has (/var/log, /etc): a separate log directory
 * would be a fifth task in every tool (neither orch's `file` nor Ansible's `copy`/`file: touch`
 * creates parents).
 */

export const SMALL = {
  user: 'orchbench',
  uid: 2600,
  home: '/var/lib/orch-bench',
  shell: '/usr/sbin/nologin',
  logFile: '/var/log/orch-bench.log',
  configFile: '/etc/orch-bench.conf',
  marker: '/var/lib/orch-bench/initialised',
} as const;

export const SMALL_HEADER = '# Managed by the orch bench small workload - do not edit';

/** /etc/orch-bench.conf of one host (ends with one newline; Ansible's copy content renders the same bytes). */
export function configFile(x: { name: string; nodeId: number; clusterSize: number }): string {
  return [SMALL_HEADER, `host = ${x.name}`, `node_id = ${x.nodeId}`, `cluster_size = ${x.clusterSize}`, `log_file = ${SMALL.logFile}`].join('\n') + '\n';
}

/** Task 4: run once (POSIX sh, under `set -e`), guarded by `creates: SMALL.marker`. */
export function initScript(): string {
  const u = SMALL.user;
  return [
    `install -d -o ${u} -g ${u} -m 0750 ${SMALL.home}`,
    `printf 'initialised\\n' >${SMALL.marker}`,
    `chown ${u}:${u} ${SMALL.marker}`,
    `chmod 0640 ${SMALL.marker}`,
  ].join('\n');
}
