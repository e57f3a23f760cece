/**
 * keycloak: a Keycloak cluster on the hosts of group keycloak (datalyptica-minimal-5vm.md VM1-3, 8080, 4 GB each;
 * datalyptica-enterprise-50vm.md keycloak01-03 "Clustered", its database `keycloak` on the PostgreSQL cluster). See DOC.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { artifactSource, release, type Release } from '../../src/artifacts/index.js';
import { ops, serviceLimits } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { serviceDatabasePassword } from '../../src/role/database-password.js';
import {
  BUILD_TIME_OPTIONS,
  CACHE_FILE,
  CACHE_FILE_NAME,
  CONF_FILE,
  ETC,
  HEAP_PATTERN,
  IMPORT_DIR,
  JAVA_MIN,
  SECRETS_FILE,
  buildCommand,
  buildOptions,
  cacheConfig,
  heapMb,
  initialHosts,
  keycloakConf,
  readyCheck,
  releaseDir,
  secretsEnv,
  unit,
  type KeycloakVars,
  type OptionValue,
} from './render.js';

const DOC = `
keycloak: Keycloak in production mode on every host of group keycloak (keycloak_group), one cluster sharing a
PostgreSQL database, behind HAProxy.

- Release: the distribution zip on Maven Central (org.keycloak:keycloak-quarkus-dist; catalogue: 26.0.7, the sha512 of
  the download checked against Maven Central's .sha1), unpacked to /opt/keycloak/releases/<version>, linked as
  /opt/keycloak/current. Java 17 or 21 (Debian's OpenJDK 17 from the java role: its java_home).
- Build: the build options (db=postgres, health-enabled=true, metrics-enabled, features, features-disabled,
  http-relative-path, keycloak_build_options: only Keycloak 26.0's build-time options are accepted) are baked in by
  \`kc.sh build\`, run only when they differ from the marker the last build left in the release directory
  (.orch-build-options; a new release builds once). A changed runtime option (keycloak.conf) restarts the nodes and
  builds nothing. The service runs \`kc.sh --config-file=/etc/keycloak/keycloak.conf start --optimized\`.
- Runtime options (/etc/keycloak/keycloak.conf, 0640 root:keycloak): db-url, db-username, http-enabled=true on
  keycloak_http_port (TLS ends at HAProxy), http-management-port, proxy-headers=xforwarded (HAProxy's
  X-Forwarded-*), hostname (keycloak_hostname, e.g. the URL users reach through the VIP; empty: hostname-strict=false,
  the hostname taken from the request), log-level, keycloak_runtime_options.
- Secrets: KC_DB_PASSWORD and the bootstrap admin (KC_BOOTSTRAP_ADMIN_USERNAME / _PASSWORD) only in
  /etc/keycloak/secrets.env (0640 root:keycloak), the unit's EnvironmentFile. Keycloak creates that admin once, when it
  creates the master realm on the first start; changing the password later changes nothing in Keycloak.
- Clustering without multicast: Keycloak 26.0's cache stacks are tcp, udp, kubernetes, ec2, azure and google (from
  its jar; the tcp stack discovers members by MPING, i.e. multicast, and udp is multicast too); jdbc-ping arrives with
  26.1 (keycloak/keycloak#33651, #34265). So the role writes /etc/keycloak/cache-ispn-orch.xml: Keycloak 26.0.7's own
  cache-ispn.xml with a stack orch-tcpping that extends tcp and replaces MPING by TCPPING over the inventory's
  members (address[keycloak_cluster_port]); JGroups binds to the host's inventory address (JAVA_OPTS_APPEND). A member
  added to the inventory rewrites the file on every node (a rolled restart). Ports: keycloak_cluster_port (TCP,
  7800) and FD_SOCK2's port 50000 above it (57800), between the members only.
- Heap: JAVA_OPTS_KC_HEAP=-Xms/-Xmx keycloak_heap (the seeds: 4 GB per Keycloak; 3g heap).
- Realm import: keycloak_realm_import_files (realm JSON files on the controller) go to /etc/keycloak/import (0640,
  secret: they may hold client secrets), linked as the release's data/import; the first host of the group starts
  with --import-realm, which creates the realms that do not exist yet and skips the others.
- Health: /health/ready on the management port (keycloak_management_port, 9000). Restarts roll host by host behind it.
`;

export default defineRole({
  name: 'keycloak',
  doc: DOC,
  description: 'Keycloak cluster in production mode: kc.sh build only when build options change, PostgreSQL, behind HAProxy, TCP clustering without multicast, bootstrap admin from secrets',
  dependsOn: ['java'],
  vars: {
    keycloak_version: v.str({ default: '26.0.7', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Keycloak release (the datalyptica seeds: 26.0.7), from the artifact catalogue or with keycloak_sha512' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces Maven Central (same path org/keycloak/keycloak-quarkus-dist/V/...); empty: the official URL' }),
    keycloak_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: "sha512 of the zip (a release the catalogue lacks, or a mirror serving other bytes); empty: the catalogue's" }),
    keycloak_install_root: v.str({ default: '/opt/keycloak', pattern: '^/', doc: 'releases unpack under ROOT/releases/VERSION, linked as ROOT/current' }),
    keycloak_user: v.str({ default: 'keycloak', doc: 'service user (and group)' }),
    keycloak_group: v.str({ default: 'keycloak', doc: 'inventory group of the cluster members (minimal-5vm: VM1-3)' }),
    keycloak_http_port: v.port({ default: 8080, doc: 'http-port (the seeds: 8080)' }),
    keycloak_management_port: v.port({ default: 9000, doc: 'http-management-port: /health, /metrics' }),
    keycloak_cluster_port: v.port({ default: 7800, doc: 'JGroups TCP port between the members (FD_SOCK2 uses this + 50000)' }),
    keycloak_heap: v.str({ default: '3g', pattern: HEAP_PATTERN, doc: 'JAVA_OPTS_KC_HEAP -Xms/-Xmx (the seeds: 4 GB per Keycloak)' }),
    keycloak_db_url: v.str({ default: 'jdbc:postgresql://pg-vip:5432/keycloak', pattern: '^jdbc:postgresql://', doc: "db-url: the seeds' keycloak database on the PostgreSQL cluster (its VIP)" }),
    keycloak_db_username: v.str({ default: 'keycloak', doc: 'db-username' }),
    keycloak_db_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "database password (secret): KC_DB_PASSWORD in /etc/keycloak/secrets.env; empty: the one generated for the owner on keycloak_database_group's cluster (cluster value db_password_<keycloak_db_username>)" }),
    keycloak_database_group: v.str({ default: 'patroni', emptyAllowed: true, doc: 'inventory group of the PostgreSQL cluster holding the database, whose generated owner password the role reads when keycloak_db_password is empty; empty: none' }),
    keycloak_hostname: v.str({ default: '', emptyAllowed: true, doc: 'hostname (Keycloak 26 hostname v2: a URL such as https://lb.datalyptica.local or a host name); empty: hostname-strict=false' }),
    keycloak_proxy_headers: v.oneOf(['xforwarded', 'forwarded', 'none'] as const, { default: 'xforwarded', doc: "proxy-headers: which headers of the reverse proxy to trust (HAProxy: xforwarded); none: not behind a proxy" }),
    keycloak_http_relative_path: v.str({ default: '/', pattern: '^/', doc: 'http-relative-path (a build option)' }),
    keycloak_metrics_enabled: v.bool({ default: true, doc: 'metrics-enabled (a build option): /metrics on the management port' }),
    keycloak_features: v.list<string>({ type: 'string', pattern: '^[a-z0-9-]+(:v[0-9]+)?$' }, { default: [], doc: 'features to enable (a build option), e.g. token-exchange' }),
    keycloak_features_disabled: v.list<string>({ type: 'string', pattern: '^[a-z0-9-]+$' }, { default: [], doc: 'features to disable (a build option)' }),
    keycloak_build_options: v.map<OptionValue>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: `more build options (Keycloak 26.0's: ${[...BUILD_TIME_OPTIONS].join(', ')})` }),
    keycloak_runtime_options: v.map<OptionValue>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more keycloak.conf options (runtime: no build), e.g. db-pool-max-size' }),
    keycloak_log_level: v.str({ default: 'info', pattern: '^[A-Za-z0-9.:,_-]+$', doc: 'log-level (runtime)' }),
    keycloak_bootstrap_admin_username: v.str({ default: 'admin', doc: 'the temporary admin Keycloak creates on the first start (KC_BOOTSTRAP_ADMIN_USERNAME)' }),
    keycloak_bootstrap_admin_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "its password (secret; KC_BOOTSTRAP_ADMIN_PASSWORD), used once; empty: generated once (cluster value keycloak_bootstrap_admin_password, readable by root in the engine's copy on each member, /var/lib/orch/values/)" }),
    keycloak_realm_import_files: v.list<string>({ type: 'string', pattern: '\\.json$' }, { default: [], doc: 'realm JSON files on the controller, imported once by the first host (--import-realm skips existing realms)' }),
    keycloak_java_home: v.str({ default: '', pattern: '^(|/.*)$', emptyAllowed: true, doc: "JAVA_HOME of the server; empty: the java role's java_home" }),
    keycloak_health_timeout: v.int({ default: 300, minimum: 10, doc: 'seconds a node may take to become ready after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const kv = vars as unknown as KeycloakVars;
    const out: string[] = [];
    const members = group(vars.keycloak_group);
    if (!members.some((p) => p.name === host.name)) out.push(`host ${host.name} runs keycloak but is not in group ${vars.keycloak_group}`);
    if (!keycloakRelease(vars.keycloak_version, vars.keycloak_sha512)) {
      out.push(`keycloak_version ${vars.keycloak_version}: not in the artifact catalogue (it has 26.0.7): set keycloak_sha512 to the sha512 of org/keycloak/keycloak-quarkus-dist/${vars.keycloak_version}/keycloak-quarkus-dist-${vars.keycloak_version}.zip`);
    }
    for (const f of [() => buildOptions(kv), () => keycloakConf(kv), () => heapMb(kv.keycloak_heap)]) {
      try {
        f();
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    if (vars.keycloak_db_password === '' && !(vars.keycloak_database_group && group(vars.keycloak_database_group).length)) {
      out.push(`keycloak_db_password is empty and keycloak_database_group ${JSON.stringify(vars.keycloak_database_group)} names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster's group`);
    }
    const ports = [vars.keycloak_http_port, vars.keycloak_management_port, vars.keycloak_cluster_port, vars.keycloak_cluster_port + 50000];
    if (new Set(ports).size !== ports.length) out.push(`keycloak_http_port, keycloak_management_port and keycloak_cluster_port (and it + 50000) must differ: ${ports.join(', ')}`);
    if (vars.keycloak_cluster_port + 50000 > 65535) out.push(`keycloak_cluster_port ${vars.keycloak_cluster_port}: JGroups' FD_SOCK2 listens 50000 above it, beyond 65535`);
    const names = vars.keycloak_realm_import_files.map((f) => basename(f));
    if (new Set(names).size !== names.length) out.push(`keycloak_realm_import_files: two files share a name (${names.join(', ')})`);
    if (!vars.keycloak_java_home && Number(host.vars.java_package_version ?? 17) < JAVA_MIN) {
      out.push(`Keycloak ${vars.keycloak_version} needs Java 17 or 21 and host ${host.name} gets Java ${host.vars.java_package_version}: set java_package_version to 17 or 21, or keycloak_java_home`);
    }
    return out;
  },

  declares: ({ vars }) => ({
    ports: [
      { port: vars.keycloak_http_port, variable: 'keycloak_http_port', description: 'Keycloak HTTP' },
      { port: vars.keycloak_management_port, variable: 'keycloak_management_port', description: 'Keycloak management (health, metrics)' },
      { port: vars.keycloak_cluster_port, variable: 'keycloak_cluster_port', description: 'Keycloak cluster (JGroups TCP)' },
      { port: vars.keycloak_cluster_port + 50000, variable: 'keycloak_cluster_port', description: 'Keycloak cluster failure detection (JGroups FD_SOCK2: keycloak_cluster_port + 50000)' },
    ],
    // the heap and a third more (metaspace, threads, direct buffers): the seed's 4 GB for a 3g heap
    memoryMb: Math.round((heapMb(vars.keycloak_heap) * 4) / 3),
    cpus: 2, // the seeds' figure (datalyptica-minimal-5vm.md: 2 CPUs per node)
    serves: [vars.keycloak_group],
  }),

  rollout: ({ vars, host }) => ({
    services: ['keycloak'],
    health: {
      command: readyCheck(host.address, vars.keycloak_management_port, vars.keycloak_http_relative_path),
      description: `Keycloak on ${host.name} ready (/health/ready on ${vars.keycloak_management_port})`,
      timeoutSec: vars.keycloak_health_timeout,
      intervalSec: 3,
    },
  }),

  clusterValues: ({ vars }) => [
    ...dbPassword(vars).declare,
    { name: 'keycloak_bootstrap_admin_password', doc: 'password of the bootstrap admin (used once, on the first start)', group: vars.keycloak_group, secret: true, override: 'keycloak_bootstrap_admin_password', overrideReplaces: true },
  ],

  operations: ({ vars, host, group, exported, cluster }) => {
    const kv = { ...vars, keycloak_db_password: dbPassword(vars).value(cluster), keycloak_bootstrap_admin_password: cluster('keycloak_bootstrap_admin_password') } as unknown as KeycloakVars;
    const rel = keycloakRelease(vars.keycloak_version, vars.keycloak_sha512);
    if (!rel) throw new Error(`keycloak_version ${vars.keycloak_version} is not in the artifact catalogue: set keycloak_sha512`);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.keycloak_sha512 || undefined });
    const dir = releaseDir(kv, rel.version);
    const user = vars.keycloak_user;
    const javaHome = vars.keycloak_java_home || String(exported('java').java_home ?? '');
    if (!javaHome) throw new Error(`keycloak on ${host.name}: the java role exports no java_home (set keycloak_java_home)`);
    const members = group(vars.keycloak_group);
    const first = members[0]?.name === host.name;
    const imports = vars.keycloak_realm_import_files;
    const build = buildCommand(dir, javaHome, buildOptions(kv));
    const notify = ['keycloak'];
    const out: Operation<any>[] = [
      ops.packages({ names: ['curl', 'unzip'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: `${vars.keycloak_install_root}`, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url: src.url, sha512: src.sha512!, dest: dir, link: `${vars.keycloak_install_root}/current`, stripComponents: 1 }),
      // Keycloak writes data/ (tmp, transaction logs) under its home at run time
      ops.dir({ path: `${dir}/data`, owner: user, group: user, mode: 0o750 }),
      ops.command({ name: `kc.sh build (${buildOptions(kv).map(([k, x]) => `${k}=${x}`).join(' ')})`, run: build.run, unless: build.unless, notify }),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.file({ path: CONF_FILE, content: keycloakConf(kv), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: CACHE_FILE, content: cacheConfig(initialHosts(members, vars.keycloak_cluster_port)), owner: 'root', group: user, mode: 0o640, notify }),
      ops.symlink({ path: `${dir}/conf/${CACHE_FILE_NAME}`, target: CACHE_FILE }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(kv), owner: 'root', group: user, mode: 0o640, secret: true, notify }),
    ];
    if (imports.length) {
      out.push(ops.dir({ path: IMPORT_DIR, owner: 'root', group: user, mode: 0o750 }), ops.symlink({ path: `${dir}/data/import`, target: IMPORT_DIR }));
      for (const f of imports) {
        out.push(ops.file({ path: `${IMPORT_DIR}/${basename(f)}`, content: readFileSync(f, 'utf8'), owner: 'root', group: user, mode: 0o640, secret: true, ...(first ? { notify } : {}) }));
      }
    }
    out.push(
      ops.unit({ name: 'keycloak.service', content: unit(kv, { javaHome, version: rel.version, address: host.address, importRealm: first && imports.length > 0 }), notify, resources: serviceLimits(host.vars, 'keycloak') }),
      ops.service({ name: 'keycloak', enabled: true, state: 'started' }),
      ops.healthCheck({
        name: `Keycloak ready on ${host.name} (/health/ready on ${vars.keycloak_management_port})`,
        command: readyCheck(host.address, vars.keycloak_management_port, vars.keycloak_http_relative_path),
        timeoutS: vars.keycloak_health_timeout,
        intervalS: 3,
      }),
    );
    return out;
  },
});

/** The release of a version: the catalogue's, or (for one it lacks) Maven Central's layout with the inventory's sha512. */
export function keycloakRelease(version: string, sha512: string): Release | undefined {
  try {
    return release('keycloak', version);
  } catch {
    if (!sha512) return undefined;
    const fileName = `keycloak-quarkus-dist-${version}.zip`;
    return { service: 'keycloak', version, base: 'https://repo1.maven.org/maven2/', path: `org/keycloak/keycloak-quarkus-dist/${version}/${fileName}`, fileName, topDir: `keycloak-${version}`, sha512: sha512.toLowerCase(), checksumSource: 'the inventory (keycloak_sha512)' };
  }
}

const dbPassword = (vars: { keycloak_db_password: string; keycloak_db_username: string; keycloak_database_group: string }) =>
  serviceDatabasePassword({ password: vars.keycloak_db_password, owner: vars.keycloak_db_username, group: vars.keycloak_database_group });
