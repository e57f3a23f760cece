/**
 * kafka-connect on 2 simulated hosts, real Kafka 3.9.0 (its jars, Connect's included, from Maven Central, assembled
 * in the release's layout by src/sim/artifacts and served as artifact_mirror), OpenJDK 17 from Debian:
 *   c1: a single KRaft broker (role kafka-kraft) and a Connect worker; c2: a second worker of the same group.
 *   - both workers answer the REST API (/ with the broker's cluster id, /connectors), the internal topics exist;
 *   - a FileStream source connector created through the REST API copies a file's lines into a topic that Kafka's
 *     console consumer reads;
 *   - a second run and a `--check` change nothing;
 *   - a changed worker setting restarts one worker at a time, each healthy before the next; the connector runs on
 *     and a line appended afterwards arrives too.
 */
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, useRoleTest, waitFor } from '../helpers/role-test.js';
import type { RunEvent } from '../../src/report/events.js';

const WORKERS = ['c1', 'c2'];
const art = useArtifactMirror([{ service: 'kafka', version: '3.9.0' }]);
const t = useRoleTest({
  name: 'kafka-connect',
  hosts: [
    { name: 'c1', groups: ['kafka', 'kafka_connect'], memoryMb: 1536, vars: { node_id: 1 } },
    { name: 'c2', groups: ['kafka_connect'], memoryMb: 1024 },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'streaming', hosts: 'kafka', roles: ['kafka-kraft'] },
    { name: 'connect', hosts: 'kafka_connect', roles: ['kafka-connect'] },
  ],
  vars: () => ({
    artifact_mirror: art.url,
    kafka_sha512: art.sha512('kafka'),
    kafka_heap: '320m',
    kafka_num_network_threads: 2,
    kafka_num_io_threads: 4,
    kafka_connect_sha512: art.sha512('kafka'),
    kafka_connect_heap: '256m',
    kafka_connect_file_connectors: true,
  }),
});
const { sim, run } = t;
/** a command with Kafka's tools on PATH and a small heap for them */
const on = (host: string, cmd: string) => t.on(host, `export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH\n${cmd}`);
const addr = (h: string) => sim.host(h).address;
const rest = (via: string, path: string, extra = '') => on(via, `curl -fsS --max-time 20 ${extra} http://${addr(via)}:8083${path}`);
/** the first n records of the topic, sorted: the connector's records have no key, so they spread over the topic's partitions in no order */
const consume = async (n: number) =>
  (await on('c1', `kafka-console-consumer.sh --bootstrap-server ${addr('c1')}:9092 --topic lines --from-beginning --max-messages ${n} --timeout-ms 90000 2>/dev/null`))
    .split('\n')
    .filter(Boolean)
    .sort()
    .join('\n') + '\n';

describe('kafka-connect: two distributed workers against a KRaft broker', () => {
  it('both workers answer the REST API in one group; the internal topics exist', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    console.log(`[kafka-connect] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const clusterId = (await on('c1', "sed -n 's/^cluster.id=//p' /data/kafka/logs/meta.properties")).trim();
    for (const w of WORKERS) {
      const root = JSON.parse(await rest(w, '/')) as { version: string; kafka_cluster_id: string };
      expect(root.version).toBe('3.9.0');
      expect(root.kafka_cluster_id).toBe(clusterId);
      expect(JSON.parse(await rest(w, '/connectors'))).toEqual([]);
    }
    const topics = await on('c1', `kafka-topics.sh --bootstrap-server ${addr('c1')}:9092 --list`);
    for (const t of ['connect-configs', 'connect-offsets', 'connect-status']) expect(topics.split('\n')).toContain(t);
    expect(await on('c1', `kafka-topics.sh --bootstrap-server ${addr('c1')}:9092 --describe --topic connect-offsets | head -1`)).toMatch(/PartitionCount: 25\s+ReplicationFactor: 1/);
    // both joined the one Connect group: each one's last assignment names the same leader, one of the two
    // (the assignment is logged a moment after the REST API answers: up to 60 s)
    const { value: leaders } = await waitFor(
      () => Promise.all(WORKERS.map((w) => on(w, `grep -o "leaderUrl='[^']*'" /var/log/kafka-connect/connect.log | tail -1`))),
      (l) => l.every((x) => x.trim() !== '') && l[0] === l[1],
      60_000,
      1000,
    );
    expect(leaders[0]).toBe(leaders[1]);
    expect(WORKERS.map((w) => `leaderUrl='http://${addr(w)}:8083/'\n`)).toContain(leaders[0]);
    expect(await on('c2', 'ps -o user= -C java')).toBe('kafka-connect\n');
  });

  it('a FileStream source connector created through the REST API copies the lines of a file into a topic', async () => {
    for (const w of WORKERS) await on(w, "mkdir -p /srv/connect && printf 'alpha\\nbravo\\ncharlie\\n' > /srv/connect/in.txt && chmod 644 /srv/connect/in.txt");
    const body = JSON.stringify({
      name: 'lines',
      config: {
        'connector.class': 'FileStreamSource',
        file: '/srv/connect/in.txt',
        topic: 'lines',
        'tasks.max': '1',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    });
    // through the second worker: it forwards to the group's leader
    await rest('c2', '/connectors', `-X POST -H 'Content-Type: application/json' --data '${body}'`);
    let status = '';
    for (let i = 0; i < 40 && !/"state":"RUNNING"[\s\S]*"tasks":\[\{"id":0,"state":"RUNNING"/.test(status); i++) {
      await new Promise((r) => setTimeout(r, 1500));
      status = await rest('c1', '/connectors/lines/status').catch(() => '');
    }
    expect(status).toMatch(/"tasks":\[\{"id":0,"state":"RUNNING"/);
    expect(JSON.parse(await rest('c1', '/connectors'))).toEqual(['lines']);
    expect(await consume(3)).toBe('alpha\nbravo\ncharlie\n');
  });

  it('a second run and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed worker setting restarts one worker at a time; the connector runs on', async () => {
    const since = async () => Object.fromEntries(await Promise.all(WORKERS.map(async (h) => [h, Number((await on(h, 'systemctl show -p ActiveEnterTimestampMonotonic --value kafka-connect')).trim())] as const)));
    const t0 = await since();
    const vars = { kafka_connect_offset_flush_interval_ms: 5000 };
    const { code, events } = await run({ vars });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    const t1 = await since();
    for (const h of WORKERS) expect(t1[h]).toBeGreaterThan(t0[h]);
    const order = [...WORKERS].sort((a, b) => t1[a] - t1[b]);
    const health = events.filter((e): e is Extract<RunEvent, { type: 'handler' }> => e.type === 'handler' && e.name === 'health kafka-connect');
    expect(health.map((e) => e.host)).toEqual(order);
    expect(health.every((e) => e.status === 'ok')).toBe(true);
    console.log(`[kafka-connect] rolling restart: ${order.map((h) => `${h} at +${((t1[h] - t1[order[0]]) / 1e6).toFixed(1)} s`).join(', ')}`);
    // the second restarted only after the first answered again
    expect(t1[order[1]] - t1[order[0]]).toBeGreaterThan(2e6);
    for (const w of WORKERS) await on(w, "printf 'delta\\n' >> /srv/connect/in.txt");
    expect(await consume(4)).toBe('alpha\nbravo\ncharlie\ndelta\n');
    expect(changed((await run({ vars })).events)).toEqual([]);
  });
});
