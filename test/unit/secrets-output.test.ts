import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/playbook/plan.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import { runPlan } from '../../src/runner/run.js';
import { localConnection } from '../../src/transport/local.js';
import { makeMasker } from '../../src/playbook/secrets.js';
import { jsonReporter } from '../../src/report/json.js';
import { plainReporter } from '../../src/report/plain.js';
import { renderPlan } from '../../src/cli/commands/plan.js';
import { projectRoot } from '../../src/core/project.js';
import { writeFileSync } from 'node:fs';

const SECRET = 'S3cr3t-Value-42';

describe('secrets never reach the output', () => {
  it('is masked in plan, --diff, plain lines and JSON events, but written to the host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-secret-'));
    const app = defineRole({
      name: 'app',
      description: 'test',
      vars: { app_password: v.str({ doc: 'password', secret: true }), app_dir: v.str({ default: dir, doc: 'dir' }) },
      operations: ({ vars }) => [
        ops.file({ path: join(vars.app_dir, 'app.conf'), content: `user=app\npassword=${vars.app_password}\n`, mode: 0o600, secret: true }),
        ops.command({ name: 'echo it', run: `echo "using ${vars.app_password}" && touch ${join(vars.app_dir, 'done')}`, creates: join(vars.app_dir, 'done') }),
      ],
    });
    const reg = new RoleRegistry([]);
    reg.add(app);
    const pbFile = join(dir, 'pb.yml');
    writeFileSync(pbFile, '- name: p\n  hosts: all\n  roles: [app]\n');
    const plan = await buildPlan({
      inventory: loadInventory(join(projectRoot, 'test/fixtures/secrets-inv')),
      playbook: loadPlaybook(pbFile),
      registry: reg,
      env: { ORCH_TEST_APP_PASSWORD: SECRET },
    });
    expect(plan.secretValues.has(SECRET)).toBe(true);
    const mask = makeMasker(plan.secretValues);
    let text = renderPlan(plan, 'local1');
    expect(text).toContain('app_password: "***"');
    for (const check of [true, false]) {
      const reporters = [jsonReporter((s) => (text += s), mask), plainReporter({ write: (s) => (text += s), mask, verbose: true, diff: true })];
      const code = await runPlan(plan, { check, diff: true, connect: async () => localConnection(), emit: (e) => reporters.forEach((r) => r(e)) });
      expect(code).toBe(0);
    }
    expect(text).not.toContain(SECRET);
    expect(text).toContain('is secret: not shown');
    expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe(`user=app\npassword=${SECRET}\n`);
    // --json leaves a secret file's content out of its diff itself, not only through the masking of secret values
    rmSync(join(dir, 'app.conf'));
    let raw = '';
    const json = jsonReporter((s) => (raw += s), (s) => s);
    await runPlan(plan, { check: true, diff: true, connect: async () => localConnection(), emit: json });
    const diffs = raw.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'op-result' && e.result.diff);
    expect(diffs.map((e) => e.result.diff)).toEqual([{ path: join(dir, 'app.conf'), masked: true }]);
  });

  it("a secret map's values (passwords by owner) are secret values too, masked in what orch prints; its keys are not", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-secret-'));
    const reg = new RoleRegistry([]);
    reg.add(
      defineRole({
        name: 'app',
        description: 't',
        vars: { app_password: v.str({ doc: 'pw', secret: true }), app_passwords: v.map<string>({ type: 'string' }, { default: {}, secret: true, doc: 'by owner' }) },
        operations: ({ vars }) => [ops.command({ name: `owners ${Object.keys(vars.app_passwords).join(',')} (${vars.app_passwords.airflow})`, run: `touch ${join(dir, 'done')}`, creates: join(dir, 'done') })],
      }),
    );
    writeFileSync(join(dir, 'pb.yml'), '- name: p\n  hosts: all\n  roles: [app]\n');
    const plan = await buildPlan({
      inventory: loadInventory(join(projectRoot, 'test/fixtures/secrets-inv')),
      playbook: loadPlaybook(join(dir, 'pb.yml')),
      registry: reg,
      env: { ORCH_TEST_APP_PASSWORD: SECRET },
      extraVars: [{ label: 'extra vars', values: { app_passwords: { airflow: 'Airflow-Map-Pw-1', nessie: 'Nessie-Map-Pw-2' } }, origins: {} }],
    });
    expect([...plan.secretValues].sort()).toEqual(['Airflow-Map-Pw-1', 'Nessie-Map-Pw-2', SECRET].sort());
    let text = '';
    const plain = plainReporter({ write: (s) => (text += s), mask: makeMasker(plan.secretValues), verbose: true, diff: true });
    expect(await runPlan(plan, { check: false, diff: true, connect: async () => localConnection(), emit: plain })).toBe(0);
    expect(text).toContain('owners airflow,nessie (***)');
    expect(text).not.toContain('Airflow-Map-Pw-1');
  });

  it('refuses a run whose secret comes from an unset environment variable', async () => {
    const reg = new RoleRegistry([]);
    reg.add(defineRole({ name: 'app', description: 't', vars: { app_password: v.str({ doc: 'pw', secret: true }) }, operations: () => [] }));
    const dir = mkdtempSync(join(tmpdir(), 'orch-secret-'));
    writeFileSync(join(dir, 'pb.yml'), '- name: p\n  hosts: all\n  roles: [app]\n');
    await expect(
      buildPlan({ inventory: loadInventory(join(projectRoot, 'test/fixtures/secrets-inv')), playbook: loadPlaybook(join(dir, 'pb.yml')), registry: reg, env: {} }),
    ).rejects.toThrow(/group_vars\/all\.yml:1: app_password: environment variable ORCH_TEST_APP_PASSWORD is not set/);
  });
});
