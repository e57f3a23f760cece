/**
 * Declarations: what a role's service uses on a host (ports, memory, CPU, data directories, quorum
 * membership, the inventory groups it serves), returned by `declares(ctx)` from the role's variables alone,
 * without facts. `orch plan` checks them offline (src/playbook/checks.ts: port conflicts, capacity, quorum
 * sizes, service groups no role handles); the common role opens exactly the declared ports when the inventory
 * turns its firewall on.
 */

export interface PortDeclaration {
  port: number;
  /** default `tcp` */
  protocol?: 'tcp' | 'udp';
  /** the role variable that sets this port (named in a conflict, as the one to change) */
  variable?: string;
  /** what listens there, e.g. `Trino HTTP (UI, REST)` */
  description: string;
}

/** Membership of a consensus group: its size decides which failures it survives. */
export interface QuorumDeclaration {
  /** the group's name, shared by its members (e.g. `clickhouse_keeper`, `kafka_controllers`) */
  group: string;
  /** raft (etcd, KRaft, ClickHouse Keeper), zab (ZooKeeper), sentinel (Redis Sentinel) */
  kind: 'raft' | 'zab' | 'sentinel';
  /** what stops when the group loses its majority, e.g. `ClickHouse replication` */
  protects: string;
}

export interface Declarations {
  ports?: PortDeclaration[];
  /** memory the role's processes use on this host (heaps, caches), MiB */
  memoryMb?: number;
  /** CPUs the role's processes use on this host (may be fractional: 0.5) */
  cpus?: number;
  dataDirs?: string[];
  quorum?: QuorumDeclaration[];
  /**
   * inventory groups this role deploys (e.g. `['kafka']`): a service group no role serves is listed as
   * "not yet automated". A role always serves the group of its own name (`-` read as `_`).
   */
  serves?: string[];
}

/** A declared port on a host, with the role that declared it. */
export interface DeclaredPort extends PortDeclaration {
  protocol: 'tcp' | 'udp';
  role: string;
}

/** Every declaration of one host's roles (all phases of the playbook), summed up. */
export interface HostDeclarations {
  host: string;
  /** per role, in playbook order */
  roles: Array<{ role: string } & Declarations>;
  ports: DeclaredPort[];
  memoryMb: number;
  cpus: number;
  dataDirs: string[];
}
