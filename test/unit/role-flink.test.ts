/**
 * The flink role offline, against flink-kafka-4vcpu-8gb.md (JobManager 1536m / 1024m heap / 256m metaspace;
 * TaskManagers 2048m, framework heap 128m, managed 256m, 3 slots, 2 of them, parallelism 6),
 * datalyptica-minimal-5vm.md (JobManager on VM4, TaskManagers on VM4 and two on VM5) and
 * datalyptica-enterprise-50vm.md (JobManager HA, RocksDB, S3 state): both config.yaml files (parsed back as YAML,
 * typed), Flink 1.20's memory arithmetic (the figures Flink's own BashJavaUtils printed for the same input), the
 * instances and their ports, units, declarations, RHEL, and the health commands run against a stand-in curl. The real
 * cluster: test/integration/role-flink.test.ts.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import flink from '../../roles/flink/index.js';
import {
  JAVA17_OPTS,
  bytesOf,
  clusterOf,
  instancesOf,
  jobManagerConfig,
  jobManagerMemory,
  jobManagerUnit,
  registeredScript,
  taskManagerConfig,
  taskManagerMemory,
  taskManagerTemplate,
  taskManagersListed,
  type FlinkVars,
} from '../../roles/flink/render.js';
import { artifactSource, release } from '../../src/artifacts/index.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import { sh } from './ops-harness.js';
import { roleContext } from './role-harness.js';

const defaults = Object.fromEntries(Object.entries(flink.vars).map(([k, s]) => [k, s.default])) as unknown as FlinkVars;

// flink-kafka-4vcpu-8gb.md: one 4 vCPU / 8 GB host with the JobManager and 2 TaskManagers
const SINGLE: PeerHost[] = [{ name: 'flink', address: '192.168.10.5', groups: ['flink_jobmanager', 'flink_taskmanager'], vars: { flink_taskmanager_instances: 2 } }];
// datalyptica-minimal-5vm.md: JobManager on VM4, a TaskManager on VM4 and two on VM5
const MINIMAL: PeerHost[] = [
  { name: 'vm4', address: '10.20.0.21', groups: ['data_plane', 'flink_jobmanager', 'flink_taskmanager'], vars: {} },
  { name: 'vm5', address: '10.20.0.22', groups: ['data_plane', 'flink_taskmanager'], vars: { flink_taskmanager_instances: 2 } },
];
// datalyptica-enterprise-50vm.md: flink-jm01/02 (active/standby), flink-tm01..04, a ZooKeeper ensemble of 3
const ENTERPRISE: PeerHost[] = [
  ...[1, 2].map((n) => ({ name: `flink-jm0${n}`, address: `10.20.30.${30 + n}`, groups: ['flink_jobmanager'], vars: {} })),
  ...[1, 2, 3, 4].map((n) => ({ name: `flink-tm0${n}`, address: `10.20.30.${40 + n}`, groups: ['flink_taskmanager'], vars: {} })),
  ...[1, 2, 3].map((n) => ({ name: `zk0${n}`, address: `10.20.10.${20 + n}`, groups: ['zookeeper'], vars: {} })),
];
const ENTERPRISE_VARS = {
  flink_ha: 'zookeeper',
  flink_state_backend: 'rocksdb',
  flink_ha_storage_dir: 's3://datalyptica-warehouse/flink/ha',
  flink_checkpoints_dir: 's3://datalyptica-warehouse/flink/checkpoints',
  flink_savepoints_dir: 's3://datalyptica-warehouse/flink/savepoints',
  flink_taskmanager_slots: 8,
  flink_taskmanager_memory_process_size: '60g',
  flink_plugins: ['s3-fs-hadoop'],
};

function ctx(o: { host?: string; peers?: PeerHost[]; osFamily?: HostFacts['osFamily']; vars?: Record<string, unknown> } = {}): RoleContext<any> {
  const peers = o.peers ?? SINGLE;
  const self = peers.find((p) => p.name === (o.host ?? peers[0].name));
  return roleContext(flink, { peers, host: o.host, facts: { osFamily: o.osFamily ?? 'debian', cpus: 4, memoryMb: 8192, hostname: 'h' }, vars: { ...self?.vars, ...o.vars }, exported: { java: { java_home: '/usr/lib/jvm/java-17-openjdk-amd64' } } });
}
const opsOf = (c: RoleContext<any>) => flink.operations(c) as Operation<any>[];
const named = (list: Operation<any>[], kind: string, name?: string) => list.find((o) => o.kind === kind && (name === undefined || o.name === name));
function written(op: Operation<any> | undefined): string {
  expect(op).toBeDefined();
  const p = op!.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>;
  return p.diff!.after;
}
const vars = (over: Partial<FlinkVars> = {}): FlinkVars => ({ ...defaults, ...over });

describe('flink: config.yaml for Flink 1.20 (the standard YAML file), typed', () => {
  it("flink-kafka-4vcpu-8gb: the JobManager's config has the seed's memory, parallelism 6, state under /data/flink", () => {
    const c = clusterOf(SINGLE, SINGLE, vars());
    const text = jobManagerConfig(vars(), c, { address: '192.168.10.5', inJm: true });
    expect(text.split('\n')[1]).toContain('config.yaml');
    const y = parse(text);
    expect(y).toMatchObject({
      'jobmanager.rpc.address': '192.168.10.5',
      'jobmanager.rpc.port': 6123,
      'jobmanager.bind-host': '0.0.0.0',
      'jobmanager.memory.process.size': '1536m',
      'jobmanager.memory.heap.size': '1024m',
      'jobmanager.memory.jvm-metaspace.size': '256m',
      'jobmanager.memory.off-heap.size': '128m',
      // what the seed's sizes leave: Flink's 192m minimum would refuse it
      'jobmanager.memory.jvm-overhead.min': '128m',
      'rest.address': '192.168.10.5',
      'rest.port': 8081,
      'blob.server.port': 6124,
      'parallelism.default': 6,
      'state.backend.type': 'hashmap',
      'state.checkpoints.dir': 'file:///data/flink/checkpoints',
      'state.savepoints.dir': 'file:///data/flink/savepoints',
      'io.tmp.dirs': '/data/flink/tmp/jobmanager',
      'env.java.opts.all': JAVA17_OPTS,
      'env.log.dir': '/var/log/flink',
    });
    expect(typeof y['parallelism.default']).toBe('number');
    expect(Object.keys(y).some((k) => k.startsWith('high-availability'))).toBe(false);
    expect(Object.keys(y).some((k) => k.startsWith('taskmanager.'))).toBe(false);
  });

  it("the TaskManagers' config: 3 slots, process 2048m, framework heap 128m, managed 256m, the task heap left to Flink", () => {
    const c = clusterOf(SINGLE, SINGLE, vars());
    const y = parse(taskManagerConfig(vars(), c, { address: '192.168.10.5', inJm: true }));
    expect(y).toMatchObject({
      'jobmanager.rpc.address': '192.168.10.5',
      'taskmanager.host': '192.168.10.5',
      'taskmanager.numberOfTaskSlots': 3,
      'taskmanager.memory.process.size': '2048m',
      'taskmanager.memory.framework.heap.size': '128m',
      'taskmanager.memory.managed.size': '256m',
      'taskmanager.memory.jvm-metaspace.size': '256m',
    });
    expect(y['taskmanager.memory.task.heap.size']).toBeUndefined();
    expect(y['rest.port']).toBeUndefined();
    // a task heap that fits is written
    expect(parse(taskManagerConfig(vars({ flink_taskmanager_memory_task_heap_size: '900m' }), c, { address: 'x', inJm: false }))['taskmanager.memory.task.heap.size']).toBe('900m');
  });

  it('extra entries keep their types', () => {
    const c = clusterOf(SINGLE, SINGLE, vars());
    const y = parse(jobManagerConfig(vars({ flink_extra_config: { 'web.cancel.enable': false, 'pipeline.max-parallelism': 128, 'execution.runtime-mode': 'STREAMING' } }), c, { address: 'a', inJm: true }));
    expect(y['web.cancel.enable']).toBe(false);
    expect(y['pipeline.max-parallelism']).toBe(128);
    expect(y['execution.runtime-mode']).toBe('STREAMING');
  });

  it('datalyptica-enterprise-50vm: ZooKeeper HA (each JobManager its own address), RocksDB, S3 state, 8 slots / 60g', () => {
    const v = vars(ENTERPRISE_VARS as Partial<FlinkVars>);
    const c = clusterOf(ENTERPRISE.filter((p) => p.groups.includes('flink_jobmanager')), ENTERPRISE.filter((p) => p.groups.includes('flink_taskmanager')), v);
    const zk = ENTERPRISE.filter((p) => p.groups.includes('zookeeper'));
    const jm2 = parse(jobManagerConfig(v, c, { address: '10.20.30.32', inJm: true }, zk));
    expect(jm2).toMatchObject({
      'high-availability.type': 'zookeeper',
      'high-availability.storageDir': 's3://datalyptica-warehouse/flink/ha',
      'high-availability.zookeeper.quorum': '10.20.10.21:2181,10.20.10.22:2181,10.20.10.23:2181',
      'high-availability.cluster-id': '/default',
      'high-availability.jobmanager.port': 6123,
      'jobmanager.rpc.address': '10.20.30.32',
      'rest.address': '10.20.30.32',
      'state.backend.type': 'rocksdb',
      'state.backend.incremental': true,
      'state.checkpoints.dir': 's3://datalyptica-warehouse/flink/checkpoints',
    });
    const tm = parse(taskManagerConfig(v, c, { address: '10.20.30.41', inJm: false }, zk));
    expect(tm).toMatchObject({ 'taskmanager.numberOfTaskSlots': 8, 'taskmanager.memory.process.size': '60g', 'high-availability.type': 'zookeeper', 'taskmanager.host': '10.20.30.41' });
    // the S3 plugin of the release's opt/ is enabled
    const list = opsOf(ctx({ peers: ENTERPRISE, host: 'flink-jm01', vars: ENTERPRISE_VARS }));
    expect(named(list, 'symlink', '/opt/flink/current/plugins/s3-fs-hadoop/flink-s3-fs-hadoop-1.20.0.jar')).toBeDefined();
    expect(flink.validate!(ctx({ peers: ENTERPRISE, host: 'flink-jm01', vars: ENTERPRISE_VARS }))).toEqual([]);
  });
});

describe("flink: Flink 1.20's memory arithmetic", () => {
  it("the seed's JobManager: 128m of JVM overhead left, so its range is set to that", () => {
    const m = jobManagerMemory(vars());
    expect(m.overhead).toBe(128 * 1024 ** 2);
    expect(m.config['jobmanager.memory.jvm-overhead.min']).toBe('128m');
    expect(m.problems).toEqual([]);
    expect(jobManagerMemory(vars({ flink_jobmanager_memory_process_size: '1200m' })).problems[0]).toMatch(/leaves -\d+m of JVM overhead/);
    expect(jobManagerMemory(vars({ flink_jobmanager_memory_process_size: '1600m' })).config['jobmanager.memory.jvm-overhead.min']).toBeUndefined();
    expect(jobManagerMemory(vars({ flink_jobmanager_memory_process_size: '3g' })).config['jobmanager.memory.jvm-overhead.max']).toBe('1664m');
  });

  it("the seed's TaskManager: the figures Flink 1.20's BashJavaUtils prints (task heap 916.48mb, network 158.72mb, overhead 204.8mb)", () => {
    const { memory: m, problems } = taskManagerMemory(vars());
    expect(problems).toEqual([]);
    const MB = 1024 ** 2;
    expect(m.taskHeap).toBeCloseTo(916.48 * MB, -4);
    expect(m.network).toBeCloseTo(158.72 * MB, -4);
    expect(m.overhead).toBeCloseTo(204.8 * MB, -4);
    expect(m.frameworkHeap + m.taskHeap).toBeCloseTo(1095216656, -4); // -Xmx Flink computed
  });

  it("the seed's full TaskManager set (task heap 1536m too) does not fit 2048m: refused offline, with the numbers", () => {
    const { problems } = taskManagerMemory(vars({ flink_taskmanager_memory_task_heap_size: '1536m' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('does not fit its process size 2048m');
    expect(problems[0]).toContain('lower it to at most 927m');
    // at the edge, as Flink 1.20's BashJavaUtils decides it: 927m starts, 928m does not (overhead 2 bytes short of 192m), nor 1011m (99.778mb)
    expect(taskManagerMemory(vars({ flink_taskmanager_memory_task_heap_size: '927m' })).problems).toEqual([]);
    expect(taskManagerMemory(vars({ flink_taskmanager_memory_task_heap_size: '928m' })).problems).toHaveLength(1);
    expect(taskManagerMemory(vars({ flink_taskmanager_memory_task_heap_size: '1011m' })).problems[0]).toContain('leave 100m of JVM overhead');
    const single = ctx({ vars: { flink_taskmanager_memory_task_heap_size: '1536m' } });
    expect(flink.validate!(single).join('\n')).toContain('does not fit');
    expect(taskManagerMemory(vars({ flink_taskmanager_memory_task_heap_size: '900m' })).problems).toEqual([]);
  });

  it('sizes in Flink units', () => {
    expect(bytesOf('1536m')).toBe(1536 * 1024 ** 2);
    expect(bytesOf('2g')).toBe(2 * 1024 ** 3);
    expect(bytesOf('268435456b')).toBe(268435456);
    expect(() => bytesOf('2 GB!')).toThrow(/memory size/);
  });
});

describe('flink: layout, instances, units', () => {
  it('minimal-5vm: one TaskManager on vm4, two on vm5, each with its own resource id, ports and tmp dir', () => {
    const c = clusterOf(MINIMAL.slice(0, 1), MINIMAL, vars());
    expect(c.taskManagers.map((t) => [t.resourceId, t.rpcPort, t.dataPort, t.tmpDir])).toEqual([
      ['vm4-taskmanager-1', 6122, 6121, '/data/flink/tmp/taskmanager-1'],
      ['vm5-taskmanager-1', 6122, 6121, '/data/flink/tmp/taskmanager-1'],
      ['vm5-taskmanager-2', 6132, 6131, '/data/flink/tmp/taskmanager-2'],
    ]);
    const list = opsOf(ctx({ peers: MINIMAL, host: 'vm5' }));
    expect(named(list, 'unit', '/etc/systemd/system/flink-jobmanager.service')).toBeUndefined();
    const dropIn = written(named(list, 'instance', '/etc/systemd/system/flink-taskmanager@2.service.d/orch-instance.conf'));
    expect(dropIn).toContain('Environment="FLINK_TM_RESOURCE_ID=vm5-taskmanager-2"');
    expect(dropIn).toContain('Environment="FLINK_TM_RPC_PORT=6132"');
    // vm5's configs point at the JobManager on vm4
    expect(parse(written(named(list, 'file', '/etc/flink/taskmanager/config.yaml')))['jobmanager.rpc.address']).toBe('10.20.0.21');
    expect(parse(written(named(list, 'file', '/etc/flink/conf/config.yaml')))['rest.address']).toBe('10.20.0.21');
  });

  it('the units: foreground scripts as user flink, LimitNOFILE, per-instance dynamic properties, the registration wait', () => {
    const jm = jobManagerUnit(vars(), '/usr/lib/jvm/java-17-openjdk-amd64', '/opt/flink/current');
    expect(jm).toContain('ExecStart=/opt/flink/current/bin/jobmanager.sh start-foreground');
    expect(jm).toContain('User=flink');
    expect(jm).toContain('Environment=FLINK_CONF_DIR=/etc/flink/conf');
    expect(jm).toContain('LimitNOFILE=65536');
    const tm = taskManagerTemplate(vars(), '/usr/lib/jvm/java-17-openjdk-amd64', '/opt/flink/current');
    expect(tm).toContain(
      'ExecStart=/opt/flink/current/bin/taskmanager.sh start-foreground -Dtaskmanager.resource-id=${FLINK_TM_RESOURCE_ID} -Dtaskmanager.rpc.port=${FLINK_TM_RPC_PORT} -Dtaskmanager.data.port=${FLINK_TM_DATA_PORT} -Dio.tmp.dirs=${FLINK_TM_TMP_DIR}',
    );
    expect(tm).toContain('Environment=FLINK_CONF_DIR=/etc/flink/taskmanager');
    expect(tm).toContain('ExecStartPost=/usr/local/libexec/orch-flink-registered ${FLINK_TM_RESOURCE_ID} 180');
  });

  it('resource_limits become MemoryMax=/CPUQuota= on the JobManager unit and each TaskManager drop-in', () => {
    const peers: PeerHost[] = [{ ...SINGLE[0], vars: { ...SINGLE[0].vars, resource_limits: { 'flink-jobmanager': { memory_mb: 1536, cpus: 1 }, 'flink-taskmanager': { memory_mb: 2048, cpus: 1.5 } } } }];
    const list = opsOf(ctx({ peers }));
    const jm = written(named(list, 'unit', '/etc/systemd/system/flink-jobmanager.service'));
    expect(jm).toContain('MemoryMax=1536M');
    expect(jm).toContain('CPUQuota=100%');
    const d1 = written(named(list, 'instance', '/etc/systemd/system/flink-taskmanager@1.service.d/orch-instance.conf'));
    expect(d1).toContain('MemoryMax=2048M');
    expect(d1).toContain('CPUQuota=150%');
  });

  it('a TaskManager setting notifies only the TaskManager instances; the JobManager config only the JobManager', () => {
    const list = opsOf(ctx());
    expect(named(list, 'file', '/etc/flink/taskmanager/config.yaml')!.notify).toEqual(['flink-taskmanager@1', 'flink-taskmanager@2']);
    expect(named(list, 'file', '/etc/flink/conf/config.yaml')!.notify).toEqual(['flink-jobmanager']);
  });

  it('the release from the catalogue (sha256 pinned) or a mirror with its sha512; RHEL installs the same names', () => {
    expect(release('flink', '1.20.0')).toMatchObject({ fileName: 'flink-1.20.0-bin-scala_2.12.tgz', topDir: 'flink-1.20.0', path: 'flink/flink-1.20.0/flink-1.20.0-bin-scala_2.12.tgz', sha256: '708fd544ccf9ddc0d4b192fe035797ce16de2c26f1d764c55907305efe140af0' });
    expect(artifactSource(release('flink', '1.20.0'))).toMatchObject({ url: 'https://archive.apache.org/dist/flink/flink-1.20.0/flink-1.20.0-bin-scala_2.12.tgz', sha256: '708fd544ccf9ddc0d4b192fe035797ce16de2c26f1d764c55907305efe140af0' });
    expect(artifactSource(release('flink', '1.20.0'), { mirror: 'http://127.0.0.1:1/', sha512: 'a'.repeat(128) }).url).toBe('http://127.0.0.1:1/flink/flink-1.20.0/flink-1.20.0-bin-scala_2.12.tgz');
    expect(named(opsOf(ctx()), 'artifact')!.name).toBe('/opt/flink/releases/1.20.0');
    const rhel = opsOf(ctx({ osFamily: 'redhat' }));
    expect(named(rhel, 'packages')!.name).toContain('curl');
  });

  it('declarations: JobManager ports, two ports per TaskManager instance, memory of all processes', () => {
    const d = flink.declares!(ctx());
    expect(d.ports!.map((p) => p.port)).toEqual([6123, 6124, 8081, 6122, 6121, 6132, 6131]);
    expect(d.memoryMb).toBe(1536 + 2 * 2048);
    expect(d.dataDirs).toEqual(['/data/flink']);
    expect(flink.declares!(ctx({ peers: MINIMAL, host: 'vm5' })).ports!.map((p) => p.port)).toEqual([6122, 6121, 6132, 6131]);
  });

  it('validate: no JobManager, two without HA, HA without ZooKeeper', () => {
    expect(flink.validate!(ctx())).toEqual([]);
    const noJm: PeerHost[] = [{ name: 't', address: '10.1.1.1', groups: ['flink_taskmanager'], vars: {} }];
    expect(flink.validate!(ctx({ peers: noJm }))).toContain('inventory group flink_jobmanager is empty: Flink needs a JobManager');
    const two = ENTERPRISE.filter((p) => !p.groups.includes('zookeeper'));
    expect(flink.validate!(ctx({ peers: two, host: 'flink-jm01' })).join('\n')).toContain('2 JobManagers in flink_jobmanager without HA');
    expect(flink.validate!(ctx({ peers: two, host: 'flink-jm01', vars: { flink_ha: 'zookeeper' } })).join('\n')).toContain('needs a ZooKeeper ensemble');
  });
});

describe('flink: health commands', () => {
  // a stand-in curl that answers like Flink's REST API for the resource ids it is given
  function fakeCurl(listed: Record<string, number>): string {
    const dir = mkdtempSync(join(tmpdir(), 'orch-flink-'));
    const cases = Object.entries(listed).map(([id, slots]) => `  */taskmanagers/${id}) echo '{"id":"${id}","path":"pekko.tcp://flink@x:6122/user/rpc/taskmanager_0","dataPort":6121,"slotsNumber":${slots},"freeSlots":${slots}}' ;;`);
    writeFileSync(join(dir, 'curl'), ['#!/bin/sh', 'for a; do url=$a; done', 'case "$url" in', ...cases, '  *) exit 22 ;;', 'esac', ''].join('\n'));
    chmodSync(join(dir, 'curl'), 0o755);
    return dir;
  }
  const c = clusterOf(SINGLE, SINGLE, vars());

  it('every TaskManager listed with its slots: healthy; one missing or with other slots: not, naming it', () => {
    const ok = fakeCurl({ 'flink-taskmanager-1': 3, 'flink-taskmanager-2': 3 });
    expect(sh(taskManagersListed(c, 8081, c.taskManagers), { ...process.env, PATH: `${ok}:${process.env.PATH}` }).code).toBe(0);
    const one = fakeCurl({ 'flink-taskmanager-1': 3 });
    const r = sh(taskManagersListed(c, 8081, c.taskManagers), { ...process.env, PATH: `${one}:${process.env.PATH}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('TaskManager flink-taskmanager-2 not listed with 3 slots');
    const slots = fakeCurl({ 'flink-taskmanager-1': 3, 'flink-taskmanager-2': 30 });
    expect(sh(taskManagersListed(c, 8081, c.taskManagers), { ...process.env, PATH: `${slots}:${process.env.PATH}` }).code).toBe(1);
  });

  it('the registration wait returns as soon as the TaskManager is listed, and never fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-flink-'));
    writeFileSync(join(dir, 'wait'), registeredScript(c, 8081));
    chmodSync(join(dir, 'wait'), 0o755);
    const ok = fakeCurl({ 'flink-taskmanager-1': 3 });
    const env = { ...process.env, PATH: `${ok}:${process.env.PATH}` };
    const t0 = Date.now();
    expect(sh(`${join(dir, 'wait')} flink-taskmanager-1 30`, env).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sh(`${join(dir, 'wait')} flink-taskmanager-9 1`, env).code).toBe(0);
  });

  it("instancesOf reads a peer's own instance count", () => {
    expect(instancesOf(MINIMAL[1], vars()).map((t) => t.id)).toEqual(['1', '2']);
    expect(instancesOf(MINIMAL[0], vars()).map((t) => t.id)).toEqual(['1']);
  });
});
