/**
 * The inventories of the deployment documents (../shared/seeds/), checked offline against what each document says:
 * hosts, addresses, groups, services per host, sizes, and `orch plan`'s capacity table, quorum groups and
 * not-yet-automated list. Every inventory is planned with playbooks/site.yml and the real roles; the variables it
 * sets for landed roles that site.yml does not run yet are validated by planning a playbook that runs them.
 */
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadSimFile, simFileVar } from '../../src/inventory/sim-file.js';
import { selectHosts } from '../../src/inventory/patterns.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { projectRoot } from '../../src/core/project.js';
import { renderPlan } from '../../src/cli/commands/plan.js';
import type { Inventory } from '../../src/inventory/types.js';
import { serviceLimits } from '../../src/ops/resources.js';

const SITE = join(projectRoot, 'playbooks', 'site.yml');
const registry = new RoleRegistry();

async function plan(inventory: string, playbook: string = SITE, extra: string[] = []): Promise<RunPlan> {
  return buildPlan({ inventory: loadInventory(inventory, { projectRoot }), playbook: loadPlaybook(playbook), registry, extraVars: parseExtraVars(extra, projectRoot) });
}

/** enterprise-50vm's operator secrets file, as site.yml needs it: the S3 keys of its Iceberg catalog (trino.yml) */
const ENTERPRISE_SECRETS = [JSON.stringify({ trino_secrets: { TRINO_S3_ACCESS_KEY: 'operator-s3-key-1', TRINO_S3_SECRET_KEY: 'operator-s3-secret-2' } })];

/** vps-trio's operator secrets file: Airflow's metadata-db owner password, given to PostgreSQL and to Airflow alike */
const VPS_SECRETS = [JSON.stringify({ postgresql_passwords: { airflow: 'operator-airflow-pw-1', datalake: 'operator-datalake-pw-2' }, airflow_db_password: 'operator-airflow-pw-1' })];

/** A playbook written for the test: phases of landed roles that site.yml does not run yet. */
function playbook(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'orch-inventories-')), 'pb.yml');
  writeFileSync(f, text);
  return f;
}

/** resource_limits of a host, summed over the services and their instances (a limit applies to each): [MiB, CPUs] */
function limitsSum(p: RunPlan, host: string, instances: Record<string, number> = {}): [number, number] {
  const l = Object.entries((p.hostVars.get(host)!.resource_limits ?? {}) as Record<string, { memory_mb?: number; cpus?: number }>);
  const n = (k: string) => instances[k] ?? 1;
  return [l.reduce((s, [k, x]) => s + n(k) * (x.memory_mb ?? 0), 0), Math.round(l.reduce((s, [k, x]) => s + n(k) * (x.cpus ?? 0), 0) * 100) / 100];
}

const hostsOf = (inv: Inventory, group: string) => [...inv.hosts.values()].filter((h) => h.groups.includes(group)).map((h) => h.name);
const phaseHosts = (p: RunPlan, name: string) => p.phases.find((x) => x.phase.name === name)?.hosts.map((h) => h.name) ?? [];
const capacityOf = (p: RunPlan, host: string) => p.capacity?.find((c) => c.host === host);
const notAutomated = (p: RunPlan) => Object.fromEntries((p.notAutomated ?? []).map((n) => [n.group, n.hosts]));
const quorumOf = (p: RunPlan, group: string) => p.quorums?.find((q) => q.group === group);
/** a role's variables on a host, as planned */
const varsOf = (p: RunPlan, host: string, role: string) => (p.hostRoles.get(host) ?? []).find((r) => r.name === role)?.vars ?? {};

describe('inventory spark-kafka-aws (spark-kafka-cluster-aws.md)', () => {
  const PB = join(projectRoot, 'playbooks', 'spark-kafka-aws.yml');

  it("has the document's four hosts, addresses, logins, sizes and groups", () => {
    const inv = loadInventory('spark-kafka-aws', { projectRoot });
    expect([...inv.hosts.keys()]).toEqual(['bastion', 'master', 'worker1', 'worker2']);
    for (const [g, hosts] of Object.entries({ bastion: ['bastion'], master: ['master'], workers: ['worker1', 'worker2'], private: ['master', 'worker1', 'worker2'], zookeeper: ['master'], kafka: ['master'], spark_master: ['master'], spark_worker: ['worker1', 'worker2'] }))
      expect(hostsOf(inv, g), g).toEqual(hosts);
  });

  it('plans its own playbook in the play order of the document: bastion, master, workers, verification', async () => {
    const p = await plan('spark-kafka-aws', PB);
    expect(p.phases.map((x) => [x.phase.name, x.hosts.map((h) => h.name), x.hosts[0]?.roles.map((r) => r.name)])).toEqual([
      ['bastion', ['bastion'], ['common']],
      ['master', ['master'], ['common', 'java', 'zookeeper', 'kafka', 'spark']],
      ['workers', ['worker1', 'worker2'], ['common', 'java', 'spark']],
      ['verification', ['master', 'worker1', 'worker2'], []],
    ]);
    expect(notAutomated(p)).toEqual({});
    expect(varsOf(p, 'worker1', 'spark')).toMatchObject({ spark_version: '3.5.0', spark_worker_cores: 2, spark_worker_memory: '4g', spark_user: 'spark' });
  });

  it('reaches the private hosts through the bastion (jump host), the bastion directly', async () => {
    const p = await plan('spark-kafka-aws', PB);
    const c = (h: string) => p.connections.get(h)!;
    expect(c('bastion')).toMatchObject({ address: '10.0.13.122', user: 'ec2-user', become: true, jump: [] });
    for (const [h, address] of [['master', '10.0.136.17'], ['worker1', '10.0.137.14'], ['worker2', '10.0.128.219']]) {
      expect(c(h)).toMatchObject({ address, port: 22, user: 'ubuntu', become: true });
      expect(c(h).jump).toEqual([{ address: '10.0.13.122', port: 22, user: 'ec2-user', privateKeyFile: expect.stringMatching(/\/\.ssh\/kafka-spark-keypair\.pem$/) }]);
    }
    // the bastion's public address, given at run time, is the jump host of every private host
    const pub = await plan('spark-kafka-aws', PB, ['bastion_address=203.0.113.7']);
    expect(pub.connections.get('bastion')!.address).toBe('203.0.113.7');
    expect(pub.connections.get('worker2')!.jump[0].address).toBe('203.0.113.7');
  });

  it("carries the document's Java, ZooKeeper and Kafka settings", async () => {
    const p = await plan('spark-kafka-aws', PB);
    expect(varsOf(p, 'worker1', 'java').java_package_version).toBe('11');
    expect(varsOf(p, 'master', 'zookeeper')).toMatchObject({ zookeeper_user: 'spark', zookeeper_data_dir: '/var/lib/zookeeper', zookeeper_client_port: 2181, zookeeper_tick_time: 2000, zookeeper_init_limit: 10, zookeeper_sync_limit: 5 });
    expect(varsOf(p, 'master', 'kafka')).toMatchObject({
      kafka_version: '3.6.1',
      kafka_user: 'spark',
      kafka_port: 9092,
      kafka_log_dirs: ['/var/lib/kafka-logs'],
      kafka_zookeeper_connect: 'localhost:2181',
      kafka_heap: '1G',
      kafka_log_retention_hours: 168,
    });
    expect(p.hostVars.get('master')!.node_id).toBe(1); // myid 1, broker.id=1
  });

  it("the master fits its instance; the workers' 4g Spark workers (and their daemon) do not fit 4 GiB: the document's own numbers, flagged; a single ZooKeeper", async () => {
    const p = await plan('spark-kafka-aws', PB);
    expect(capacityOf(p, 'master')).toMatchObject({ hostMemoryMb: 4096, hostCpus: 2, overMemory: false, overCpu: false });
    expect(capacityOf(p, 'master')!.byRole.map((r) => [r.role, r.memoryMb])).toEqual([['zookeeper', 512], ['kafka', 2048], ['spark', 1024]]);
    expect(capacityOf(p, 'worker1')).toMatchObject({ hostMemoryMb: 4096, overMemory: true });
    expect(capacityOf(p, 'bastion')).toMatchObject({ hostMemoryMb: 2048, hostCpus: 2 });
    expect(quorumOf(p, 'zookeeper')).toMatchObject({ members: ['master'], tolerates: 0 });
    expect(quorumOf(p, 'zookeeper')!.problem).toBeUndefined();
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([
      'capacity: worker1 is oversubscribed: its roles declare 5 GB of memory (spark 5 GB) on 4 GB (host_memory_gb)',
      'capacity: worker2 is oversubscribed: its roles declare 5 GB of memory (spark 5 GB) on 4 GB (host_memory_gb)',
    ]);
  });

  it('also plans with site.yml: its phases without hosts here are skipped and said so', async () => {
    const p = await plan('spark-kafka-aws');
    expect(phaseHosts(p, 'os-preparation')).toEqual(['bastion', 'master', 'worker1', 'worker2']);
    expect(phaseHosts(p, 'coordination')).toEqual([]);
    expect(p.warnings).toContain('phase 3 (coordination): host pattern "control_plane:&etcd" matches no host of the inventory');
    expect(renderPlan(p)).toContain('phase 3 coordination  hosts: control_plane:&etcd -> 0 host(s)');
  });
});

describe('inventory flink-kafka-4c8g (flink-kafka-4vcpu-8gb.md)', () => {
  // kafka-kraft has landed but site.yml has no streaming phase yet: a phase of it validates the inventory's variables
  const STREAMING = playbook('- name: runtimes\n  hosts: all\n  roles: [java]\n- name: streaming\n  hosts: kafka\n  roles: [kafka-kraft]\n');

  it('one 4 vCPU / 8 GB host with Flink, Kafka and the application placed on it', () => {
    const inv = loadInventory('flink-kafka-4c8g', { projectRoot });
    expect([...inv.hosts.keys()]).toEqual(['stream1']);
    for (const g of ['kafka', 'flink_jobmanager', 'flink_taskmanager', 'backend', 'data_provider', 'frontend']) expect(hostsOf(inv, g), g).toEqual(['stream1']);
  });

  it('plans with site.yml: its KRaft broker in the streaming phase, Flink in processing; the application listed as not automated', async () => {
    const p = await plan('flink-kafka-4c8g');
    expect(phaseHosts(p, 'os-preparation')).toEqual(['stream1']);
    expect(phaseHosts(p, 'streaming')).toEqual(['stream1']);
    expect(phaseHosts(p, 'processing')).toEqual(['stream1']);
    expect(notAutomated(p)).toEqual(Object.fromEntries(['backend', 'data_provider', 'frontend'].map((g) => [g, ['stream1']])));
    expect(capacityOf(p, 'stream1')).toMatchObject({ hostMemoryMb: 8192, hostCpus: 4 });
    expect(capacityOf(p, 'stream1')!.byRole.map((r) => r.role)).toEqual(['kafka-kraft', 'flink', 'node-exporter']);
    const text = renderPlan(p);
    expect(text).toMatch(/not yet automated .*: 3 service group\(s\)/);
    expect(text).toMatch(/^ {2}backend +stream1$/m);
  });

  it('carries every container limit of the document over as resource_limits (MemoryMax= / CPUQuota=)', async () => {
    const p = await plan('flink-kafka-4c8g');
    const v = p.hostVars.get('stream1')!;
    expect(v.resource_limits).toEqual({
      'flink-jobmanager': { memory_mb: 1536, cpus: 1.0 },
      'flink-taskmanager': { memory_mb: 2048, cpus: 1.5 },
      kafka: { memory_mb: 1024, cpus: 0.5 },
      backend: { memory_mb: 512, cpus: 0.3 },
      'data-provider': { memory_mb: 307, cpus: 0.2 },
      frontend: { memory_mb: 307, cpus: 0.2 },
    });
    // the document's ~7.6GB; its CPU rows add up to 5.2 (it writes ~4.2)
    expect(limitsSum(p, 'stream1', { 'flink-taskmanager': 2 })).toEqual([7782, 5.2]);
    expect(serviceLimits(v, 'kafka.service')).toEqual({ memoryMax: '1024M', cpuQuota: '50%' });
    expect(serviceLimits(v, 'flink-taskmanager')).toEqual({ memoryMax: '2048M', cpuQuota: '150%' });
  });

  it("validates its single KRaft broker against the kafka-kraft role: the document's topic settings, a heap inside the 1 GB limit", async () => {
    const p = await plan('flink-kafka-4c8g', STREAMING);
    expect(varsOf(p, 'stream1', 'kafka-kraft')).toMatchObject({
      kafka_process_roles: 'broker,controller',
      kafka_num_partitions: 6,
      kafka_default_replication_factor: 1,
      kafka_min_insync_replicas: 1,
      kafka_log_retention_hours: 24,
      kafka_log_segment_bytes: 1073741824,
      kafka_heap: '512m',
    });
    expect(capacityOf(p, 'stream1')).toMatchObject({ memoryMb: 1536, overMemory: false, overCpu: false });
    // one controller: a quorum of one, no even-size warning
    expect(quorumOf(p, 'kafka_controllers')).toMatchObject({ members: ['stream1'], tolerates: 0 });
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([]);
    expect(notAutomated(p).kafka).toBeUndefined();
  });

  it("validates its Flink session cluster against the flink role: the document's JobManager, 2 TaskManagers of 3 slots, the limits as MemoryMax=; the document's 1536m task heap refused", async () => {
    const PROCESSING = playbook('- name: runtimes\n  hosts: all\n  roles: [java]\n- name: processing\n  hosts: flink_jobmanager:flink_taskmanager\n  roles: [flink]\n');
    const p = await plan('flink-kafka-4c8g', PROCESSING);
    expect(varsOf(p, 'stream1', 'flink')).toMatchObject({ flink_taskmanager_instances: 2, flink_taskmanager_slots: 3, flink_parallelism_default: 6, flink_jobmanager_memory_process_size: '1536m', flink_taskmanager_memory_process_size: '2048m' });
    expect(p.declared!.get('stream1')!.ports.map((x) => x.port).sort()).toEqual([6121, 6122, 6123, 6124, 6131, 6132, 8081]);
    // JobManager 1536 + 2 x 2048 of the host's 8192
    expect(capacityOf(p, 'stream1')).toMatchObject({ memoryMb: 1536 + 2 * 2048, overMemory: false });
    expect(notAutomated(p).flink_taskmanager).toBeUndefined();
    await expect(plan('flink-kafka-4c8g', PROCESSING, ['flink_taskmanager_memory_task_heap_size=1536m'])).rejects.toThrow(/927m/);
  });
});

describe('inventory vps-trio (vps-trio-resource-analysis.md)', () => {
  // the landed roles of its services, in the document's start-up order: ZooKeeper (VPS 2's step 1, "external" for
  // VPS 1), then metadata-db + datalake-db (VPS 1); site.yml has no phase for them yet
  const LANDED = playbook('- name: runtimes\n  hosts: all\n  roles: [java]\n- name: coordination\n  hosts: zookeeper\n  roles: [zookeeper]\n- name: databases\n  hosts: postgresql\n  roles: [postgresql]\n');

  it('three VPS, each with its stack', () => {
    const inv = loadInventory('vps-trio', { projectRoot });
    expect([...inv.hosts.keys()]).toEqual(['vps1', 'vps2', 'vps3']);
    const groups = (h: string) => inv.hosts.get(h)!.groups.filter((g) => g !== 'all').sort();
    expect(groups('vps1')).toEqual(['airflow', 'airflow_scheduler', 'airflow_webserver', 'minio', 'postgresql']);
    expect(groups('vps2')).toEqual(['clickhouse', 'zookeeper']);
    expect(groups('vps3')).toEqual(['jupyterlab', 'spark_master', 'spark_worker']);
  });

  it('plans with site.yml: ZooKeeper on VPS 2, the two PostgreSQL servers on VPS 1; every service not yet automated is listed with its VPS', async () => {
    const p = await plan('vps-trio', SITE, VPS_SECRETS);
    expect(phaseHosts(p, 'os-preparation')).toEqual(['vps1', 'vps2', 'vps3']);
    expect(phaseHosts(p, 'coordination-zookeeper')).toEqual(['vps2']);
    expect(phaseHosts(p, 'databases')).toEqual(['vps1']);
    // MinIO after the metadata-db (the document's start-up order), its 512 MB / 0.2 CPU limit
    expect(phaseHosts(p, 'object-storage')).toEqual(['vps1']);
    expect(varsOf(p, 'vps1', 'minio')).toMatchObject({ minio_version: 'RELEASE.2025-09-07T16-13-09Z', minio_api_port: 9000, minio_console_port: 9001, minio_data_dir: '/minio_datalake' });
    expect(capacityOf(p, 'vps1')!.byRole.find((r) => r.role === 'minio')).toMatchObject({ memoryMb: 512, cpus: 0.2 });
    expect(p.connections.get('vps3')!.address).toBe('10.104.0.4');
    expect(notAutomated(p)).toEqual({
      clickhouse: ['vps2'],
      spark_master: ['vps3'],
      spark_worker: ['vps3'],
    });
  });

  it("VPS 3's spark-jupyter in the notebooks phase: JupyterLab on 8888, the document's settings, its 1024 MiB / 0.5 CPU limit", async () => {
    const p = await plan('vps-trio', SITE, VPS_SECRETS);
    const names = p.phases.map((x) => x.phase.name);
    expect(phaseHosts(p, 'notebooks')).toEqual(['vps3']);
    // "independent" in VPS 3's start-up order: its own phase, after the analytics ones
    expect(names.indexOf('notebooks')).toBeGreaterThan(names.indexOf('analytics'));
    expect(varsOf(p, 'vps3', 'jupyterlab')).toMatchObject({
      jupyterlab_version: '4.3.4',
      jupyterlab_port: 8888,
      jupyterlab_notebook_dir: '/opt/spark/notebooks',
      jupyterlab_spark_driver_memory: '768m',
      jupyterlab_spark_event_log_dir: '/var/spark-events',
      jupyterlab_spark_master_group: 'spark_master',
      jupyterlab_spark_master_url: '',
    });
    expect(p.declared!.get('vps3')!.ports.filter((x) => x.role === 'jupyterlab').map((x) => x.port)).toEqual([8888]);
    expect(capacityOf(p, 'vps3')!.byRole.find((r) => r.role === 'jupyterlab')).toMatchObject({ memoryMb: 1024, cpus: 0.5 });
    expect(serviceLimits(p.hostVars.get('vps3')!, 'jupyterlab.service')).toEqual({ memoryMax: '1024M', cpuQuota: '50%' });
    expect(renderPlan(p)).toMatch(/phase \d+ notebooks {2}hosts: jupyterlab -> 1 host\(s\)\n {2}vps3: jupyterlab\n/);
  });

  it("VPS 1's Airflow 2.8.4 in the analytics phase, after its databases and MinIO: LocalExecutor, webserver 8080, the metadata-db on localhost:5433, the limits as MemoryMax= / CPUQuota=", async () => {
    const p = await plan('vps-trio', SITE, VPS_SECRETS);
    const names = p.phases.map((x) => x.phase.name);
    expect(phaseHosts(p, 'analytics')).toEqual(['vps1']);
    // the document's start-up order: metadata-db, minio, datalake-db (one phase for both servers), then airflow-init, scheduler, webserver
    expect(names.indexOf('analytics')).toBeGreaterThan(names.indexOf('object-storage'));
    expect(names.indexOf('object-storage')).toBeGreaterThan(names.indexOf('databases'));
    expect(varsOf(p, 'vps1', 'airflow')).toMatchObject({
      airflow_version: '2.8.4',
      airflow_executor: 'LocalExecutor',
      airflow_webserver_port: 8080,
      airflow_db_host: 'localhost',
      airflow_db_port: 5433,
      airflow_db_name: 'airflow',
      airflow_db_user: 'airflow',
      airflow_database_group: 'postgresql',
      airflow_dags_folder: '/airflow/dags',
      airflow_logs_folder: '/airflow/logs',
      airflow_plugins_folder: '/airflow/plugins',
      airflow_scripts_folder: '/airflow/scripts',
    });
    // the database and owner Airflow connects as are the metadata instance's (the postgresql role's, port 5433)
    const metadata = (varsOf(p, 'vps1', 'postgresql').postgresql_instances as Array<{ name: string; port: number; databases: Array<{ name: string; owner: string }> }>).find((i) => i.port === 5433)!;
    expect(metadata.databases).toContainEqual({ name: 'airflow', owner: 'airflow' });
    // webserver 8080, the scheduler's task log server (LocalExecutor), the triggerer's; no port twice on VPS 1
    const ports = p.declared!.get('vps1')!.ports;
    expect(ports.filter((x) => x.role === 'airflow').map((x) => x.port)).toEqual([8080, 8793, 8794]);
    expect(new Set(ports.map((x) => x.port)).size).toBe(ports.length);
    // the capacity check counts the units' limits (scheduler 1.5 GB / 0.8, webserver 800 MB / 0.3): the document's 3.6 GB
    expect(capacityOf(p, 'vps1')!.byRole.find((r) => r.role === 'airflow')).toMatchObject({ memoryMb: 1536 + 800, cpus: 1.1 });
    expect(capacityOf(p, 'vps1')).toMatchObject({ overMemory: false, overCpu: false });
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([]);
    expect(renderPlan(p)).toContain('phase 16 analytics  hosts: airflow -> 1 host(s)\n  vps1: airflow');
    // without the operator's passwords: the postgresql role generates the owners' (kept on vps1), Airflow reads airflow's
    const bare = await plan('vps-trio');
    expect(varsOf(bare, 'vps1', 'postgresql')).toMatchObject({ postgresql_generate_passwords: true, postgresql_group: 'postgresql' });
    expect(varsOf(bare, 'vps1', 'airflow')).toMatchObject({ airflow_db_password: '', airflow_database_group: 'postgresql' });
  });

  it('carries every container limit over (resource_limits); the totals are the document\'s', async () => {
    const p = await plan('vps-trio', SITE, VPS_SECRETS);
    const rl = (h: string) => p.hostVars.get(h)!.resource_limits;
    expect(rl('vps1')).toEqual({
      'airflow-webserver': { memory_mb: 800, cpus: 0.3 },
      'airflow-scheduler': { memory_mb: 1536, cpus: 0.8 },
      'postgresql@16-metadata': { memory_mb: 256, cpus: 0.2 },
      'postgresql@16-datalake': { memory_mb: 512, cpus: 0.3 },
      minio: { memory_mb: 512, cpus: 0.2 },
    });
    expect(rl('vps2')).toEqual({ 'clickhouse-01': { memory_mb: 1843, cpus: 0.9 }, 'clickhouse-02': { memory_mb: 1843, cpus: 0.9 }, zookeeper: { memory_mb: 512, cpus: 0.1 } });
    expect(rl('vps3')).toEqual({ 'spark-master': { memory_mb: 1280, cpus: 0.6 }, 'spark-worker': { memory_mb: 2816, cpus: 1.4 }, jupyterlab: { memory_mb: 1024, cpus: 0.5 } });
    // "Resource Allocation Summary": 1.8 cores / 3.6 GB, 1.9 cores / 4.1 GB, Spark limits 3.9 cores / 7.7 GB
    expect(limitsSum(p, 'vps1')).toEqual([3616, 1.8]);
    expect(limitsSum(p, 'vps2')).toEqual([4198, 1.9]);
    expect(limitsSum(p, 'vps3', { 'spark-worker': 2 })).toEqual([7936, 3.9]);
    // against the size the document's percentages are computed with (3.67 CPUs, 8.6 GiB): its "% of Total" columns,
    // VPS 3's limits "~106%" of CPU and "~89%" of memory
    const share = (h: string, inst: Record<string, number> = {}) => {
      const [mb, cpus] = limitsSum(p, h, inst);
      return [Math.round((cpus / Number(p.hostVars.get(h)!.host_vcpus)) * 100), Math.round((mb / (Number(p.hostVars.get(h)!.host_memory_gb) * 1024)) * 100)];
    };
    expect(share('vps1')).toEqual([49, 41]);
    expect(share('vps2')).toEqual([52, 48]);
    expect(share('vps3', { 'spark-worker': 2 })).toEqual([106, 90]);
    expect(serviceLimits(p.hostVars.get('vps1')!, 'airflow-scheduler.service')).toEqual({ memoryMax: '1536M', cpuQuota: '80%' });
    expect(serviceLimits(p.hostVars.get('vps3')!, 'spark-worker')).toEqual({ memoryMax: '2816M', cpuQuota: '140%' });
  });

  it("validates the landed roles' variables: VPS 1's two PostgreSQL servers, VPS 2's ZooKeeper", async () => {
    const p = await plan('vps-trio', LANDED);
    expect(phaseHosts(p, 'coordination')).toEqual(['vps2']);
    expect(phaseHosts(p, 'databases')).toEqual(['vps1']);
    expect(varsOf(p, 'vps1', 'postgresql').postgresql_instances).toEqual([
      { name: 'metadata', port: 5433, data_dir: '/pg_metadata', memory_mb: 256, databases: [{ name: 'airflow', owner: 'airflow' }] },
      { name: 'datalake', port: 5432, data_dir: '/pg_datalake', memory_mb: 512, databases: [{ name: 'datalake', owner: 'datalake' }] },
    ]);
    expect(varsOf(p, 'vps2', 'zookeeper')).toMatchObject({ zookeeper_user: 'zookeeper', zookeeper_client_port: 2181, zookeeper_data_dir: '/clickhouse/zk/data', zookeeper_data_log_dir: '/clickhouse/zk/logs', zookeeper_heap: '256m' });
    expect(p.declared!.get('vps1')!.ports.map((x) => x.port).sort()).toEqual([5432, 5433]);
    expect(capacityOf(p, 'vps1')).toMatchObject({ memoryMb: 768, overMemory: false });
    expect(quorumOf(p, 'zookeeper')).toMatchObject({ members: ['vps2'], tolerates: 0 });
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([]);
  });
});

describe('inventory enterprise-50vm (datalyptica-enterprise-50vm.md)', () => {
  // landed roles of the streaming tier that site.yml has no phase for yet; Schema Registry's archive checksum is the
  // operator's (no published one to pin), given here as an operator would
  const STREAMING = playbook('- name: runtimes\n  hosts: kafka:schema_registry\n  roles: [java]\n- name: streaming\n  hosts: kafka\n  roles: [kafka-kraft]\n- name: schema-registry\n  hosts: schema_registry\n  roles: [schema-registry]\n');
  const OPERATOR = [`schema_registry_sha256=${'ab'.repeat(32)}`];

  // "VM Groups" (name prefix, count, vCPU, RAM GB) and "Network Segmentation" (first address) of the document
  const TABLE: Array<[string, string, number, number, number, string]> = [
    ['lb_tier', 'lb', 3, 4, 8, '10.20.1.11'],
    ['catalog_tier', 'pg', 3, 16, 64, '10.20.10.11'],
    ['catalog_tier', 'nessie', 3, 8, 32, '10.20.10.21'],
    ['coordination_tier', 'etcd', 3, 4, 16, '10.20.10.31'],
    ['streaming_tier', 'kafka', 5, 16, 64, '10.20.20.11'],
    ['streaming_tier', 'schema', 3, 4, 16, '10.20.20.21'],
    ['streaming_tier', 'connect', 3, 8, 32, '10.20.20.31'],
    ['processing_tier', 'spark-master', 2, 8, 32, '10.20.30.11'],
    ['processing_tier', 'spark-worker', 4, 32, 128, '10.20.30.21'],
    ['processing_tier', 'flink-jm', 2, 8, 32, '10.20.30.31'],
    ['processing_tier', 'flink-tm', 4, 16, 64, '10.20.30.41'],
    ['query_tier', 'trino-coord', 2, 16, 64, '10.20.40.11'],
    ['query_tier', 'trino-worker', 3, 32, 128, '10.20.40.21'],
    ['query_tier', 'ch', 3, 16, 64, '10.20.40.31'],
    ['analytics_tier', 'airflow-web', 2, 4, 16, '10.20.50.11'],
    ['analytics_tier', 'airflow-sched', 1, 8, 32, '10.20.50.21'],
    ['analytics_tier', 'airflow-worker', 2, 16, 64, '10.20.50.31'],
    ['analytics_tier', 'jupyter', 1, 16, 64, '10.20.50.41'],
    ['analytics_tier', 'mlflow', 1, 8, 32, '10.20.50.51'],
    ['monitoring_tier', 'prom', 3, 8, 32, '10.20.60.11'],
    ['monitoring_tier', 'grafana', 3, 4, 16, '10.20.60.21'],
    ['monitoring_tier', 'loki', 2, 8, 32, '10.20.60.31'],
    ['monitoring_tier', 'alertmgr', 1, 4, 16, '10.20.60.41'],
    ['iam_tier', 'keycloak', 3, 8, 32, '10.20.70.11'],
    ['iam_tier', 'redis', 3, 4, 16, '10.20.70.21'],
  ];
  const SUBNET: Record<string, string> = {
    lb_tier: '10.20.1.',
    catalog_tier: '10.20.10.',
    coordination_tier: '10.20.10.',
    streaming_tier: '10.20.20.',
    processing_tier: '10.20.30.',
    query_tier: '10.20.40.',
    analytics_tier: '10.20.50.',
    monitoring_tier: '10.20.60.',
    iam_tier: '10.20.70.',
  };
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);

  it("has every VM of the document's tables, by tier, with its address, subnet and size", async () => {
    const inv = loadInventory('enterprise-50vm', { projectRoot });
    const p = await plan('enterprise-50vm', SITE, ENTERPRISE_SECRETS);
    const v = (h: string) => p.hostVars.get(h)!;
    expect(inv.hosts.size).toBe(TABLE.reduce((s, r) => s + r[2], 0));
    for (const [tier, prefix, n, vcpus, gb, first] of TABLE) {
      const base = Number(first.split('.')[3]);
      names(prefix, n).forEach((h, i) => {
        expect(inv.hosts.get(h)?.groups, h).toContain(tier);
        expect([v(h).ansible_host, v(h).host_vcpus, v(h).host_memory_gb], h).toEqual([`${first.split('.').slice(0, 3).join('.')}.${base + i}`, vcpus, gb]);
        expect(String(v(h).ansible_host).startsWith(SUBNET[tier]), h).toBe(true);
      });
    }
    // the tables list 65 VMs, 776 vCPUs, 3080 GB; the summary says 50 VMs, 640 cores, 2,560 GB (README.md)
    expect([inv.hosts.size, [...p.hostVars.values()].reduce((s, x) => s + Number(x.host_vcpus), 0), [...p.hostVars.values()].reduce((s, x) => s + Number(x.host_memory_gb), 0)]).toEqual([65, 776, 3080]);
    // tiers are structure, not services
    expect(p.notAutomated!.map((n) => n.group).filter((g) => g.endsWith('_tier') || g === 'control_plane')).toEqual([]);
  });

  it("places the services with the document's HA counts", () => {
    const inv = loadInventory('enterprise-50vm', { projectRoot });
    expect(
      Object.fromEntries(
        ['haproxy', 'keepalived', 'patroni', 'etcd', 'nessie', 'kafka', 'schema_registry', 'kafka_connect', 'spark_master', 'spark_worker', 'flink_jobmanager', 'flink_taskmanager', 'trino_coordinator', 'trino_worker', 'clickhouse', 'clickhouse_keeper', 'airflow_webserver', 'airflow_scheduler', 'airflow_worker', 'keycloak', 'redis', 'redis_sentinel', 'prometheus', 'grafana', 'loki', 'alertmanager'].map((g) => [g, hostsOf(inv, g).length]),
      ),
    ).toEqual({
      haproxy: 3,
      keepalived: 3,
      patroni: 3,
      etcd: 3,
      nessie: 3,
      kafka: 5, // 5 brokers ...
      schema_registry: 3,
      kafka_connect: 3,
      spark_master: 2, // active + standby
      spark_worker: 4,
      flink_jobmanager: 2,
      flink_taskmanager: 4,
      trino_coordinator: 2,
      trino_worker: 3,
      clickhouse: 3,
      clickhouse_keeper: 3, // embedded on the ClickHouse nodes
      airflow_webserver: 2,
      airflow_scheduler: 1, // the VM table's one scheduler VM (README.md)
      airflow_worker: 2,
      keycloak: 3,
      redis: 3,
      redis_sentinel: 3,
      prometheus: 3,
      grafana: 3,
      loki: 2,
      alertmanager: 1,
    });
    expect(hostsOf(inv, 'clickhouse_keeper')).toEqual(hostsOf(inv, 'clickhouse'));
    expect(hostsOf(inv, 'superset')).toEqual(['airflow-web01', 'airflow-web02']);
  });

  it('plans site.yml: etcd, HAProxy + Keepalived, Patroni and Redis on their own tiers, quorums of 3, nothing oversubscribed', async () => {
    const p = await plan('enterprise-50vm', SITE, ENTERPRISE_SECRETS);
    expect(phaseHosts(p, 'os-preparation')).toHaveLength(65);
    expect(phaseHosts(p, 'coordination')).toEqual(names('etcd', 3));
    expect(phaseHosts(p, 'load-balancer')).toEqual(names('lb', 3));
    expect(phaseHosts(p, 'data-layer')).toEqual(names('pg', 3));
    expect(phaseHosts(p, 'iam-redis')).toEqual(names('redis', 3));
    expect(phaseHosts(p, 'iam-redis-sentinel')).toEqual(names('redis', 3));
    expect(phaseHosts(p, 'streaming')).toEqual(names('kafka', 5));
    expect(quorumOf(p, 'kafka_controllers')).toMatchObject({ members: names('kafka', 3), tolerates: 1 });
    // the phases of services this document does not place are skipped, and said so
    expect(p.warnings.filter((w) => /matches no host/.test(w))).toEqual([
      'phase 7 (databases): host pattern "postgresql:!patroni" matches no host of the inventory',
      'phase 8 (object-storage): host pattern "minio" matches no host of the inventory',
      'phase 20 (notebooks): host pattern "jupyterlab" matches no host of the inventory',
    ]);
    // the Airflow tier: 2 web servers (8080), the scheduler, 2 Celery workers
    expect(phaseHosts(p, 'analytics')).toEqual(['airflow-web01', 'airflow-web02', 'airflow-sched01', 'airflow-worker01', 'airflow-worker02']);
    expect(varsOf(p, 'airflow-worker02', 'airflow')).toMatchObject({ airflow_executor: 'CeleryExecutor', airflow_webserver_port: 8080, airflow_db_host: 'pg-vip', airflow_scheduler_zombie_task_threshold: 300 });
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([]);
    // Flink's JobManager HA: the ZooKeeper ensemble on the coordination tier (the document's Kubernetes HA has no VMs)
    expect(phaseHosts(p, 'coordination-zookeeper')).toEqual(names('etcd', 3));
    expect(quorumOf(p, 'zookeeper')).toMatchObject({ members: names('etcd', 3), tolerates: 1 });
    expect(phaseHosts(p, 'processing')).toEqual(['flink-jm01', 'flink-jm02', 'flink-tm01', 'flink-tm02', 'flink-tm03', 'flink-tm04']);
    expect(varsOf(p, 'flink-jm02', 'flink')).toMatchObject({ flink_ha: 'zookeeper', flink_ha_storage_dir: 's3://datalyptica-warehouse/flink/ha', flink_state_backend: 'rocksdb', flink_plugins: ['s3-fs-hadoop'] });
    expect(varsOf(p, 'flink-tm04', 'flink')).toMatchObject({ flink_taskmanager_slots: 8, flink_taskmanager_memory_process_size: '60g' });
    expect(quorumOf(p, 'etcd')).toMatchObject({ members: names('etcd', 3), tolerates: 1 });
    expect(quorumOf(p, 'redis_sentinel')).toMatchObject({ members: names('redis', 3), tolerates: 1 });
    expect(capacityOf(p, 'pg01')).toMatchObject({ memoryMb: 16.5 * 1024 + 64, // Patroni + PostgreSQL, node-exporter
      hostMemoryMb: 64 * 1024, overMemory: false, overCpu: false });
    expect(p.capacity!.filter((c) => c.overMemory || c.overCpu)).toEqual([]);
    // Patroni: synchronous replication, one synchronous standby, max_connections 500, etcd01-03 as DCS
    expect(varsOf(p, 'pg02', 'patroni')).toMatchObject({ patroni_synchronous_mode: true, patroni_synchronous_node_count: 1, patroni_version: '3.3.2', patroni_postgresql_version: '16', patroni_etcd_group: 'etcd' });
    expect((varsOf(p, 'pg02', 'patroni').patroni_parameters as Record<string, unknown>).max_connections).toBe(500);
    expect(varsOf(p, 'etcd02', 'etcd').etcd_version).toBe('3.5.16');
    expect(varsOf(p, 'lb03', 'keepalived')).toMatchObject({ keepalived_vip: '203.0.113.100' });
    expect(varsOf(p, 'redis02', 'redis').redis_master_host).toBe('redis01');
    // the Airflow backend is its web servers' tier, on Airflow's own port
    const http = (varsOf(p, 'lb01', 'haproxy').haproxy_frontends as Array<{ name: string; backends: Array<{ name: string; group: string; port: number }> }>).find((f) => f.name === 'http')!;
    expect(http.backends.find((b) => b.name === 'airflow')).toMatchObject({ group: 'airflow_webserver', port: 8080 });
    expect(http.backends.find((b) => b.name === 'trino')).toMatchObject({ group: 'trino_coordinator' });
    expect(Object.keys(notAutomated(p))).not.toContain('kafka');
    expect(Object.keys(notAutomated(p))).toEqual(expect.arrayContaining(['clickhouse', 'clickhouse_keeper', 'spark_master']));
    // the analytics tier's MLflow (mlflow01) and Superset (on the Airflow web servers), with the roles' pg-vip:5432 defaults
    expect(phaseHosts(p, 'analytics-mlflow')).toEqual(['mlflow01']);
    expect(phaseHosts(p, 'analytics-superset')).toEqual(['airflow-web01', 'airflow-web02']);
    expect(Object.keys(notAutomated(p))).not.toContain('mlflow');
    expect(Object.keys(notAutomated(p))).not.toContain('superset');
    // the catalog, query and IAM tiers: Nessie x3, Trino 2 coordinators + 3 workers, Keycloak x3
    expect(phaseHosts(p, 'catalog')).toEqual(names('nessie', 3));
    expect(phaseHosts(p, 'query')).toEqual(['trino-coord01', 'trino-coord02', 'trino-worker01', 'trino-worker02', 'trino-worker03']);
    expect(phaseHosts(p, 'iam-keycloak')).toEqual(names('keycloak', 3));
    expect(Object.keys(notAutomated(p))).not.toEqual(expect.arrayContaining(['nessie']));
  });

  it('validates the streaming tier against the landed roles: 5 brokers, 3 KRaft controllers, Schema Registry on its 3 VMs', async () => {
    const p = await plan('enterprise-50vm', STREAMING, OPERATOR);
    expect(phaseHosts(p, 'streaming')).toEqual(names('kafka', 5));
    const roles = names('kafka', 5).map((h) => varsOf(p, h, 'kafka-kraft').kafka_process_roles);
    expect(roles).toEqual(['broker,controller', 'broker,controller', 'broker,controller', 'broker', 'broker']);
    expect(names('kafka', 5).map((h) => p.hostVars.get(h)!.node_id)).toEqual([1, 2, 3, 4, 5]);
    expect(quorumOf(p, 'kafka_controllers')).toMatchObject({ kind: 'raft', members: names('kafka', 3), tolerates: 1 });
    expect(quorumOf(p, 'kafka_controllers')!.problem).toBeUndefined();
    expect(p.declared!.get('kafka04')!.ports.map((x) => x.port)).toEqual([9092]);
    expect(p.declared!.get('kafka01')!.ports.map((x) => x.port)).toEqual([9092, 9093]);
    expect(varsOf(p, 'kafka05', 'kafka-kraft')).toMatchObject({ kafka_version: '3.9.0', kafka_default_replication_factor: 3, kafka_min_insync_replicas: 2, kafka_log_dirs: ['/data/kafka/logs'], kafka_compression_type: 'lz4', kafka_unclean_leader_election: false });
    expect(capacityOf(p, 'kafka01')).toMatchObject({ memoryMb: 17 * 1024, hostMemoryMb: 64 * 1024, overMemory: false });
    expect(phaseHosts(p, 'schema-registry')).toEqual(names('schema', 3));
    expect(varsOf(p, 'schema02', 'schema-registry')).toMatchObject({ schema_registry_version: '7.8.0', schema_registry_port: 8085, schema_registry_kafka_group: 'kafka' });
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([]);
    // without the operator's checksum the role refuses, before any host is touched
    await expect(plan('enterprise-50vm', STREAMING)).rejects.toThrow(/schema_registry_sha(512|256)/);
  });

  it("sim.yml: site.yml's coordination, data and streaming phases plan on their 17 hosts with the overlay's sources and heaps, 11.9 GiB of simulated hosts in all (test/e2e/enterprise-tiers.test.ts)", async () => {
    // the e2e's hosts and phases (site.yml's, by name, as it writes them)
    const LIMIT = 'etcd:zookeeper:haproxy:keepalived:patroni:kafka:kafka_connect';
    const PHASES = ['os-preparation', 'runtimes', 'coordination', 'coordination-zookeeper', 'load-balancer', 'data-layer', 'streaming', 'streaming-connect'];
    const site = parseYaml(readFileSync(SITE, 'utf8')) as Array<{ name: string }>;
    const TIERS = playbook(stringifyYaml(site.filter((ph) => PHASES.includes(ph.name))));
    const sim = loadSimFile(join(projectRoot, 'inventories', 'enterprise-50vm'))!;
    expect(sim.artifacts).toEqual([{ service: 'kafka', version: '3.9.0', sha512Vars: ['kafka_sha512', 'kafka_connect_sha512'] }]);
    expect(sim.addressVars).toEqual(['keepalived_vip']);
    // what the simulation's overlay adds: its vars, the mirror's variables, the VIP, the operator's owner password
    const overlay = { ...sim.vars, artifact_mirror: 'file:///tmp/mirror/', kafka_sha512: 'a'.repeat(128), kafka_connect_sha512: 'a'.repeat(128), keepalived_vip: '172.30.255.254', patroni_passwords: { datalyptica: 'operator-pw-1' } };
    const p = await buildPlan({ inventory: loadInventory('enterprise-50vm', { projectRoot }), playbook: loadPlaybook(TIERS), registry, extraVars: parseExtraVars([JSON.stringify(overlay)], projectRoot), limit: LIMIT });
    const hosts = selectHosts(p.inventory, LIMIT);
    expect(hosts).toEqual([...names('lb', 3), ...names('pg', 3), ...names('etcd', 3), ...names('kafka', 5), ...names('connect', 3)]);
    expect(p.phases.map((x) => [x.phase.name, x.hosts.length])).toEqual([['os-preparation', 17], ['runtimes', 17], ['coordination', 3], ['coordination-zookeeper', 3], ['load-balancer', 3], ['data-layer', 3], ['streaming', 5], ['streaming-connect', 3]]);
    expect(phaseHosts(p, 'streaming-connect')).toEqual(names('connect', 3));
    expect(varsOf(p, 'etcd02', 'etcd')).toMatchObject({ etcd_source: 'package' });
    expect(varsOf(p, 'etcd02', 'zookeeper')).toMatchObject({ zookeeper_source: 'package', zookeeper_heap: '128m' });
    expect(varsOf(p, 'pg02', 'patroni')).toMatchObject({ patroni_install: 'package', patroni_postgresql_repository: 'distribution', patroni_postgresql_version: '15', patroni_synchronous_mode: true, patroni_synchronous_node_count: 1 });
    expect(varsOf(p, 'kafka04', 'kafka-kraft')).toMatchObject({ kafka_heap: '384m', kafka_version: '3.9.0', kafka_process_roles: 'broker', kafka_sha512: 'a'.repeat(128) });
    expect(varsOf(p, 'connect02', 'kafka-connect')).toMatchObject({ kafka_connect_heap: '256m', kafka_connect_sha512: 'a'.repeat(128) });
    expect(varsOf(p, 'lb03', 'keepalived').keepalived_vip).toBe('172.30.255.254');
    expect(quorumOf(p, 'kafka_controllers')).toMatchObject({ members: names('kafka', 3), tolerates: 1 });
    expect(p.warnings.filter((w) => /capacity|quorum/.test(w))).toEqual([]);
    // the simulated hosts' memory: sim.yml's groups, every one of the 17 sized, 12224 MiB in all
    const mem = Object.fromEntries(hosts.map((h) => [h, simFileVar(sim, p.inventory.hosts.get(h)!.groups, 'sim_memory_mb')]));
    expect([mem.etcd01, mem.lb01, mem.pg01, mem.kafka01, mem.kafka05, mem.connect01]).toEqual([576, 384, 768, 1024, 1024, 640]);
    expect(Object.values(mem).reduce((a: number, b) => a + Number(b), 0)).toBe(12224);
    // the inventory itself keeps the document's values
    const prod = await plan('enterprise-50vm', TIERS, [JSON.stringify({ patroni_passwords: { datalyptica: 'operator-pw-1' } })]);
    expect([varsOf(prod, 'kafka04', 'kafka-kraft').kafka_heap, varsOf(prod, 'etcd02', 'zookeeper').zookeeper_heap, varsOf(prod, 'pg02', 'patroni').patroni_postgresql_version, varsOf(prod, 'etcd02', 'etcd').etcd_source]).toEqual(['16g', '1g', '16', 'release']);
  });

  it('gives every clustered host a node_id unique in its cluster', async () => {
    const p = await plan('enterprise-50vm', SITE, ENTERPRISE_SECRETS);
    const inv = p.inventory;
    for (const g of ['etcd', 'patroni', 'kafka', 'schema_registry', 'kafka_connect', 'clickhouse', 'clickhouse_keeper', 'redis', 'keycloak', 'nessie', 'spark_master', 'flink_jobmanager', 'trino_coordinator', 'prometheus', 'grafana', 'loki']) {
      const ids = hostsOf(inv, g).map((h) => p.hostVars.get(h)!.node_id);
      expect(ids, g).toEqual(ids.map((_, i) => i + 1));
    }
  });
});

describe('the analytics layer (phase 8) on minimal-5vm', () => {
  it('MLflow on VM5:5001 and Superset on VM4:8088 in their own phases after Airflow, on the Patroni cluster through the VIP; no port twice on a VM', async () => {
    const p = await plan('minimal-5vm');
    const names = p.phases.map((x) => x.phase.name);
    expect(names.slice(names.indexOf('analytics'), names.indexOf('analytics') + 4)).toEqual(['analytics', 'analytics-mlflow', 'analytics-superset', 'analytics-jupyterhub']);
    // Superset's Redis (phase 9's, which runs first) and PostgreSQL (phase 3's) come before it
    for (const before of ['data-layer', 'iam-redis', 'iam-redis-sentinel']) expect(names.indexOf('analytics-superset'), before).toBeGreaterThan(names.indexOf(before));
    expect(phaseHosts(p, 'analytics-mlflow')).toEqual(['vm5']);
    expect(phaseHosts(p, 'analytics-superset')).toEqual(['vm4']);
    const port = (h: string, variable: string) => p.declared!.get(h)!.ports.filter((x) => x.variable === variable).map((x) => x.port);
    expect(port('vm5', 'mlflow_port')).toEqual([5001]);
    expect(port('vm4', 'superset_port')).toEqual([8088]);
    expect(phaseHosts(p, 'analytics-jupyterhub')).toEqual(['vm4']);
    expect([port('vm4', 'jupyterhub_port'), port('vm4', 'jupyterhub_hub_port'), port('vm4', 'jupyterhub_proxy_api_port')]).toEqual([[8000], [8091], [8001]]);
    // JupyterHub's default hub port 8081 is the JobManager's on VM4: the inventory moves it
    expect(p.declared!.get('vm4')!.ports.find((x) => x.port === 8081)?.role).toBe('flink');
    for (const h of ['vm4', 'vm5']) {
      const ports = p.declared!.get(h)!.ports.map((x) => x.port);
      expect(new Set(ports).size, h).toBe(ports.length);
    }
    expect(varsOf(p, 'vm5', 'mlflow')).toMatchObject({ mlflow_version: '2.19.0', mlflow_backend_store_uri: 'postgresql://mlflow@10.20.0.100:5000/mlflow', mlflow_database_group: 'patroni', mlflow_artifacts_destination: '/var/lib/mlflow/artifacts' });
    expect(varsOf(p, 'vm4', 'superset')).toMatchObject({ superset_version: '4.1.1', superset_database_uri: 'postgresql+psycopg2://superset@10.20.0.100:5000/superset', superset_database_group: 'patroni', superset_redis_sentinel_group: 'redis_sentinel', superset_redis_db: 1 });
    // their owners' databases are among those the Patroni cluster creates (and generates the passwords of)
    const dbs = varsOf(p, 'vm1', 'patroni').patroni_databases as Array<{ name: string; owner: string }>;
    expect(dbs).toEqual(expect.arrayContaining([{ name: 'mlflow', owner: 'mlflow' }, { name: 'superset', owner: 'superset' }]));
    expect(p.warnings.filter((w) => /capacity/.test(w))).toEqual([]);
    expect(notAutomated(p).mlflow).toBeUndefined();
    expect(notAutomated(p).superset).toBeUndefined();
    expect(notAutomated(p).jupyterhub).toBeUndefined();
  });

  it("sim.yml gives them 2 gunicorn workers each (its values plan too); the inventory keeps the roles' 4", async () => {
    const sim = loadSimFile(join(projectRoot, 'inventories', 'minimal-5vm'))!;
    expect(sim.vars).toMatchObject({ mlflow_workers: 2, superset_workers: 2 });
    const simulated = await plan('minimal-5vm', SITE, [JSON.stringify(sim.vars)]);
    expect([varsOf(simulated, 'vm5', 'mlflow').mlflow_workers, varsOf(simulated, 'vm4', 'superset').superset_workers]).toEqual([2, 2]);
    const p = await plan('minimal-5vm');
    expect([varsOf(p, 'vm5', 'mlflow').mlflow_workers, varsOf(p, 'vm4', 'superset').superset_workers]).toEqual([4, 4]);
  });
});

describe('the query tier (role trino) on minimal-5vm and enterprise-50vm', () => {
  const QUERY = playbook('- name: runtimes\n  hosts: trino_coordinator:trino_worker\n  roles: [java]\n- name: query\n  hosts: trino_coordinator:trino_worker\n  roles: [trino]\n');
  const SECRETS = (names: string[]) => [JSON.stringify({ trino_secrets: Object.fromEntries(names.map((n, i) => [n, `operator-secret-${i}-x`])) })];

  it('minimal-5vm: the coordinator that is also a worker on VM4 (8080), two workers on VM5 (8080, 8081), Java 23 beside 17, the catalogs', async () => {
    const p = await plan('minimal-5vm');
    expect(phaseHosts(p, 'query')).toEqual(['vm4', 'vm5']);
    expect(p.declared!.get('vm4')!.ports.filter((x) => x.variable === 'trino_http_port').map((x) => x.port)).toEqual([8080]);
    expect(p.declared!.get('vm5')!.ports.filter((x) => x.variable === 'trino_http_port').map((x) => x.port)).toEqual([8080, 8081]);
    expect(varsOf(p, 'vm4', 'trino')).toMatchObject({ trino_version: '469', trino_jvm_heap: '26G', trino_database_passwords: { TRINO_POSTGRESQL_PASSWORD: 'datalyptica' } });
    const catalogs = varsOf(p, 'vm5', 'trino').trino_catalogs as Record<string, Record<string, unknown>>;
    expect(Object.keys(catalogs).sort()).toEqual(['iceberg', 'postgresql']);
    // Nessie through HAProxy's 19130 on the VIP, PostgreSQL through its 5000 (the inventory's keepalived_vip)
    expect(catalogs.iceberg['iceberg.nessie-catalog.uri']).toBe('http://10.20.0.100:19130/api/v2');
    expect(catalogs.postgresql['connection-url']).toBe('jdbc:postgresql://10.20.0.100:5000/datalyptica');
    expect(varsOf(p, 'vm4', 'java').java_archive_releases).toEqual(['23.0.2+7']);
    // 3 Trino processes of 26G heaps (x1.2 declared) over the two data-plane VMs
    expect(p.declared!.get('vm5')!.memoryMb).toBe(2 * Math.round(26 * 1024 * 1.2) + p.declared!.get('vm5')!.roles.filter((r) => r.role !== 'trino').reduce((a, r) => a + (r.memoryMb ?? 0), 0));
    // HAProxy serves the Nessie API on 19130 beside the seed's frontends
    expect(p.declared!.get('vm1')!.ports.filter((x) => x.role === 'haproxy').map((x) => x.port)).toEqual([8404, 5000, 5001, 80, 19130]);
  });

  it('enterprise-50vm: 2 coordinators (no tasks) and 3 workers, heaps from their VMs, the Iceberg catalog through Nessie on S3', async () => {
    const p = await plan('enterprise-50vm', QUERY, SECRETS(['TRINO_S3_ACCESS_KEY', 'TRINO_S3_SECRET_KEY']));
    // without the operator's secrets the catalog's S3 keys are missing: refused before any host is touched
    await expect(plan('enterprise-50vm', QUERY)).rejects.toThrow(/trino_catalogs\.iceberg\.s3\.aws-access-key refers to \$\{ENV:TRINO_S3_ACCESS_KEY\}, which neither trino_secrets nor trino_database_passwords defines/);
    expect(phaseHosts(p, 'query')).toEqual(['trino-coord01', 'trino-coord02', 'trino-worker01', 'trino-worker02', 'trino-worker03']);
    expect(varsOf(p, 'trino-coord02', 'trino')).toMatchObject({ trino_jvm_heap: '51G' });
    expect(varsOf(p, 'trino-worker01', 'trino')).toMatchObject({ trino_jvm_heap: '102G' });
    expect((varsOf(p, 'trino-worker03', 'trino').trino_catalogs as Record<string, Record<string, unknown>>).iceberg).toMatchObject({ 'iceberg.catalog.type': 'nessie', 'iceberg.nessie-catalog.default-warehouse-dir': 's3://datalyptica-warehouse/iceberg' });
    for (const h of ['trino-coord01', 'trino-worker03']) expect(capacityOf(p, h)!.overMemory, h).toBe(false);
  });
});
