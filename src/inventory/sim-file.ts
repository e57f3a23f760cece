/**
 * An inventory's `sim.yml`: what differs when its hosts are simulated (`orch sim up`, then `--sim`).
 *
 *   vars:                      # written into the sim overlay for every host, over the inventory's own values
 *     etcd_source: package     #   e.g. software sources this machine reaches instead of the production downloads
 *   addresses: [keepalived_vip]  # variables each given one free address of the simulation's network (VIPs)
 *   host_addresses:            # variables set to a simulated host's address (a bastion the others jump through)
 *     bastion_address: bastion
 *   groups:                    # vars for the hosts of a group only, over `vars`
 *     private: { jump: { host: "{{ bastion_address }}", user: root, private_key_file: "{{ ansible_ssh_private_key_file }}" } }
 *   artifacts:                 # releases the hosts get from a mirror on the controller (src/sim/artifacts/prepare.ts)
 *     - { service: kafka, version: 3.9.0 }                  # built from the package registries
 *     - { service: trino, version: "476", official: true }  # the catalogue's release from its official URL
 *     - { jdk: 23 }                                         # this machine's Temurin JDK 23+
 *
 * Production inventories stay as the seeds give them; the simulation's differences are in one file, read by
 * `orch sim up`, shown by `orch plan --sim` as the layer `sim overlay`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, type InputProblem } from '../core/errors.js';
import { readYamlFile } from './yaml-file.js';

export const SIM_FILE = 'sim.yml';

export interface SimFile {
  file: string;
  vars: Record<string, unknown>;
  addressVars: string[];
  /** variable -> the host whose address it gets */
  hostAddressVars: Record<string, string>;
  /** group -> vars for its hosts */
  groupVars: Record<string, Record<string, unknown>>;
  /** `artifacts:` entries */
  artifacts: SimArtifactSpec[];
}

/** an entry of `artifacts:` (src/sim/artifacts/prepare.ts lays them out); sha512Vars: the variables given a built
 * archive's sha512 (default `<service>_sha512`; Kafka Connect runs Kafka's archive) */
export type SimArtifactSpec = { service: string; version: string; official?: boolean; sha512Vars?: string[] } | { jdk: number };

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The inventory directory's sim.yml, or undefined when it has none; bad content is an InputError. */
export function loadSimFile(inventoryDir: string): SimFile | undefined {
  const path = join(inventoryDir, SIM_FILE);
  if (!existsSync(path)) return undefined;
  const parsed = readYamlFile(path);
  const { file, data } = parsed;
  if (parsed.problems.length) throw new InputError(parsed.problems);
  const problems: InputProblem[] = [];
  const at = (p: Array<string | number>, message: string) => problems.push({ file, line: parsed.lineOf(p), key: p.join('.'), message });
  const top = (data ?? {}) as Record<string, unknown>;
  if (typeof top !== 'object' || Array.isArray(top)) throw new InputError([{ file, line: 1, message: 'expected a mapping with vars and/or addresses' }]);
  for (const k of Object.keys(top)) if (!['vars', 'addresses', 'host_addresses', 'groups', 'artifacts'].includes(k)) at([k], `unknown key '${k}' (sim.yml has vars:, addresses:, host_addresses:, groups: and artifacts:)`);
  const vars = top.vars ?? {};
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) at(['vars'], 'expected a mapping of variable: value');
  else for (const k of Object.keys(vars)) if (!VAR_NAME.test(k)) at(['vars', k], `'${k}' is not a variable name`);
  const addresses = top.addresses ?? [];
  if (!Array.isArray(addresses)) at(['addresses'], 'expected a list of variable names, e.g. [keepalived_vip]');
  else
    addresses.forEach((a, i) => {
      if (typeof a !== 'string' || !VAR_NAME.test(a)) at(['addresses', i], `'${String(a)}' is not a variable name`);
      else if (Object.prototype.hasOwnProperty.call(vars, a)) at(['addresses', i], `'${a}' is also under vars: give it one place`);
    });
  const hostAddresses = top.host_addresses ?? {};
  if (typeof hostAddresses !== 'object' || hostAddresses === null || Array.isArray(hostAddresses)) at(['host_addresses'], 'expected a mapping of variable: host, e.g. bastion_address: bastion');
  else
    for (const [k, h] of Object.entries(hostAddresses)) {
      if (!VAR_NAME.test(k)) at(['host_addresses', k], `'${k}' is not a variable name`);
      else if (typeof h !== 'string' || !h) at(['host_addresses', k], 'expected the name of a host of the inventory');
      else if (Object.prototype.hasOwnProperty.call(vars, k) || (Array.isArray(addresses) && addresses.includes(k))) at(['host_addresses', k], `'${k}' is also under vars or addresses: give it one place`);
    }
  const groups = top.groups ?? {};
  if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) at(['groups'], 'expected a mapping of group: { variable: value }');
  else
    for (const [g, gv] of Object.entries(groups)) {
      if (typeof gv !== 'object' || gv === null || Array.isArray(gv)) at(['groups', g], 'expected a mapping of variable: value');
      else for (const k of Object.keys(gv)) if (!VAR_NAME.test(k)) at(['groups', g, k], `'${k}' is not a variable name`);
    }
  const artifacts: SimArtifactSpec[] = [];
  const list = top.artifacts ?? [];
  if (!Array.isArray(list)) at(['artifacts'], 'expected a list, e.g. - { service: kafka, version: 3.9.0 }');
  else
    list.forEach((a, i) => {
      const e = a as Record<string, unknown>;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) return at(['artifacts', i], 'expected { service, version } (official: true for the official release) or { jdk: N }');
      if ('jdk' in e) {
        if (Object.keys(e).length !== 1 || !Number.isInteger(e.jdk) || (e.jdk as number) < 8) return at(['artifacts', i], 'a JDK entry is { jdk: N } alone, N a Java major (8 or newer)');
        return void artifacts.push({ jdk: e.jdk as number });
      }
      for (const k of Object.keys(e)) if (!['service', 'version', 'official', 'sha512_vars'].includes(k)) at(['artifacts', i, k], `unknown key '${k}' (service, version, official, sha512_vars)`);
      if (typeof e.service !== 'string' || !/^[a-z][a-z0-9-]*$/.test(e.service)) return at(['artifacts', i, 'service'], 'expected a service name, e.g. kafka');
      if ((typeof e.version !== 'string' && typeof e.version !== 'number') || String(e.version) === '') return at(['artifacts', i, 'version'], 'expected a version, e.g. "3.9.0" (quote numbers such as "476")');
      if (e.official !== undefined && typeof e.official !== 'boolean') return at(['artifacts', i, 'official'], 'expected true or false');
      const sv = e.sha512_vars;
      if (sv !== undefined && (!Array.isArray(sv) || !sv.every((x) => typeof x === 'string' && VAR_NAME.test(x)))) return at(['artifacts', i, 'sha512_vars'], 'expected a list of variable names');
      if (sv !== undefined && e.official) return at(['artifacts', i, 'sha512_vars'], 'an official release keeps the catalogue\'s checksum: sha512_vars is for built archives');
      artifacts.push({ service: e.service, version: String(e.version), ...(e.official ? { official: true } : {}), ...(sv ? { sha512Vars: sv as string[] } : {}) });
    });
  if (problems.length) throw new InputError(problems);
  return {
    artifacts,
    file,
    vars: vars as Record<string, unknown>,
    addressVars: [...new Set(addresses as string[])],
    hostAddressVars: hostAddresses as Record<string, string>,
    groupVars: groups as Record<string, Record<string, unknown>>,
  };
}

/**
 * A variable as the sim overlay gives it to a host of these groups: the last of the host's groups under `groups:`
 * (in the file's order, as the overlay merges them), else `vars:`; undefined when sim.yml sets it for none. Used for
 * the hosts' resource hints (`sim_memory_mb`, `sim_cpus`), which win over the inventory's, as the overlay's layer does.
 */
export function simFileVar(sim: Pick<SimFile, 'vars' | 'groupVars'> | undefined, hostGroups: readonly string[], key: string): unknown {
  if (!sim) return undefined;
  let v: unknown = Object.prototype.hasOwnProperty.call(sim.vars, key) ? sim.vars[key] : undefined;
  for (const [g, gv] of Object.entries(sim.groupVars)) if (hostGroups.includes(g) && Object.prototype.hasOwnProperty.call(gv, key)) v = gv[key];
  return v;
}
