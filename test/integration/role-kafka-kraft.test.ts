/**
 * kafka-kraft on 3 simulated hosts, real Kafka 3.9.0 (its jars from Maven Central, assembled in the release's
 * layout by src/sim/artifacts and served as artifact_mirror), OpenJDK 17 from Debian:
 *   - a combined 3-node KRaft quorum has a leader; a topic with replication factor 3 and min ISR 2 takes writes on
 *     one broker that Kafka's own console consumer reads from another;
 *   - a rerun changes and formats nothing; meta.properties deleted on one node is restored with the cluster's id;
 *     a node formatted with a foreign id stops showing both ids while the others converge;
 *   - a changed broker setting rolls one broker at a time, each back in the ISR before the next, leader last;
 *   - with one node killed the quorum keeps a leader and acks=all writes succeed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { buildArtifact, serveArtifacts, type ArtifactMirror, type BuiltArtifact } from '../../src/sim/artifacts/index.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { prepareArtifacts } from '../../src/ops/index.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['k1', 'k2', 'k3'];
const sim = useSimHosts({ name: 'kafka', hosts: HOSTS.map((name) => ({ name, groups: ['kafka'], memoryMb: 1536 })) });
const runs = useRuns();
const work = mkdtempSync(join(tmpdir(), 'orch-kafka-'));
writeFileSync(join(work, 'hosts.yml'), `all:\n  children:\n    kafka:\n      hosts:\n${HOSTS.map((h, i) => `        ${h}: { node_id: ${i + 1} }\n`).join('')}`);
writeFileSync(join(work, 'site.yml'), '- name: os\n  hosts: all\n  roles: [common, java]\n- name: streaming\n  hosts: kafka\n  roles: [kafka-kraft]\n');
let built: BuiltArtifact;
let mirror: ArtifactMirror;

beforeAll(async () => {
  built = await buildArtifact({ service: 'kafka', version: '3.9.0', log: (s) => console.log(`[kafka artifact] ${s}`) });
  mirror = await serveArtifacts([built]);
});
afterAll(() => mirror?.close());

async function plan(vars: Record<string, unknown> = {}): Promise<RunPlan> {
  const values = { artifact_mirror: mirror.url, kafka_sha512: built.sha512, kafka_heap: '320m', kafka_num_network_threads: 2, kafka_num_io_threads: 4, ...vars };
  return buildPlan({
    inventory: loadInventory(work, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(work, 'site.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
    extraVars: [{ label: 'extra vars', values, origins: {} }],
  });
}
const run = async (vars: Record<string, unknown> = {}) => runs.run(await plan(vars), { prepare: prepareArtifacts });

async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(`export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH\n${cmd}`);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const addr = (h: string) => sim.host(h).address;
const changed = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : []));
const failed = (events: RunEvent[]) => events.filter((e): e is Extract<RunEvent, { type: 'host-failed' }> => e.type === 'host-failed');
const metaSums = () => Promise.all(HOSTS.map((h) => on(h, 'sha256sum /data/kafka/logs/meta.properties')));
const leaderOf = async (via: string) => Number(/^LeaderId:\s*(-?\d+)/m.exec(await on(via, `kafka-metadata-quorum.sh --bootstrap-server ${addr(via)}:9092 describe --status`))?.[1]);
let clusterId = '';

describe('kafka-kraft: a 3-node combined KRaft cluster', () => {
  it('forms a quorum with a leader and every broker registered', async () => {
    const { code, events } = await run();
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    const status = await on('k1', `kafka-metadata-quorum.sh --bootstrap-server ${addr('k1')}:9092 describe --status`);
    expect(Number(/^LeaderId:\s*(\d+)/m.exec(status)?.[1])).toBeGreaterThan(0);
    clusterId = /^ClusterId:\s*(\S+)/m.exec(status)![1];
    expect(clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const h of HOSTS) expect(await on(h, "sed -n 's/^cluster.id=//p' /data/kafka/logs/meta.properties; cat /var/lib/orch/values/kafka_cluster_id")).toBe(`${clusterId}\n${clusterId}\n`);
    const brokers = await on('k2', `kafka-broker-api-versions.sh --bootstrap-server ${addr('k2')}:9092 | grep -o '(id: [0-9]*' | sort`);
    expect(brokers).toBe('(id: 1\n(id: 2\n(id: 3\n');
  });

  it('a topic with replication factor 3 and min ISR 2 takes writes on one broker that a consumer on another reads', async () => {
    await on('k1', `kafka-topics.sh --bootstrap-server ${addr('k1')}:9092 --create --topic orders --partitions 3 --replication-factor 3 --config min.insync.replicas=2`);
    const d = await on('k2', `kafka-topics.sh --bootstrap-server ${addr('k2')}:9092 --describe --topic orders`);
    expect(d).toMatch(/ReplicationFactor: 3/);
    expect(d).toMatch(/min\.insync\.replicas=2/);
    await on('k1', `printf 'o1\\no2\\no3\\n' | kafka-console-producer.sh --bootstrap-server ${addr('k1')}:9092 --topic orders --producer-property acks=all`);
    const got = await on('k3', `kafka-console-consumer.sh --bootstrap-server ${addr('k3')}:9092 --topic orders --from-beginning --max-messages 3 --timeout-ms 60000 2>/dev/null | sort`);
    expect(got).toBe('o1\no2\no3\n');
  });

  it('a rerun changes nothing and formats nothing', async () => {
    const before = await metaSums();
    const { code, events } = await run();
    expect(code).toBe(0);
    expect(changed(events)).toEqual([]);
    expect(await metaSums()).toEqual(before);
  });

  it("meta.properties deleted on one node is restored with the cluster's id from the others", async () => {
    await on('k2', 'rm /data/kafka/logs/meta.properties');
    const { code, events } = await run();
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    // formatted again on k2 alone (and its health checked after that change); nothing restarted
    expect(changed(events).filter((c) => !c.startsWith('k2 health '))).toEqual([`k2 command format KRaft storage (cluster ${clusterId})`]);
    expect(events.filter((e) => e.type === 'handler' && e.name.startsWith('restart'))).toEqual([]);
    expect(await on('k2', "grep -E '^(cluster|node)\\.id=' /data/kafka/logs/meta.properties | sort")).toBe(`cluster.id=${clusterId}\nnode.id=2\n`);
  });

  it('a node formatted with a foreign cluster id stops showing both ids; the others converge', async () => {
    const foreign = 'AAAAAAAAAAAAAAAAAAAAAA';
    await on('k3', `systemctl stop kafka; rm -rf /data/kafka/logs/* /var/lib/orch/values/kafka_cluster_id; runuser -u kafka -- env JAVA_HOME=$JAVA_HOME LOG_DIR=/tmp/kafka-cli /opt/kafka/current/bin/kafka-storage.sh format --cluster-id=${foreign} --config /etc/kafka/server.properties >/dev/null`);
    const { code, events } = await run();
    expect(code).toBe(2);
    const f = failed(events);
    expect(f.map((e) => e.host)).toEqual(['k3']);
    expect(f[0].error).toContain(`k3 has "${foreign}" but the cluster (3 hosts asked) has "${clusterId}"`);
    for (const h of ['k1', 'k2']) expect(events.some((e) => e.type === 'host-end' && e.host === h && e.phase === 'streaming')).toBe(true);
    // the operator wipes it: the next run formats it with the cluster's id and it rejoins
    await on('k3', 'rm -rf /data/kafka/logs/*');
    const again = await run();
    expect(failed(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(await on('k3', "sed -n 's/^cluster.id=//p' /data/kafka/logs/meta.properties")).toBe(`${clusterId}\n`);
  });

  it('a changed broker setting rolls one broker at a time, each back in the ISR before the next, the leader last', async () => {
    const leader = await leaderOf('k1');
    const since = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, Number((await on(h, 'systemctl show -p ActiveEnterTimestampMonotonic --value kafka')).trim())] as const)));
    const t0 = await since();
    const { code, events } = await run({ kafka_num_io_threads: 6 });
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    const t1 = await since();
    for (const h of HOSTS) expect(t1[h]).toBeGreaterThan(t0[h]);
    const order = [...HOSTS].sort((a, b) => t1[a] - t1[b]);
    expect(order[2]).toBe(`k${leader}`);
    const health = events.filter((e): e is Extract<RunEvent, { type: 'handler' }> => e.type === 'handler' && e.name === 'health kafka-kraft');
    expect(health.map((e) => e.host)).toEqual(order);
    expect(health.every((e) => e.status === 'ok')).toBe(true);
    console.log(`[kafka] rolling restart: ${order.map((h) => `${h} at +${((t1[h] - t1[order[0]]) / 1e6).toFixed(1)} s`).join(', ')}; ${health.map((e) => e.reason).join('; ')}`);
    // each broker restarted only after the previous one was back (its health check took time in between)
    expect(t1[order[1]] - t1[order[0]]).toBeGreaterThan(2e6);
    expect(t1[order[2]] - t1[order[1]]).toBeGreaterThan(2e6);
    for (const h of HOSTS) expect(await on(h, 'grep ^num.io.threads= /etc/kafka/server.properties')).toBe('num.io.threads=6\n');
    expect(changed((await run({ kafka_num_io_threads: 6 })).events)).toEqual([]);
  });

  it('with one node killed the quorum keeps a leader and acks=all writes succeed', async () => {
    await sim.kill('k1');
    const t0 = Date.now();
    let leader = -1;
    for (let i = 0; i < 30 && !(leader > 1); i++) {
      leader = await leaderOf('k2').catch(() => -1);
      if (!(leader > 1)) await new Promise((r) => setTimeout(r, 2000));
    }
    expect([2, 3]).toContain(leader);
    console.log(`[kafka] k1 killed: leader ${leader} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await on('k2', `printf 'o4\\n' | kafka-console-producer.sh --bootstrap-server ${addr('k2')}:9092,${addr('k3')}:9092 --topic orders --producer-property acks=all --producer-property delivery.timeout.ms=60000 --producer-property request.timeout.ms=20000`);
    const got = await on('k3', `kafka-console-consumer.sh --bootstrap-server ${addr('k3')}:9092 --topic orders --from-beginning --max-messages 4 --timeout-ms 60000 2>/dev/null | sort`);
    expect(got).toBe('o1\no2\no3\no4\n');
    await sim.start('k1');
  });
});
