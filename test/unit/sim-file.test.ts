import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadSimFile } from '../../src/inventory/sim-file.js';
import { inventoryDir } from '../../src/inventory/load.js';

const dirWith = (text?: string) => {
  const d = mkdtempSync(join(tmpdir(), 'orch-simfile-'));
  if (text !== undefined) writeFileSync(join(d, 'sim.yml'), text);
  return d;
};
const problems = (text: string) => {
  try {
    loadSimFile(dirWith(text));
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems.map((p) => `${p.line}: ${p.key}: ${p.message}`);
  }
  return [];
};

describe("an inventory's sim.yml", () => {
  it('is optional', () => {
    expect(loadSimFile(dirWith())).toBeUndefined();
  });

  it('gives vars for every host and the variables that get an address of the network', () => {
    const s = loadSimFile(dirWith('vars:\n  etcd_source: package\n  patroni_postgresql_version: "15"\naddresses: [keepalived_vip, keepalived_vip]\n'))!;
    expect(s.vars).toEqual({ etcd_source: 'package', patroni_postgresql_version: '15' });
    expect(s.addressVars).toEqual(['keepalived_vip']);
  });

  it('refuses unknown keys, bad names, a variable in both places, naming line and key', () => {
    expect(problems('vars: {}\nhosts: {}\n')).toEqual(["2: hosts: unknown key 'hosts' (sim.yml has vars: and addresses:)"]);
    expect(problems('vars:\n  "bad name": 1\n')).toEqual(["2: vars.bad name: 'bad name' is not a variable name"]);
    expect(problems('addresses: keepalived_vip\n')).toEqual(['1: addresses: expected a list of variable names, e.g. [keepalived_vip]']);
    expect(problems('vars:\n  keepalived_vip: 1.2.3.4\naddresses:\n  - keepalived_vip\n')).toEqual(["4: addresses.0: 'keepalived_vip' is also under vars: give it one place"]);
  });

  it("minimal-5vm's: Debian's sources for etcd and Patroni, the VIP from the simulation's network", () => {
    const s = loadSimFile(inventoryDir('minimal-5vm', join(import.meta.dirname, '..', '..')))!;
    expect(s.vars).toMatchObject({ etcd_source: 'package', patroni_install: 'package', patroni_postgresql_repository: 'distribution', patroni_postgresql_version: '15' });
    expect(s.addressVars).toEqual(['keepalived_vip']);
  });
});
