/**
 * A secret variable with `emptyAllowed`: its empty value means "not set here" (a password the role then makes once as a
 * secret cluster value), so the run does not refuse it; any other placeholder still is, and so is an empty secret
 * without the flag.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/playbook/plan.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { InputError } from '../../src/core/errors.js';
import { tempInventory } from '../helpers/inventory.js';

const role = defineRole({
  name: 'db',
  description: 'test',
  vars: {
    db_password: v.str({ default: '', secret: true, emptyAllowed: true, doc: 'generated when empty' }),
    db_token: v.str({ default: 'tok-default-1', secret: true, doc: 'a plain secret' }),
  },
  operations: () => [],
});

async function plan(groupVars: string) {
  const inv = loadInventory(tempInventory({ 'hosts.yml': 'all:\n  hosts:\n    h1:\n', 'group_vars/all.yml': groupVars }));
  const f = join(mkdtempSync(join(tmpdir(), 'orch-pb-')), 'pb.yml');
  writeFileSync(f, '- name: one\n  hosts: all\n  roles: [db]\n');
  const reg = new RoleRegistry([]);
  reg.add(role);
  return buildPlan({ inventory: inv, playbook: loadPlaybook(f), registry: reg });
}

describe('secret variables that may stay empty', () => {
  it('an empty emptyAllowed secret passes; a placeholder in it is still refused', async () => {
    const ok = await plan('db_token: real-token-7\n');
    expect(ok.phases[0].hosts[0].roles[0].vars.db_password).toBe('');
    const err = await plan('db_password: changeme\n').catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/db_password: secret db_password is still a placeholder/);
  });

  it('an empty secret without the flag is refused', async () => {
    const err = await plan("db_token: ''\n").catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/db_token: secret db_token is still a placeholder/);
  });
});
