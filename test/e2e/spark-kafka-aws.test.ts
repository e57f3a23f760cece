/**
 * End to end: spark-kafka-cluster-aws.md's deployment (inventory spark-kafka-aws, its own playbook in the document's
 * play order) on 4 simulated hosts, the private ones reached through the simulated bastion (ProxyJump), with the
 * real software: Debian's ZooKeeper, Kafka 3.6.1 and Spark 3.5.0 built from Maven Central and PyPI and served as the
 * artifact mirror; the simulation's differences are the inventory's sim.yml (OpenJDK 17, smaller heaps, the bastion's
 * address). Checked as the document's own verification play would: every phase passes its health checks, Kafka takes
 * a write that its consumer reads, a Spark job runs on both workers, and a second run changes nothing.
 * `npm run e2e -- spark-kafka-aws` (not part of `npm test`).
 */
import { describe, expect, it } from 'vitest';
import { useE2E } from '../helpers/e2e.js';
import { changed, failures } from '../helpers/role-test.js';

const e = useE2E({
  inventory: 'spark-kafka-aws',
  playbook: 'playbooks/spark-kafka-aws.yml',
  artifacts: [
    { service: 'kafka', version: '3.6.1' },
    { service: 'spark', version: '3.5.0' },
  ],
  vars: (art) => ({ artifact_mirror: art.url, kafka_sha512: art.sha512('kafka'), spark_sha512: art.sha512('spark') }),
});
const { sim, on, log, plan } = e;

describe('spark-kafka-aws end to end', () => {
  it('the first run deploys every play, through the bastion, with each role\'s health checks passing', async () => {
    const p = await plan();
    // the private hosts are reached through the simulated bastion
    for (const h of ['master', 'worker1', 'worker2']) expect(p.connections.get(h)!.jump.map((j) => j.address)).toEqual([sim.host('bastion').address]);
    const t0 = Date.now();
    const { code, events } = await e.run();
    log(`first run: ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}, ${changed(events).length} changes`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    // the master's sshd saw this very connection come from the bastion (sudo clears SSH_CONNECTION: ask the journal)
    const last = await on('master', "journalctl -u ssh -o cat --no-pager | sed -n 's/^Accepted .* from \\([0-9.]*\\) port .*/\\1/p' | tail -n 1");
    expect(last.trim()).toBe(sim.host('bastion').address);
  });

  it('Kafka (ZooKeeper mode) takes a write that its console consumer reads; Spark runs a job on both workers', async () => {
    const env = 'export JAVA_HOME=$(dirname $(dirname $(readlink -f $(command -v java)))) KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH';
    const addr = sim.host('master').address;
    await on('master', `${env}; kafka-topics.sh --bootstrap-server ${addr}:9092 --create --if-not-exists --topic e2e --partitions 1 --replication-factor 1 >/dev/null`);
    await on('master', `${env}; echo written-by-e2e | kafka-console-producer.sh --bootstrap-server ${addr}:9092 --topic e2e`);
    const read = await on('master', `${env}; kafka-console-consumer.sh --bootstrap-server ${addr}:9092 --topic e2e --from-beginning --max-messages 1 --timeout-ms 60000 2>/dev/null`);
    expect(read.trim()).toBe('written-by-e2e');
    const master = JSON.parse(await on('master', `curl -fsS http://${addr}:8080/json/`));
    expect(master.aliveworkers).toBe(2);
    const t0 = Date.now();
    const pi = await on(
      'master',
      `. /etc/profile.d/orch-spark.sh; spark-submit --master spark://${addr}:7077 --executor-memory 512m /opt/spark/current/examples/src/main/python/pi.py 10 2>/tmp/pi.err || { tail -40 /tmp/pi.err; exit 1; }`,
    );
    log(`SparkPi on the 2 workers: ${pi.trim()} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(pi).toMatch(/Pi is roughly 3\.1/);
    const apps = JSON.parse(await on('master', `curl -fsS http://${addr}:8080/json/`)).completedapps as Array<{ state: string }>;
    expect(apps.map((a) => a.state)).toContain('FINISHED');
  });

  it('a second run changes nothing', () => e.secondRunChangesNothing());
});
