/**
 * Cluster values: one value shared by every member of a cluster (Kafka's `cluster.id`, Airflow's fernet key, an
 * etcd token), made on the first deploy and never again. The truth lives on the hosts:
 *   - a role declares how to read the value on a host (`read`, e.g. from `meta.properties`), which group holds it
 *     and how to generate it;
 *   - before the phase the engine reads it on every host of the group (the role's `read`, and the copy the engine
 *     keeps in `<stateDir>/values/<name>`), uses the one value found, generates it when no host has one, and writes
 *     its copy wherever a host lacks it; hosts that disagree stop the run, naming hosts and values;
 *   - an inventory value (`override`, e.g. `kafka_cluster_id`) wins and is checked against the hosts.
 * This module is the pure part (resolution and the remote read/store commands); the runner does the round trips.
 */
import { createHash, randomBytes } from 'node:crypto';
import { q } from '../ops/quote.js';

export interface ClusterValueSpec {
  /** variable-like name, unique in the playbook, e.g. `kafka_cluster_id` */
  name: string;
  /** one line for messages and `orch roles show` */
  doc: string;
  /** the inventory group whose hosts hold the value (each host of it is asked) */
  group: string;
  /**
   * POSIX sh that prints the value on a host that has it and nothing (or fails) on one that does not, e.g.
   * `sed -n 's/^cluster.id=//p' /data/kafka/meta.properties`. Optional: without it only the engine's copy counts.
   */
  read?: string;
  /** makes a new value (default: 32 random hex digits) */
  generate?: () => string;
  /** never shown: `***` and a short fingerprint in messages */
  secret?: boolean;
  /** an inventory variable that, when set, is the value (checked against the hosts) */
  override?: string;
  /**
   * the inventory's `override` replaces what the hosts hold instead of being refused when they differ: for a credential
   * the operator rotates through the inventory (MinIO's root password), not for an identity (Kafka's cluster id)
   */
  overrideReplaces?: boolean;
  /** the shape a value must have (a value read from a host that does not match is an error) */
  pattern?: RegExp;
  /**
   * hosts that disagree: `stop-run` (default) stops the run; `stop-minority` stops only the hosts whose value differs
   * from the one a strict majority of the asked hosts (or the inventory's override) holds, showing both values, and
   * the others converge (a Kafka node formatted with a foreign cluster id cannot join anyway). Without a strict
   * majority the run stops.
   */
  conflicts?: 'stop-run' | 'stop-minority';
}

/** What one host has of one value. */
export interface HostReading {
  host: string;
  /** from the role's `read` command ('' when none) */
  read: string;
  /** the engine's copy ('' when none) */
  stored: string;
  /** the host could not be asked (unreachable): it may hold a value */
  unreachable?: string;
}

export type Resolution =
  | {
      ok: true;
      value: string;
      source: 'inventory' | 'hosts' | 'generated';
      /** hosts (of those asked) whose copy is missing or stale */
      missing: string[];
      from: string[];
      /** `stop-minority`: hosts holding another value, each with the message that stops it */
      stopped?: Map<string, string>;
    }
  | { ok: false; problem: string };

export const VALUE_SAFE = /^[^\n\r\0]+$/;

/** `***` and the first 8 hex digits of its sha256, so that two masked values can be told apart. */
export function fingerprint(value: string): string {
  return `*** (sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 8)})`;
}

export function defaultGenerate(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Pick the one value of a cluster from what its hosts have. Pure: unit-tested without hosts.
 * `inventoryValue`: the override variable's value ('' or undefined: not set).
 */
export function resolveClusterValue(spec: ClusterValueSpec, readings: HostReading[], inventoryValue?: string, generate = spec.generate ?? defaultGenerate): Resolution {
  const show = (v: string) => (spec.secret ? fingerprint(v) : JSON.stringify(v));
  const seen = new Map<string, string[]>(); // value -> "host (source)"
  for (const r of readings) {
    for (const [v, src] of [
      [r.read, 'read'],
      [r.stored, 'orch copy'],
    ] as const) {
      if (!v) continue;
      if (!VALUE_SAFE.test(v) || (spec.pattern && !spec.pattern.test(v))) {
        return { ok: false, problem: `${spec.name}: host ${r.host} has ${show(v)} (${src}), which is not a valid ${spec.name}${spec.pattern ? ` (expected ${spec.pattern})` : ''}` };
      }
      const list = seen.get(v) ?? [];
      list.push(`${r.host} (${src === 'read' ? 'its configuration' : 'the orch copy'})`);
      seen.set(v, list);
    }
  }
  const listing = (except?: string) => [...seen].filter(([v]) => v !== except).map(([v, hs]) => `${hs.join(', ')}: ${show(v)}`).join('; ');
  const missing = (value: string) => readings.filter((r) => !r.unreachable && r.stored !== value).map((r) => r.host);
  // stop-minority: the hosts that hold another value than the inventory's or a strict majority's stop, the rest go on
  const outvoted = (value: string, by: string) => {
    const stopped = new Map<string, string>();
    for (const r of readings) {
      const theirs = [r.read, r.stored].filter((v) => v && v !== value);
      if (theirs.length) stopped.set(r.host, `${spec.name}: ${r.host} has ${[...new Set(theirs)].map(show).join(' and ')} but ${by} ${show(value)}: this host stops (its data belongs to another cluster: wipe it or fix ${spec.override ?? 'the value'}), the others go on`);
    }
    return stopped;
  };
  if (spec.conflicts === 'stop-minority' && seen.size > 1) {
    const hostsWith = (v: string) => readings.filter((r) => r.read === v || r.stored === v).length;
    const winner = inventoryValue || [...seen.keys()].find((v) => hostsWith(v) * 2 > readings.length && [...seen.keys()].every((o) => o === v || hostsWith(o) < hostsWith(v)));
    if (winner && (!spec.pattern || spec.pattern.test(winner)) && VALUE_SAFE.test(winner)) {
      const stopped = outvoted(winner, inventoryValue ? `the inventory's ${spec.override} is` : `the cluster (${readings.length} hosts asked) has`);
      const rest = readings.filter((r) => !stopped.has(r.host));
      return { ok: true, value: winner, source: inventoryValue ? 'inventory' : 'hosts', missing: rest.filter((r) => !r.unreachable && r.stored !== winner).map((r) => r.host), from: seen.get(winner) ?? [], stopped };
    }
  }
  if (inventoryValue) {
    if (!VALUE_SAFE.test(inventoryValue) || (spec.pattern && !spec.pattern.test(inventoryValue))) {
      return { ok: false, problem: `${spec.name}: the inventory's ${spec.override} is not a valid ${spec.name}${spec.pattern ? ` (expected ${spec.pattern})` : ''}` };
    }
    const others = [...seen.keys()].filter((v) => v !== inventoryValue);
    if (others.length && !spec.overrideReplaces) {
      return {
        ok: false,
        problem: `${spec.name}: the inventory sets ${spec.override} to ${show(inventoryValue)} but ${listing(inventoryValue)}. Set ${spec.override} to the hosts' value, or remove it to keep theirs`,
      };
    }
    return { ok: true, value: inventoryValue, source: 'inventory', missing: missing(inventoryValue), from: [] };
  }
  if (seen.size > 1) {
    return {
      ok: false,
      problem: `${spec.name}: the hosts of group ${spec.group} disagree: ${listing()}. orch does not pick one: decide which is right, set ${spec.override ?? 'it'}${spec.override ? ' in the inventory' : ''} or fix the other hosts`,
    };
  }
  if (seen.size === 1) {
    const [[value, holders]] = [...seen];
    return { ok: true, value, source: 'hosts', missing: missing(value), from: holders };
  }
  const down = readings.filter((r) => r.unreachable);
  if (down.length) {
    return {
      ok: false,
      problem: `${spec.name}: no reachable host of group ${spec.group} has it, and ${down.map((r) => `${r.host} (${r.unreachable})`).join(', ')} could not be asked: generating a new one could split the cluster. Bring the host back, or set ${spec.override ?? 'the value'} in the inventory`,
    };
  }
  const value = generate();
  if (!VALUE_SAFE.test(value) || (spec.pattern && !spec.pattern.test(value))) {
    return { ok: false, problem: `${spec.name}: the generator made ${show(value)}, which does not match ${spec.pattern}` };
  }
  return { ok: true, value, source: 'generated', missing: readings.map((r) => r.host), from: [] };
}

/** Where the engine keeps its copy of a value on a host. */
export function storePath(stateDir: string, name: string): string {
  return `${stateDir.replace(/\/+$/, '')}/values/${name}`;
}

/** A read of the engine's copy, as a facts-script command. */
export function storeReadCommand(stateDir: string, name: string): string {
  const p = q(storePath(stateDir, name));
  return `[ -f ${p} ] && cat ${p}`;
}

export const CLUSTER_NAME = /^[a-z][a-z0-9_]*$/;
