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
    expect(s.hostAddressVars).toEqual({});
  });

  it('names variables that get a simulated host\'s address', () => {
    const s = loadSimFile(dirWith('host_addresses:\n  bastion_address: bastion\n'))!;
    expect(s.hostAddressVars).toEqual({ bastion_address: 'bastion' });
    expect(problems('host_addresses:\n  bastion_address: 3\n')).toEqual(['2: host_addresses.bastion_address: expected the name of a host of the inventory']);
    expect(problems('addresses: [x]\nhost_addresses:\n  x: bastion\n')).toEqual(["3: host_addresses.x: 'x' is also under vars or addresses: give it one place"]);
  });

  it('refuses unknown keys, bad names, a variable in both places, naming line and key', () => {
    expect(problems('vars: {}\nhosts: {}\n')).toEqual(["2: hosts: unknown key 'hosts' (sim.yml has vars:, addresses:, host_addresses: and groups:)"]);
    expect(problems('vars:\n  "bad name": 1\n')).toEqual(["2: vars.bad name: 'bad name' is not a variable name"]);
    expect(problems('addresses: keepalived_vip\n')).toEqual(['1: addresses: expected a list of variable names, e.g. [keepalived_vip]']);
    expect(problems('vars:\n  keepalived_vip: 1.2.3.4\naddresses:\n  - keepalived_vip\n')).toEqual(["4: addresses.0: 'keepalived_vip' is also under vars: give it one place"]);
  });

  it("minimal-5vm's: Debian's sources for etcd and Patroni, the VIP from the simulation's network", () => {
    const s = loadSimFile(inventoryDir('minimal-5vm', join(import.meta.dirname, '..', '..')))!;
    expect(s.vars).toMatchObject({ etcd_source: 'package', patroni_install: 'package', patroni_postgresql_repository: 'distribution', patroni_postgresql_version: '15' });
    expect(s.addressVars).toEqual(['keepalived_vip']);
  });

  it("spark-kafka-aws's: the bastion's simulated address for the jump, OpenJDK 17 where Debian 12 has no 11", () => {
    const s = loadSimFile(inventoryDir('spark-kafka-aws', join(import.meta.dirname, '..', '..')))!;
    expect(s.hostAddressVars).toEqual({ bastion_address: 'bastion' });
    expect(s.vars).toMatchObject({ java_package_version: '17' });
  });
});
