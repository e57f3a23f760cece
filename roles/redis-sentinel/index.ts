/**
 * redis-sentinel: Redis Sentinel on the `redis_sentinel` group (the seed: VM1-VM3, quorum 2 of 3), monitoring the
 * master under `redis_sentinel_master_name`. Sentinel owns and rewrites its sentinel.conf (known replicas and
 * sentinels, epochs, the current master): orch only keeps its port line and asks for the monitoring it wants with
 * Sentinel's own commands (SENTINEL MONITOR the master other Sentinels know, else the initial one; SENTINEL SET
 * quorum, timeouts, auth-pass), checked against what Sentinel reports. A rerun after a failover changes nothing.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops, q } from '../../src/ops/index.js';
import { SENTINEL_CONF, containerDropIn, SENTINEL_SERVICE, sentinelApply, sentinelCheck, sentinelPackage, sharedVars, redisPasswordValue, type SentinelSettings } from '../redis/render.js';

export default defineRole({
  name: 'redis-sentinel',
  description: 'Redis Sentinel: monitors the Redis master (quorum 2), promotes a replica when it fails',
  vars: {
    ...sharedVars,
    redis_sentinel_quorum: v.int({ default: 2, minimum: 1, doc: 'Sentinels that must agree the master is down (the seed: 2 of 3)' }),
    redis_sentinel_down_after_ms: v.int({ default: 5000, minimum: 100, doc: 'the master is down after this long without a valid reply (the seed: failover < 10 s)' }),
    redis_sentinel_failover_timeout_ms: v.int({ default: 60000, minimum: 1000, doc: 'failover-timeout' }),
    redis_sentinel_parallel_syncs: v.int({ default: 1, minimum: 1, doc: 'replicas resynchronised at once after a failover' }),
  },
  declares: ({ vars }) => ({
    ports: [{ port: vars.redis_sentinel_port, variable: 'redis_sentinel_port', description: 'Redis Sentinel' }],
    memoryMb: 256,
    cpus: 0.5,
    quorum: [{ group: vars.redis_sentinel_group, kind: 'sentinel', protects: 'Redis failover (promoting a replica when the master fails)' }],
  }),
  validate: ({ vars, group }) => {
    const n = group(vars.redis_sentinel_group).length;
    const out: string[] = [];
    if (vars.redis_sentinel_quorum > n) out.push(`redis_sentinel_quorum: ${vars.redis_sentinel_quorum} is more than the ${n} Sentinels of ${vars.redis_sentinel_group}: no failover could ever be agreed`);
    if (!group(vars.redis_group).some((m) => m.name === vars.redis_master_host)) out.push(`redis_master_host: ${vars.redis_master_host} is not in group ${vars.redis_group}`);
    return out;
  },
  clusterValues: ({ vars, group }) => [redisPasswordValue(vars, group)],
  operations({ vars, host, group, cluster }) {
    const s: SentinelSettings = {
      port: vars.redis_sentinel_port,
      name: vars.redis_sentinel_master_name,
      quorum: vars.redis_sentinel_quorum,
      downAfterMs: vars.redis_sentinel_down_after_ms,
      failoverTimeoutMs: vars.redis_sentinel_failover_timeout_ms,
      parallelSyncs: vars.redis_sentinel_parallel_syncs,
      password: cluster('redis_password'),
    };
    const master = group(vars.redis_group).find((m) => m.name === vars.redis_master_host);
    const others = group(vars.redis_sentinel_group).filter((h) => h.name !== host.name).map((h) => h.address);
    return [
      ...(host.facts.container ? containerDropIn(SENTINEL_SERVICE) : []),
      ops.packages({ names: [sentinelPackage(host.facts)], osFamily: host.facts.osFamily }),
      // Sentinel rewrites the port line in place as it is: the one line of its file orch keeps
      // a command, not lineInFile: the file comes with the package, installed in this same apply
      ops.command({
        name: `redis-sentinel: ${SENTINEL_CONF} has port ${vars.redis_sentinel_port}`,
        run: `sed -i 's/^port .*/port ${vars.redis_sentinel_port}/' ${q(SENTINEL_CONF)}`,
        unless: `grep -qx 'port ${vars.redis_sentinel_port}' ${q(SENTINEL_CONF)}`,
        notify: [SENTINEL_SERVICE],
      }),
      ops.service({ name: SENTINEL_SERVICE, enabled: true, state: 'started' }),
      ops.waitForPort({ port: vars.redis_sentinel_port, timeoutS: 30 }),
      ops.command({
        name: `redis-sentinel: monitor ${vars.redis_sentinel_master_name} (quorum ${vars.redis_sentinel_quorum})`,
        run: sentinelApply(s, { sentinels: others, initialMaster: master?.address ?? vars.redis_master_host, redisPort: vars.redis_port }),
        unless: sentinelCheck(s),
      }),
    ];
  },
});
