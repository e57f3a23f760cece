/**
 * redis: Redis from the distribution on the `redis` group (the seed: master on VM3, replica on VM2, "Cache",
 * 4 GB), with Sentinel (role redis-sentinel) managing failover. The packaged redis.conf stays the base, which Redis
 * and Sentinel rewrite at run time (CONFIG REWRITE); orch adds one include line at its end and writes its settings
 * in /etc/redis/orch.conf, sets those CONFIG REWRITE would copy below the include live too, and applies the initial
 * replication layout only while no Sentinel knows a master: a rerun after a failover changes nothing and never
 * demotes the new master. See render.ts for what is rewritten by whom.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops, q } from '../../src/ops/index.js';
import {
  INCLUDE_LINE,
  containerDropIn,
  ORCH_CONF,
  REDIS_CONF,
  layoutApply,
  layoutCheck,
  liveApply,
  liveCheck,
  redisPackage,
  redisService,
  renderOrchConf,
  sharedVars,
  redisPasswordValue,
  type RedisSettings,
} from './render.js';

export default defineRole({
  name: 'redis',
  description: 'Redis server: orch settings included into the packaged config, initial master/replica layout until Sentinel owns it',
  vars: {
    ...sharedVars,
    redis_bind: v.str({ default: '0.0.0.0', pattern: '^[0-9a-fA-F:. -]+$', doc: 'addresses Redis listens on (replicas and Sentinels connect from the other hosts)' }),
    redis_maxmemory_mb: v.int({ default: 4096, minimum: 0, doc: "maxmemory, MiB (the seed: 4 GB per Redis); 0: no limit" }),
    redis_maxmemory_policy: v.oneOf(['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl'] as const, {
      default: 'allkeys-lru',
      doc: 'eviction at maxmemory (the seed uses Redis as a cache)',
    }),
  },
  declares: ({ vars }) => ({
    ports: [{ port: vars.redis_port, variable: 'redis_port', description: 'Redis' }],
    memoryMb: vars.redis_maxmemory_mb || 4096,
    cpus: 1,
    dataDirs: ['/var/lib/redis'],
  }),
  clusterValues: ({ vars, group }) => [redisPasswordValue(vars, group)],
  validate: ({ vars, group }) => {
    const members = group(vars.redis_group);
    if (!members.some((m) => m.name === vars.redis_master_host)) return [`redis_master_host: ${vars.redis_master_host} is not in group ${vars.redis_group} (${members.map((m) => m.name).join(', ') || 'no hosts'})`];
    return [];
  },
  operations({ vars, host, group, cluster }) {
    const settings: RedisSettings = { bind: vars.redis_bind, port: vars.redis_port, password: cluster('redis_password'), maxmemoryMb: vars.redis_maxmemory_mb, maxmemoryPolicy: vars.redis_maxmemory_policy };
    const svc = redisService(host.facts);
    const master = group(vars.redis_group).find((m) => m.name === vars.redis_master_host);
    const sentinels = group(vars.redis_sentinel_group).map((s) => s.address);
    const iAmMaster = host.name === vars.redis_master_host;
    const layout = { port: vars.redis_port, master: iAmMaster ? null : (master?.address ?? vars.redis_master_host), sentinels, sentinelPort: vars.redis_sentinel_port, name: vars.redis_sentinel_master_name };
    return [
      ...(host.facts.container ? containerDropIn(svc) : []),
      ops.packages({ names: [redisPackage(host.facts)], osFamily: host.facts.osFamily }),
      ops.file({ path: ORCH_CONF, content: renderOrchConf(settings), owner: 'root', group: 'redis', mode: 0o640, secret: true, notify: [svc] }),
      // a command, not lineInFile: the file comes with the package, installed in this same apply
      ops.command({
        name: `redis: ${REDIS_CONF} ends with ${INCLUDE_LINE}`,
        run: `printf '\\n%s\\n' ${q(INCLUDE_LINE)} >> ${q(REDIS_CONF)}`,
        unless: `grep -qxF ${q(INCLUDE_LINE)} ${q(REDIS_CONF)}`,
        notify: [svc],
      }),
      ops.service({ name: svc, enabled: true, state: 'started' }),
      ops.waitForPort({ port: vars.redis_port, timeoutS: 30 }),
      ops.command({ name: 'redis: live settings (password, maxmemory) as orch.conf says', run: liveApply(vars.redis_port), unless: liveCheck(settings) }),
      ops.command({
        name: iAmMaster ? 'redis: initial layout: master (while no Sentinel knows one)' : `redis: initial layout: replica of ${vars.redis_master_host} (while no Sentinel knows a master)`,
        run: layoutApply({ port: vars.redis_port, master: layout.master, masterPort: vars.redis_port }),
        unless: layoutCheck(layout),
      }),
    ];
  },
});
