/**
 * End to end: flink-kafka-4vcpu-8gb.md's deployment (inventory flink-kafka-4c8g) on one simulated host of the
 * document's size (4 CPUs, 8 GiB), at the document's own memory sizes (nothing scaled down): a single KRaft broker
 * (Kafka 3.9.0 built from Maven Central) and a Flink 1.20.0 session cluster (JobManager + 2 TaskManagers of 3 slots,
 * built from PyPI), under the document's container limits as MemoryMax= / CPUQuota=. The playbook is site.yml's
 * first phases plus the streaming and processing phases it will get (they are written here until the simulator
 * builds these artifacts itself, so that the minimal-5vm demo keeps working). Checked as the document's own health
 * checks would (curl :8081/taskmanagers): 6 slots, a Kafka write read back, WordCount FINISHED with parallelism 6,
 * and a second run changes nothing. `npm run e2e -- flink-kafka-4c8g` (not part of `npm test`).
 */
import { describe, expect, it } from 'vitest';
import { useE2E } from '../helpers/e2e.js';
import { changed, failures } from '../helpers/role-test.js';

const e = useE2E({
  inventory: 'flink-kafka-4c8g',
  phases: [
    { name: 'os-preparation', hosts: 'all', roles: ['common'] },
    { name: 'runtimes', hosts: 'all', roles: ['java'] },
    { name: 'streaming', hosts: 'kafka', roles: ['kafka-kraft'] },
    { name: 'processing', hosts: 'flink_jobmanager:flink_taskmanager', roles: ['flink'] },
  ],
  artifacts: [
    { service: 'kafka', version: '3.9.0' },
    { service: 'flink', version: '1.20.0' },
  ],
  vars: (art) => ({ artifact_mirror: art.url, kafka_sha512: art.sha512('kafka'), flink_sha512: art.sha512('flink') }),
});
const H = 'stream1';
const { sim, log } = e;
const on = (cmd: string) => e.on(H, cmd);

describe('flink-kafka-4c8g end to end (one 4 CPU / 8 GiB host, the document\'s sizes)', () => {
  it('the first run deploys every phase with each role\'s health checks passing, under the document\'s limits', async () => {
    const t0 = Date.now();
    const { code, events } = await e.run();
    log(`first run: ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}, ${changed(events).length} changes`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    const max = (await on('systemctl show -p MemoryMax --value kafka flink-jobmanager flink-taskmanager@1 flink-taskmanager@2')).split('\n').filter(Boolean);
    expect(max.map(Number)).toEqual([1024, 1536, 2048, 2048].map((mb) => mb * 1024 ** 2));
  });

  it("the document's checks: 2 TaskManagers with 6 slots; Kafka takes a write that its consumer reads; WordCount runs with parallelism 6", async () => {
    const addr = sim.host(H).address;
    const overview = JSON.parse(await on(`curl -fsS http://${addr}:8081/overview`));
    expect(overview).toMatchObject({ taskmanagers: 2, 'slots-total': 6, 'flink-version': '1.20.0' });
    const env = 'export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH';
    await on(`${env}; kafka-topics.sh --bootstrap-server ${addr}:9092 --create --if-not-exists --topic radiation --partitions 6 --replication-factor 1 >/dev/null`);
    const d = await on(`${env}; kafka-topics.sh --bootstrap-server ${addr}:9092 --describe --topic radiation`);
    expect(d).toMatch(/PartitionCount: 6/);
    await on(`${env}; echo reading-1 | kafka-console-producer.sh --bootstrap-server ${addr}:9092 --topic radiation`);
    const read = await on(`${env}; kafka-console-consumer.sh --bootstrap-server ${addr}:9092 --topic radiation --from-beginning --max-messages 1 --timeout-ms 60000 2>/dev/null`);
    expect(read.trim()).toBe('reading-1');
    const t0 = Date.now();
    const out = await on('cd /tmp && FLINK_CONF_DIR=/etc/flink/conf JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 /opt/flink/current/bin/flink run /opt/flink/current/examples/streaming/WordCount.jar 2>&1');
    const jobId = /JobID ([0-9a-f]{32})/.exec(out)?.[1];
    expect(jobId, out).toBeDefined();
    const job = JSON.parse(await on(`curl -fsS http://${addr}:8081/jobs/${jobId}`));
    expect(job.state).toBe('FINISHED');
    expect(Math.max(...job.vertices.map((x: { parallelism: number }) => x.parallelism))).toBe(6);
    log(`Kafka write read back; WordCount ${jobId} FINISHED in ${((Date.now() - t0) / 1000).toFixed(1)} s, parallelism 6`);
  });

  it('a second run changes nothing', () => e.secondRunChangesNothing());
});
