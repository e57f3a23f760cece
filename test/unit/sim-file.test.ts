import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadSimFile, simFileVar } from '../../src/inventory/sim-file.js';
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
    expect(problems('vars: {}\nhosts: {}\n')).toEqual(["2: hosts: unknown key 'hosts' (sim.yml has vars:, addresses:, host_addresses:, groups: and artifacts:)"]);
    expect(problems('vars:\n  "bad name": 1\n')).toEqual(["2: vars.bad name: 'bad name' is not a variable name"]);
    expect(problems('addresses: keepalived_vip\n')).toEqual(['1: addresses: expected a list of variable names, e.g. [keepalived_vip]']);
    expect(problems('vars:\n  keepalived_vip: 1.2.3.4\naddresses:\n  - keepalived_vip\n')).toEqual(["4: addresses.0: 'keepalived_vip' is also under vars: give it one place"]);
  });

  it('lists the artifacts the hosts get from a mirror on the controller: built, official or the local JDK', () => {
    const s = loadSimFile(dirWith('artifacts:\n  - { service: kafka, version: 3.9.0, sha512_vars: [kafka_sha512, kafka_connect_sha512] }\n  - { service: trino, version: 476, official: true }\n  - { jdk: 23 }\n  - { service: minio, version: RELEASE.2025-09-07T16-13-09Z }\n'))!;
    expect(s.artifacts).toEqual([{ service: 'kafka', version: '3.9.0', sha512Vars: ['kafka_sha512', 'kafka_connect_sha512'] }, { service: 'trino', version: '476', official: true }, { jdk: 23 }, { service: 'minio', version: 'RELEASE.2025-09-07T16-13-09Z' }]);
    expect(loadSimFile(dirWith('vars: {}\n'))!.artifacts).toEqual([]);
    expect(problems('artifacts: kafka\n')).toEqual(['1: artifacts: expected a list, e.g. - { service: kafka, version: 3.9.0 }']);
    expect(problems('artifacts:\n  - { jdk: 23, version: 1 }\n  - { service: Kafka, version: 1 }\n  - { service: kafka }\n  - { service: trino, version: "476", official: "y", mirror: x }\n  - { service: trino, version: "476", official: true, sha512_vars: [a] }\n')).toEqual([
      '2: artifacts.0: a JDK entry is { jdk: N } alone, N a Java major (8 or newer)',
      '3: artifacts.1.service: expected a service name, e.g. kafka',
      '4: artifacts.2.version: expected a version, e.g. "3.9.0" (quote numbers such as "476")',
      "5: artifacts.3.mirror: unknown key 'mirror' (service, version, official, sha512_vars)",
      '5: artifacts.3.official: expected true or false',
      "6: artifacts.4.sha512_vars: an official release keeps the catalogue's checksum: sha512_vars is for built archives",
    ]);
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

  it("gives a host's resource hint from its groups (the file's last group of the host wins, as in the overlay), else from vars", () => {
    const s = loadSimFile(dirWith('vars:\n  sim_memory_mb: 512\ngroups:\n  etcd: { sim_memory_mb: 576 }\n  kafka: { sim_memory_mb: 1024 }\n'))!;
    expect(simFileVar(s, ['all', 'etcd'], 'sim_memory_mb')).toBe(576);
    expect(simFileVar(s, ['kafka', 'etcd'], 'sim_memory_mb')).toBe(1024);
    expect(simFileVar(s, ['haproxy'], 'sim_memory_mb')).toBe(512);
    expect(simFileVar(s, ['haproxy'], 'sim_cpus')).toBeUndefined();
    expect(simFileVar(undefined, ['etcd'], 'sim_memory_mb')).toBeUndefined();
  });
});
