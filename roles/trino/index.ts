/**
 * trino: a Trino cluster (coordinator(s) and workers, several workers per host as instances) with the inventory's
 * catalogs, as datalyptica-minimal-5vm.md (VM4: coordinator + worker, VM5: two workers) and
 * datalyptica-enterprise-50vm.md ("6. Trino": 2 coordinators behind HAProxy, 3 workers) run it. See DOC.
 */
import { artifactSource, release, type Release } from '../../src/artifacts/index.js';
import { ops, serviceLimits } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';
import { pickJavaHome } from '../java/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { databasePasswordName, databasePasswordValue } from '../../src/role/database-password.js';
import {
  CATALOG_DIR,
  DATA_SIZE_PATTERN,
  ETC,
  HEAP_PATTERN,
  QUERY_SCRIPT,
  SECRETS_FILE,
  catalogProblems,
  catalogProperties,
  clusterOf,
  configProperties,
  dataDirOf,
  dataSizeMb,
  heapMb,
  javaMajorFor,
  jvmConfig,
  logProperties,
  memoryLimits,
  nodeProperties,
  nodesCheck,
  queryScript,
  secretsEnv,
  startedCheck,
  unitTemplate,
  type TrinoVars,
} from './render.js';

const DOC = `
trino: a Trino cluster: coordinators on the hosts of group trino_coordinator, workers on the hosts of group
trino_worker (trino_worker_instances per host, as instances trino@1..N); catalogs from trino_catalogs.

- Layout: the server tarball (io.trino:trino-server on Maven Central, the file Trino's download page links to;
  catalogue: 469 pinned by Homebrew's sha256, 470 and 476 by the sha512 of the Maven Central download checked
  against its .sha1) under /opt/trino/releases/<version>, /opt/trino/current. Each server process is a systemd
  instance trino@<id> running bin/launcher run --etc-dir=/etc/trino/<id>: node.properties, jvm.config and
  config.properties per process, catalog/ and log.properties shared by the host's processes (linked in). Data
  (node.data-dir) /data/trino/<id>; logs go to the journal.
- Coordinator and worker on one host (minimal-5vm VM4 lists both on 8080): one process, coordinator=true with
  node-scheduler.include-coordinator=true. A coordinator host that is no worker: include-coordinator=false
  (enterprise-50vm). Workers on a host number trino_worker_instances, ports trino_http_port + step * (n - 1)
  (minimal-5vm VM5: 8080 and 8081 as the seed gives them).
- node.id: from the inventory (the host name, -<n> per instance, or trino_node_id), so it is the same on every
  rerun and after upgrades, unique in the cluster (checked offline).
- Memory: jvm.config -Xmx is trino_jvm_heap (the seed gives each Trino process 32 GB: 26G heap, about 80%);
  query.max-memory-per-node and memory.heap-headroom-per-node are 30% of the heap each (Trino's defaults, written
  out), query.max-memory is the per-node limit times the number of processes that run tasks; each can be set. The
  rest of jvm.config is Trino's deployment documentation's for 4xx.
- Java: Trino 469 needs Java 23 or newer (476: 24). The java role installs Temurin from its release archive
  (java_archive_releases: ["23.0.2+7"]) and exports java_homes; the role takes the smallest JDK that is new
  enough, or trino_java_home. Checked before any host is touched.
- Catalogs: one file per entry of trino_catalogs in /etc/trino/catalog (0640 root:trino); files of catalogs taken
  out of the inventory are removed. Credentials never go into a catalog file: a property named *password,
  *secret, *token ... must be \${ENV:NAME}, NAME defined in trino_secrets (secret), which lands in
  /etc/trino/secrets.env (0640 root:trino), the units' EnvironmentFile. A catalog change restarts the host's processes
  (Trino reads catalogs at start-up), rolled host by host.
- Several coordinators (enterprise-50vm): each renders coordinator=true with discovery.uri on the first one (the
  seed's discovery.uri=http://trino-coord01:8080), so the workers announce themselves there and both coordinators
  see them and accept queries behind HAProxy (haproxy's backend trino checks /v1/info). Trino has no coordinator
  failover: memory management is per coordinator and losing the first one loses the discovery service.
- Health: each process's /v1/info reports "starting":false; the coordinator lists every process of the inventory as
  active in system.runtime.nodes (through ${QUERY_SCRIPT}, curl on Trino's client protocol).
  Restarts roll host by host behind that check.
`;

export default defineRole({
  name: 'trino',
  doc: DOC,
  description: 'Trino coordinator(s) and workers (instances), node.id kept, jvm.config, memory sized from the heap, catalogs with secrets in an EnvironmentFile',
  dependsOn: ['java'],
  vars: {
    trino_version: v.str({ default: '469', pattern: '^[0-9]+$', doc: 'Trino release (the datalyptica seeds: 469), from the artifact catalogue (469, 470, 476) or with trino_sha512' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces Maven Central (same path io/trino/trino-server/V/...); empty: the official URL' }),
    trino_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: "sha512 of the tarball (a release the catalogue lacks, or a mirror serving other bytes); empty: the catalogue's" }),
    trino_install_root: v.str({ default: '/opt/trino', pattern: '^/', doc: 'releases unpack under ROOT/releases/VERSION, linked as ROOT/current' }),
    trino_user: v.str({ default: 'trino', doc: 'service user (and group)' }),
    trino_coordinator_group: v.str({ default: 'trino_coordinator', doc: 'inventory group of the coordinators (enterprise-50vm: 2)' }),
    trino_worker_group: v.str({ default: 'trino_worker', doc: 'inventory group of the worker hosts (a coordinator host in it schedules work on itself)' }),
    trino_http_port: v.port({ default: 8080, doc: 'http-server.http.port (of worker instance 1)' }),
    trino_worker_instances: v.int({ default: 1, minimum: 0, maximum: 16, doc: 'worker processes on a worker host that is no coordinator (minimal-5vm VM5: 2)' }),
    trino_instance_port_step: v.int({ default: 1, minimum: 1, maximum: 1000, doc: 'HTTP port step between worker instances (the seed: 8080, 8081)' }),
    trino_environment: v.str({ default: 'datalyptica', pattern: '^[a-z0-9][a-z0-9_]*$', doc: 'node.environment: the same on every node of the cluster' }),
    trino_node_id: v.str({ default: '', pattern: '^(|[A-Za-z0-9][A-Za-z0-9_-]*)$', emptyAllowed: true, doc: 'node.id base of this host (host_vars); empty: the host name (-N added per worker instance)' }),
    trino_data_dir: v.str({ default: '/data/trino', pattern: '^/', doc: 'node.data-dir root: one directory per process (ROOT/<instance>)' }),
    trino_jvm_heap: v.str({ default: '26G', pattern: HEAP_PATTERN, doc: '-Xmx of every process (the seed: 32 GB per Trino process, 80% heap)' }),
    trino_query_max_memory: v.str({ default: '', pattern: DATA_SIZE_PATTERN, emptyAllowed: true, doc: 'query.max-memory (cluster-wide); empty: query.max-memory-per-node x task processes' }),
    trino_query_max_memory_per_node: v.str({ default: '', pattern: DATA_SIZE_PATTERN, emptyAllowed: true, doc: 'query.max-memory-per-node; empty: 30% of the heap' }),
    trino_memory_heap_headroom_per_node: v.str({ default: '', pattern: DATA_SIZE_PATTERN, emptyAllowed: true, doc: 'memory.heap-headroom-per-node; empty: 30% of the heap' }),
    trino_discovery_uri: v.str({ default: '', emptyAllowed: true, doc: 'discovery.uri; empty: http://<first coordinator>:<its port>' }),
    trino_catalogs: v.map<Record<string, string | number | boolean>>(
      { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      { default: {}, doc: 'catalog name -> its properties (connector.name and the connector\'s keys); credentials as ${ENV:NAME} from trino_secrets' },
    ),
    trino_secrets: v.map<string>({ type: 'string' }, { default: {}, secret: true, doc: 'NAME -> value: the EnvironmentFile the catalogs read as ${ENV:NAME} (0640 root:trino)' }),
    trino_database_passwords: v.map<string>({ type: 'string', pattern: '^[a-z_][a-z0-9_]*$' }, { default: {}, doc: "NAME -> database owner: ${ENV:NAME} is that owner's password generated on trino_database_group's PostgreSQL cluster (cluster value db_password_<owner>), unless trino_secrets gives NAME" }),
    trino_database_group: v.str({ default: 'patroni', doc: 'inventory group of the PostgreSQL cluster whose generated owner passwords trino_database_passwords names' }),
    trino_extra_config: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more config.properties entries of every process' }),
    trino_java_home: v.str({ default: '', pattern: '^(|/.*)$', emptyAllowed: true, doc: "JAVA_HOME of the servers; empty: the java role's smallest JDK new enough for the release" }),
    trino_log_level: v.oneOf(['DEBUG', 'INFO', 'WARN', 'ERROR'] as const, { default: 'INFO', doc: 'io.trino level in log.properties' }),
    trino_limit_nofile: v.int({ default: 131072, minimum: 1024, doc: "LimitNOFILE (Trino's deployment docs: 131072)" }),
    trino_limit_nproc: v.int({ default: 128000, minimum: 1024, doc: "LimitNPROC (Trino's deployment docs: 128000)" }),
    trino_health_timeout: v.int({ default: 240, minimum: 10, doc: 'seconds a process may take to start and register after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const tv = vars as unknown as TrinoVars;
    const out: string[] = [];
    const coords = group(vars.trino_coordinator_group);
    const workers = group(vars.trino_worker_group);
    const isCoord = coords.some((p) => p.name === host.name);
    const isWorker = workers.some((p) => p.name === host.name);
    if (!isCoord && !isWorker) out.push(`host ${host.name} runs trino but is in neither ${vars.trino_coordinator_group} nor ${vars.trino_worker_group}`);
    if (!coords.length) out.push(`trino needs a coordinator: no host in group ${vars.trino_coordinator_group}`);
    const c = clusterOf(coords, workers, tv);
    const ids = new Map<string, string>();
    for (const s of c.servers) {
      const where = `${s.host} trino@${s.id}`;
      const other = ids.get(s.nodeId);
      if (other) out.push(`node.id ${s.nodeId} is both ${other} and ${where}: give one host another trino_node_id`);
      ids.set(s.nodeId, where);
    }
    try {
      const heap = heapMb(vars.trino_jvm_heap);
      const mem = memoryLimits(tv, c.taskNodes.map((t) => t.queryMemoryMb));
      if (dataSizeMb(mem.perNode) + dataSizeMb(mem.headroom) >= heap) {
        out.push(`query.max-memory-per-node (${mem.perNode}) + memory.heap-headroom-per-node (${mem.headroom}) must stay below the heap (${vars.trino_jvm_heap}): Trino refuses to start otherwise`);
      }
      if (dataSizeMb(mem.total) < dataSizeMb(mem.perNode)) out.push(`query.max-memory (${mem.total}) is below query.max-memory-per-node (${mem.perNode})`);
    } catch (e) {
      out.push((e as Error).message);
    }
    out.push(...catalogProblems(tv));
    if (generatedPasswords(vars).length && !group(vars.trino_database_group).length) {
      out.push(`trino_database_passwords: group ${vars.trino_database_group} (trino_database_group) has no hosts to hold the generated passwords: give them in trino_secrets or name the PostgreSQL cluster's group`);
    }
    if (!trinoRelease(vars.trino_version, vars.trino_sha512)) {
      out.push(`trino_version ${vars.trino_version}: not in the artifact catalogue (it has 469, 470, 476): set trino_sha512 to the sha512 of io/trino/trino-server/${vars.trino_version}/trino-server-${vars.trino_version}.tar.gz`);
    }
    const need = javaMajorFor(vars.trino_version);
    if (!vars.trino_java_home) {
      const pkg = Number(host.vars.java_package_version ?? 17);
      const archives = Array.isArray(host.vars.java_archive_releases) ? (host.vars.java_archive_releases as string[]) : [];
      const majors = [pkg, ...archives.map((r) => Number(String(r).split(/[.+]/)[0]))];
      if (!majors.some((m) => m >= need)) {
        out.push(`Trino ${vars.trino_version} needs Java ${need} or newer and host ${host.name} gets Java ${majors.join(', ')}: add a Temurin release to java_archive_releases (e.g. ["23.0.2+7"]; the java role installs it from its archive) or set trino_java_home`);
      }
    }
    return out;
  },

  clusterValues: ({ vars }) => generatedPasswords(vars).map(([, owner]) => databasePasswordValue(owner, vars.trino_database_group)),

  declares: ({ vars, host, group }) => {
    const c = clusterOf(group(vars.trino_coordinator_group), group(vars.trino_worker_group), vars as unknown as TrinoVars);
    const mine = c.servers.filter((s) => s.host === host.name);
    return {
      ports: mine.map((s) => ({ port: s.port, variable: 'trino_http_port', description: `Trino ${s.coordinator ? 'coordinator' : 'worker'} ${s.nodeId} HTTP` })),
      // the heap and about a fifth more (metaspace, code cache, direct buffers, threads)
      memoryMb: mine.length * Math.round(heapMb(vars.trino_jvm_heap) * 1.2),
      dataDirs: [vars.trino_data_dir],
      serves: [vars.trino_coordinator_group, vars.trino_worker_group],
    };
  },

  rollout: ({ vars, host, group }) => {
    const c = clusterOf(group(vars.trino_coordinator_group), group(vars.trino_worker_group), vars as unknown as TrinoVars);
    const mine = c.servers.filter((s) => s.host === host.name);
    const coord = c.coordinators[0];
    const checks = [...mine.map((s) => startedCheck(s.address, s.port)), ...(coord ? [nodesCheck(coord, c.servers.length)] : [])];
    return {
      services: ['trino@*'],
      health: {
        command: checks.join(' && ') || 'true',
        description: `Trino ${mine.map((s) => s.nodeId).join(', ')} started; the coordinator lists ${c.servers.length} active nodes`,
        timeoutSec: vars.trino_health_timeout,
        intervalSec: 3,
      },
    };
  },

  operations: ({ vars, host, group, exported, cluster }) => {
    const tv = vars as unknown as TrinoVars;
    const rel = trinoRelease(vars.trino_version, vars.trino_sha512);
    if (!rel) throw new Error(`trino_version ${vars.trino_version} is not in the artifact catalogue: set trino_sha512`);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.trino_sha512 || undefined });
    const root = vars.trino_install_root;
    const home = `${root}/current`;
    const user = vars.trino_user;
    const need = javaMajorFor(vars.trino_version);
    const javaHome = vars.trino_java_home || pickJavaHome((exported('java').java_homes ?? {}) as Record<string, string>, need);
    if (!javaHome) throw new Error(`Trino ${vars.trino_version} needs Java ${need}+: the java role exports no such JDK on ${host.name} (java_archive_releases)`);
    const c = clusterOf(group(vars.trino_coordinator_group), group(vars.trino_worker_group), tv);
    const mine = c.servers.filter((s) => s.host === host.name);
    const units = mine.map((s) => `trino@${s.id}`);
    const catalogFiles = Object.keys(vars.trino_catalogs).map((n) => `${n}.properties`);
    const limits = serviceLimits(host.vars, 'trino');
    const out: Operation<any>[] = [
      ops.packages({ names: ['curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: vars.trino_data_dir, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url: src.url, ...(src.sha512 ? { sha512: src.sha512 } : { sha256: src.sha256! }), dest: `${root}/releases/${rel.version}`, link: home, stripComponents: 1 }),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.dir({ path: vars.trino_data_dir, owner: user, group: user, mode: 0o750 }),
      ops.file({ path: `${ETC}/log.properties`, content: logProperties(vars.trino_log_level), owner: 'root', group: user, mode: 0o640, notify: units }),
      ops.dir({ path: CATALOG_DIR, owner: 'root', group: user, mode: 0o750 }),
      ...Object.entries(vars.trino_catalogs).map(([name, props]) =>
        ops.file({ path: `${CATALOG_DIR}/${name}.properties`, content: catalogProperties(name, props), owner: 'root', group: user, mode: 0o640, notify: units }),
      ),
      ops.prune({ dir: CATALOG_DIR, suffix: '.properties', keep: catalogFiles, notify: units }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv({ ...Object.fromEntries(generatedPasswords(vars).map(([name, owner]) => [name, cluster(databasePasswordName(owner))])), ...vars.trino_secrets }), owner: "root", group: user, mode: 0o640, secret: true, notify: units }),
      ops.dir({ path: '/usr/local/libexec', owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: QUERY_SCRIPT, content: queryScript(), owner: 'root', group: 'root', mode: 0o755 }),
    ];
    for (const s of mine) {
      const etc = `${ETC}/${s.id}`;
      const notify = [`trino@${s.id}`];
      out.push(
        ops.dir({ path: etc, owner: 'root', group: user, mode: 0o750 }),
        ops.file({ path: `${etc}/node.properties`, content: nodeProperties(tv, s), owner: 'root', group: user, mode: 0o640, notify }),
        ops.file({ path: `${etc}/jvm.config`, content: jvmConfig(tv, s), owner: 'root', group: user, mode: 0o640, notify }),
        ops.file({ path: `${etc}/config.properties`, content: configProperties(tv, c, s), owner: 'root', group: user, mode: 0o640, notify }),
        ops.symlink({ path: `${etc}/catalog`, target: CATALOG_DIR }),
        ops.symlink({ path: `${etc}/log.properties`, target: `${ETC}/log.properties` }),
        ops.dir({ path: dataDirOf(tv, s), owner: user, group: user, mode: 0o750 }),
      );
    }
    out.push(
      ...ops.instances({
        service: 'trino',
        unit: unitTemplate(tv, javaHome, home),
        instances: mine.map((s) => ({
          id: s.id,
          environment: { TRINO_NODE_ID: s.nodeId },
          serviceLines: [...(limits?.memoryMax ? [`MemoryMax=${limits.memoryMax}`] : []), ...(limits?.cpuQuota ? [`CPUQuota=${limits.cpuQuota}`] : [])],
        })),
      }),
    );
    if (mine.length) {
      const coord = c.coordinators[0];
      out.push(
        ops.healthCheck({
          name: `Trino ${mine.map((s) => `${s.nodeId} (${s.port})`).join(', ')} started`,
          command: mine.map((s) => startedCheck(s.address, s.port)).join(' && '),
          timeoutS: vars.trino_health_timeout,
          intervalS: 3,
        }),
      );
      if (coord && mine.some((s) => s.coordinator)) {
        out.push(
          ops.healthCheck({
            name: `the coordinator lists every Trino node of the inventory (${c.servers.length}) as active`,
            command: nodesCheck(coord, c.servers.length),
            timeoutS: vars.trino_health_timeout,
            intervalS: 3,
          }),
        );
      }
    }
    return out;
  },
});

/** The release of a version: the catalogue's, or (for one it lacks) Maven Central's layout with the inventory's sha512. */
export function trinoRelease(version: string, sha512: string): Release | undefined {
  try {
    return release('trino', version);
  } catch {
    if (!sha512) return undefined;
    const topDir = `trino-server-${version}`;
    return { service: 'trino', version, base: 'https://repo1.maven.org/maven2/', path: `io/trino/trino-server/${version}/${topDir}.tar.gz`, fileName: `${topDir}.tar.gz`, topDir, sha512: sha512.toLowerCase(), checksumSource: 'the inventory (trino_sha512)' };
  }
}

/** trino_database_passwords entries trino_secrets does not give: [ENV name, owner] */
function generatedPasswords(vars: { trino_database_passwords: Record<string, string>; trino_secrets: Record<string, string> }): Array<[string, string]> {
  return Object.entries(vars.trino_database_passwords).filter(([name]) => !(name in vars.trino_secrets));
}
