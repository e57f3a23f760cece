/**
 * The SSH transport end to end on simulated hosts, through the whole plan -> run path:
 * a non-root login user that becomes root with sudo, with a password (sudo asks) and without (NOPASSWD),
 * the password never in the output; and a host reached through a bastion (ProxyJump).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSimHosts, PROJECT_ROOT } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { makeMasker } from '../../src/playbook/secrets.js';
import { jsonReporter } from '../../src/report/json.js';
import type { RunEvent } from '../../src/report/events.js';

const sim = useSimHosts({ name: 'become', hosts: [{ name: 'bastion', groups: [] }, { name: 'target', groups: ['demo'] }] });
const playbookFile = join(PROJECT_ROOT, 'test/fixtures/converge/playbooks/small.yml');
const PASSWORD = 'Sudo-Pa55-word';
const runs = useRuns();

function inventory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-become-'));
  writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    demo:\n      hosts:\n        target:\n  hosts:\n    bastion:\n');
  return dir;
}

async function run(extra: string[], o: { env?: Record<string, string>; limit?: string } = {}) {
  const plan = await buildPlan({
    limit: o.limit,
    inventory: loadInventory(inventory(), { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(playbookFile),
    registry: RoleRegistry.forPlaybook(playbookFile),
    extraVars: parseExtraVars(extra, PROJECT_ROOT),
    env: { ...process.env, ...o.env },
  });
  let json = '';
  const onEvent = jsonReporter((s) => (json += s), makeMasker(plan.secretValues));
  const r = await runs.run(plan, { diff: true, onEvent });
  return { ...r, json };
}

/** as root, over orch's transport */
async function asRoot(host: string, script: string): Promise<string> {
  const { connect } = await run([], { limit: host }); // the overlay's root login
  const r = await (await connect(host)).runScript(script);
  if (r.code !== 0) throw new Error(`${host}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('become and jump hosts on simulated hosts', () => {
  it('prepares a password-sudo user and a NOPASSWD user on the target', async () => {
    const out = await asRoot(
      'target',
      [
        'set -e',
        'for u in deploy nopw; do id $u >/dev/null 2>&1 || useradd -m -s /bin/sh $u; mkdir -p /home/$u/.ssh; cp /root/.ssh/authorized_keys /home/$u/.ssh/; chown -R $u: /home/$u/.ssh; chmod 700 /home/$u/.ssh; done',
        `echo 'deploy:${PASSWORD}' | chpasswd`,
        "echo 'deploy ALL=(ALL) ALL' > /etc/sudoers.d/deploy; echo 'nopw ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/nopw; chmod 0440 /etc/sudoers.d/*",
        'rm -rf /etc/demo /var/lib/demo; userdel demo 2>/dev/null || true',
        'echo ready',
      ].join('\n'),
    );
    expect(out).toBe('ready\n');
  });

  it('converges as a non-root user with sudo asking for a password; the password is never shown', async () => {
    const { code, events, json } = await run(
      ['ansible_user=deploy', 'ansible_become=true', JSON.stringify({ ansible_become_password: "{{ lookup('env', 'ORCH_TEST_BECOME') }}" })],
      { env: { ORCH_TEST_BECOME: PASSWORD }, limit: 'target' },
    );
    const failed = events.filter((e) => e.type === 'host-failed');
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(json).toContain('"type":"recap"');
    expect(json).not.toContain(PASSWORD);
    expect(await asRoot('target', 'stat -c "%U:%G %a" /etc/demo/demo.conf; systemctl is-active demo')).toBe('root:demo 640\nactive\n');
  });

  it('a wrong sudo password fails the host cleanly, naming sudo, without echoing the password', async () => {
    const { code, events, json } = await run(['ansible_user=deploy', 'ansible_become=true', 'ansible_become_password=Wrong-Pa55-word'], { limit: 'target' });
    expect(code).not.toBe(0);
    const failed = events.find((e) => e.type === 'host-failed' && e.host === 'target') as Extract<RunEvent, { type: 'host-failed' }>;
    expect(failed.error).toMatch(/sudo|password/i);
    expect(json).not.toContain('Wrong-Pa55-word');
  });

  it('converges with NOPASSWD sudo, and a second run changes nothing', async () => {
    const { code, events } = await run(['ansible_user=nopw', 'ansible_become=true'], { limit: 'target' });
    expect(code).toBe(0);
    const recap = events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
    expect(recap.hosts.target.changed).toBe(0);
  });

  it('reaches the target through the bastion (ProxyJump): the target sees the bastion as its SSH client', async () => {
    const b = sim.host('bastion');
    const t = sim.host('target');
    const jump = JSON.stringify({ jump: [{ host: b.address, port: 22, user: 'root', private_key_file: b.keyFile }] });
    const { code, connect } = await run([jump], { limit: 'target' });
    expect(code).toBe(0);
    const r = await (await connect('target')).runScript('echo "$SSH_CONNECTION"');
    const [clientIp, , serverIp] = r.stdout.trim().split(' ');
    expect(serverIp).toBe(t.address);
    expect(clientIp).toBe(b.address);
  });
});
