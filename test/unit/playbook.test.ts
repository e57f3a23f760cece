import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/playbook/load.js';
import { orderRoles, DependencyCycle, findCycle } from '../../src/playbook/order.js';
import { render, TemplateError } from '../../src/playbook/templating.js';
import { isPlaceholder, makeMasker } from '../../src/playbook/secrets.js';
import { unifiedDiff } from '../../src/report/diff.js';
import { InputError } from '../../src/core/errors.js';

function pb(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'orch-pb-')), 'site.yml');
  writeFileSync(f, text);
  return f;
}

describe('playbook loading', () => {
  it('reads phases with roles, serial, max_fail_percentage and tags', () => {
    const p = loadPlaybook(pb('- name: os\n  hosts: all\n  roles: [common]\n- name: kafka\n  hosts: kafka:&control_plane\n  serial: 1\n  max_fail_percentage: 0\n  roles:\n    - java\n    - { role: kafka-kraft, tags: [streaming] }\n'));
    expect(p.phases).toHaveLength(2);
    expect(p.phases[1]).toMatchObject({ name: 'kafka', index: 2, hosts: 'kafka:&control_plane', serial: 1, maxFailPercentage: 0 });
    expect(p.phases[1].roles).toEqual([{ name: 'java', tags: [] }, { name: 'kafka-kraft', tags: ['streaming'] }]);
  });

  it('reports every problem with its line and key at once', () => {
    try {
      loadPlaybook(pb('- name: os\n  hosts: all\n  roles: common\n- hosts: 3\n  rolez: [x]\n  roles: []\n'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      const msgs = (e as InputError).problems.map((p) => `${p.line}:${p.key}`);
      expect(msgs).toEqual(expect.arrayContaining(['3:[0].roles', '4:[1].name', '4:[1].hosts', '5:[1].rolez'])); // at the key's own line
    }
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => loadPlaybook(pb('- name: os\n  hosts: [all\n'))).toThrow(/site\.yml:\d+: YAML syntax/);
  });
});

describe('role ordering', () => {
  it('orders by dependencies, stable otherwise', () => {
    const r = orderRoles([
      { name: 'kafka', dependsOn: ['java'] },
      { name: 'common', dependsOn: [] },
      { name: 'java', dependsOn: ['common'] },
    ]);
    expect(r.map((x) => x.name)).toEqual(['common', 'java', 'kafka']);
  });

  it('names a cycle', () => {
    expect(() => orderRoles([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }])).toThrow(DependencyCycle);
    expect(findCycle('a', (n) => ({ a: ['b'], b: ['c'], c: ['a'] })[n])).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('templating', () => {
  const ctx = { env: { PG_PASS: 's3cret' }, lookup: (n: string) => ({ heap: '4g', port: 9092, ref: '{{ heap }}' })[n] };
  it('resolves env lookups and variable references, keeping the type of a lone reference', () => {
    expect(render("{{ lookup('env', 'PG_PASS') }}", ctx)).toBe('s3cret');
    expect(render('{{ port }}', ctx)).toBe(9092);
    expect(render('-Xmx{{ ref }}', ctx)).toBe('-Xmx4g');
    expect(render({ a: ['{{ heap }}'] }, ctx)).toEqual({ a: ['4g'] });
  });
  it('refuses unknown variables, unset environment and Jinja expressions', () => {
    expect(() => render('{{ nope }}', ctx)).toThrow(TemplateError);
    expect(() => render("{{ lookup('env','NOPE') }}", ctx)).toThrow(/NOPE is not set/);
    expect(() => render("{{ groups['kafka'] | length }}", ctx)).toThrow(/unsupported template/);
  });
});

describe('secrets', () => {
  it('detects placeholders', () => {
    for (const v of ['changeme', 'CHANGE_ME', '<password>', 'TODO', '', 'xxxx']) expect(isPlaceholder(v)).toBe(true);
    expect(isPlaceholder('k9#Lr2!qZ')).toBe(false);
  });
  it('masks every secret value, longest first', () => {
    const m = makeMasker(['hunter22', 'hunter22-admin']);
    expect(m('pw=hunter22-admin and hunter22')).toBe('pw=*** and ***');
  });
});

describe('unified diff', () => {
  it('shows changed lines with context', () => {
    const d = unifiedDiff({ path: '/etc/x', before: 'a\nb\nc\n', after: 'a\nB\nc\nd\n' });
    expect(d).toBe('--- /etc/x\n+++ /etc/x\n@@\n a\n-b\n+B\n c\n+d');
  });
});
