import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/playbook/plan.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defineRole, type RoleDefinition } from '../../src/role/define.js';
import type { QuorumDeclaration } from '../../src/role/declare.js';
import { v } from '../../src/role/vars.js';
import { InputError } from '../../src/core/errors.js';
import { projectRoot } from '../../src/core/project.js';
import { serviceGroups } from '../../src/playbook/checks.js';
import { renderPlan, planJson } from '../../src/cli/commands/plan.js';
import { recapTable } from '../../src/report/recap.js';
import { tempInventory } from '../helpers/inventory.js';
import { runPlan } from '../../src/runner/run.js';
import { localConnection } from '../../src/transport/local.js';
import type { RunEvent } from '../../src/report/events.js';

function playbook(text: string) {
  const f = join(mkdtempSync(join(tmpdir(), 'orch-checks-')), 'pb.yml');
  writeFileSync(f, text);
  return loadPlaybook(f);
}

function registry(...roles: RoleDefinition<any>[]) {
  const r = new RoleRegistry([]);
  for (const x of roles) r.add(x);
  return r;
}

/** A role listening on ports set by its variables, using memory (GiB) and CPUs, optionally in a quorum group. */
function service(
  name: string,
  ports: Record<string, [number, string]>,
  o: { memoryGb?: number; cpus?: number; quorum?: QuorumDeclaration; serves?: string[]; udp?: string[] } = {},
) {
  return defineRole({
    name,
    description: name,
    vars: Object.fromEntries(Object.entries(ports).map(([k, [port, doc]]) => [k, v.port({ default: port, doc })])),
    operations: () => [],
    declares: ({ vars }) => ({
      ports: Object.entries(ports).map(([k, [, doc]]) => ({ port: (vars as Record<string, number>)[k], variable: k, description: doc, protocol: o.udp?.includes(k) ? ('udp' as const) : undefined })),
      memoryMb: o.memoryGb !== undefined ? o.memoryGb * 1024 : undefined,
      cpus: o.cpus,
      quorum: o.quorum ? [o.quorum] : undefined,
      serves: o.serves,
    }),
  });
}

// the seed's data plane and VM3 (datalyptica-minimal-5vm.md, "Detailed Service Distribution"), ports as written there
const sparkMaster = service('spark-master', { spark_master_port: [7077, 'Spark master RPC'], spark_master_ui_port: [8080, 'Spark master web UI'] }, { memoryGb: 4, cpus: 2, serves: ['spark_master'] });
const sparkWorker = service('spark-worker', { spark_worker_ui_port: [8081, 'Spark worker web UI'] }, { memoryGb: 48, cpus: 16 });
const flink = service('flink-jobmanager', { flink_rpc_port: [6123, 'Flink JobManager RPC'], flink_rest_port: [8081, 'Flink REST and web UI'] }, { memoryGb: 8, cpus: 2 });
const trino = service('trino', { trino_http_port: [8080, 'Trino HTTP'] }, { memoryGb: 32, cpus: 8, serves: ['trino_coordinator', 'trino_worker'] });
const alertmanager = service('alertmanager', { alertmanager_port: [9093, 'Alertmanager HTTP'] }, { memoryGb: 2, cpus: 1 });
const kafka = service('kafka', { kafka_port: [9092, 'Kafka broker'], kafka_controller_port: [9093, 'KRaft controller'] }, { memoryGb: 16, cpus: 8 });

const DATA_PLANE = `all:
  children:
    control_plane:
      hosts: { vm3: }
    data_plane:
      hosts: { vm4:, vm5: }
    kafka: { children: { control_plane: } }
    alertmanager: { hosts: { vm3: } }
    spark_master: { hosts: { vm4: } }
    spark_worker: { children: { data_plane: } }
    flink_jobmanager: { hosts: { vm4: } }
    trino_coordinator: { hosts: { vm4: } }
    trino_worker: { hosts: { vm5: } }
`;
const SEED_PLAYBOOK = `- name: control
  hosts: control_plane
  roles: [kafka, alertmanager]
- name: data
  hosts: data_plane
  roles: [spark-worker]
- name: masters
  hosts: vm4
  roles: [spark-master, flink-jobmanager]
- name: trino
  hosts: trino_coordinator:trino_worker
  roles: [trino]
`;
const seedRoles = () => registry(sparkMaster, sparkWorker, flink, trino, alertmanager, kafka);

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('plan checks: port conflicts', () => {
  it("reports the seed's conflicts (8080, 8081 on VM4; 9093 on VM3) as bad input naming both roles and the variable to change", async () => {
    const inv = loadInventory(tempInventory({ 'hosts.yml': DATA_PLANE }));
    const err = await inputError(buildPlan({ inventory: inv, playbook: playbook(SEED_PLAYBOOK), registry: seedRoles() }));
    expect(err.exitCode).toBe(4);
    const msgs = err.problems.map((p) => p.message);
    expect(msgs).toHaveLength(3);
    expect(msgs).toContainEqual(
      'port 8080/tcp on host vm4 is asked for by role spark-master (spark_master_ui_port: Spark master web UI) and role trino (trino_http_port: Trino HTTP): two services cannot listen on one port; set trino_http_port (role trino) to a free port for this host',
    );
    expect(msgs).toContainEqual(expect.stringMatching(/^port 8081\/tcp on host vm4 is asked for by role spark-worker \(spark_worker_ui_port: .*\) and role flink-jobmanager \(flink_rest_port: .*\): .*set flink_rest_port/));
    expect(msgs).toContainEqual(expect.stringMatching(/^port 9093\/tcp on host vm3 is asked for by role kafka \(kafka_controller_port: KRaft controller\) and role alertmanager \(alertmanager_port: Alertmanager HTTP\)/));
    // not set in the inventory: the problem names the variable, in the inventory
    expect(err.problems.find((p) => p.message.includes('8080'))).toMatchObject({ file: inv.source, key: 'trino_http_port' });
  });

  it('points at the inventory line that set the clashing port, groups hosts with the same conflict, and passes once it is changed', async () => {
    const files = {
      'hosts.yml': 'all:\n  children:\n    web:\n      hosts: { w1:, w2:, w3: }\n',
      'group_vars/web.yml': 'b_port: 8080\n',
    };
    const a = service('a', { a_port: [8080, 'A HTTP'] });
    const b = service('b', { b_port: [9000, 'B HTTP'] });
    const pb = playbook('- name: one\n  hosts: web\n  roles: [a, b]\n');
    const err = await inputError(buildPlan({ inventory: loadInventory(tempInventory(files)), playbook: pb, registry: registry(a, b) }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ line: 1, key: 'b_port' });
    expect(err.problems[0].file).toMatch(/group_vars\/web\.yml$/);
    expect(err.problems[0].message).toMatch(/^port 8080\/tcp on hosts w1, w2, w3 is asked for by role a \(a_port: A HTTP\) and role b \(b_port: B HTTP\)/);
    expect(err.message).toMatch(/group_vars\/web\.yml:1: b_port: port 8080/);

    const fixed = { ...files, 'host_vars/w2.yml': 'b_port: 8090\n', 'group_vars/web.yml': 'b_port: 8090\n' };
    const plan = await buildPlan({ inventory: loadInventory(tempInventory(fixed)), playbook: pb, registry: registry(a, b) });
    expect(plan.declared?.get('w2')?.ports.map((p) => [p.role, p.port])).toEqual([
      ['a', 8080],
      ['b', 8090],
    ]);
    expect(plan.phases[0].hosts[1].declared?.ports).toHaveLength(2);
  });

  it('the same number on tcp and udp is no conflict; two roles on different hosts neither', async () => {
    const a = service('a', { a_port: [5353, 'A'] });
    const b = service('b', { b_port: [5353, 'B'] }, { udp: ['b_port'] });
    const c = service('c', { c_port: [8080, 'C'] });
    const d = service('d', { d_port: [8080, 'D'] });
    const inv = loadInventory(tempInventory({ 'hosts.yml': 'all:\n  hosts: { h1:, h2: }\n' }));
    const pb = playbook('- name: one\n  hosts: all\n  roles: [a, b]\n- name: two\n  hosts: h1\n  roles: [c]\n- name: three\n  hosts: h2\n  roles: [d]\n');
    const plan = await buildPlan({ inventory: inv, playbook: pb, registry: registry(a, b, c, d) });
    expect(plan.declared?.get('h1')?.ports.map((p) => `${p.port}/${p.protocol}`)).toEqual(['5353/tcp', '5353/udp', '8080/tcp']);
  });

  it('checks ports across every phase of the host, whichever phases this run selects', async () => {
    const a = service('a', { a_port: [8080, 'A'] });
    const b = service('b', { b_port: [8080, 'B'] });
    const inv = loadInventory(tempInventory({ 'hosts.yml': 'all:\n  hosts: { h1: }\n' }));
    const pb = playbook('- name: one\n  hosts: all\n  roles: [a]\n- name: two\n  hosts: all\n  roles: [b]\n');
    const err = await inputError(buildPlan({ inventory: inv, playbook: pb, registry: registry(a, b), phase: 'one' }));
    expect(err.problems[0].message).toMatch(/port 8080\/tcp on host h1 .* role a .* and role b/);
  });
});

describe('plan checks: capacity', () => {
  const HOSTS = `all:
  children:
    data_plane:
      hosts:
        vm4: { host_memory_gb: 256, host_vcpus: 64 }
        vm5: { host_memory_gb: 256, host_vcpus: 64 }
`;
  it("sums the roles' memory and CPU per host and warns where the host is oversubscribed (the seed's VM5)", async () => {
    const worker = service('spark-worker', {}, { memoryGb: 96, cpus: 32 });
    const tm = service('flink-taskmanager', {}, { memoryGb: 64, cpus: 24 });
    const tw = service('trino-worker', {}, { memoryGb: 64, cpus: 16 });
    const ch = service('clickhouse', {}, { memoryGb: 32, cpus: 8 });
    const pb = playbook('- name: all\n  hosts: data_plane\n  roles: [clickhouse]\n- name: vm5\n  hosts: vm5\n  roles: [spark-worker, flink-taskmanager, trino-worker]\n');
    const plan = await buildPlan({ inventory: loadInventory(tempInventory({ 'hosts.yml': HOSTS })), playbook: pb, registry: registry(worker, tm, tw, ch) });
    const vm5 = plan.capacity?.find((r) => r.host === 'vm5');
    expect(vm5).toMatchObject({ memoryMb: 256 * 1024, cpus: 80, hostMemoryMb: 256 * 1024, hostCpus: 64, overMemory: false, overCpu: true });
    expect(plan.capacity?.find((r) => r.host === 'vm4')).toMatchObject({ memoryMb: 32 * 1024, cpus: 8, overMemory: false, overCpu: false });
    const cap = plan.warnings.filter((w) => w.startsWith('capacity:'));
    expect(cap).toEqual(['capacity: vm5 is oversubscribed: its roles declare 80 CPUs (spark-worker 32, flink-taskmanager 24, trino-worker 16, clickhouse 8) on 64 (host_vcpus)']);

    const text = renderPlan(plan);
    expect(text).toContain("capacity (roles' declarations against host_memory_gb / host_vcpus; ? = not given)");
    expect(text).toMatch(/\n {2}vm5 +256 GB \/ 256 GB 100% +80 \/ 64 125% OVER +clickhouse 32 GB\/8, spark-worker 96 GB\/32, /);
  });

  it('a memory overcommit is a warning too; a host without a size shows ? and no warning; a bad size is bad input', async () => {
    const big = service('big', {}, { memoryGb: 5, cpus: 1 });
    const inv = (extra: string) => loadInventory(tempInventory({ 'hosts.yml': `all:\n  hosts:\n    h1: { host_memory_gb: 4 }\n    h2:\n    h3: { ${extra} }\n` }));
    const pb = playbook('- name: one\n  hosts: all\n  roles: [big]\n');
    const plan = await buildPlan({ inventory: inv('host_vcpus: 2'), playbook: pb, registry: registry(big) });
    expect(plan.warnings.filter((w) => w.startsWith('capacity:'))).toEqual(['capacity: h1 is oversubscribed: its roles declare 5 GB of memory (big 5 GB) on 4 GB (host_memory_gb)']);
    expect(renderPlan(plan)).toMatch(/\n {2}h2 +5 GB \/ \? +1 \/ \? +big/);
    const err = await inputError(buildPlan({ inventory: inv('host_vcpus: many'), playbook: pb, registry: registry(big) }));
    expect(err.problems).toEqual([expect.objectContaining({ line: 5, message: '"many" is not a valid host_vcpus of host h3: a positive number expected' })]);
  });
});

describe('capacity at run time, against the facts (cgroup limits, else the machine)', () => {
  it('the recap warns about a host smaller than its roles declare; a host with room gets no warning', async () => {
    const huge = service('huge', {}, { memoryGb: 1024 * 1024, cpus: 0.5 });
    const small = service('small', {}, { memoryGb: 0.01, cpus: 0.01 });
    const inv = loadInventory(tempInventory({ 'hosts.yml': 'all:\n  hosts: { h1:, h2: }\n' }));
    const pb = playbook('- name: one\n  hosts: h1\n  roles: [huge]\n- name: two\n  hosts: h2\n  roles: [small]\n');
    const plan = await buildPlan({ inventory: inv, playbook: pb, registry: registry(huge, small) });
    expect(plan.warnings.filter((w) => w.startsWith('capacity'))).toEqual([]); // no size in the inventory: nothing to say offline
    const events: RunEvent[] = [];
    expect(await runPlan(plan, { check: true, diff: false, emit: (e) => events.push(e), connect: async () => localConnection() })).toBe(0);
    const recap = events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
    expect(recap.warnings).toEqual([expect.stringMatching(/^capacity: h1 is oversubscribed: its roles declare 1048576 GB of memory \(huge 1048576 GB\) on [\d.]+ GB \(memory of the host, from its facts\)$/)]);
    expect(recapTable(recap)).toMatch(/\nwarning: capacity: h1 is oversubscribed/);
  });
});

describe('plan checks: quorum', () => {
  const keeper = service('clickhouse-keeper', { keeper_port: [9181, 'Keeper client'] }, { memoryGb: 1, cpus: 0.5, quorum: { group: 'clickhouse_keeper', kind: 'raft', protects: 'ClickHouse replication' } });
  const plan = (hosts: string) =>
    buildPlan({
      inventory: loadInventory(tempInventory({ 'hosts.yml': `all:\n  children:\n    clickhouse_keeper:\n      hosts: { ${hosts} }\n` })),
      playbook: playbook('- name: one\n  hosts: clickhouse_keeper\n  roles: [clickhouse-keeper]\n'),
      registry: registry(keeper),
    });

  it("flags the seed's 2-member ClickHouse Keeper (VM4, VM5) with the failure it cannot survive", async () => {
    const p = await plan('vm4:, vm5:');
    expect(p.warnings).toEqual([
      'quorum: clickhouse_keeper (Raft, role clickhouse-keeper) has 2 members (vm4, vm5): losing either one stops ClickHouse replication: a majority of 2 is 2; give it a third member',
    ]);
    expect(p.quorums).toEqual([expect.objectContaining({ group: 'clickhouse_keeper', members: ['vm4', 'vm5'], tolerates: 0 })]);
    expect(renderPlan(p)).toContain('quorum groups\n  clickhouse_keeper (raft): vm4, vm5, survives the loss of 0 (losing either one stops');
  });

  it('an odd size passes; 4 members are flagged: they survive no more than 3 would', async () => {
    const three = await plan('a:, b:, c:');
    expect(three.warnings).toEqual([]);
    expect(three.quorums?.[0]).toMatchObject({ tolerates: 1 });
    expect(three.quorums?.[0].problem).toBeUndefined();
    const four = await plan('a:, b:, c:, d:');
    expect(four.warnings).toEqual([
      'quorum: clickhouse_keeper (Raft, role clickhouse-keeper) has 4 members (a, b, c, d): losing 2 stops ClickHouse replication: 4 members survive the loss of 1, no more than 3 would; use 3 or 5',
    ]);
  });

  it('members of one group from different roles count together (ZooKeeper ensemble + observer-free mixed roles)', async () => {
    const zk = (name: string) => service(name, {}, { quorum: { group: 'zk', kind: 'zab', protects: 'Kafka metadata' } });
    const p = await buildPlan({
      inventory: loadInventory(tempInventory({ 'hosts.yml': 'all:\n  hosts: { a:, b: }\n' })),
      playbook: playbook('- name: one\n  hosts: a\n  roles: [zk1]\n- name: two\n  hosts: b\n  roles: [zk2]\n'),
      registry: registry(zk('zk1'), zk('zk2')),
    });
    expect(p.warnings).toEqual([expect.stringMatching(/^quorum: zk \(ZAB, role zk1, zk2\) has 2 members \(a, b\): losing either one stops Kafka metadata/)]);
  });
});

describe('plan checks: services not yet automated', () => {
  it('lists the service groups no role of the playbook deploys, with their hosts; structural groups are not services', async () => {
    const inv = loadInventory(tempInventory({ 'hosts.yml': DATA_PLANE }));
    const pb = playbook('- name: data\n  hosts: data_plane\n  roles: [spark-worker]\n- name: trino\n  hosts: trino_coordinator\n  roles: [trino]\n');
    const plan = await buildPlan({ inventory: inv, playbook: pb, registry: seedRoles() });
    expect(plan.notAutomated).toEqual([
      { group: 'kafka', hosts: ['vm3'] },
      { group: 'alertmanager', hosts: ['vm3'] },
      { group: 'spark_master', hosts: ['vm4'] },
      { group: 'flink_jobmanager', hosts: ['vm4'] },
      // trino serves trino_worker, but runs only on the coordinator here: vm5 is not deployed
      { group: 'trino_worker', hosts: ['vm5'] },
    ]);
    expect(plan.warnings).toContainEqual(
      'not yet automated: 5 service group(s) of the inventory are deployed by no role of the playbook: kafka, alertmanager, spark_master, flink_jobmanager, trino_worker',
    );
    const text = renderPlan(plan);
    expect(text).toContain('not yet automated (placed by the inventory, deployed by no role of the playbook): 5 service group(s)\n  kafka             vm3\n');
    expect(text).toContain('\n  trino_worker      vm5');
    expect(planJson(plan).notAutomated).toHaveLength(5);

    // and the run's recap says it too
    const recap = recapTable({ type: 'recap', hosts: {}, elapsedMs: 10, exitCode: 0, notAutomated: plan.notAutomated });
    expect(recap).toMatch(/exit 0\nnot yet automated .*: 5 service group\(s\)\n {2}kafka +vm3\n/);
  });

  it('orch_service_group overrides the rule both ways', async () => {
    const inv = loadInventory(
      tempInventory({
        'hosts.yml': 'all:\n  children:\n    dc1:\n      vars: { orch_service_group: false }\n      hosts: { h1: }\n    web:\n      hosts: { h1: }\n      children:\n        nginx:\n          hosts: { h1: }\n',
        'group_vars/nginx.yml': 'orch_service_group: true\n',
      }),
    );
    expect(serviceGroups(inv)).toEqual(['web', 'nginx']);
  });

  it("on minimal-5vm and the site playbook: every service of the seed is listed, control_plane and data_plane are not", async () => {
    const inv = loadInventory('minimal-5vm', { projectRoot });
    const plan = await buildPlan({ inventory: inv, playbook: loadPlaybook(join(projectRoot, 'playbooks', 'site.yml')), registry: new RoleRegistry() });
    const groups = plan.notAutomated!.map((n) => n.group);
    expect(groups).toContain('grafana');
    expect(groups).not.toContain('jupyterhub'); // the analytics-jupyterhub phase deploys it
    expect(groups).not.toContain('superset'); // the analytics-superset phase deploys it
    expect(groups).not.toContain('mlflow');
    expect(groups).not.toContain('etcd'); // the coordination phase deploys it
    expect(groups).not.toContain('control_plane');
    expect(groups).not.toContain('data_plane');
    expect(groups).not.toContain('ungrouped');
    expect(groups).not.toContain('trino_worker'); // the query phase deploys it
    expect(plan.notAutomated).toContainEqual({ group: 'spark_worker', hosts: ['vm4', 'vm5'] });
    expect(plan.notAutomated).toContainEqual({ group: 'clickhouse_keeper', hosts: ['vm4', 'vm5'] });
  });
});

describe("plan checks: the roles' own offline validate()", () => {
  // a role whose members need unique ids, as ZooKeeper's myid
  const ensemble = defineRole({
    name: 'ensemble',
    description: 'ensemble',
    vars: {},
    operations: () => [],
    validate: ({ host, group }) => {
      const ids = group('members').map((p) => `${p.name}=${String(p.vars.node_id)}`);
      const mine = String(host.vars.node_id);
      const same = group('members').filter((p) => p.name !== host.name && String(p.vars.node_id) === mine);
      return same.length ? [`node_id ${mine} is also ${same.map((p) => p.name).join(', ')}'s (${ids.join(', ')})`] : [];
    },
  });
  const inv = (ids: number[]) =>
    loadInventory(tempInventory({ 'hosts.yml': `all:\n  children:\n    members:\n      hosts:\n${ids.map((id, i) => `        m${i + 1}: { node_id: ${id} }\n`).join('')}` }));
  const pb = () => playbook('- name: e\n  hosts: members\n  roles: [ensemble]\n');

  it('runs on every host of the role before any host is touched: its problems are bad input naming role and host', async () => {
    const err = await inputError(buildPlan({ inventory: inv([1, 2, 2]), playbook: pb(), registry: registry(ensemble) }));
    expect(err.exitCode).toBe(4);
    expect(err.problems.map((p) => p.message)).toEqual([
      "role ensemble (host m2): node_id 2 is also m3's (m1=1, m2=2, m3=2)",
      "role ensemble (host m3): node_id 2 is also m2's (m1=1, m2=2, m3=2)",
    ]);
  });

  it('passes when it finds nothing', async () => {
    const plan = await buildPlan({ inventory: inv([1, 2, 3]), playbook: pb(), registry: registry(ensemble) });
    expect(plan.phases[0].hosts.map((h) => h.name)).toEqual(['m1', 'm2', 'm3']);
  });
});
