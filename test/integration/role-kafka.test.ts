/**
 * kafka (ZooKeeper mode) on 2 simulated hosts, real Kafka 3.6.1 (its jars from Maven Central, assembled in the
 * release's layout by src/sim/artifacts and served as artifact_mirror) against the zookeeper role (Debian
 * bookworm's zookeeper 3.8.0, `zookeeper_source: package`), OpenJDK 17 from Debian:
 *   zk1: zookeeper + broker 1, as spark-kafka-cluster-aws.md's master (zookeeper.connect=localhost:2181,
 *        Requires=zookeeper.service); k2: broker 2, reaching zk1's ZooKeeper by address.
 *   - `--check` on fresh hosts says exactly what the first run then changes;
 *   - both brokers register in ZooKeeper (/brokers/ids); a topic replicated on both takes writes on one broker that
 *     Kafka's console consumer reads from the other;
 *   - a second run and a `--check` change nothing;
 *   - a changed broker setting restarts one broker at a time, the controller last.
 */
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, useRoleTest } from '../helpers/role-test.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['zk1', 'k2'];
const art = useArtifactMirror([{ service: 'kafka', version: '3.6.1' }]);
const t = useRoleTest({
  name: 'kafka-zk',
  hosts: [
    { name: 'zk1', groups: ['zookeeper', 'kafka'], memoryMb: 1536, vars: { node_id: 1 } },
    { name: 'k2', groups: ['kafka'], memoryMb: 1024, vars: { node_id: 2 } },
  ],
  inventoryVars: { zookeeper_source: 'package', zookeeper_heap: '128m' },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'coordination', hosts: 'zookeeper', roles: ['zookeeper'] },
    { name: 'streaming', hosts: 'kafka', roles: ['kafka'] },
  ],
  vars: () => ({ artifact_mirror: art.url, kafka_sha512: art.sha512('kafka'), kafka_heap: '320m' }),
});
const { sim, run } = t;
/** a command with Kafka's tools on PATH and a small heap for them */
const on = (host: string, cmd: string) => t.on(host, `export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH\n${cmd}`);
const addr = (h: string) => sim.host(h).address;
const zkLs = (path: string) => on('zk1', `/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:2181 ls ${path} 2>/dev/null | grep '^\\['`);

describe('kafka: ZooKeeper-mode brokers (spark-kafka-cluster-aws.md) against the zookeeper role', () => {
  let predicted: string[] = [];

  it('--check on fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const h of HOSTS) {
      expect(predicted).toContain(`${h} file /etc/kafka/server.properties`);
      expect(predicted).toContain(`${h} unit /etc/systemd/system/kafka.service`);
    }
    expect(predicted).toContain('zk1 file /etc/zookeeper/conf/zoo.cfg');
  });

  it('both brokers register in ZooKeeper, with the seed\'s settings; exactly as --check said', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    console.log(`[kafka-zk] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    expect(await zkLs('/brokers/ids')).toBe('[1, 2]\n');
    const p1 = await on('zk1', 'cat /etc/kafka/server.properties');
    for (const line of ['broker.id=1', 'listeners=PLAINTEXT://:9092', `advertised.listeners=PLAINTEXT://${addr('zk1')}:9092`, 'log.dirs=/var/lib/kafka-logs', 'num.partitions=1', 'log.retention.hours=168', 'zookeeper.connect=localhost:2181', 'offsets.topic.replication.factor=2']) {
      expect(p1.split('\n')).toContain(line);
    }
    expect(await on('k2', "grep -E '^(broker.id|zookeeper.connect)=' /etc/kafka/server.properties")).toBe(`broker.id=2\nzookeeper.connect=${addr('zk1')}:2181\n`);
    // the seed's unit: after and requiring ZooKeeper where it runs; the spark user; the seed's heap
    expect(await on('zk1', 'systemctl show -p Requires --value kafka; systemctl show -p After --value kafka')).toMatch(/zookeeper\.service[\s\S]*zookeeper\.service/);
    expect(await on('k2', 'systemctl show -p Requires --value kafka')).not.toContain('zookeeper');
    expect(await on('zk1', "ps -o user= -C java | sort -u; stat -c %U /var/lib/kafka-logs; tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value kafka)/cmdline | grep -o -- '-Xmx320m -Xms320m'")).toBe('spark\nspark\n-Xmx320m -Xms320m\n');
  });

  it('a topic replicated on both brokers takes writes on one that a consumer on the other reads', async () => {
    await on('zk1', `kafka-topics.sh --bootstrap-server ${addr('zk1')}:9092 --create --topic events --partitions 2 --replication-factor 2`);
    expect(await on('k2', `kafka-topics.sh --bootstrap-server ${addr('k2')}:9092 --describe --topic events`)).toMatch(/ReplicationFactor: 2/);
    await on('zk1', `printf 'e1\\ne2\\ne3\\n' | kafka-console-producer.sh --bootstrap-server ${addr('zk1')}:9092 --topic events --producer-property acks=all`);
    const got = await on('k2', `kafka-console-consumer.sh --bootstrap-server ${addr('k2')}:9092 --topic events --from-beginning --max-messages 3 --timeout-ms 60000 2>/dev/null | sort`);
    expect(got).toBe('e1\ne2\ne3\n');
  });

  it('a second run and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed broker setting restarts one broker at a time, the controller last', async () => {
    const controller = Number(/"brokerid":(\d+)/.exec(await on('zk1', '/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:2181 get /controller 2>/dev/null'))?.[1]);
    const since = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, Number((await on(h, 'systemctl show -p ActiveEnterTimestampMonotonic --value kafka')).trim())] as const)));
    const t0 = await since();
    const { code, events } = await run({ vars: { kafka_num_io_threads: 6 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    const t1 = await since();
    for (const h of HOSTS) expect(t1[h]).toBeGreaterThan(t0[h]);
    const order = [...HOSTS].sort((a, b) => t1[a] - t1[b]);
    expect(order[1]).toBe(controller === 1 ? 'zk1' : 'k2');
    const health = events.filter((e): e is Extract<RunEvent, { type: 'handler' }> => e.type === 'handler' && e.name === 'health kafka');
    expect(health.map((e) => e.host)).toEqual(order);
    expect(health.every((e) => e.status === 'ok')).toBe(true);
    console.log(`[kafka-zk] rolling restart: ${order.map((h) => `${h} at +${((t1[h] - t1[order[0]]) / 1e6).toFixed(1)} s`).join(', ')} (controller ${controller} last)`);
    expect(t1[order[1]] - t1[order[0]]).toBeGreaterThan(2e6);
    expect(await zkLs('/brokers/ids')).toBe('[1, 2]\n');
    expect(changed((await run({ vars: { kafka_num_io_threads: 6 } })).events)).toEqual([]);
  });
});
