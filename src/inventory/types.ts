/**
 * The loaded inventory: hosts, groups and where every variable came from.
 * Loading (YAML / INI / group_vars / host_vars) lives in ./load.ts; precedence in ./vars.ts;
 * host patterns in ./patterns.ts.
 */

/** Where a value was defined, so that schema errors can name the file, line and key. */
export interface VarOrigin {
  file: string;
  line?: number;
  /** key path inside that file, e.g. `all.children.kafka.vars.kafka_heap` or `kafka_heap` */
  key: string;
}

/** A layer of variables from one place (a group's vars, a host's vars, extra vars ...). */
export interface VarLayer {
  /** e.g. `group all`, `group kafka`, `host vm1`, `extra vars`, `role defaults` */
  label: string;
  values: Record<string, unknown>;
  origins: Record<string, VarOrigin>;
  /**
   * Where the layer comes from, for precedence (see ./vars.ts): `inline` = the inventory file itself,
   * `file` = a group_vars/ or host_vars/ file, `overlay` = the simulator's overlay. Absent means `inline`.
   */
  kind?: 'inline' | 'file' | 'overlay';
}

export interface GroupDef {
  name: string;
  /** direct children group names */
  children: string[];
  /** direct host members (not via children) */
  hosts: string[];
  /** group vars: inline `vars:` merged with group_vars/<name>(.yml|/) files */
  vars: VarLayer[];
}

export interface HostDef {
  name: string;
  /** host vars: inline ones merged with host_vars/<name>(.yml|/) files */
  vars: VarLayer[];
  /** every group the host belongs to, directly or through children, including `all` */
  groups: string[];
  /** where the inventory first lists the host (for problems about the host itself) */
  origin?: VarOrigin;
}

export interface Inventory {
  /** directory or file the inventory was loaded from */
  source: string;
  /** hosts in definition order */
  hosts: Map<string, HostDef>;
  groups: Map<string, GroupDef>;
}

/** How orch reaches a host, after Ansible's connection variables have been read. */
export interface ConnectionSpec {
  host: string;
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  password?: string;
  become: boolean;
  becomeUser?: string;
  becomePassword?: string;
  /** jump host chain, outermost first (from `-J` in ansible_ssh_common_args or orch `jump`) */
  jump: Array<{ address: string; port: number; user: string; privateKeyFile?: string }>;
  /** a known_hosts file to verify against instead of ~/.ssh/known_hosts */
  knownHostsFile?: string;
  connectTimeoutMs: number;
}
