/**
 * Real convergence on 3 simulated hosts: users, directories, sysctl, limits and a systemd service are
 * applied and asserted on the hosts; a second run changes nothing; --check after a manual drift reports
 * exactly the drifted item and changes nothing; the next run repairs it and restarts the service once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

const HOSTS = ['h1', 'h2', 'h3'];
const sim = useSimHosts({ name: 'converge', hosts: HOSTS.map((name) => ({ name, groups: ['demo'] })) });
const playbookFile = join(PROJECT_ROOT, 'test/fixtures/converge/playbooks/small.yml');

function inventoryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-converge-'));
  writeFileSync(join(dir, 'hosts.yml'), `all:\n  children:\n    demo:\n      hosts:\n${HOSTS.map((h) => `        ${h}:\n`).join('')}`);
  return dir;
}

async function plan(): Promise<RunPlan> {
  const inventory = loadInventory(inventoryDir(), { overlayFile: sim.overlayFile });
  return buildPlan({ inventory, playbook: loadPlaybook(playbookFile), registry: RoleRegistry.forPlaybook(playbookFile) });
}

const runs = useRuns();
const run = async (check = false) => runs.run(await plan(), { check });

/** run a command on a simulated host over orch's own SSH transport; stdout byte-exact */
async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const recap = (events: RunEvent[]) => (events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>).hosts;
const changedOps = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}: ${e.result.reason}`] : []));

/** global kernel settings of the machine running the tests: simulated hosts must never change them */
const hostKernel = () => ['vm/swappiness', 'vm/max_map_count', 'fs/file-max'].map((k) => readFileSync(`/proc/sys/${k}`, 'utf8'));

describe('converge 3 simulated hosts', () => {
  it('applies the playbook and the hosts are in the stated state', async () => {
    const kernelBefore = hostKernel();
    const { code, events } = await run();
    expect(code).toBe(0);
    for (const h of HOSTS) expect(recap(events)[h]).toMatchObject({ failed: 0, unreachable: 0 });
    expect(recap(events).h1.changed).toBeGreaterThanOrEqual(9);
    for (const h of HOSTS) {
      const s = sim.host(h);
      expect(await on(h, 'getent passwd demo')).toBe('demo:x:2600:2600::/var/lib/demo:/usr/sbin/nologin\n');
      expect(await on(h, 'stat -c "%U:%G %a" /var/lib/demo /etc/demo /etc/demo/demo.conf')).toBe('demo:demo 750\nroot:demo 750\nroot:demo 640\n');
      expect(await on(h, 'cat /etc/demo/demo.conf')).toBe(`node=${h}\naddress=${s.address}\n`);
      expect(await on(h, 'cat /etc/sysctl.d/90-demo.conf')).toBe('# Managed by orch (test)\nnet.core.somaxconn = 4096\nvm.swappiness = 1\n');
      expect(await on(h, 'sysctl -n net.core.somaxconn')).toBe('4096\n');
      expect(await on(h, 'cat /etc/security/limits.d/90-demo.conf')).toBe('demo - nofile 65536\n');
      expect(await on(h, 'systemctl is-active demo; systemctl is-enabled demo; ps -o user= -C sleep')).toBe('active\nenabled\ndemo\n');
    }
    // vm.swappiness is global: persisted, never set from inside a container, and said so
    const sysctl = events.find((e) => e.type === 'op-result' && e.host === 'h1' && e.result.kind === 'sysctl') as any;
    expect(sysctl.result.reason).toMatch(/not set live inside a container .*vm\.swappiness/);
    // and the simulated hosts cannot write global keys at all (systemd-sysctl at boot, package scripts)
    expect(await on('h1', 'sysctl -w vm.swappiness=7 >/dev/null 2>&1 && echo written || echo refused')).toBe('refused\n');
    expect(hostKernel()).toEqual(kernelBefore);
  });

  it('a second run changes nothing', async () => {
    const { code, events } = await run();
    expect(code).toBe(0);
    expect(changedOps(events)).toEqual([]);
    for (const h of HOSTS) expect(recap(events)[h]).toMatchObject({ changed: 0, failed: 0 });
    expect(events.filter((e) => e.type === 'handler')).toEqual([]);
  });

  it('--check after a manual drift reports exactly the drifted item, and changes nothing', async () => {
    await on('h2', 'chmod 0644 /etc/demo/demo.conf');
    const { code, events } = await run(true);
    expect(code).toBe(0);
    expect(changedOps(events)).toEqual(['h2 file /etc/demo/demo.conf: would change: mode 0644 -> 0640']);
    expect(await on('h2', 'stat -c %a /etc/demo/demo.conf')).toBe('644\n');
  });

  it('the next run repairs the drift and restarts the notified service on that host only', async () => {
    const pid = await on('h2', 'systemctl show -p MainPID --value demo');
    const { code, events } = await run();
    expect(code).toBe(0);
    expect(changedOps(events)).toEqual(['h2 file /etc/demo/demo.conf: mode 0644 -> 0640']);
    const handlers = events.filter((e) => e.type === 'handler') as Array<Extract<RunEvent, { type: 'handler' }>>;
    expect(handlers.map((e) => `${e.host} ${e.name} ${e.status}`)).toEqual(['h2 restart demo changed']);
    expect(await on('h2', 'stat -c %a /etc/demo/demo.conf')).toBe('640\n');
    expect(await on('h2', 'systemctl show -p MainPID --value demo')).not.toBe(pid);
  });
});
