/**
 * patroni: the seeds' PostgreSQL HA (datalyptica-minimal-5vm.md, datalyptica-enterprise-50vm.md "PostgreSQL HA with
 * Patroni"): 3 members, etcd as DCS, REST API on 8008, synchronous mode with one synchronous standby (with 3 members:
 * one sync, one async), max_connections 500, wal_level replica, shared_buffers 25% / effective_cache_size 75% of the
 * host's memory, the seeds' databases and owners created once, on the leader.
 *
 * Install: Patroni 3.3.2 from PyPI in a venv (/opt/patroni, the seed's), or the distribution's package
 * (`patroni_install: package`; Debian 12: 3.0.2, with python3-etcd, which Patroni's etcd3 client imports). PostgreSQL
 * from the PostgreSQL project's repository (16) or the distribution (Debian 12: 15); the distribution's own cluster
 * and postgresql.service are kept out of the way so that they never fight Patroni.
 *
 * Changes on a converged cluster: the bootstrap section of patroni.yml is only read when the cluster is first
 * initialized, so the role compares the live dynamic configuration (GET /config) with the desired one and PATCHes
 * only the difference (never a re-init). Parameters that need a restart are then restarted through Patroni (POST
 * /restart, when Patroni flags pending_restart) by the engine's rollout: the handler `orch-patroni-restart` (a oneshot
 * unit) runs one member at a time behind a health check, the leader last. Host-sized memory parameters live in the
 * local patroni.yml (they take precedence over the dynamic ones) and are applied by a reload, then the same rollout.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { databasePasswordName, databasePasswordValue } from '../../src/role/database-password.js';
import { ops, q } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';
import { databasesOp, memorySettings, pgdgAptSource, pgdgCodename, pgdgYumSetup, pgLayout, type DatabaseSpec, type HbaRule, type PgValue } from '../postgresql/render.js';
import { hbaRuleSchema } from '../postgresql/index.js';
import {
  dynamicConfigOp,
  healthCommand,
  leaderCommand,
  leaderWait,
  patroniUnit,
  reloadUnit,
  renderPatroniYml,
  restartNeededOp,
  restartScript,
  restartUnit,
  type DcsConfig,
} from './render.js';

export const SEED_DATABASES: DatabaseSpec[] = ['datalyptica', 'nessie', 'keycloak', 'airflow', 'superset', 'grafana', 'mlflow'].map((n) => ({ name: n, owner: n }));

export const RESTART_HANDLER = 'orch-patroni-restart';
export const RELOAD_HANDLER = 'orch-patroni-reload';
const RESTART_SCRIPT = '/usr/local/lib/orch/patroni-restart';
const CONFIG = '/etc/patroni/config.yml';

export interface PatroniPaths {
  bin: string;
  ctl: string;
  packages: string[];
}

/** Where Patroni comes from: the venv of the PyPI install, or the distribution's package. */
export function patroniInstall(install: 'pip' | 'package', osFamily: string): PatroniPaths {
  if (install === 'pip') {
    return { bin: '/opt/patroni/bin/patroni', ctl: '/opt/patroni/bin/patronictl', packages: osFamily === 'redhat' ? ['python3', 'python3-pip'] : ['python3-venv', 'python3-pip'] };
  }
  return { bin: '/usr/bin/patroni', ctl: '/usr/bin/patronictl', packages: osFamily === 'redhat' ? ['patroni', 'patroni-etcd'] : ['patroni', 'python3-etcd'] };
}

export function pipInstallCommand(version: string, indexUrl: string): string {
  const idx = indexUrl ? ` --index-url ${q(indexUrl)}` : '';
  return `python3 -m venv /opt/patroni\n/opt/patroni/bin/pip install --quiet${idx} ${q(`patroni[etcd3]==${version}`)} psycopg2-binary`;
}

export default defineRole({
  name: 'patroni',
  description: 'PostgreSQL HA with Patroni and etcd: synchronous replication, dynamic configuration through the REST API, rolled restarts, databases on the leader',
  vars: {
    patroni_install: v.oneOf(['pip', 'package'] as const, { default: 'pip', doc: "pip: Patroni patroni_version from PyPI in a venv (/opt/patroni, the seed's); package: the distribution's (Debian 12: 3.0.2)" }),
    patroni_version: v.str({ default: '3.3.2', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Patroni version installed from PyPI (the seeds: 3.3.2)' }),
    patroni_pip_index_url: v.str({ default: '', doc: 'a PyPI mirror for the venv install (empty: pip\'s default)' }),
    patroni_postgresql_version: v.str({ default: '16', pattern: '^[0-9]+$', doc: 'PostgreSQL major version (the seeds: 16)' }),
    patroni_postgresql_repository: v.oneOf(['pgdg', 'distribution'] as const, { default: 'pgdg', doc: "pgdg: the PostgreSQL project's repository; distribution: the OS's packages (Debian 12: 15)" }),
    patroni_cluster_name: v.str({ default: 'datalyptica', pattern: '^[A-Za-z0-9_-]+$', doc: "Patroni's scope (the cluster's name in etcd)" }),
    patroni_namespace: v.str({ default: '/service/', pattern: '^/([A-Za-z0-9_-]+/)*$', doc: 'etcd key prefix of Patroni clusters' }),
    patroni_group: v.str({ default: 'patroni', doc: 'the inventory group of the cluster members' }),
    patroni_etcd_group: v.str({ default: 'etcd', doc: 'the inventory group of the etcd members (the DCS)' }),
    patroni_etcd_port: v.port({ default: 2379, doc: "etcd client port (an etcd host's etcd_client_port, where the inventory sets one, wins)" }),
    patroni_restapi_port: v.port({ default: 8008, doc: "Patroni's REST API (health checks, HAProxy, dynamic configuration)" }),
    patroni_port: v.port({ default: 5432, doc: 'PostgreSQL port' }),
    patroni_data_dir: v.str({ default: '', pattern: '^(|/.*)$', doc: 'PostgreSQL data directory (empty: /data/postgresql/<version>/main, on the seed\'s /data/postgresql mount)' }),
    patroni_ttl: v.int({ default: 20, minimum: 5, doc: 'leader key TTL, s: a dead leader is replaced within about ttl + loop_wait (the seeds: failover under 30 s)' }),
    patroni_loop_wait: v.int({ default: 5, minimum: 1, doc: 'seconds between HA loops' }),
    patroni_retry_timeout: v.int({ default: 5, minimum: 1, doc: 'etcd and PostgreSQL retry timeout, s (ttl >= loop_wait + 2 x retry_timeout)' }),
    patroni_maximum_lag_on_failover: v.int({ default: 1048576, minimum: 0, doc: 'bytes a replica may lag and still be promoted' }),
    patroni_synchronous_mode: v.bool({ default: true, doc: 'synchronous replication (the seeds: "Replication Mode: Synchronous")' }),
    patroni_synchronous_node_count: v.int({ default: 1, minimum: 1, doc: 'synchronous standbys (the seeds: 1; with 3 members the third is asynchronous)' }),
    patroni_parameters: v.map<PgValue>(
      { type: ['string', 'integer', 'number', 'boolean'] },
      {
        default: { max_connections: 500, wal_level: 'replica', hot_standby: 'on', wal_log_hints: 'on', max_wal_senders: 10, max_replication_slots: 10, wal_keep_size: '1GB', password_encryption: 'scram-sha-256' },
        doc: "cluster-wide PostgreSQL parameters, in Patroni's dynamic configuration (the seeds: max_connections 500, wal_level replica); changed on a running cluster through PATCH /config",
      },
    ),
    patroni_memory_mb: v.int({ default: 0, minimum: 0, doc: "memory PostgreSQL is sized from (MiB); 0: the host's (its cgroup limit when lower)" }),
    patroni_local_parameters: v.map<PgValue>(
      { type: ['string', 'integer', 'number', 'boolean'] },
      { default: {}, doc: 'parameters of this host only (local patroni.yml, over the dynamic ones), over the sized shared_buffers, effective_cache_size, work_mem, maintenance_work_mem' },
    ),
    patroni_superuser: v.str({ default: 'postgres', doc: 'PostgreSQL superuser Patroni uses' }),
    patroni_superuser_password: v.str({ default: '', secret: true, emptyAllowed: true, doc: 'its password; empty: generated once for the cluster and kept on the members' }),
    patroni_replication_user: v.str({ default: 'replicator', doc: 'replication user' }),
    patroni_replication_password: v.str({ default: '', secret: true, emptyAllowed: true, doc: 'its password; empty: generated once for the cluster and kept on the members' }),
    patroni_databases: v.list<DatabaseSpec>(
      { type: 'object', required: ['name', 'owner'], additionalProperties: false, properties: { name: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' }, owner: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' } } },
      { default: SEED_DATABASES, doc: 'databases and owners, created once on the leader (the seeds: datalyptica, nessie, keycloak, airflow, superset, grafana, mlflow)' },
    ),
    patroni_passwords: v.map<string>({ type: 'string' }, { default: {}, secret: true, doc: "passwords of the database owners (owner -> password), stored as SCRAM-SHA-256; an owner without one gets a generated one, kept as cluster value db_password_<owner> and read by the services connecting as it (src/role/database-password.ts)" }),
    patroni_hba: v.list<HbaRule>(hbaRuleSchema, { default: [], doc: 'more pg_hba rules (after the local ones and the cluster\'s)' }),
    patroni_hba_inventory_hosts: v.bool({ default: true, doc: "let every host of the inventory in (SCRAM-SHA-256): the platform's services reach the databases" }),
  },
  declares: ({ vars }) => ({
    ports: [
      { port: vars.patroni_port, variable: 'patroni_port', description: 'PostgreSQL (Patroni member)' },
      { port: vars.patroni_restapi_port, variable: 'patroni_restapi_port', description: 'Patroni REST API' },
    ],
    // the seed: PostgreSQL 16 GB + Patroni 512 MB per control-plane VM
    memoryMb: 16 * 1024 + 512,
    cpus: 4.5,
    dataDirs: [vars.patroni_data_dir || `/data/postgresql/${vars.patroni_postgresql_version}/main`],
    serves: ['patroni', 'postgresql'],
  }),
  validate: ({ vars, group }) => {
    const out: string[] = [];
    if (!group(vars.patroni_etcd_group).length) out.push(`patroni: the etcd group ${vars.patroni_etcd_group} (patroni_etcd_group) has no hosts: Patroni needs its DCS`);
    if (vars.patroni_ttl < vars.patroni_loop_wait + 2 * vars.patroni_retry_timeout) {
      out.push(`patroni_ttl ${vars.patroni_ttl} is less than loop_wait + 2 x retry_timeout (${vars.patroni_loop_wait + 2 * vars.patroni_retry_timeout}): Patroni refuses it`);
    }
    for (const owner of Object.keys(vars.patroni_passwords)) if (!vars.patroni_databases.some((d) => d.owner === owner)) out.push(`patroni_passwords: ${owner} owns no database of patroni_databases`);
    return out;
  },
  clusterValues: ({ vars }) => [
    { name: 'patroni_superuser_password', doc: "PostgreSQL superuser's password", group: vars.patroni_group, secret: true, override: 'patroni_superuser_password' },
    { name: 'patroni_replication_password', doc: "replication user's password", group: vars.patroni_group, secret: true, override: 'patroni_replication_password' },
    ...generatedOwners(vars).map((owner) => databasePasswordValue(owner, vars.patroni_group)),
  ],
  rollout: ({ vars }) => ({
    services: [RESTART_HANDLER],
    health: { command: healthCommand(vars.patroni_restapi_port), description: 'member running again (a replica streaming), no restart pending', timeoutSec: 180, intervalSec: 2 },
    leader: leaderCommand(vars.patroni_restapi_port),
    serial: 1,
  }),
  operations({ vars, host, group, allHosts, cluster }) {
    const facts = host.facts;
    const pgv = vars.patroni_postgresql_version;
    const L = pgLayout(pgv, facts);
    const P = patroniInstall(vars.patroni_install, facts.osFamily);
    const debian = facts.osFamily === 'debian';
    const dataDir = vars.patroni_data_dir || `/data/postgresql/${pgv}/main`;
    const home = debian ? '/var/lib/postgresql' : '/var/lib/pgsql';
    const members = group(vars.patroni_group);
    const list: Operation[] = [];

    // PostgreSQL packages; the distribution's own cluster never created (Debian), its umbrella service off
    if (debian) {
      list.push(
        ops.dir({ path: '/etc/postgresql-common/createcluster.d', owner: 'root', group: 'root', mode: 0o755 }),
        ops.file({
          path: '/etc/postgresql-common/createcluster.d/orch.conf',
          content: '# Managed by orch (role patroni): PostgreSQL runs under Patroni, no cluster of postgresql-common\ncreate_main_cluster = false\n',
          owner: 'root',
          group: 'root',
          mode: 0o644,
        }),
      );
      if (vars.patroni_postgresql_repository === 'pgdg') {
        list.push(
          ops.packages({ names: ['postgresql-common', 'ca-certificates'], osFamily: facts.osFamily }),
          ops.file({ path: '/etc/apt/sources.list.d/pgdg.list', content: pgdgAptSource(pgdgCodename(facts)), owner: 'root', group: 'root', mode: 0o644 }),
        );
      }
    } else if (vars.patroni_postgresql_repository === 'pgdg') {
      list.push(ops.command({ name: 'PGDG yum repository', run: pgdgYumSetup(facts), creates: '/etc/yum.repos.d/pgdg-redhat-all.repo' }));
    }
    list.push(
      ops.packages({
        names: [...L.packages, ...P.packages, 'curl'],
        osFamily: facts.osFamily,
        updateCache: debian && vars.patroni_postgresql_repository === 'pgdg',
      }),
    );
    if (debian) {
      // postgresql-common's umbrella of clusters, enabled by the package: off. Guarded on the package, so that a first
      // run (facts gathered before the install) disables it right after installing, and a rerun finds it off
      list.push(
        ops.command({
          name: "postgresql.service (postgresql-common's clusters) disabled and stopped",
          run: 'systemctl disable --now postgresql.service',
          unless: `dpkg-query -W -f='\${Status}' postgresql-common 2>/dev/null | grep -q 'ok installed' && ! systemctl is-enabled --quiet postgresql.service && ! systemctl is-active --quiet postgresql.service`,
        }),
      );
    }
    if (vars.patroni_install === 'pip') {
      list.push(
        ops.command({
          name: `Patroni ${vars.patroni_version} from PyPI in /opt/patroni`,
          run: pipInstallCommand(vars.patroni_version, vars.patroni_pip_index_url),
          unless: `/opt/patroni/bin/patroni --version 2>/dev/null | grep -qx ${q(`patroni ${vars.patroni_version}`)}`,
        }),
        ops.symlink({ path: '/usr/local/bin/patronictl', target: P.ctl }),
      );
    }

    // configuration
    const mem = memorySettings(vars.patroni_memory_mb || facts.memoryMb, Number(vars.patroni_parameters.max_connections ?? 100));
    const localParameters: Record<string, PgValue> = { ...mem, ...vars.patroni_local_parameters };
    const dcs: DcsConfig = {
      ttl: vars.patroni_ttl,
      loop_wait: vars.patroni_loop_wait,
      retry_timeout: vars.patroni_retry_timeout,
      maximum_lag_on_failover: vars.patroni_maximum_lag_on_failover,
      synchronous_mode: vars.patroni_synchronous_mode,
      synchronous_node_count: vars.patroni_synchronous_node_count,
      postgresql: { use_pg_rewind: true, use_slots: true, parameters: { ...vars.patroni_parameters } },
    };
    const hba = ([
      { type: 'local', database: 'all', user: 'all', method: 'peer' },
      { type: 'host', database: 'all', user: 'all', address: '127.0.0.1/32', method: 'scram-sha-256' },
      { type: 'host', database: 'replication', user: vars.patroni_replication_user, address: '127.0.0.1/32', method: 'scram-sha-256' },
      ...members.map((m): HbaRule => ({ type: 'host', database: 'replication', user: vars.patroni_replication_user, address: m.address, method: 'scram-sha-256' })),
      ...members.map((m): HbaRule => ({ type: 'host', database: 'all', user: 'all', address: m.address, method: 'scram-sha-256' })),
      ...vars.patroni_hba,
      ...(vars.patroni_hba_inventory_hosts ? allHosts().map((h): HbaRule => ({ type: 'host', database: 'all', user: 'all', address: h.address, method: 'scram-sha-256' })) : []),
    ] as HbaRule[]).filter((r, i, a) => a.findIndex((x) => JSON.stringify(x) === JSON.stringify(r)) === i);
    const yml = renderPatroniYml({
      scope: vars.patroni_cluster_name,
      namespace: vars.patroni_namespace,
      name: host.name,
      address: host.address,
      restApiPort: vars.patroni_restapi_port,
      pgPort: vars.patroni_port,
      // the etcd role's client port where the inventory sets it for that host
      etcdHosts: group(vars.patroni_etcd_group).map((e) => `${e.address}:${Number(e.vars.etcd_client_port ?? vars.patroni_etcd_port)}`),
      dcs,
      dataDir,
      binDir: L.binDir,
      pgpass: `${home}/.pgpass_patroni`,
      socketDir: L.socketDir,
      superuser: { username: vars.patroni_superuser, password: cluster('patroni_superuser_password') },
      replication: { username: vars.patroni_replication_user, password: cluster('patroni_replication_password') },
      localParameters,
      pgHba: hba,
    });
    list.push(
      ops.dir({ path: '/etc/patroni', owner: 'root', group: 'postgres', mode: 0o750 }),
      ops.file({ path: CONFIG, content: yml, owner: 'postgres', group: 'postgres', mode: 0o600, secret: true, notify: [RELOAD_HANDLER] }),
      ops.dir({ path: dataDir.replace(/\/[^/]+\/?$/, '') || '/', owner: 'postgres', group: 'postgres', mode: 0o750 }),
      ops.dir({ path: dataDir, owner: 'postgres', group: 'postgres', mode: 0o700 }),
      ops.dir({ path: '/usr/local/lib/orch', owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: RESTART_SCRIPT, content: restartScript(vars.patroni_restapi_port, 3 * vars.patroni_loop_wait + 120), owner: 'root', group: 'root', mode: 0o755 }),
      ops.unit({ name: 'patroni.service', content: patroniUnit(P.bin, CONFIG, vars.patroni_cluster_name) }),
      ops.unit({ name: `${RELOAD_HANDLER}.service`, content: reloadUnit() }),
      ops.unit({ name: `${RESTART_HANDLER}.service`, content: restartUnit(RESTART_SCRIPT) }),
      ops.service({ name: 'patroni', enabled: true, state: 'started' }),
      // a replica answers once it has cloned the leader and runs
      ops.waitForHttp({ url: `http://127.0.0.1:${vars.patroni_restapi_port}/health`, timeoutS: 300 }),
      dynamicConfigOp(vars.patroni_restapi_port, dcs),
      restartNeededOp({ socketDir: L.socketDir, port: vars.patroni_port, parameters: { ...vars.patroni_parameters, ...localParameters }, handler: RESTART_HANDLER }),
      databasesOp({
        name: 'databases and owners (on the leader)',
        socketDir: L.socketDir,
        port: vars.patroni_port,
        databases: vars.patroni_databases,
        passwords: { ...vars.patroni_passwords, ...Object.fromEntries(generatedOwners(vars).map((o) => [o, cluster(databasePasswordName(o))])) },
        guard: { check: leaderCommand(vars.patroni_restapi_port), description: 'the leader', wait: leaderWait(vars.patroni_restapi_port, 300) },
      }),
    );
    return list;
  },
});

/** Owners of the databases the inventory gives no password: theirs is generated once (a cluster value, see src/role/database-password.ts). */
function generatedOwners(vars: { patroni_databases: DatabaseSpec[]; patroni_passwords: Record<string, string> }): string[] {
  return [...new Set(vars.patroni_databases.map((d) => d.owner))].filter((o) => !vars.patroni_passwords[o]);
}
