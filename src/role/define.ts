/**
 * The role API. A role is a TypeScript module whose default export is `defineRole({...})`.
 * Roles know nothing of SSH: they turn typed variables and host facts into operations.
 */
import type { Operation } from '../ops/types.js';
import type { VarTable, VarsOf } from './vars.js';
import type { Declarations, DeclaredPort } from './declare.js';
import type { ClusterValueSpec } from './cluster.js';

/** What a role knows about the host it configures (gathered once per run, one round trip). */
export interface HostFacts {
  /** `debian` (Debian, Ubuntu), `redhat` (RHEL, Rocky, Alma, CentOS, Fedora) or `unknown` */
  osFamily: 'debian' | 'redhat' | 'unknown';
  /** os-release ID, e.g. `debian`, `ubuntu`, `rhel` */
  osId: string;
  osVersion: string;
  arch: string;
  /** login user, and whether commands run as root (directly or through sudo) */
  user: string;
  root: boolean;
  /** CPUs this host's processes may use: a container's or cgroup's quota when lower than the machine's (may be fractional) */
  cpus: number;
  /** memory (MiB) this host's processes may use: a container's or cgroup's limit when lower than the machine's */
  memoryMb: number;
  /** the machine's own CPUs and memory (MiB), whatever the cgroup limits */
  machineCpus?: number;
  machineMemoryMb?: number;
  hostname: string;
  /** the host runs systemd as PID 1 */
  systemd: boolean;
  /** running inside a container (global sysctls cannot be set there) */
  container: boolean;
}

/** Another host of the inventory, as a role may see it (for cluster-wide config: quorum lists, seeds). */
export interface PeerHost {
  name: string;
  /** the address other hosts reach it at (`ansible_host`, else the name) */
  address: string;
  groups: string[];
  /** its resolved variables (secrets included: roles may render them into files; reporters mask them) */
  vars: Record<string, unknown>;
  /**
   * the roles the playbook deploys on it, in any of its phases (whatever --phase or --limit select this run), e.g. so
   * that Prometheus scrapes only what runs; undefined where it is not known (treat the host's groups as deployed)
   */
  roles?: string[];
}

export interface RoleContext<V> {
  vars: V;
  host: PeerHost & { facts: HostFacts };
  /** hosts of a group, in inventory order (empty if the group does not exist) */
  group(name: string): PeerHost[];
  /** every host of the inventory, in order */
  allHosts(): PeerHost[];
  /** values other roles export for this host (e.g. java's `java_home`) */
  exported(role: string): Record<string, unknown>;
  /** the ports every role of this host declares (`declares`), across the playbook: for the firewall */
  declaredPorts?(): DeclaredPort[];
  /**
   * a cluster value this role declares (`clusterValues`), as the engine resolved it before the phase: read from
   * the group's hosts, generated once, or the inventory's override. Throws for an undeclared name.
   */
  cluster(name: string): string;
}

/** What a role's member needs to be healthy again after a restart, and who leads (restarted last). */
export interface RolloutPolicy {
  /**
   * services (unit names; `kafka` = `kafka.service`; `spark-worker@*` = every instance) whose restarts are rolled:
   * hosts restart one at a time (or `serial` at once), each behind the health check
   */
  services: string[];
  /** POSIX sh exiting 0 once this host's member is back (broker in the ISR, ZooKeeper in quorum ...) */
  health: { command: string; description: string; timeoutSec?: number; intervalSec?: number };
  /** POSIX sh exiting 0 when this host is the cluster's leader: it restarts last */
  leader?: string;
  /** hosts restarted at once (default 1) */
  serial?: number;
}

/** The part of a role's context known offline (no facts): for declarations made before any host is asked. */
export type OfflineContext<V> = Omit<RoleContext<V>, 'host' | 'exported' | 'cluster'> & { host: PeerHost };

export interface RoleDefinition<T extends VarTable = VarTable> {
  name: string;
  description: string;
  /** what the role does, in a few lines: its seed, sources, layout and behaviour (shown by `orch roles show`) */
  doc?: string;
  /** roles that must have run on the same host first (same or an earlier phase) */
  dependsOn?: string[];
  vars: T;
  /** values made available to dependent roles through `ctx.exported(name)` */
  exports?(ctx: RoleContext<VarsOf<T>>): Record<string, unknown>;
  /**
   * offline checks across the inventory (unique node ids, the host in its cluster's group ...), run by `orch plan`
   * and before every run, on each host that runs the role; each string is one problem (exit 4, nothing touched)
   */
  validate?(ctx: OfflineContext<VarsOf<T>>): string[];
  operations(ctx: RoleContext<VarsOf<T>>): Operation<any>[];
  /** ports, memory, CPU, data dirs, quorum membership and served groups on this host (src/role/declare.ts), checked by `orch plan` */
  declares?(ctx: OfflineContext<VarsOf<T>>): Declarations;
  /** cluster values the role's hosts share (see src/role/cluster.ts), resolved before each phase the role runs in */
  clusterValues?(ctx: OfflineContext<VarsOf<T>>): ClusterValueSpec[];
  /** restarts of these services are rolled host by host behind a health check (see RolloutPolicy) */
  rollout?(ctx: RoleContext<VarsOf<T>>): RolloutPolicy;
}

export function defineRole<T extends VarTable>(def: RoleDefinition<T>): RoleDefinition<T> {
  return def;
}
