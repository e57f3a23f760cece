import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { problemsOf, tempInventory } from '../helpers/inventory.js';

const projectRoot = join(import.meta.dirname, '..', 'fixtures');
const dirOf = (name: string) => `test/fixtures/inventories/${name}`;


describe('inventory errors', () => {
  it('reports every wrong type and structure problem at once, with file, line and key', () => {
    const problems = problemsOf(() => loadInventory('bad-types', { projectRoot }));
    const file = `${dirOf('bad-types')}/hosts.yml`;
    expect(problems.map((p) => [p.line, p.key])).toEqual([
      [6, 'all.children.kafka.hosts.vm1.ansible_port'],
      [7, 'all.children.kafka.hosts.vm1.ansible_become'],
      [9, 'all.children.kafka.hosts.vm2.ansible_port'],
      [13, 'all.children.kafka.vars.jump.0.port'],
      [14, 'all.children.bad name'],
      [15, 'all.children.bad name.hosts'],
      [17, 'all.children.web.host'],
    ]);
    expect(problems.every((p) => p.file === file)).toBe(true);
    expect(problems[0].message).toBe('expected an integer port 1..65535, got string "twenty-two"');
    expect(problems[1].message).toContain('expected a boolean');
    expect(problems[2].message).toBe('expected an integer port 1..65535, got number 70000');
    expect(problems[4].message).toContain('group name matching');
    expect(problems[5].message).toContain('expected a mapping of host names');
    expect(problems[6].message).toBe('unexpected key; expected one of: hosts, children, vars');
  });

  it('formats problems as file:line: key: message', () => {
    try {
      loadInventory('bad-types', { projectRoot });
    } catch (e) {
      expect((e as Error).message.split('\n')[0]).toBe(
        `${dirOf('bad-types')}/hosts.yml:6: all.children.kafka.hosts.vm1.ansible_port: expected an integer port 1..65535, got string "twenty-two"`,
      );
    }
  });

  it('checks group_vars and host_vars files too, all at once', () => {
    const problems = problemsOf(() => loadInventory('bad-var-files', { projectRoot }));
    expect(problems).toEqual([
      { file: `${dirOf('bad-var-files')}/group_vars/kafka.yml`, line: 2, key: 'ansible_become', message: 'expected a boolean (true/false, yes/no), got string "sometimes"' },
      { file: `${dirOf('bad-var-files')}/host_vars/vm1.yml`, line: 1, message: 'expected a mapping of variables, got a list' },
    ]);
  });

  it('reports a YAML syntax error with its line', () => {
    const [p, ...rest] = problemsOf(() => loadInventory('syntax-error', { projectRoot }));
    expect(rest).toEqual([]);
    expect(p.file).toBe(`${dirOf('syntax-error')}/hosts.yml`);
    expect(p.line).toBe(6);
    expect(p.message).toMatch(/^YAML syntax error: /);
  });

  it('reports INI problems with their lines, all at once', () => {
    const problems = problemsOf(() => loadInventory('ini-errors', { projectRoot }));
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'expected an integer port 1..65535, got string "abc"'],
      [3, "expected key=value host variable, got 'novalue'"],
      [5, 'section [kafka:stuff] has an unknown type; expected [kafka], [kafka:vars] or [kafka:children]'],
      [9, "section [web:children] includes undefined group 'missing'"],
    ]);
    expect(problems[0].key).toBe('kafka.vm1.ansible_port');
  });

  it('detects child-group cycles (INI)', () => {
    const [p] = problemsOf(() => loadInventory('cycle', { projectRoot }));
    expect(p).toMatchObject({ line: 11, message: 'child groups form a cycle: a -> b -> c -> a' });
  });

  it('detects child-group cycles (YAML, across separate definitions)', () => {
    const dir = tempInventory({
      'hosts.yml': 'all:\n  children:\n    a:\n      children:\n        b:\n    b:\n      children:\n        a:\n',
    });
    const problems = problemsOf(() => loadInventory(dir));
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toBe('child groups form a cycle: a -> b -> a');
    expect(problems[0].line).toBe(8);
  });

  it('rejects an empty inventory, a plugin configuration, a bad INI group name, and [g:vars] for no group', () => {
    expect(problemsOf(() => loadInventory(tempInventory({ 'hosts.yml': '# nothing\n' })))[0].message).toBe('the inventory is empty');
    expect(problemsOf(() => loadInventory(tempInventory({ 'hosts.yml': 'plugin: aws_ec2\n' })))[0].message).toContain('plugin');
    const ini = problemsOf(() => loadInventory(tempInventory({ 'hosts.ini': '[web.servers]\nw1\n\n[db:vars]\nx=1\n' })));
    expect(ini.map((p) => p.line)).toEqual([1, 4]);
    expect(ini[1].message).toContain("'db', which is not defined");
  });

  it('rejects a YAML alias that refers to a node containing it', () => {
    const dir = tempInventory({ 'hosts.yml': 'all:\n  children:\n    a: &x\n      children:\n        b: *x\n' });
    const [p] = problemsOf(() => loadInventory(dir));
    expect(p).toMatchObject({ line: 5, message: 'YAML alias *x refers to a node that contains it' });
  });

  it('rejects vault-encrypted values with their line', () => {
    const dir = tempInventory({ 'hosts.yml': 'all:\n  vars:\n    secret: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6162\n' });
    const [p] = problemsOf(() => loadInventory(dir));
    expect(p.line).toBe(3);
    expect(p.message).toContain('vault');
  });
});

describe('sim overlay', () => {
  it('adds a host-level layer labelled sim overlay that wins over host vars', () => {
    const inv = loadInventory('yaml-basic', { projectRoot, overlayFile: tempInventory({ 'o.yml': 'hosts:\n  vm1:\n    ansible_host: 127.0.0.1\n    ansible_port: 2201\n' }) + '/o.yml' });
    const layers = inv.hosts.get('vm1')!.vars;
    expect(layers.at(-1)).toMatchObject({ label: 'sim overlay', kind: 'overlay', values: { ansible_host: '127.0.0.1', ansible_port: 2201 } });
    expect(layers.at(-1)!.origins.ansible_port).toMatchObject({ line: 4, key: 'hosts.vm1.ansible_port' });
  });

  it('rejects a host the inventory does not have, and wrong types, with lines', () => {
    const o = join(tempInventory({ 'o.yml': 'hosts:\n  vm1:\n    ansible_port: x\n  vm9:\n    a: 1\n' }), 'o.yml');
    const problems = problemsOf(() => loadInventory('yaml-basic', { projectRoot, overlayFile: o }));
    expect(problems.map((p) => [p.line, p.key])).toEqual([[3, 'hosts.vm1.ansible_port']]);
    const o2 = join(tempInventory({ 'o.yml': 'hosts:\n  vm1:\n    a: 1\n  vm9:\n    a: 1\n' }), 'o.yml');
    const [p] = problemsOf(() => loadInventory('yaml-basic', { projectRoot, overlayFile: o2 }));
    expect(p).toMatchObject({ line: 4, key: 'hosts.vm9' });
    expect(p.message).toContain("host 'vm9' is not in the inventory");
  });
});
