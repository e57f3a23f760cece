import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/playbook/plan.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { InputError } from '../../src/core/errors.js';
import { projectRoot } from '../../src/core/project.js';
import { tempInventory } from '../helpers/inventory.js';

const demo = defineRole({
  name: 'demo',
  description: 'test role',
  vars: {
    demo_port: v.port({ default: 8080, doc: 'port' }),
    demo_heap: v.str({ default: '1g', pattern: '^[0-9]+[mg]$', doc: 'heap' }),
    demo_password: v.str({ default: 'pw-default-x', doc: 'password', secret: true }),
  },
  operations: () => [],
});
const role = (name: string, dependsOn: string[] = []) => defineRole({ name, description: name, dependsOn, vars: {}, operations: () => [] });

function playbook(text: string) {
  const f = join(mkdtempSync(join(tmpdir(), 'orch-plan-')), 'pb.yml');
  writeFileSync(f, text);
  return loadPlaybook(f);
}

function registry(...roles: ReturnType<typeof role>[]) {
  const r = new RoleRegistry([]);
  for (const x of roles) r.add(x);
  return r;
}

describe('plan: minimal-5vm', () => {
  it('resolves phases, hosts and roles of the site playbook offline', async () => {
    const inv = loadInventory('minimal-5vm', { projectRoot });
    const pb = loadPlaybook(join(projectRoot, 'playbooks', 'site.yml'));
    const plan = await buildPlan({ inventory: inv, playbook: pb, registry: new RoleRegistry() });
    expect(plan.phases.map((p) => p.phase.name)).toEqual(['os-preparation', 'runtimes', 'coordination', 'coordination-zookeeper', 'load-balancer', 'data-layer', 'databases', 'object-storage', 'streaming', 'streaming-connect', 'catalog', 'processing', 'query', 'iam-redis', 'iam-redis-sentinel', 'analytics', 'analytics-mlflow', 'analytics-superset', 'analytics-jupyterhub', 'notebooks', 'iam-keycloak', 'monitoring-exporters', 'monitoring-alertmanager', 'monitoring-prometheus']);
    const phase = (i: number | string) => (typeof i === 'number' ? plan.phases[i] : plan.phases.find((p) => p.phase.name === i)!);
    const placed = (i: number | string) => phase(i).hosts.map((h) => [h.name, h.roles.map((r) => r.name)]);
    expect(placed('coordination')).toEqual([['vm1', ['etcd']], ['vm2', ['etcd']], ['vm3', ['etcd']]]);
    expect(placed('coordination-zookeeper')).toEqual([]); // no ZooKeeper in this seed
    expect(placed('load-balancer')).toEqual(['vm1', 'vm2', 'vm3'].map((h) => [h, ['haproxy', 'keepalived']]));
    expect(placed('data-layer')).toEqual([['vm1', ['patroni']], ['vm2', ['patroni']], ['vm3', ['patroni']]]);
    expect(placed('databases')).toEqual([]); // no plain PostgreSQL server
    // Phase 4: Kafka brokers 1-3 (KRaft) on VM1-VM3
    expect(placed('streaming')).toEqual(['vm1', 'vm2', 'vm3'].map((h) => [h, ['kafka-kraft']]));
    const kafka = phase('streaming').hosts.map((h) => ({ ...plan.hostVars.get(h.name)!, ...h.roles[0].vars }));
    expect(kafka.map((v) => [v.node_id, v.kafka_version, v.kafka_process_roles, v.kafka_heap, v.kafka_default_replication_factor, v.kafka_min_insync_replicas])).toEqual(
      [1, 2, 3].map((id) => [id, '3.9.0', 'broker,controller', '16g', 3, 2]),
    );
    // Phase 4: Kafka Connect on VM5 (8083) against the brokers of VM1-VM3
    expect(placed('streaming-connect')).toEqual([['vm5', ['kafka-connect']]]);
    expect(phase('streaming-connect').hosts[0].roles[0].vars).toMatchObject({ kafka_connect_version: '3.9.0', kafka_connect_port: 8083, kafka_connect_bootstrap_group: 'kafka', kafka_connect_heap: '2g' });
    // Phase 5: Nessie on VM1-3, its version store on the Patroni cluster through the VIP's primary port, Java 21+
    expect(placed('catalog')).toEqual(['vm1', 'vm2', 'vm3'].map((h) => [h, ['nessie']]));
    const nessie = phase('catalog').hosts.map((h) => h.roles[0].vars);
    expect(nessie.map((v) => [v.nessie_version, v.nessie_port, v.nessie_heap, v.nessie_jdbc_url, v.nessie_jdbc_password, v.nessie_database_group])).toEqual(
      [1, 2, 3].map(() => ['0.99.0', 19120, '3g', 'jdbc:postgresql://10.20.0.100:5000/nessie', '', 'patroni']),
    );
    expect(plan.hostVars.get('vm1')!.java_archive_releases).toEqual(['23.0.2+7']);
    // Phase 6: the Flink session cluster, JobManager on VM4 (no HA: the seed's), TaskManagers on VM4 and VM5 (2)
    expect(placed('processing')).toEqual([['vm4', ['flink']], ['vm5', ['flink']]]);
    expect(phase('processing').hosts.map((h) => [h.roles[0].vars.flink_version, h.roles[0].vars.flink_ha, h.roles[0].vars.flink_taskmanager_instances ?? 1])).toEqual([['1.20.0', 'none', 1], ['1.20.0', 'none', 2]]);
    // the seed: Redis master VM3, replica VM2; Sentinels on VM1-VM3
    expect(placed('iam-redis')).toEqual([['vm2', ['redis']], ['vm3', ['redis']]]);
    expect(placed('iam-redis-sentinel')).toEqual(['vm1', 'vm2', 'vm3'].map((h) => [h, ['redis-sentinel']]));
    // Phase 8: Airflow 2.10.4 (Celery), scheduler and webserver (8082) on VM4, two workers on VM5; after Redis (its broker)
    expect(placed('analytics')).toEqual([['vm4', ['airflow']], ['vm5', ['airflow']]]);
    const names = plan.phases.map((p) => p.phase.name);
    expect(names.indexOf('analytics')).toBeGreaterThan(names.indexOf('iam-redis'));
    expect(phase('analytics').hosts[0].roles[0].vars).toMatchObject({ airflow_version: '2.10.4', airflow_executor: 'CeleryExecutor', airflow_webserver_port: 8082, airflow_worker_instances: 2, airflow_db_host: '10.20.0.100', airflow_db_port: 5000, airflow_db_password: '' });
    // Phase 8: MLflow 2.19.0 on VM5 (5001) and Superset 4.1.1 on VM4 (8088), their databases on the Patroni cluster
    // through the VIP's primary port (owner passwords generated there), Superset's caches on Redis through the Sentinels
    expect(placed('analytics-mlflow')).toEqual([['vm5', ['mlflow']]]);
    expect(placed('analytics-superset')).toEqual([['vm4', ['superset']]]);
    // and JupyterHub 5.2.1 on VM4 (8000), PAM for the group jupyterhub-users, its hub API off Flink's 8081
    expect(placed('analytics-jupyterhub')).toEqual([['vm4', ['jupyterhub']]]);
    expect(phase('analytics-jupyterhub').hosts[0].roles[0].vars).toMatchObject({ jupyterhub_version: '5.2.1', jupyterhub_port: 8000, jupyterhub_hub_port: 8091, jupyterhub_authenticator: 'pam', jupyterhub_allowed_groups: ['jupyterhub-users'], jupyterhub_home_root: '/home/jupyter' });
    expect(names.indexOf('analytics-superset')).toBeGreaterThan(names.indexOf('iam-redis-sentinel'));
    expect(phase('analytics-mlflow').hosts[0].roles[0].vars).toMatchObject({ mlflow_version: '2.19.0', mlflow_port: 5001, mlflow_backend_store_uri: 'postgresql://mlflow@10.20.0.100:5000/mlflow', mlflow_backend_store_password: '', mlflow_database_group: 'patroni', mlflow_artifacts_destination: '/var/lib/mlflow/artifacts' });
    expect(phase('analytics-superset').hosts[0].roles[0].vars).toMatchObject({ superset_version: '4.1.1', superset_port: 8088, superset_database_uri: 'postgresql+psycopg2://superset@10.20.0.100:5000/superset', superset_database_password: '', superset_database_group: 'patroni', superset_redis_sentinel_group: 'redis_sentinel', superset_redis_db: 1 });
    // Phase 9: Keycloak 26.0.7 clustered on VM1-3, 8080, behind HAProxy, its database on the Patroni cluster
    expect(placed('iam-keycloak')).toEqual(['vm1', 'vm2', 'vm3'].map((h) => [h, ['keycloak']]));
    const kc = phase('iam-keycloak').hosts[0].roles[0].vars;
    expect([kc.keycloak_version, kc.keycloak_http_port, kc.keycloak_db_url, kc.keycloak_hostname]).toEqual(['26.0.7', 8080, 'jdbc:postgresql://10.20.0.100:5000/keycloak', 'http://keycloak.datalyptica.local']);
    // Phase 10: node exporters everywhere, Alertmanager on VM3 (9095: Kafka's controller has 9093), Prometheus on VM1
    expect(placed('monitoring-exporters')).toEqual(['vm1', 'vm2', 'vm3', 'vm4', 'vm5'].map((h) => [h, ['node-exporter']]));
    expect(placed('monitoring-alertmanager')).toEqual([['vm3', ['alertmanager']]]);
    expect(phase('monitoring-alertmanager').hosts[0].roles[0].vars.alertmanager_port).toBe(9095);
    expect(placed('monitoring-prometheus')).toEqual([['vm1', ['prometheus']]]);
    expect(plan.phases[0].hosts.map((h) => h.name)).toEqual(['vm1', 'vm2', 'vm3', 'vm4', 'vm5']);
    const vm1 = plan.phases[0].hosts[0].roles[0];
    expect(vm1.name).toBe('common');
    expect(vm1.vars.common_sysctl).toMatchObject({ 'vm.max_map_count': 262144, 'net.ipv4.ip_local_port_range': '10000 65535' });
    expect(vm1.vars.common_data_dirs).toEqual(['/data', '/data/postgresql', '/data/etcd']);
    expect(plan.phases[0].hosts[4].roles[0].vars.common_data_dirs).toContain('/data/spark');
    expect(plan.connections.get('vm4')).toMatchObject({ address: '10.20.0.21', port: 22, user: 'root' });
  });

  it('limits hosts, selects phases and filters by tags', async () => {
    const inv = loadInventory('minimal-5vm', { projectRoot });
    const pb = loadPlaybook(join(projectRoot, 'playbooks', 'site.yml'));
    const reg = new RoleRegistry();
    const p1 = await buildPlan({ inventory: inv, playbook: pb, registry: reg, limit: 'data_plane', fromPhase: '2' });
    expect(p1.phases.map((p) => [p.phase.name, p.hosts.map((h) => h.name)])).toEqual([
      ['runtimes', ['vm4', 'vm5']],
      ['coordination', []],
      ['coordination-zookeeper', []],
      ['load-balancer', []],
      ['data-layer', []],
      ['databases', []],
      ['object-storage', []],
      ['streaming', []],
      ['streaming-connect', ['vm5']],
      ['catalog', []],
      ['processing', ['vm4', 'vm5']],
      ['query', ['vm4', 'vm5']],
      ['iam-redis', []],
      ['iam-redis-sentinel', []],
      ['analytics', ['vm4', 'vm5']],
      ['analytics-mlflow', ['vm5']],
      ['analytics-superset', ['vm4']],
      ['analytics-jupyterhub', ['vm4']],
      ['notebooks', []],
      ['iam-keycloak', []],
      ['monitoring-exporters', ['vm4', 'vm5']],
      ['monitoring-alertmanager', []],
      ['monitoring-prometheus', []],
    ]);
    const p2 = await buildPlan({ inventory: inv, playbook: pb, registry: reg, phase: 'os-preparation', skipTags: ['common'] });
    expect(p2.phases[0].hosts[0].roles).toEqual([]);
    await expect(buildPlan({ inventory: inv, playbook: pb, registry: reg, phase: 'nope' })).rejects.toThrow(/no such phase/);
  });

  it('extra vars win over the inventory', async () => {
    const inv = loadInventory('minimal-5vm', { projectRoot });
    const pb = loadPlaybook(join(projectRoot, 'playbooks', 'site.yml'));
    const plan = await buildPlan({ inventory: inv, playbook: pb, registry: new RoleRegistry(), extraVars: parseExtraVars(['common_timezone=Europe/Paris'], projectRoot) });
    expect(plan.phases[0].hosts[2].roles[0].vars.common_timezone).toBe('Europe/Paris');
  });
});

describe('plan: errors before any host is touched', () => {
  it('reports every invalid variable with file, line and key, and refuses placeholder secrets', async () => {
    const inv = loadInventory(join(projectRoot, 'test/fixtures/plan-bad'));
    const pb = playbook('- name: one\n  hosts: web\n  roles: [demo]\n');
    const err = await buildPlan({ inventory: inv, playbook: pb, registry: registry(demo) }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    const text = (err as InputError).message;
    expect(text).toMatch(/group_vars\/web\.yml:1: demo_heap: "4gb" is not valid for role demo: must match pattern/);
    expect(text).toMatch(/hosts\.yml:8: .*demo_port: "eighty" is not valid for role demo: must be integer/);
    expect(text).toMatch(/group_vars\/web\.yml:2: demo_password: secret demo_password is still a placeholder/);
    expect(text).not.toContain('changeme');
  });

  it('names a dependency scheduled later, or missing, and a cycle', async () => {
    const inv = loadInventory(join(projectRoot, 'test/fixtures/plan-bad'));
    const later = playbook('- name: one\n  hosts: web\n  roles: [kafka]\n- name: two\n  hosts: web\n  roles: [java]\n');
    await expect(buildPlan({ inventory: inv, playbook: later, registry: registry(role('kafka', ['java']), role('java')) })).rejects.toThrow(
      /role kafka depends on java, which is scheduled later \(phase 2 two\) on host w1/,
    );
    const missing = playbook('- name: one\n  hosts: web\n  roles: [kafka]\n');
    await expect(buildPlan({ inventory: inv, playbook: missing, registry: registry(role('kafka', ['java']), role('java')) })).rejects.toThrow(
      /role kafka depends on java, which runs on host w1 in no phase up to 1/,
    );
    const cyc = playbook('- name: one\n  hosts: web\n  roles: [a, b]\n');
    await expect(buildPlan({ inventory: inv, playbook: cyc, registry: registry(role('a', ['b']), role('b', ['a'])) })).rejects.toThrow(/role dependency cycle: a -> b -> a/);
  });

  it('orders roles in a phase by their dependencies', async () => {
    const inv = loadInventory(join(projectRoot, 'test/fixtures/plan-bad'));
    const pb = playbook('- name: one\n  hosts: w1\n  roles: [kafka, java]\n');
    const plan = await buildPlan({ inventory: inv, playbook: pb, registry: registry(role('kafka', ['java']), role('java')) });
    expect(plan.phases[0].hosts[0].roles.map((r) => r.name)).toEqual(['java', 'kafka']);
  });

  it('warns about a variable no role uses that looks like a misspelt role variable', async () => {
    const dir = tempInventory({ 'hosts.yml': 'all:\n  hosts:\n    h1:\n      demo_heapp: 2g\n      demo_port: 9000\n      unrelated_setting: 1\n' });
    const plan = await buildPlan({ inventory: loadInventory(dir), playbook: playbook('- name: one\n  hosts: all\n  roles: [demo]\n'), registry: registry(demo) });
    expect(plan.warnings).toEqual([expect.stringMatching(/hosts\.yml:4: all\.hosts\.h1\.demo_heapp: no role uses demo_heapp; did you mean demo_heap\?$/)]);
  });

  it('unknown roles are named with the available ones', async () => {
    const inv = loadInventory(join(projectRoot, 'test/fixtures/plan-bad'));
    await expect(buildPlan({ inventory: inv, playbook: playbook('- name: one\n  hosts: web\n  roles: [nope]\n'), registry: registry(role('java')) })).rejects.toThrow(/unknown role nope \(available: java\)/);
  });
});
