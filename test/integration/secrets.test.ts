/**
 * Secrets on a simulated host (issue 16, security):
 *   - the sudo password never appears on a command line of the target: while a run becomes root with a password
 *     (a login user whose sudo asks for one), `ps -eww -o args` is sampled on the host every 20 ms from outside orch
 *     (docker exec); no sample holds the password, and none of orch's output does;
 *   - a file holding a secret that others could read, owned by a login user or readable by a login user's group
 *     fails the run that wrote it (the suite-wide check of test/helpers/secret-files.ts, which every converging run
 *     of every integration test goes through); 0640 root:service passes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { makeMasker } from '../../src/playbook/secrets.js';
import { jsonReporter } from '../../src/report/json.js';
import { plainReporter } from '../../src/report/plain.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { containerName } from '../../src/sim/hosts.js';
import { failures } from '../helpers/role-test.js';
import { useRuns } from '../helpers/run.js';
import { secretFilesChecked } from '../helpers/secret-files.js';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';

const pexec = promisify(execFile);
const sim = useSimHosts({ name: 'secrets', hosts: [{ name: 'target', groups: ['demo'] }] });
const runs = useRuns();
const playbookFile = join(PROJECT_ROOT, 'test/fixtures/secrets/playbooks/secret-file.yml');
const PASSWORD = 'Sudo-Ps-Pa55-word-93';
const TOKEN = 'Token-In-File-3b1f7';
const CONF = '/etc/secretsvc/token.conf';
const log = (s: string) => console.log(`[secrets] ${s}`);

const invDir = mkdtempSync(join(tmpdir(), 'orch-secrets-'));
writeFileSync(join(invDir, 'hosts.yml'), 'all:\n  children:\n    demo:\n      hosts:\n        target:\n');

async function plan(vars: Record<string, unknown> = {}): Promise<RunPlan> {
  const values = { secret_token: TOKEN, ...vars };
  return buildPlan({
    inventory: loadInventory(invDir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(playbookFile),
    registry: RoleRegistry.forPlaybook(playbookFile),
    extraVars: [{ label: 'extra vars', values, origins: Object.fromEntries(Object.keys(values).map((k) => [k, { file: '-e', key: k }])) }],
  });
}
const asDeploy = { ansible_user: 'deploy', ansible_become: true, ansible_become_password: PASSWORD };

/** a command on the host's container, not through orch */
async function exec(cmd: string): Promise<string> {
  const { stdout } = await pexec('docker', ['exec', containerName(sim.name, 'target'), 'sh', '-c', cmd], { timeout: 60_000 });
  return stdout;
}

/** `ps -eww -o args` on the host every 20 ms, from outside orch, until stopped; the samples */
function psSampler() {
  const c = containerName(sim.name, 'target');
  const loop = "rm -f /run/orch-ps-stop; n=0; while [ ! -e /run/orch-ps-stop ] && [ $n -lt 30000 ]; do ps -eww -o args; echo @@sample; n=$((n+1)); sleep 0.02; done";
  const child = spawn('docker', ['exec', c, 'sh', '-c', loop], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    /** wait until the sampler has taken its first sample */
    started: async () => {
      for (let i = 0; i < 200 && !out.includes('@@sample'); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toContain('@@sample');
    },
    stop: async (): Promise<string[]> => {
      await pexec('docker', ['exec', c, 'touch', '/run/orch-ps-stop']);
      await exited;
      return out.split('@@sample\n').filter((s) => s.trim());
    },
  };
}

describe('secrets on a simulated host', () => {
  it('prepares a login user whose sudo asks for a password', async () => {
    await exec(
      [
        'set -e',
        'id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy',
        'mkdir -p /home/deploy/.ssh && cp /root/.ssh/authorized_keys /home/deploy/.ssh/ && chown -R deploy: /home/deploy/.ssh && chmod 700 /home/deploy/.ssh',
        `echo 'deploy:${PASSWORD}' | chpasswd`,
        "echo 'deploy ALL=(ALL) ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy",
      ].join('\n'),
    );
    // sudo really asks: without a password it refuses
    expect(await exec('runuser -u deploy -- sudo -n true 2>&1 || true')).toMatch(/a password is required/);
  });

  it('the sampler sees a password on a command line when there is one (a control, outside orch)', async () => {
    const s = psSampler();
    await s.started();
    await exec(`sh -c 'sleep 1' sh ${PASSWORD}`);
    const samples = await s.stop();
    expect(samples.filter((x) => x.includes(PASSWORD)).length).toBeGreaterThan(0);
  });

  it('the sudo password is on no command line of the target while a run becomes root with it, and in none of its output', async () => {
    const p = await plan({ ...asDeploy, secret_settle_s: 2 });
    expect(p.secretValues.has(PASSWORD)).toBe(true);
    const mask = makeMasker(p.secretValues);
    let printed = '';
    const plain = plainReporter({ write: (x) => (printed += x), mask, verbose: true, diff: true });
    const json = jsonReporter((x) => (printed += x), mask);
    const s = psSampler();
    await s.started();
    const r = await runs.run(p, { diff: true, onEvent: (e) => (plain(e), json(e)) }).finally(() => s.stop());
    const samples = await s.stop();
    expect(failures(r.events)).toEqual([]);
    expect(r.code).toBe(0);
    // the samples saw orch at work: its sudo reading the password from stdin, the slow step under it
    const sudo = samples.filter((x) => /sudo -S -p +-H -- sh -c/.test(x)); // ps shows the empty prompt '' as nothing
    const leaked = samples.filter((x) => x.includes(PASSWORD));
    log(`ps -eww -o args sampled ${samples.length} times on the target during the run: ${sudo.length} sample(s) show orch's sudo -S (password on stdin), ${leaked.length} hold the password`);
    expect(samples.length).toBeGreaterThan(10);
    expect(sudo.length).toBeGreaterThan(0);
    expect(samples.some((x) => x.includes('sleep 2'))).toBe(true);
    expect(leaked).toEqual([]);
    // nor in anything orch printed (plain with diffs, JSON)
    expect(printed).toContain('"type":"recap"');
    expect(printed).not.toContain(PASSWORD);
    expect(printed).not.toContain(TOKEN);
    expect(await exec(`stat -c '%U:%G %a' ${CONF}`)).toBe('root:secretsvc 640\n');
  });

  it('a file holding a secret at 0640 root:service passes the check of the run that wrote it, and is counted', async () => {
    const before = secretFilesChecked.files;
    const { code } = await runs.run(await plan());
    expect(code).toBe(0);
    expect(secretFilesChecked.files - before).toBe(1); // the config; nothing else of the role holds the token
  });

  it('a file holding a secret that others may read fails the run that wrote it, naming the file', async () => {
    await expect(runs.run(await plan({ secret_file_mode: 0o644 }))).rejects.toThrow(`target: ${CONF}: mode 0644: others may read it`);
    expect(await exec(`stat -c %a ${CONF}`)).toBe('644\n');
  });

  it('owned by a login user, or readable by a login user\'s group, it fails the run too', async () => {
    await expect(runs.run(await plan({ secret_file_mode: 0o600, secret_file_owner: 'deploy' }))).rejects.toThrow(`target: ${CONF}: owner deploy is a login user, not root or a service`);
    await expect(runs.run(await plan({ secret_file_group: 'deploy' }))).rejects.toThrow(`target: ${CONF}: group deploy may read it and holds login user(s) deploy`);
  });

  it('the role as written again: the next run puts 0640 root:secretsvc back and passes', async () => {
    const { code } = await runs.run(await plan());
    expect(code).toBe(0);
    expect(await exec(`stat -c '%U:%G %a' ${CONF}`)).toBe('root:secretsvc 640\n');
  });
});
