/**
 * Issue 16, bad input by hand: cases the property test (bad-input-property.test.ts) is unlikely to hit by chance,
 * and the regressions it found, each with the input that broke the engine. Every refusal is an InputError (exit 4)
 * whose problems name file, line and key.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { expandHostPattern, MAX_RANGE_HOSTS } from '../../src/inventory/host-pattern.js';
import { problemsOf, tempInventory } from '../helpers/inventory.js';

describe('regressions found by the property test', () => {
  it("a host range of a billion hosts ('vm[0:999999999]', 'x[0:99999][0:99999]') is refused at once, not expanded until memory runs out", () => {
    expect(expandHostPattern('vm[0:999999999]')).toEqual({ error: `host range in 'vm[0:999999999]': [0:999999999] makes 1000000000 hosts, more than the ${MAX_RANGE_HOSTS} one entry may have` });
    expect(expandHostPattern('x[0:99][0:999]')).toEqual({ error: `host range in 'x[0:99][0:999]': the ranges make more than the ${MAX_RANGE_HOSTS} hosts one entry may have` });
    expect((expandHostPattern('n[1:10000]') as { hosts: string[] }).hosts).toHaveLength(10_000);
    const dir = tempInventory({ 'hosts.ini': '[web]\nx[0:99999][0:99999] ansible_host=192.0.2.1\n' });
    expect(problemsOf(() => loadInventory(dir))).toEqual([
      { file: join(dir, 'hosts.ini'), line: 2, key: 'x[0:99999][0:99999]', message: `host range in 'x[0:99999][0:99999]': [0:99999] makes 100000 hosts, more than the ${MAX_RANGE_HOSTS} one entry may have` },
    ]);
  }); // unbounded, this took minutes and 500 MB+ of memory

  it('INI problems name their key: a bad section header or type, [g:vars] of no group, an unparsable host line', () => {
    // from the property test: '[bad group]', '[a:b]', '[x:vars]' alone, "vm1 a='unclosed", 'vm1 a=b\\'
    const dir = tempInventory({ 'hosts.ini': "[bad group]\n[a:b]\n[x:vars]\nk=v\n[web]\nvm1 a='unclosed\nvm2 a=b\\\n" });
    const file = join(dir, 'hosts.ini');
    expect(problemsOf(() => loadInventory(dir))).toEqual([
      { file, line: 1, key: 'bad group', message: "invalid section header '[bad group]'; expected [group], [group:vars] or [group:children] without spaces" },
      { file, line: 2, key: 'a:b', message: 'section [a:b] has an unknown type; expected [a], [a:vars] or [a:children]' },
      { file, line: 6, key: 'web.vm1', message: 'cannot parse host line: no closing quotation' },
      { file, line: 7, key: 'web.vm2', message: 'cannot parse host line: no character after a backslash' },
      { file, line: 3, key: 'x:vars', message: "section [x:vars] is for group 'x', which is not defined anywhere" },
    ]);
  });
});
