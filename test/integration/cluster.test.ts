/**
 * The engine's cluster mechanisms on 3 simulated hosts (test roles under test/fixtures/cluster/):
 *   - a cluster value generated on the first run is identical on the 3 hosts and unchanged by a rerun; lost on one
 *     host it is restored from the others; hosts that disagree stop the run, naming them;
 *   - instances added, then removed, leave no unit behind;
 *   - a config change restarts one host at a time behind the health check, and stops at a host whose check fails,
 *     leaving the hosts after it untouched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSimHosts, PROJECT_ROOT } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import type { RunEvent } from '../../src/report/events.js';
import { gatherHostFacts } from '../../src/runner/host-facts.js';
import { totalmem } from 'node:os';

const HOSTS = ['m1', 'm2', 'm3'];
// m1 is limited to 1 GiB and 1 CPU: its facts must say so, not the machine's size
const sim = useSimHosts({ name: 'cluster', hosts: HOSTS.map((name) => ({ name, groups: ['members'], ...(name === 'm1' ? { memoryMb: 1024, cpus: 1 } : {}) })) });
const playbookFile = join(PROJECT_ROOT, 'test/fixtures/cluster/playbooks/cluster.yml');
const invDir = mkdtempSync(join(tmpdir(), 'orch-cluster-'));
writeFileSync(join(invDir, 'hosts.yml'), `all:\n  children:\n    members:\n      hosts:\n${HOSTS.map((h) => `        ${h}:\n`).join('')}`);

async function plan(vars: Record<string, unknown> = {}, phase?: string): Promise<RunPlan> {
  const inventory = loadInventory(invDir, { overlayFile: sim.overlayFile });
  const extraVars = [{ label: 'extra vars', values: vars, origins: Object.fromEntries(Object.keys(vars).map((k) => [k, { file: '-e', key: k }])) }];
  return buildPlan({ inventory, playbook: loadPlaybook(playbookFile), registry: RoleRegistry.forPlaybook(playbookFile), extraVars, phase });
}

const runs = useRuns();
const run = async (vars: Record<string, unknown> = {}, phase?: string) => runs.run(await plan(vars, phase));

async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}
const onAll = (cmd: string) => Promise.all(HOSTS.map((h) => on(h, cmd)));

const changed = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : []));
const failures = (events: RunEvent[]) => events.filter((e): e is Extract<RunEvent, { type: 'host-failed' }> => e.type === 'host-failed');

describe('host facts', () => {
  it("report a container's memory and CPU limits, not the machine's", async () => {
    const limited = await gatherHostFacts(await runs.connector(await plan())('m1'));
    expect(limited.memoryMb).toBe(1024);
    expect(limited.cpus).toBe(1);
    expect(limited.machineMemoryMb).toBeGreaterThan(2048);
    const free = await gatherHostFacts(await runs.connector(await plan())('m2'));
    expect(Math.abs(free.memoryMb - totalmem() / 2 ** 20)).toBeLessThan(64);
  });
});

describe('cluster value', () => {
  let id = '';
  it('is generated once, identical on every host, in the role file and the orch copy, a leading hyphen included', async () => {
    const { code, events } = await run({}, 'identity');
    expect(code).toBe(0);
    const gen = events.filter((e) => e.type === 'op-result' && e.result.kind === 'cluster-value') as Array<Extract<RunEvent, { type: 'op-result' }>>;
    expect(gen.map((e) => e.result.reason)).toEqual(HOSTS.map(() => 'generate test_cluster_id (no host of group members has one)'));
    const confs = await onAll("sed -n 's/^cluster.id=//p' /etc/testapp/app.conf");
    id = confs[0].trim();
    expect(id).toMatch(/^-[0-9a-f]{16}$/);
    expect(confs).toEqual(HOSTS.map(() => `${id}\n`));
    expect(await onAll('cat /var/lib/orch/values/test_cluster_id; stat -c %a /var/lib/orch/values/test_cluster_id; cat /etc/testapp/cli.out')).toEqual(
      HOSTS.map(() => `${id}\n600\n${id}\n`),
    );
  });

  it('a rerun changes nothing and generates nothing', async () => {
    const { code, events } = await run({}, 'identity');
    expect(code).toBe(0);
    expect(changed(events)).toEqual([]);
    expect((await on('m2', 'cat /var/lib/orch/values/test_cluster_id')).trim()).toBe(id);
  });

  it('lost on one host (config and copy), it is restored from the others', async () => {
    await on('m2', 'rm -f /etc/testapp/app.conf /var/lib/orch/values/test_cluster_id /etc/testapp/cli.out');
    const { code, events } = await run({}, 'identity');
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual(['m2 cluster-value test_cluster_id', 'm2 command record the id with a command', 'm2 file /etc/testapp/app.conf']);
    const restored = events.find((e) => e.type === 'op-result' && e.host === 'm2' && e.result.kind === 'cluster-value') as Extract<RunEvent, { type: 'op-result' }>;
    expect(restored.result.reason).toMatch(/^restore test_cluster_id from m1 \(its configuration\), m1 \(the orch copy\), m3/);
    expect(await onAll('cat /var/lib/orch/values/test_cluster_id /etc/testapp/cli.out')).toEqual(HOSTS.map(() => `${id}\n${id}\n`));
  });

  it('hosts that disagree stop the run, naming the hosts and both values; nothing is written', async () => {
    await on('m3', "printf 'cluster.id=00000000deadbeef\\n' > /etc/testapp/app.conf; printf '00000000deadbeef\\n' > /var/lib/orch/values/test_cluster_id");
    const { code, events } = await run({}, 'identity');
    expect(code).toBe(2);
    const aborted = events.find((e) => e.type === 'run-aborted') as Extract<RunEvent, { type: 'run-aborted' }>;
    expect(aborted.reason).toContain('test_cluster_id: the hosts of group members disagree');
    expect(aborted.reason).toContain(`m1 (its configuration), m1 (the orch copy), m2 (its configuration), m2 (the orch copy): "${id}"`);
    expect(aborted.reason).toContain('m3 (its configuration), m3 (the orch copy): "00000000deadbeef"');
    expect(changed(events)).toEqual([]);
    // the inventory decides: it wins, and the host that had another value is refused until it matches
    const fixed = await run({ test_cluster_id: id }, 'identity');
    expect(fixed.code).toBe(2);
    expect((fixed.events.find((e) => e.type === 'run-aborted') as any).reason).toMatch(/the inventory sets test_cluster_id to "-?[0-9a-f]+" but m3 \(its configuration\), m3 \(the orch copy\): "00000000deadbeef"\. Set test_cluster_id to the hosts' value/);
    await on('m3', `printf 'cluster.id=%s\\n' '${id}' > /etc/testapp/app.conf; printf '%s\\n' '${id}' > /var/lib/orch/values/test_cluster_id`);
    expect((await run({ test_cluster_id: id }, 'identity')).code).toBe(0);
  });
});

describe('instances', () => {
  const units = () => onAll("systemctl list-units --all --plain --no-legend 'orch-test-worker@*' | awk '{print $1, $3, $4}'; ls /etc/systemd/system | grep orch-test-worker || true");

  it('two instances from one template, each with its own settings, active', async () => {
    const { code } = await run({ test_workers: 2 }, 'workers');
    expect(code).toBe(0);
    for (const u of await units()) {
      expect(u).toBe(
        'orch-test-worker@1.service active running\norch-test-worker@2.service active running\norch-test-worker@.service\norch-test-worker@1.service.d\norch-test-worker@2.service.d\n',
      );
    }
    expect(await on('m1', 'journalctl -u orch-test-worker@2 --no-pager -o cat | grep worker')).toContain('worker 2 on port 8082');
    expect(await on('m1', 'systemctl is-enabled orch-test-worker@1 orch-test-worker@2')).toBe('enabled\nenabled\n');
    expect(changed((await run({ test_workers: 2 }, 'workers')).events)).toEqual([]);
  });

  it('shrunk to one, the removed instance is stopped, disabled and its unit gone; a rerun changes nothing', async () => {
    const { code, events } = await run({ test_workers: 1 }, 'workers');
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual(HOSTS.map((h) => `${h} instances orch-test-worker@*`));
    for (const u of await units()) expect(u).toBe('orch-test-worker@1.service active running\norch-test-worker@.service\norch-test-worker@1.service.d\n');
    expect(await on('m2', 'ls /etc/systemd/system/multi-user.target.wants/ | grep orch-test-worker')).toBe('orch-test-worker@1.service\n');
    expect(changed((await run({ test_workers: 1 }, 'workers')).events)).toEqual([]);
    // none left: the template goes too
    expect((await run({ test_workers: 0 }, 'workers')).code).toBe(0);
    for (const u of await units()) expect(u).toBe('');
  });
});

describe('rolling restart', () => {
  /** when each host's service last entered "active", in µs of the (shared) monotonic clock */
  const since = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, Number((await on(h, 'systemctl show -p ActiveEnterTimestampMonotonic --value orch-test-svc')).trim())] as const)));

  it('a first deploy starts every host at once; a config change then restarts one host at a time behind the health check', async () => {
    expect((await run({ test_svc_setting: 'one' }, 'rolled')).code).toBe(0);
    const t0 = await since();
    const { code, events } = await run({ test_svc_setting: 'two' }, 'rolled');
    expect(code).toBe(0);
    const t1 = await since();
    const order = [...HOSTS].sort((a, b) => t1[a] - t1[b]);
    for (const h of HOSTS) expect(t1[h]).toBeGreaterThan(t0[h]);
    // each restart waits for the previous host's health check (which takes at least a second)
    expect(t1[order[1]] - t1[order[0]]).toBeGreaterThan(1_000_000);
    expect(t1[order[2]] - t1[order[1]]).toBeGreaterThan(1_000_000);
    const health = events.filter((e) => e.type === 'handler' && e.name === 'health rolled-svc') as Array<Extract<RunEvent, { type: 'handler' }>>;
    expect(health.map((e) => e.host)).toEqual(order);
    expect(health.every((e) => e.status === 'ok' && /^orch-test-svc is up: healthy/.test(e.reason))).toBe(true);
  });

  it('stops at a host whose health check fails: the hosts after it keep their old config and process', async () => {
    const t0 = await since();
    await on('m2', 'touch /etc/testsvc/sick');
    console.log('[figures] faults: 1 injected (a member failing its health check during a rolling restart)');
    const { code, events } = await run({ test_svc_setting: 'three' }, 'rolled');
    expect(code).toBe(2);
    const t1 = await since();
    const fails = failures(events);
    expect(fails.find((f) => f.host === 'm2')?.error).toMatch(/health check failed: orch-test-svc is up: not healthy within 4 s/);
    // m1 went first and is done; m2 was restarted and failed its check; m3 was not touched
    expect(t1.m1).toBeGreaterThan(t0.m1);
    expect(t1.m2).toBeGreaterThan(t0.m2);
    expect(t1.m3).toBe(t0.m3);
    expect(await onAll('cat /etc/testsvc/svc.conf')).toEqual(['setting=three\n', 'setting=three\n', 'setting=two\n']);
    expect(fails.find((f) => f.host === 'm3')?.error).toMatch(/not applied: the rolling restart of rolled-svc stopped at m2/);
    expect((events.find((e) => e.type === 'recap') as any).resumeFrom).toBe('rolled');
    // fixed, the rerun finishes the rollout on m3 alone
    await on('m2', 'rm /etc/testsvc/sick');
    const again = await run({ test_svc_setting: 'three' }, 'rolled');
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual(['m3 file /etc/testsvc/svc.conf']);
    expect((await since()).m3).toBeGreaterThan(t0.m3);
    console.log('[figures] faults: 1 survived (the rollout stopped at the failing member, the host after it untouched; fixed, a rerun finished it)');
  });
});
