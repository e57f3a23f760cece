/**
 * Trino's files, typed: node.properties, jvm.config, config.properties per server process, the catalogs and
 * log.properties shared by a host's processes, the systemd template, and the cluster layout they come from.
 */
import { environmentFileValue } from '../../src/ops/index.js';
import type { PeerHost } from '../../src/role/define.js';

export const ETC = '/etc/trino';
export const CATALOG_DIR = `${ETC}/catalog`;
export const SECRETS_FILE = `${ETC}/secrets.env`;
export const QUERY_SCRIPT = '/usr/local/libexec/orch-trino-query';

export interface TrinoVars {
  trino_version: string;
  trino_install_root: string;
  trino_user: string;
  trino_coordinator_group: string;
  trino_worker_group: string;
  trino_http_port: number;
  trino_worker_instances: number;
  trino_instance_port_step: number;
  trino_environment: string;
  trino_node_id: string;
  trino_data_dir: string;
  trino_jvm_heap: string;
  trino_query_max_memory: string;
  trino_query_max_memory_per_node: string;
  trino_memory_heap_headroom_per_node: string;
  trino_discovery_uri: string;
  trino_catalogs: Record<string, Record<string, string | number | boolean>>;
  trino_secrets: Record<string, string>;
  trino_extra_config: Record<string, string | number | boolean>;
  trino_log_level: string;
  trino_limit_nofile: number;
  trino_limit_nproc: number;
  trino_health_timeout: number;
}

/** One Trino server process: a coordinator, or a worker (several per host as instances). */
export interface Server {
  host: string;
  address: string;
  /** systemd instance id: trino@<id> */
  id: string;
  coordinator: boolean;
  /** a coordinator that also runs tasks (node-scheduler.include-coordinator) */
  schedules: boolean;
  port: number;
  nodeId: string;
  /** this process's query.max-memory-per-node in MB (its host's trino_query_max_memory_per_node, else 30% of its heap) */
  queryMemoryMb: number;
}

export interface Cluster {
  servers: Server[];
  coordinators: Server[];
  /** the processes that run tasks: workers, and the coordinators that include themselves */
  taskNodes: Server[];
  discoveryUri: string;
}

const HEAP = /^([0-9]+)([MG])$/;
export const HEAP_PATTERN = '^[0-9]+[MG]$';
export const DATA_SIZE_PATTERN = '^(|[0-9]+(\\.[0-9]+)?(B|kB|MB|GB|TB))$';

/** a JVM size (`26G`, `1536M`) in MB */
export function heapMb(heap: string): number {
  const m = HEAP.exec(heap);
  if (!m) throw new Error(`trino_jvm_heap ${JSON.stringify(heap)}: expected e.g. 26G or 1536M`);
  return Number(m[1]) * (m[2] === 'G' ? 1024 : 1);
}

/** Trino's data size of a number of MB, in the largest whole unit (Trino's DataSize format: 7GB, 614MB) */
export function dataSize(mb: number): string {
  const whole = Math.floor(mb);
  return whole % 1024 === 0 && whole > 0 ? `${whole / 1024}GB` : `${whole}MB`;
}

/** node.id of a process: letters, digits, `-` and `_` (Trino's rule), from the host name and instance */
export function nodeIdOf(host: string, id: string, instances: number, override: string): string {
  const base = (override || host).replace(/[^A-Za-z0-9_-]/g, '_');
  return instances > 1 || id !== '1' ? `${base}-${id}` : base;
}


function varOf<T>(p: PeerHost, name: string, fallback: T): T {
  const x = p.vars[name];
  return x === undefined || x === null || x === '' ? fallback : (x as T);
}

/**
 * The servers of the cluster from the inventory: a coordinator per host of the coordinator group (one process,
 * instance 1, on trino_http_port; it schedules work on itself when the host is in the worker group too, the way
 * datalyptica-minimal-5vm.md's VM4 runs "coordinator + worker" on one port), and trino_worker_instances workers per
 * host of the worker group that is no coordinator (ports trino_http_port + step * (n - 1)).
 */
export function clusterOf(coordinators: PeerHost[], workers: PeerHost[], v: Pick<TrinoVars, 'trino_http_port' | 'trino_discovery_uri' | 'trino_coordinator_group'>): Cluster {
  const servers: Server[] = [];
  const coordNames = new Set(coordinators.map((c) => c.name));
  for (const c of coordinators) {
    servers.push({
      host: c.name,
      address: c.address,
      id: '1',
      coordinator: true,
      schedules: workers.some((w) => w.name === c.name),
      port: varOf(c, 'trino_http_port', v.trino_http_port),
      nodeId: nodeIdOf(c.name, '1', 1, varOf(c, 'trino_node_id', '')),
      queryMemoryMb: queryMemoryOf(c),
    });
  }
  for (const w of workers) {
    if (coordNames.has(w.name)) continue;
    const n = varOf(w, 'trino_worker_instances', 1);
    const base = varOf(w, 'trino_http_port', v.trino_http_port);
    const step = varOf(w, 'trino_instance_port_step', 1);
    for (let i = 1; i <= n; i++) {
      servers.push({ host: w.name, address: w.address, id: String(i), coordinator: false, schedules: true, port: base + step * (i - 1), nodeId: nodeIdOf(w.name, String(i), n, varOf(w, 'trino_node_id', '')), queryMemoryMb: queryMemoryOf(w) });
    }
  }
  const first = servers.find((s) => s.coordinator);
  const discoveryUri = v.trino_discovery_uri || (first ? `http://${first.address}:${first.port}` : '');
  return { servers, coordinators: servers.filter((s) => s.coordinator), taskNodes: servers.filter((s) => s.schedules), discoveryUri };
}

/** a host's query.max-memory-per-node in MB, from its own variables (the role's default heap when it sets none) */
function queryMemoryOf(p: PeerHost): number {
  const perNode = varOf(p, 'trino_query_max_memory_per_node', '');
  if (perNode) return dataSizeMb(perNode);
  return Math.floor(heapMb(varOf(p, 'trino_jvm_heap', '26G')) * 0.3);
}

/** The memory limits a process renders: the inventory's, else sized from the heap (Trino's own 30% per node) */
export function memoryLimits(
  v: Pick<TrinoVars, 'trino_jvm_heap' | 'trino_query_max_memory' | 'trino_query_max_memory_per_node' | 'trino_memory_heap_headroom_per_node'>,
  taskNodes: number | number[],
) {
  const heap = heapMb(v.trino_jvm_heap);
  const perNode = v.trino_query_max_memory_per_node || dataSize(Math.floor(heap * 0.3));
  // a query may use every task node's share: the sum of the task nodes' per-node limits (each from its own host's
  // heap or override; a number: that many nodes like this one), so a coordinator that runs no tasks sizes the
  // cluster-wide limit from its workers
  const shares = typeof taskNodes === 'number' ? Array.from({ length: Math.max(1, taskNodes) }, () => dataSizeMb(perNode)) : taskNodes.length ? taskNodes : [dataSizeMb(perNode)];
  return {
    perNode,
    headroom: v.trino_memory_heap_headroom_per_node || dataSize(Math.floor(heap * 0.3)),
    total: v.trino_query_max_memory || dataSize(shares.reduce((a, b) => a + b, 0)),
  };
}

/** MB of a Trino data size (`7GB`, `614MB`) */
export function dataSizeMb(s: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(B|kB|MB|GB|TB)$/.exec(s);
  if (!m) throw new Error(`data size ${JSON.stringify(s)}: expected e.g. 8GB or 512MB`);
  const f = { B: 1 / 1048576, kB: 1 / 1024, MB: 1, GB: 1024, TB: 1048576 }[m[2] as 'B'];
  return Number(m[1]) * f;
}

function propertyValue(x: string | number | boolean): string {
  const s = String(x);
  if (/[\n\r]/.test(s)) throw new Error(`a Trino property value holds a newline: ${JSON.stringify(s.slice(0, 40))}`);
  return s;
}

function properties(header: string, entries: Array<[string, string | number | boolean]>): string {
  return `# Managed by orch (role trino): ${header}\n` + entries.map(([k, x]) => `${k}=${propertyValue(x)}`).join('\n') + '\n';
}

export function nodeProperties(v: Pick<TrinoVars, 'trino_environment' | 'trino_data_dir'>, s: Server): string {
  return properties(`${s.coordinator ? 'coordinator' : 'worker'} ${s.nodeId}`, [
    ['node.environment', v.trino_environment],
    // kept across reruns: derived from the inventory (host and instance), never regenerated
    ['node.id', s.nodeId],
    ['node.data-dir', dataDirOf(v, s)],
  ]);
}

export const dataDirOf = (v: Pick<TrinoVars, 'trino_data_dir'>, s: Pick<Server, 'id'>) => `${v.trino_data_dir}/${s.id}`;

/**
 * jvm.config as Trino's deployment documentation gives it for 4xx (G1 with 32M regions, exit on OOM, code cache
 * and recompilation cutoffs, attach for the memory histogram, JOL's dynamic agent), with the inventory's heap.
 */
export function jvmConfig(v: Pick<TrinoVars, 'trino_jvm_heap' | 'trino_data_dir'>, s: Pick<Server, 'id'>): string {
  heapMb(v.trino_jvm_heap);
  return [
    '-server',
    `-Xmx${v.trino_jvm_heap}`,
    '-XX:InitialRAMPercentage=80',
    '-XX:MaxRAMPercentage=80',
    '-XX:G1HeapRegionSize=32M',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${dataDirOf(v, s)}`,
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:ReservedCodeCacheSize=512M',
    '-XX:PerMethodRecompilationCutoff=10000',
    '-XX:PerBytecodeRecompilationCutoff=10000',
    '-Djdk.attach.allowAttachSelf=true',
    '-Djdk.nio.maxCachedBufferSize=2000000',
    '-Dfile.encoding=UTF-8',
    // Allow loading dynamic agent used by JOL
    '-XX:+EnableDynamicAgentLoading',
  ].join('\n') + '\n';
}

export function configProperties(v: TrinoVars, c: Cluster, s: Server): string {
  const mem = memoryLimits(v, c.taskNodes.map((t) => t.queryMemoryMb));
  const entries: Array<[string, string | number | boolean]> = [
    ['coordinator', s.coordinator],
    ...(s.coordinator ? ([['node-scheduler.include-coordinator', s.schedules]] as Array<[string, boolean]>) : []),
    ['http-server.http.port', s.port],
    ['discovery.uri', c.discoveryUri],
    ['query.max-memory', mem.total],
    ['query.max-memory-per-node', mem.perNode],
    ['memory.heap-headroom-per-node', mem.headroom],
  ];
  const fixed = new Set(entries.map(([k]) => k));
  for (const [k, x] of Object.entries(v.trino_extra_config)) {
    if (fixed.has(k)) throw new Error(`trino_extra_config.${k}: set by the role from its own variables`);
    entries.push([k, x]);
  }
  return properties(`${s.coordinator ? 'coordinator' : 'worker'} ${s.nodeId} (trino@${s.id})`, entries);
}

export function logProperties(level: string): string {
  return properties('log levels', [['io.trino', level]]);
}

const ENV_REF = /\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** property names whose values are credentials: only `${ENV:NAME}` references (from trino_secrets) are accepted */
const CREDENTIAL_KEY = /(password|secret|access-key|secret-key|token|credentials-key)$/i;
export const CATALOG_NAME = /^[a-z][a-z0-9_]*$/;

/** Problems of the catalogs: names, connector.name, credentials only as references to trino_secrets. */
export function catalogProblems(v: Pick<TrinoVars, 'trino_catalogs' | 'trino_secrets'> & { trino_database_passwords?: Record<string, string> }): string[] {
  const out: string[] = [];
  const defined = new Set([...Object.keys(v.trino_secrets), ...Object.keys(v.trino_database_passwords ?? {})]);
  for (const [name, props] of Object.entries(v.trino_catalogs)) {
    if (!CATALOG_NAME.test(name)) out.push(`trino_catalogs.${name}: a catalog name is lowercase letters, digits and _ (it is the SQL name and the file name)`);
    if (!props || typeof props !== 'object' || !props['connector.name']) out.push(`trino_catalogs.${name}: connector.name is missing (e.g. iceberg, postgresql, clickhouse)`);
    for (const [k, x] of Object.entries(props ?? {})) {
      const s = String(x);
      if (CREDENTIAL_KEY.test(k) && !/^\$\{ENV:[A-Za-z_][A-Za-z0-9_]*\}$/.test(s)) {
        out.push(`trino_catalogs.${name}.${k}: a credential is not written into the catalog file: put it in trino_secrets (e.g. TRINO_${name.toUpperCase()}_PASSWORD) and write \${ENV:TRINO_${name.toUpperCase()}_PASSWORD} here`);
      }
      for (const m of s.matchAll(ENV_REF)) {
        if (!defined.has(m[1])) out.push(`trino_catalogs.${name}.${k} refers to \${ENV:${m[1]}}, which neither trino_secrets nor trino_database_passwords defines`);
      }
      if (/[\n\r]/.test(s)) out.push(`trino_catalogs.${name}.${k}: a value holds a newline`);
    }
  }
  for (const k of Object.keys(v.trino_secrets)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) out.push(`trino_secrets.${k}: an environment variable name is letters, digits and _`);
  }
  for (const k of Object.keys(v.trino_database_passwords ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) out.push(`trino_database_passwords.${k}: an environment variable name is letters, digits and _`);
  }
  return out;
}

/** one catalog file: connector.name first, then the inventory's order */
export function catalogProperties(name: string, props: Record<string, string | number | boolean>): string {
  const entries = Object.entries(props);
  entries.sort(([a], [b]) => (a === 'connector.name' ? -1 : b === 'connector.name' ? 1 : 0));
  return properties(`catalog ${name}`, entries);
}

/** the EnvironmentFile with the catalogs' secrets (0640 root:trino) */
export function secretsEnv(secrets: Record<string, string>): string {
  const lines = Object.entries(secrets).map(([k, x]) => `${k}=${environmentFileValue(x, `trino_secrets.${k}: a value holds a newline`)}`);
  return `# Managed by orch (role trino): secrets the catalogs read as \${ENV:NAME}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

/** trino@.service: `launcher run` (foreground) with the instance's etc dir; limits from Trino's deployment docs */
export function unitTemplate(v: Pick<TrinoVars, 'trino_user' | 'trino_limit_nofile' | 'trino_limit_nproc'>, javaHome: string, home: string): string {
  return `# Managed by orch (role trino)
[Unit]
Description=Trino server %i
Documentation=https://trino.io/docs/current/installation/deployment.html
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${v.trino_user}
Group=${v.trino_user}
Environment=JAVA_HOME=${javaHome}
Environment=PATH=${javaHome}/bin:/usr/local/bin:/usr/bin:/bin
EnvironmentFile=-${SECRETS_FILE}
ExecStart=${home}/bin/launcher run --etc-dir=${ETC}/%i
LimitNOFILE=${v.trino_limit_nofile}
LimitNPROC=${v.trino_limit_nproc}
Restart=on-failure
RestartSec=10
TimeoutStopSec=120
SuccessExitStatus=143

[Install]
WantedBy=multi-user.target
`;
}

/**
 * /usr/local/libexec/orch-trino-query URL SQL: runs SQL through Trino's client protocol with curl (no Python, no
 * CLI jar) and prints each page's `data` as returned (JSON); exit 1 with Trino's message on a failed query, 2 when
 * the server does not answer.
 */
export function queryScript(): string {
  return `#!/bin/sh
# Managed by orch (role trino): run SQL through Trino's REST client protocol.
# usage: orch-trino-query http://HOST:PORT 'SELECT ...'   (prints each result page's "data" JSON)
url=$1; sql=$2; user=\${TRINO_USER:-orch}
resp=$(curl -fsS --max-time 30 -X POST -H "X-Trino-User: $user" --data-binary "$sql" "$url/v1/statement") || exit 2
while :; do
  case $resp in *'"error":{'*)
    printf '%s\\n' "$resp" | sed -n 's/.*"error":{"message":"\\([^"]*\\)".*/\\1/p' >&2; exit 1;;
  esac
  printf '%s' "$resp" | sed -n 's/.*"data":\\(\\[\\[.*\\]\\]\\),"stats".*/\\1/p'
  next=$(printf '%s' "$resp" | sed -n 's/.*"nextUri":"\\([^"]*\\)".*/\\1/p')
  [ -n "$next" ] || break
  resp=$(curl -fsS --max-time 30 -H "X-Trino-User: $user" "$next") || exit 2
done
`;
}

/** POSIX sh: exit 0 once the process on `port` has finished starting (GET /v1/info says "starting":false) */
export function startedCheck(address: string, port: number): string {
  return `curl -fsS --max-time 5 http://${address}:${port}/v1/info | grep -q '"starting":false'`;
}

/** POSIX sh: exit 0 once the coordinator lists `count` active nodes (system.runtime.nodes) */
export function nodesCheck(coordinator: Pick<Server, 'address' | 'port'>, count: number): string {
  return `[ "$(${QUERY_SCRIPT} http://${coordinator.address}:${coordinator.port} "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'")" = '[[${count}]]' ]`;
}

/** the Java major a Trino release needs (its release notes: 436 Java 21, 447 Java 22, 464 Java 23, 476 Java 24) */
export function javaMajorFor(version: string): number {
  const n = Number(version);
  if (n >= 476) return 24;
  if (n >= 464) return 23;
  if (n >= 447) return 22;
  return 21;
}

