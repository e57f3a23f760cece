/**
 * redis + redis-sentinel on 3 simulated hosts, real Debian packages (Redis 7.0): master r3, replica r2, Sentinels on
 * r1-r3 (quorum 2), as minimal-5vm places them. A write on the master is read on the replica; a rerun and --check
 * change nothing; killing the master, Sentinel promotes the replica (the test prints the time); the old master, back,
 * is made a replica by Sentinel; a rerun afterwards changes nothing and leaves the new master in place.
 */
import { describe, expect, it } from 'vitest';
import { changed, failures, handlers, sleep, useRoleTest } from '../helpers/role-test.js';

const HOSTS = ['r1', 'r2', 'r3'];
// no redis_password: the roles make one for the cluster (a secret cluster value) and keep it on the hosts
const t = useRoleTest({
  name: 'redis',
  hosts: HOSTS.map((name) => ({ name, groups: name === 'r1' ? ['redis_sentinel'] : ['redis', 'redis_sentinel'] })),
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'redis', hosts: 'redis', roles: ['redis'] },
    { name: 'sentinel', hosts: 'redis_sentinel', roles: ['redis-sentinel'] },
  ],
  vars: { redis_master_host: 'r3', redis_maxmemory_mb: 64 },
});
const { sim } = t;
const log = (s: string) => console.log(`[redis] ${s}`);
let PW = '';
const run = (check = false) => t.run({ check });
const on = async (host: string, cmd: string) => (await t.on(host, cmd)).trim();
const cli = (host: string, args: string) => on(host, `REDISCLI_AUTH='${PW}' redis-cli --no-auth-warning ${args}`);
const masterAddr = (host: string) => on(host, 'redis-cli -p 26379 SENTINEL get-master-addr-by-name datalyptica | head -n 1');
/** everything a converged rerun must not do: changes, handlers, failures */
const activity = (events: Parameters<typeof changed>[0]) => [...changed(events), ...handlers(events), ...failures(events)];
async function until(what: string, f: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}
const addr = (h: string) => sim.host(h).address;

describe('redis + sentinel on simulated hosts', () => {
  it('converges: r3 master, r2 its replica, Sentinels on r1-r3 watch r3; a rerun and --check change nothing', async () => {
    const first = await run();
    expect(failures(first.events)).toEqual([]);
    expect(first.code).toBe(0);
    // one password made for the cluster, the same on every host, never printed
    const kept = await Promise.all(HOSTS.map((h) => on(h, 'cat /var/lib/orch/values/redis_password')));
    PW = kept[0];
    expect(PW).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(kept).size).toBe(1);
    expect(await on('r1', "sed -n 's/^sentinel auth-pass datalyptica //p' /etc/redis/sentinel.conf | tr -d '\"'")).toBe(PW);
    expect(await cli('r3', 'INFO replication')).toContain('role:master');
    expect(await cli('r2', 'INFO replication')).toContain(`master_host:${addr('r3')}`);
    for (const h of HOSTS) expect(await masterAddr(h)).toBe(addr('r3'));
    const again = await run();
    expect(again.code).toBe(0);
    expect(activity(again.events)).toEqual([]);
    expect(activity((await run(true)).events)).toEqual([]);
    // the packaged redis.conf stays the base; orch's settings come from the include
    expect(await on('r2', 'tail -n 30 /etc/redis/redis.conf')).toContain('include /etc/redis/orch.conf');
    expect(await on('r2', 'grep -c "^replicaof" /etc/redis/orch.conf || true')).toBe('0');
  }, 300_000);

  it('a write on the master is read on the replica; without the password Redis refuses', async () => {
    expect(await cli('r3', 'SET orch:test hello')).toBe('OK');
    await until('the replica to have the key', async () => (await cli('r2', 'GET orch:test')) === 'hello', 10_000);
    expect(await on('r2', 'redis-cli GET orch:test 2>&1 || true')).toContain('NOAUTH');
    await until('3 Sentinels to know each other', async () => {
      const out = await on('r1', 'redis-cli -p 26379 SENTINEL master datalyptica');
      return /num-other-sentinels\n2\n/.test(out) && /num-slaves\n1\n/.test(out);
    }, 30_000);
  }, 60_000);

  it('killing the master, Sentinel promotes the replica; back, the old master is a replica; a rerun changes nothing', async () => {
    const t0 = Date.now();
    await sim.kill('r3');
    await until('Sentinel to name r2 the master', async () => (await masterAddr('r1')) === addr('r2'), 30_000);
    const promoted = Date.now() - t0;
    expect(await cli('r2', 'INFO replication')).toContain('role:master');
    log(`failover: Sentinel promoted r2 ${(promoted / 1000).toFixed(2)} s after r3 was killed (down-after-milliseconds 5000; seed target < 10 s)`);
    expect(await cli('r2', 'GET orch:test')).toBe('hello');
    expect(await cli('r2', 'SET orch:after failover')).toBe('OK');

    await sim.start('r3');
    await until('Sentinel to make r3 a replica of r2', async () => (await cli('r3', 'INFO replication')).includes(`master_host:${addr('r2')}`), 60_000);
    await until('r3 to have the write made after the failover', async () => (await cli('r3', 'GET orch:after')) === 'failover', 20_000);
    const rerun = await run();
    expect(rerun.code).toBe(0);
    expect(activity(rerun.events)).toEqual([]);
    expect(activity((await run(true)).events)).toEqual([]);
    expect(await cli('r2', 'INFO replication')).toContain('role:master');
    for (const h of HOSTS) expect(await masterAddr(h)).toBe(addr('r2'));
    log('rerun after the failover: 0 changes, r2 still the master');
  }, 180_000);
});
