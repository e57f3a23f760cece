/**
 * schema-registry on 2 simulated hosts: a real 1-node KRaft Kafka 3.9.0 (roles/kafka-kraft, its jars from Maven Central
 * by src/sim/artifacts) on s1, and two registry instances (s1, s2) in the group schema_registry.
 *
 * The registry is a FIXTURE, not Confluent Schema Registry: Confluent's archive is in no registry this machine reaches
 * (../../../shared/ARTIFACTS.md). test/helpers/schema-registry-fixture packs a small Java REST server (Apache
 * kafka-clients) in the layout and under the path of confluent-community-7.8.0.tar.gz and it is served as
 * artifact_mirror, so the role installs it as it would install Confluent's archive; the fixture keeps schemas in the
 * real `_schemas` topic, so what this test checks is the role's work: install, configuration (the store on the
 * kafka group's broker, replication factor, host.name), unit, a store shared by both instances, health, rerun and
 * `--check`, a rolling restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { buildArtifact, serveArtifacts, type ArtifactMirror, type BuiltArtifact } from '../../src/sim/artifacts/index.js';
import { buildSchemaRegistryFixture } from '../helpers/schema-registry-fixture/recipe.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { prepareArtifacts } from '../../src/ops/index.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['s1', 's2'];
const sim = useSimHosts({
  name: 'schema-registry',
  hosts: [
    { name: 's1', groups: ['kafka', 'schema_registry'], memoryMb: 1536 },
    { name: 's2', groups: ['schema_registry'], memoryMb: 1024 },
  ],
});
const runs = useRuns();
const work = mkdtempSync(join(tmpdir(), 'orch-schema-registry-'));
writeFileSync(join(work, 'hosts.yml'), 'all:\n  children:\n    kafka:\n      hosts:\n        s1: { node_id: 1 }\n    schema_registry:\n      hosts:\n        s1:\n        s2:\n');
writeFileSync(
  join(work, 'site.yml'),
  '- name: os\n  hosts: all\n  roles: [common, java]\n- name: streaming\n  hosts: kafka\n  roles: [kafka-kraft]\n- name: schemas\n  hosts: schema_registry\n  roles: [schema-registry]\n',
);
let kafka: BuiltArtifact;
let fixture: BuiltArtifact;
let mirror: ArtifactMirror;

beforeAll(async () => {
  kafka = await buildArtifact({ service: 'kafka', version: '3.9.0', log: (s) => console.log(`[kafka artifact] ${s}`) });
  fixture = await buildSchemaRegistryFixture('7.8.0', (s) => console.log(`[schema-registry fixture] ${s}`));
  mirror = await serveArtifacts([kafka, fixture]);
});
afterAll(() => mirror?.close());

async function plan(vars: Record<string, unknown> = {}): Promise<RunPlan> {
  const values = {
    artifact_mirror: mirror.url,
    kafka_sha512: kafka.sha512,
    kafka_heap: '320m',
    kafka_num_network_threads: 2,
    kafka_num_io_threads: 4,
    schema_registry_sha512: fixture.sha512,
    schema_registry_heap: '128m',
    ...vars,
  };
  return buildPlan({
    inventory: loadInventory(work, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(work, 'site.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
    extraVars: [{ label: 'extra vars', values, origins: {} }],
  });
}
const run = async (vars: Record<string, unknown> = {}, check = false) => runs.run(await plan(vars), { prepare: prepareArtifacts, check });

async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(`export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH\n${cmd}`);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const addr = (h: string) => sim.host(h).address;
const url = (h: string, path: string) => `http://${addr(h)}:8085${path}`;
/** an HTTP call made on `from` to the registry on `to`, as JSON */
async function rest(from: string, to: string, path: string, body?: unknown): Promise<unknown> {
  const data = body === undefined ? '' : ` -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data-binary '${JSON.stringify(body).replace(/'/g, `'\\''`)}'`;
  return JSON.parse(await on(from, `curl -sS --fail-with-body --max-time 30${data} '${url(to, path)}'`));
}
const changed = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : e.type === 'handler' && e.status === 'changed' ? [`${e.host} handler ${e.name}`] : []));
const failed = (events: RunEvent[]) => events.filter((e): e is Extract<RunEvent, { type: 'host-failed' }> => e.type === 'host-failed');
const since = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, Number((await on(h, 'systemctl show -p ActiveEnterTimestampMonotonic --value confluent-schema-registry')).trim())] as const)));

const ORDER = JSON.stringify({ type: 'record', name: 'Order', namespace: 'datalyptica', fields: [{ name: 'id', type: 'long' }, { name: 'amount', type: 'double' }] });
const CUSTOMER = JSON.stringify({ type: 'record', name: 'Customer', fields: [{ name: 'name', type: 'string' }] });

describe('schema-registry: two instances on one Kafka store', () => {
  it('without the archive checksum from the inventory the plan is refused before any host is touched', async () => {
    await expect(plan({ schema_registry_sha512: '' })).rejects.toThrow(/schema_registry_sha512 \(or schema_registry_sha256\) is required/);
  });

  it('installs the archive, writes the store from the kafka group, and both instances answer', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    console.log(`[schema-registry] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    for (const h of HOSTS) {
      expect(await rest(h, h, '/')).toEqual({});
      expect(await rest(h, h, '/subjects')).toEqual([]);
      const props = await on(h, 'cat /etc/schema-registry/schema-registry.properties');
      expect(props).toContain(`\nhost.name=${addr(h)}\n`);
      expect(props).toContain(`\nkafkastore.bootstrap.servers=PLAINTEXT://${addr('s1')}:9092\n`);
      expect(props).toContain('\nkafkastore.topic.replication.factor=1\n');
      expect(props).toContain('\nleader.eligibility=true\n');
      // the archive as installed: Confluent's layout (this one is the test fixture, and says so)
      expect(await on(h, 'readlink /opt/confluent/current; ls /opt/confluent/current/bin; head -1 /opt/confluent/current/ORCH-TEST-FIXTURE.txt')).toMatch(
        /^\/opt\/confluent\/releases\/7\.8\.0\nschema-registry-start\nTEST FIXTURE/,
      );
      expect(await on(h, 'for p in User LimitNOFILE ActiveState; do systemctl show -p $p --value confluent-schema-registry; done')).toBe('cp-schema-registry\n100000\nactive\n');
    }
    // the store is Kafka's _schemas topic: one partition, compacted, the cluster's replication factor
    const topic = await on('s1', `kafka-topics.sh --bootstrap-server ${addr('s1')}:9092 --describe --topic _schemas`);
    expect(topic).toMatch(/PartitionCount: 1\s+ReplicationFactor: 1\s+Configs: \S*cleanup\.policy=compact/);
  });

  it('a schema registered on one instance is read through the other, and kept in the _schemas topic', async () => {
    expect(await rest('s2', 's1', '/subjects/orders-value/versions', { schema: ORDER })).toEqual({ id: 1 });
    expect(await rest('s1', 's2', '/subjects')).toEqual(['orders-value']);
    expect(await rest('s1', 's2', '/subjects/orders-value/versions/latest')).toEqual({ subject: 'orders-value', version: 1, id: 1, schema: ORDER });
    expect(await rest('s1', 's2', '/schemas/ids/1')).toEqual({ schema: ORDER });
    // the other way round, and the same schema again is the same id
    expect(await rest('s1', 's2', '/subjects/customers-value/versions', { schema: CUSTOMER })).toEqual({ id: 2 });
    expect(await rest('s2', 's1', '/subjects/customers-value/versions/latest')).toEqual({ subject: 'customers-value', version: 1, id: 2, schema: CUSTOMER });
    expect(await rest('s2', 's1', '/subjects/orders-value/versions', { schema: ORDER })).toEqual({ id: 1 });
    const records = await on('s1', `kafka-console-consumer.sh --bootstrap-server ${addr('s1')}:9092 --topic _schemas --from-beginning --max-messages 2 --timeout-ms 60000 2>/dev/null`);
    expect(records.trim().split('\n').map((l) => (JSON.parse(l) as { subject: string }).subject)).toEqual(['orders-value', 'customers-value']);
  });

  it('a rerun changes nothing', async () => {
    const { code, events } = await run();
    expect(code).toBe(0);
    expect(changed(events)).toEqual([]);
  });

  it('a changed setting: --check names exactly what the run then changes (the file, a restart per host, one at a time), and touches nothing', async () => {
    const vars = { schema_registry_extra_properties: { 'schema.compatibility.level': 'full' } };
    const check = await run(vars, true);
    expect(failed(check.events)).toEqual([]);
    expect(check.code).toBe(0);
    const predicted = changed(check.events).sort();
    console.log(`[schema-registry] --check: ${predicted.join('; ')}`);
    expect(predicted).toContain('s1 file /etc/schema-registry/schema-registry.properties');
    expect(predicted).toContain('s2 file /etc/schema-registry/schema-registry.properties');
    for (const h of HOSTS) expect(await on(h, 'grep -c compatibility /etc/schema-registry/schema-registry.properties || true')).toBe('0\n');

    const t0 = await since();
    const live = await run(vars);
    expect(failed(live.events)).toEqual([]);
    expect(live.code).toBe(0);
    expect(changed(live.events).sort()).toEqual(predicted);
    const t1 = await since();
    for (const h of HOSTS) {
      expect(t1[h]).toBeGreaterThan(t0[h]);
      expect(await on(h, 'grep ^schema.compatibility.level= /etc/schema-registry/schema-registry.properties')).toBe('schema.compatibility.level=full\n');
    }
    // one instance at a time: the second restarted only after the first answered its health check
    const health = live.events.filter((e): e is Extract<RunEvent, { type: 'handler' }> => e.type === 'handler' && e.name === 'health schema-registry');
    const order = [...HOSTS].sort((a, b) => t1[a] - t1[b]);
    expect(health.map((e) => e.host)).toEqual(order);
    console.log(`[schema-registry] rolling restart: ${order.map((h) => `${h} at +${((t1[h] - t1[order[0]]) / 1e6).toFixed(1)} s`).join(', ')}`);
    expect(t1[order[1]] - t1[order[0]]).toBeGreaterThan(1e6);
    // restarted instances read the store back from Kafka
    expect(await rest('s1', 's2', '/subjects')).toEqual(['customers-value', 'orders-value']);
    expect(await rest('s2', 's1', '/schemas/ids/2')).toEqual({ schema: CUSTOMER });
    expect(changed((await run(vars)).events)).toEqual([]);
  });
});
