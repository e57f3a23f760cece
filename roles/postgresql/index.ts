/**
 * postgresql: plain PostgreSQL servers, one or several instances per host (vps-trio's VPS 1: metadata-db on 5433 for
 * Airflow, datalake-db on 5432, side by side), with their databases and owners, passwords from secrets, pg_hba from
 * the inventory and memory settings sized from the host (or the instance's own budget).
 *
 * Debian/Ubuntu: postgresql-common's clusters are the instances (`pg_createcluster 16 metadata -p 5433`, config in
 * /etc/postgresql/16/metadata/, unit postgresql@16-metadata.service): the distribution's own mechanism, which
 * pg_lsclusters, pg_upgradecluster and the packages' maintainer scripts know; its automatic `main` cluster is turned
 * off before the packages are installed (createcluster.d). orch's settings are a conf.d drop-in; pg_hba.conf is
 * rendered whole. RHEL (PGDG): postgresqlNN-server, a unit per instance (postgresql-NN-<name>.service, PGDATA in
 * /var/lib/pgsql/NN/<name>), initdb through postgresql-NN-setup.
 *
 * PostgreSQL 16 from the PostgreSQL project's repository in production (apt.postgresql.org, signed by the key
 * postgresql-common ships; PGDG's yum repository on RHEL); `postgresql_repository: distribution` takes the
 * distribution's packages (Debian 12: PostgreSQL 15, what the tests run).
 */
import { databasePasswordName, databasePasswordValue } from '../../src/role/database-password.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops, q } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';
import {
  databasesOp,
  memorySettings,
  pgdgAptSource,
  pgdgCodename,
  pgdgYumSetup,
  pgLayout,
  renderConf,
  renderPgHba,
  type DatabaseSpec,
  type HbaRule,
  type PgValue,
} from './render.js';

export interface InstanceVar {
  /** cluster (instance) name: letters, digits, _ */
  name: string;
  port: number;
  /** data directory (default: the layout's, e.g. /var/lib/postgresql/16/<name>) */
  data_dir?: string;
  /** memory this instance may use (MiB): its settings are sized from it (default: the host's memory / instances) */
  memory_mb?: number;
  max_connections?: number;
  databases?: DatabaseSpec[];
  /** more postgresql.conf settings for this instance */
  settings?: Record<string, PgValue>;
}

const instanceSchema = {
  type: 'object',
  required: ['name', 'port'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    data_dir: { type: 'string', pattern: '^/' },
    memory_mb: { type: 'integer', minimum: 64 },
    max_connections: { type: 'integer', minimum: 5 },
    databases: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'owner'],
        additionalProperties: false,
        properties: { name: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' }, owner: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' } },
      },
    },
    settings: { type: 'object', additionalProperties: { type: ['string', 'integer', 'number', 'boolean'] } },
  },
};

export const hbaRuleSchema = {
  type: 'object',
  required: ['type', 'database', 'user', 'method'],
  additionalProperties: false,
  properties: {
    type: { enum: ['local', 'host', 'hostssl', 'hostnossl'] },
    database: { type: 'string', pattern: '^[^\\s#]+$' },
    user: { type: 'string', pattern: '^[^\\s#]+$' },
    address: { type: 'string', pattern: '^[^\\s#]+$' },
    method: { enum: ['trust', 'reject', 'scram-sha-256', 'md5', 'password', 'peer', 'ident', 'cert'] },
  },
};

/** What every instance's pg_hba starts with: the OS user postgres (and any local user) by peer, loopback by SCRAM. */
export const LOCAL_HBA: HbaRule[] = [
  { type: 'local', database: 'all', user: 'postgres', method: 'peer' },
  { type: 'local', database: 'all', user: 'all', method: 'peer' },
  { type: 'host', database: 'all', user: 'all', address: '127.0.0.1/32', method: 'scram-sha-256' },
  { type: 'host', database: 'all', user: 'all', address: '::1/128', method: 'scram-sha-256' },
];

export default defineRole({
  name: 'postgresql',
  description: 'PostgreSQL servers (one or several instances per host): databases, owners, pg_hba, memory sized from the host',
  vars: {
    postgresql_version: v.str({ default: '16', pattern: '^[0-9]+$', doc: 'PostgreSQL major version (the seeds: 16)' }),
    postgresql_repository: v.oneOf(['pgdg', 'distribution'] as const, {
      default: 'pgdg',
      doc: "pgdg: the PostgreSQL project's repository (apt.postgresql.org / PGDG yum); distribution: the OS's own packages (Debian 12: 15)",
    }),
    postgresql_instances: v.list<InstanceVar>(instanceSchema, {
      default: [
        { name: 'metadata', port: 5433, data_dir: '/pg_metadata', memory_mb: 256, databases: [{ name: 'airflow', owner: 'airflow' }] },
        { name: 'datalake', port: 5432, data_dir: '/pg_datalake', memory_mb: 512, databases: [{ name: 'datalake', owner: 'datalake' }] },
      ],
      doc: "instances on the host: { name, port, data_dir, memory_mb, max_connections, databases: [{ name, owner }], settings } (vps-trio: metadata-db on 5433 for Airflow, 256 MB; datalake-db on 5432, 512 MB)",
    }),
    postgresql_listen_addresses: v.str({ default: '*', doc: 'listen_addresses of every instance' }),
    postgresql_max_connections: v.int({ default: 100, minimum: 5, doc: "max_connections of an instance that does not set its own (PostgreSQL's default)" }),
    postgresql_memory_mb: v.int({ default: 0, minimum: 0, doc: "memory the instances share (MiB) when an instance sets no memory_mb; 0: the host's (its cgroup limit when lower)" }),
    postgresql_settings: v.map<PgValue>(
      { type: ['string', 'integer', 'number', 'boolean'] },
      { default: {}, doc: 'postgresql.conf settings for every instance (over the sized ones: shared_buffers, effective_cache_size, work_mem, maintenance_work_mem)' },
    ),
    postgresql_hba: v.list<HbaRule>(hbaRuleSchema, { default: [], doc: 'pg_hba rules after the local ones (peer for local users, SCRAM on loopback): { type, database, user, address, method }' }),
    postgresql_hba_inventory_hosts: v.bool({ default: true, doc: 'let every host of the inventory in (its address, SCRAM-SHA-256), for the services that use these databases' }),
    postgresql_passwords: v.map<string>({ type: 'string' }, { default: {}, secret: true, doc: 'passwords of the database owners (owner -> password), stored as SCRAM-SHA-256; an owner without one logs in by the local rules only, unless postgresql_generate_passwords' }),
    postgresql_generate_passwords: v.bool({ default: false, doc: "an owner without a password in postgresql_passwords gets one generated once, kept as cluster value db_password_<owner> of postgresql_group and read by the services connecting as it (their <role>_database_group: the same group), as the patroni role does" }),
    postgresql_group: v.str({ default: 'postgresql', doc: 'inventory group of the hosts holding the generated owner passwords (postgresql_generate_passwords)' }),
  },
  clusterValues: ({ vars }) => generatedOwners(vars).map((owner) => databasePasswordValue(owner, vars.postgresql_group)),
  declares: ({ vars }) => ({
    ports: vars.postgresql_instances.map((i) => ({ port: i.port, variable: 'postgresql_instances', description: `PostgreSQL instance ${i.name}` })),
    memoryMb: vars.postgresql_instances.reduce((s, i) => s + (i.memory_mb ?? 0), 0) || undefined,
    dataDirs: vars.postgresql_instances.flatMap((i) => (i.data_dir ? [i.data_dir] : [])),
    serves: ['postgresql', 'postgres'],
  }),
  validate: ({ vars }) => {
    const out: string[] = [];
    const seen = new Map<string, string>();
    for (const i of vars.postgresql_instances) {
      for (const [k, what] of [
        [`name ${i.name}`, 'name'],
        [`port ${i.port}`, 'port'],
      ] as const) {
        if (seen.has(k)) out.push(`postgresql_instances: two instances have the ${what} ${k.split(' ')[1]}`);
        seen.set(k, i.name);
      }
    }
    for (const [owner, pw] of Object.entries(vars.postgresql_passwords)) {
      if (!vars.postgresql_instances.some((i) => (i.databases ?? []).some((d) => d.owner === owner))) out.push(`postgresql_passwords: ${owner} owns no database of postgresql_instances`);
      if (/^(changeme|password|secret|todo)$/i.test(pw)) out.push(`postgresql_passwords: the password of ${owner} is a placeholder`);
    }
    return out;
  },
  operations({ vars, host, allHosts, cluster }) {
    const passwords = { ...vars.postgresql_passwords, ...Object.fromEntries(generatedOwners(vars).map((o) => [o, cluster(databasePasswordName(o))])) };
    const facts = host.facts;
    const version = vars.postgresql_version;
    const L = pgLayout(version, facts);
    const debian = facts.osFamily === 'debian';
    const list: Operation[] = [];
    const n = Math.max(1, vars.postgresql_instances.length);
    const hostMb = vars.postgresql_memory_mb || facts.memoryMb;

    // packages: the repository first; on Debian no automatic `main` cluster
    if (debian) {
      list.push(
        ops.dir({ path: '/etc/postgresql-common/createcluster.d', owner: 'root', group: 'root', mode: 0o755 }),
        ops.file({
          path: '/etc/postgresql-common/createcluster.d/orch.conf',
          content: '# Managed by orch (role postgresql): instances are created by orch, not by the package\ncreate_main_cluster = false\n',
          owner: 'root',
          group: 'root',
          mode: 0o644,
        }),
      );
      if (vars.postgresql_repository === 'pgdg') {
        list.push(
          ops.packages({ names: ['postgresql-common', 'ca-certificates'], osFamily: facts.osFamily }),
          ops.file({ path: '/etc/apt/sources.list.d/pgdg.list', content: pgdgAptSource(pgdgCodename(facts)), owner: 'root', group: 'root', mode: 0o644 }),
        );
      }
      list.push(ops.packages({ names: L.packages, osFamily: facts.osFamily, updateCache: vars.postgresql_repository === 'pgdg' }));
    } else {
      if (vars.postgresql_repository === 'pgdg') {
        list.push(ops.command({ name: 'PGDG yum repository', run: pgdgYumSetup(facts), creates: '/etc/yum.repos.d/pgdg-redhat-all.repo' }));
      }
      list.push(ops.packages({ names: L.packages, osFamily: facts.osFamily }));
    }

    const inventoryRules: HbaRule[] = vars.postgresql_hba_inventory_hosts
      ? allHosts().map((h) => ({ type: 'host', database: 'all', user: 'all', address: h.address, method: 'scram-sha-256' }))
      : [];
    const rules = [...LOCAL_HBA, ...vars.postgresql_hba, ...inventoryRules];
    const seenRule = new Set<string>();
    const hba = rules.filter((r) => {
      const k = JSON.stringify(r);
      return seenRule.has(k) ? false : (seenRule.add(k), true);
    });

    for (const inst of vars.postgresql_instances) {
      const unit = L.unit(inst.name);
      const data = inst.data_dir ?? L.dataDir(inst.name);
      const conf = inst.data_dir && !debian ? inst.data_dir : L.confDir(inst.name);
      const maxConn = inst.max_connections ?? vars.postgresql_max_connections;
      const settings: Record<string, PgValue> = {
        listen_addresses: vars.postgresql_listen_addresses,
        port: inst.port,
        max_connections: maxConn,
        unix_socket_directories: L.socketDir,
        password_encryption: 'scram-sha-256',
        ...memorySettings(inst.memory_mb ?? Math.floor(hostMb / n), maxConn),
        ...vars.postgresql_settings,
        ...(inst.settings ?? {}),
      };
      const header = `Managed by orch (role postgresql): instance ${inst.name}`;
      if (debian) {
        list.push(
          ops.command({
            name: `pg_createcluster ${version} ${inst.name} -p ${inst.port}`,
            run: `pg_createcluster ${q(version)} ${q(inst.name)} -p ${inst.port} -d ${q(data)} -- --auth-local=peer --auth-host=scram-sha-256 --data-checksums`,
            creates: `${conf}/postgresql.conf`,
          }),
        );
      } else {
        list.push(
          ops.unit({ name: unit, content: rhelUnit(version, inst.name, data, L.binDir) }),
          ops.dir({ path: data, owner: 'postgres', group: 'postgres', mode: 0o700 }),
          ops.command({
            name: `postgresql-${version}-setup initdb ${unit.replace(/\.service$/, '')}`,
            run: `PGSETUP_INITDB_OPTIONS='--auth-local=peer --auth-host=scram-sha-256 --data-checksums' ${L.binDir}/postgresql-${version}-setup initdb ${q(unit.replace(/\.service$/, ''))}`,
            creates: `${data}/PG_VERSION`,
          }),
          ops.lineInFile({ path: `${conf}/postgresql.conf`, regexp: "^include_dir = 'conf\\.d'", line: "include_dir = 'conf.d'", notify: [unit] }),
        );
      }
      list.push(
        ops.dir({ path: `${conf}/conf.d`, owner: 'postgres', group: 'postgres', mode: 0o755 }),
        ops.file({ path: `${conf}/conf.d/90-orch.conf`, content: renderConf(settings, header), owner: 'postgres', group: 'postgres', mode: 0o644, notify: [unit] }),
        ops.file({ path: `${conf}/pg_hba.conf`, content: renderPgHba(hba, header), owner: 'postgres', group: 'postgres', mode: 0o640, notify: [unit] }),
        ops.service({ name: unit, enabled: true, state: 'started' }),
        ops.waitForPort({ port: inst.port, timeoutS: 90 }),
      );
      if (inst.databases?.length) {
        list.push(databasesOp({ name: `${inst.name}: databases and owners`, socketDir: L.socketDir, port: inst.port, databases: inst.databases, passwords }));
      }
    }
    return list;
  },
});

/** the owners whose password is generated: every owner of the instances' databases without one, when asked */
function generatedOwners(vars: { postgresql_generate_passwords: boolean; postgresql_instances: Array<{ databases?: DatabaseSpec[] }>; postgresql_passwords: Record<string, string> }): string[] {
  if (!vars.postgresql_generate_passwords) return [];
  return [...new Set(vars.postgresql_instances.flatMap((i) => (i.databases ?? []).map((d) => d.owner)))].filter((o) => !vars.postgresql_passwords[o]).sort();
}

/** RHEL: one unit per instance, PGDG's postgresql-NN.service with its own PGDATA. */
export function rhelUnit(version: string, name: string, data: string, binDir: string): string {
  return `# Managed by orch (role postgresql): PostgreSQL ${version} instance ${name}
[Unit]
Description=PostgreSQL ${version} database server (instance ${name})
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
User=postgres
Group=postgres
Environment=PGDATA=${data}
Environment=PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj
Environment=PG_OOM_ADJUST_VALUE=0
OOMScoreAdjust=-1000
ExecStartPre=${binDir}/postgresql-${version}-check-db-dir \${PGDATA}
ExecStart=${binDir}/postgres -D \${PGDATA}
ExecReload=/bin/kill -HUP $MAINPID
KillMode=mixed
KillSignal=SIGINT
TimeoutSec=0

[Install]
WantedBy=multi-user.target
`;
}
