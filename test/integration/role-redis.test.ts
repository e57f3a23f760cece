/**
 * redis + redis-sentinel on 3 simulated hosts, real Debian packages (Redis 7.0): master r3, replica r2, Sentinels on
 * r1-r3 (quorum 2), as minimal-5vm places them. A write on the master is read on the replica; a rerun and --check
 * change nothing; killing the master, Sentinel promotes the replica (the test prints the time); the old master, back,
 * is made a replica by Sentinel; a rerun afterwards changes nothing and leaves the new master in place.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['r1', 'r2', 'r3'];
const sim = useSimHosts({ name: 'redis', hosts: HOSTS.map((name) => ({ name, groups: name === 'r1' ? ['redis_sentinel'] : ['redis', 'redis_sentinel'] })) });
const dir = mkdtempSync(join(tmpdir(), 'orch-redis-'));
writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    redis:\n      hosts: { r2:, r3: }\n    redis_sentinel:\n      hosts: { r1:, r2:, r3: }\n');
writeFileSync(join(dir, 'pb.yml'), '- name: os\n  hosts: all\n  roles: [common]\n- name: redis\n  hosts: redis\n  roles: [redis]\n- name: sentinel\n  hosts: redis_sentinel\n  roles: [redis-sentinel]\n');
const runs = useRuns();
const log = (s: string) => console.log(`[redis] ${s}`);
const PW = 'test-Redis-pw1';

async function plan(): Promise<RunPlan> {
  return buildPlan({
    inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(dir, 'pb.yml')),
    registry: new RoleRegistry(),
    extraVars: [{ label: 'test', values: { redis_password: PW, redis_master_host: 'r3', redis_maxmemory_mb: 64 }, origins: {} }],
  });
}
const run = async (check = false) => runs.run(await plan(), { check });
async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}
const cli = (host: string, args: string) => on(host, `REDISCLI_AUTH=${PW} redis-cli --no-auth-warning ${args}`);
const masterAddr = (host: string) => on(host, 'redis-cli -p 26379 SENTINEL get-master-addr-by-name datalyptica | head -n 1');
const changed = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status !== 'ok' ? [`${e.host} ${e.result.kind} ${e.result.name}: ${e.result.reason}`] : e.type === 'handler' ? [`${e.host} ${e.name}`] : []));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
    expect(first.code, JSON.stringify(first.events.filter((e) => e.type === 'op-result' && e.result.status === 'failed'))).toBe(0);
    expect(await cli('r3', 'INFO replication')).toContain('role:master');
    expect(await cli('r2', 'INFO replication')).toContain(`master_host:${addr('r3')}`);
    for (const h of HOSTS) expect(await masterAddr(h)).toBe(addr('r3'));
    const again = await run();
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    expect(changed((await run(true)).events)).toEqual([]);
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
    expect(changed(rerun.events)).toEqual([]);
    expect(changed((await run(true)).events)).toEqual([]);
    expect(await cli('r2', 'INFO replication')).toContain('role:master');
    for (const h of HOSTS) expect(await masterAddr(h)).toBe(addr('r2'));
    log('rerun after the failover: 0 changes, r2 still the master');
  }, 180_000);
});
