import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { loadInventory } from '../../src/inventory/load.js';
import type { Inventory, VarLayer } from '../../src/inventory/types.js';
import { resolveHostVars } from '../../src/inventory/vars.js';

const projectRoot = join(import.meta.dirname, '..', 'fixtures');
const overlayFile = join(projectRoot, 'inventories', 'precedence', 'overlay.yml');

const layer = (label: string, values: Record<string, unknown>): VarLayer => ({
  label,
  values,
  origins: Object.fromEntries(Object.keys(values).map((k) => [k, { file: label, key: k }])),
});

describe('resolveHostVars precedence', () => {
  const inv = loadInventory('precedence', { projectRoot, overlayFile });
  const roleDefaults = [layer('role defaults', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i + 1}`, 'role-default'])))];
  const extraVars = parseExtraVars(['p11=extra'], '/');
  const r = resolveHostVars(inv, 'vm1', { roleDefaults, extraVars });

  // layer K sets p<K>..p11, so p<K> must come from layer K: each level beats every level below it
  it.each([
    ['p1', 'role-default'],
    ['p2', 'all-inline'],
    ['p3', 'data-inline'],
    ['p4', 'kafka-inline'],
    ['p5', 'all-file'],
    ['p6', 'data-file'],
    ['p7', 'kafka-file'],
    ['p8', 'host-inline'],
    ['p9', 'host-file'],
    ['p10', 'overlay'],
    ['p11', 'extra'],
  ])('%s comes from %s', (key, expected) => {
    expect(r.values[key]).toBe(expected);
  });

  it('lists the layers applied, lowest first', () => {
    expect(r.layers).toEqual([
      'role defaults',
      'group all',
      'group data',
      'group zzz_top',
      'group kafka',
      'group zookeeper',
      'group all (group_vars/all.yml)',
      'group data (group_vars/data.yml)',
      'group kafka (group_vars/kafka.yml)',
      'host vm1',
      'host vm1 (host_vars/vm1.yml)',
      'sim overlay',
      'extra vars',
    ]);
  });

  it('orders groups by depth, then name; a deeper group wins over a shallower one', () => {
    expect(r.values.depth_test).toBe('kafka'); // kafka (depth 2) beats zzz_top (depth 1)
    expect(r.values.sib).toBe('zookeeper'); // same depth: later name wins
  });

  it('lets group_vars/all files win over group vars written in the inventory file, as Ansible does', () => {
    expect(r.values.subtle).toBe('all-file');
  });

  it('keeps the origin of each winning value', () => {
    expect(r.origins.p4).toMatchObject({ file: 'test/fixtures/inventories/precedence/hosts.yml', key: 'all.children.data.children.kafka.vars.p4' });
    expect(r.origins.p7).toEqual({ file: 'test/fixtures/inventories/precedence/group_vars/kafka.yml', line: 1, key: 'p7' });
    expect(r.origins.p10).toMatchObject({ file: 'test/fixtures/inventories/precedence/overlay.yml', line: 3 });
    expect(r.origins.p11).toEqual({ file: '-e', key: 'p11' });
  });

  it('sets the magic values', () => {
    expect(r.values.inventory_hostname).toBe('vm1');
    expect(r.values.inventory_hostname_short).toBe('vm1');
    expect(r.values.group_names).toEqual(['data', 'kafka', 'zookeeper', 'zzz_top']);
    expect(r.origins.inventory_hostname).toBeUndefined();
  });
});

describe('resolveHostVars merging', () => {
  const inv = (): Inventory => ({
    source: 'mem',
    hosts: new Map([['h1', { name: 'h1', vars: [layer('host h1', { conf: { b: 2 } })], groups: ['all', 'web', 'front'] }]]),
    groups: new Map([
      ['all', { name: 'all', children: ['web', 'front'], hosts: [], vars: [layer('group all', { conf: { a: 1 }, x: 'all' })] }],
      ['web', { name: 'web', children: [], hosts: ['h1'], vars: [layer('group web', { x: 'web', ansible_group_priority: 5 })] }],
      ['front', { name: 'front', children: [], hosts: ['h1'], vars: [layer('group front', { x: 'front' })] }],
    ]),
  });

  it('replaces top-level keys whole (no deep merge)', () => {
    expect(resolveHostVars(inv(), 'h1').values.conf).toEqual({ b: 2 });
  });

  it('applies ansible_group_priority between groups of the same depth (higher wins), before names', () => {
    expect(resolveHostVars(inv(), 'h1').values.x).toBe('web'); // web has priority 5, front the default 1
    const i = inv();
    i.groups.get('front')!.vars[0].values.ansible_group_priority = 10;
    expect(resolveHostVars(i, 'h1').values.x).toBe('front');
    const j = inv();
    delete j.groups.get('web')!.vars[0].values.ansible_group_priority;
    expect(resolveHostVars(j, 'h1').values.x).toBe('web'); // same priority: by name, web after front
  });

  it('throws an InputError for an unknown host', () => {
    expect(() => resolveHostVars(inv(), 'nope')).toThrow(/no host 'nope'/);
  });

  it('applies several -e layers in order', () => {
    const r = resolveHostVars(inv(), 'h1', { extraVars: parseExtraVars(['x=1', 'x=2 y=3'], '/') });
    expect(r.values).toMatchObject({ x: '2', y: '3' });
  });
});
