/**
 * bench-small: the benchmark's small workload (four tasks, see render.ts) as an orch role. It leaves the
 * same state as bench/playbooks/small.ansible.yml and the floors of bench/run.mjs (checked by
 * `npm run bench -- --workload small` with bench/fingerprint-small.sh).
 *
 * The log file is an orch `file` with empty content: orch has no "create if missing, keep the content"
 * file operation (Ansible's `file: state=touch` with preserved times), so a rerun after something wrote
 * to the log would truncate it. In the benchmark nothing writes to it, so the end state is the same.
 */
import { defineRole } from '../../../src/role/define.js';
import { v, type VarsOf } from '../../../src/role/vars.js';
import { ops } from '../../../src/ops/index.js';
import type { Operation } from '../../../src/ops/types.js';
import { SMALL, configFile, initScript } from './render.js';

const vars = {
  node_id: v.int({ minimum: 1, doc: "this host's node id, 1..N (written to /etc/orch-bench.conf)" }),
  bench_group: v.str({ default: 'bench', minLength: 1, doc: 'inventory group whose size is the cluster_size in /etc/orch-bench.conf' }),
};

export type BenchSmallVars = VarsOf<typeof vars>;

export default defineRole({
  name: 'bench-small',
  description: 'Benchmark small workload: a user, a log file, a copied file, one guarded shell command',
  vars,

  operations(ctx): Operation<any>[] {
    const u = SMALL.user;
    return [
      ops.user({ name: u, uid: SMALL.uid, home: SMALL.home, createHome: false, shell: SMALL.shell, system: true }),
      ops.file({ path: SMALL.logFile, content: '', owner: u, group: u, mode: '0640' }),
      ops.file({
        path: SMALL.configFile,
        content: configFile({ name: ctx.host.name, nodeId: ctx.vars.node_id, clusterSize: ctx.group(ctx.vars.bench_group).length }),
        owner: 'root',
        group: u,
        mode: '0640',
      }),
      ops.command({ name: `initialise ${SMALL.home} once`, creates: SMALL.marker, run: initScript() }),
    ];
  },
});
