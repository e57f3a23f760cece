/**
 * A real Kafka from the package registries, end to end: Kafka 3.9.0 is assembled from Maven Central in the
 * release's layout (kafka_2.13-3.9.0.tgz), cached on the controller, served on 127.0.0.1 as `artifact_mirror`, and
 * a test role installs it on one simulated host with ops.artifact and the build's sha512, with OpenJDK 17 from
 * Debian, formats a KRaft storage dir and runs one broker+controller under systemd. Checked on the host:
 * `kafka-storage.sh random-uuid`, the quorum (`kafka-metadata-quorum.sh describe --status`: LeaderId 1) and a topic.
 * A second build is a cache hit; a rerun of the role changes nothing. (The archive is not Apache's: its sha512 is
 * the build's, given with the mirror; the production path, official URL + pinned sha512, is unit-tested.)
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { buildArtifact, serveArtifacts, type ArtifactMirror, type BuiltArtifact } from '../../src/sim/artifacts/index.js';
import { release } from '../../src/artifacts/index.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { prepareArtifacts } from '../../src/ops/index.js';
import type { RunEvent } from '../../src/report/events.js';

const sim = useSimHosts({ name: 'artifact-registry', hosts: [{ name: 'k1', groups: ['kafka'] }] });
const runs = useRuns();
const work = mkdtempSync(join(tmpdir(), 'orch-artifact-registry-'));
// a KRaft cluster id as kafka-storage.sh random-uuid makes them: 16 random bytes, base64url, no padding
const clusterId = randomBytes(16).toString('base64url');
const log = (s: string) => console.log(`[artifact] ${s}`);
// the JDK the role installed, whatever the architecture
const JAVA_HOME = '"$(dirname "$(dirname "$(readlink -f /usr/bin/java)")")"';
let built: BuiltArtifact;
let mirror: ArtifactMirror;
let coldMs = 0;
let mainPid = '';

beforeAll(async () => {
  const t0 = Date.now();
  built = await buildArtifact({ service: 'kafka', version: '3.9.0', log });
  coldMs = Date.now() - t0;
  log(`first build: ${built.cached ? 'cache hit' : 'built'} in ${(coldMs / 1000).toFixed(1)} s`);
  mirror = await serveArtifacts([built]);
});
afterAll(() => mirror?.close());

async function run() {
  const dir = mkdtempSync(join(work, 'inv-'));
  writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    kafka:\n      hosts:\n        k1:\n');
  writeFileSync(join(dir, 'pb.yml'), '- name: kafka\n  hosts: kafka\n  roles: [test-kafka-registry]\n');
  const plan = await buildPlan({
    inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(dir, 'pb.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'test', 'roles')]),
    extraVars: [
      {
        label: 'test',
        values: { artifact_mirror: mirror.url, kafka_sha512: built.sha512, kafka_cluster_id: clusterId, test_artifact_cache_dir: join(work, 'controller-cache') },
        origins: {},
      },
    ],
  });
  return runs.run(plan, { prepare: prepareArtifacts });
}

async function on(connect: (h: string) => Promise<{ runScript(s: string): Promise<{ code: number; stdout: string; stderr: string }> }>, script: string) {
  const r = await (await connect('k1')).runScript(script);
  if (r.code !== 0) throw new Error(`k1: ${script}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const changed = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status !== 'ok' ? [`${e.result.kind} ${e.result.name}: ${e.result.status} ${e.result.reason}`] : []));

describe('Kafka built from Maven Central, served as artifact_mirror, on a simulated host', () => {
  it('the archive has the release\'s name, top directory and layout, and its sha512 is the build\'s', () => {
    const rel = release('kafka', '3.9.0');
    expect(built).toMatchObject({ fileName: 'kafka_2.13-3.9.0.tgz', path: rel.path, topDir: 'kafka_2.13-3.9.0' });
    expect(createHash('sha512').update(readFileSync(built.file)).digest('hex')).toBe(built.sha512);
    expect(built.sha512).not.toBe(rel.sha512); // not Apache's archive: a build of our own
    const list = execFileSync('tar', ['-tzf', built.file], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n');
    expect(list.every((p) => p.startsWith('kafka_2.13-3.9.0/'))).toBe(true);
    for (const p of [
      'bin/kafka-server-start.sh',
      'bin/kafka-storage.sh',
      'bin/kafka-metadata-quorum.sh',
      'bin/kafka-topics.sh',
      'bin/kafka-run-class.sh',
      'config/kraft/server.properties',
      'config/log4j.properties',
      'libs/kafka_2.13-3.9.0.jar',
      'libs/kafka-clients-3.9.0.jar',
      'libs/kafka-tools-3.9.0.jar',
      'libs/kafka-storage-3.9.0.jar',
      'libs/kafka-metadata-3.9.0.jar',
      'libs/kafka-server-3.9.0.jar',
      'libs/kafka-raft-3.9.0.jar',
      'libs/reload4j-1.2.25.jar',
    ]) {
      expect(list).toContain(`kafka_2.13-3.9.0/${p}`);
    }
    expect(list.filter((p) => p.startsWith('kafka_2.13-3.9.0/libs/') && p.endsWith('.jar')).length).toBeGreaterThan(50);
    expect(built.resolved).toContain('org.apache.kafka:kafka-clients:3.9.0');
    expect(built.resolved).toContain('org.scala-lang:scala-library:2.13.14');
  });

  it('a second build is a cache hit: same file, same sha512, no registry', async () => {
    const t0 = Date.now();
    const again = await buildArtifact({ service: 'kafka', version: '3.9.0', log });
    const ms = Date.now() - t0;
    log(`second build: ${again.cached ? 'cache hit' : 'built'} in ${(ms / 1000).toFixed(2)} s (first: ${(coldMs / 1000).toFixed(1)} s)`);
    expect(again).toEqual({ ...built, cached: true });
    expect(ms).toBeLessThan(10_000);
  });

  it('the role installs it from the mirror with the build\'s sha512 and runs a KRaft broker+controller', async () => {
    const { code, events, connect } = await run();
    expect(events.filter((e) => e.type === 'host-failed')).toEqual([]);
    expect(code).toBe(0);
    // downloaded once from the mirror into the controller cache, under the release's path
    expect(mirror.hits.get('kafka/3.9.0/kafka_2.13-3.9.0.tgz')).toBe(1);
    expect(await on(connect, 'readlink /opt/kafka/current; head -n1 /opt/kafka/current/.orch-artifact')).toBe(`/opt/kafka/releases/3.9.0\n${built.sha512}\n`);

    const uuid = await on(connect, `JAVA_HOME=${JAVA_HOME} LOG_DIR=/tmp/kafka-tools /opt/kafka/current/bin/kafka-storage.sh random-uuid`);
    expect(uuid).toMatch(/^[A-Za-z0-9_-]{22}\n$/);
    expect(await on(connect, 'grep -E "^(cluster.id|node.id)=" /var/lib/kafka/data/meta.properties | sort')).toBe(`cluster.id=${clusterId}\nnode.id=1\n`);
    expect(await on(connect, 'systemctl is-active kafka; stat -c %U /var/lib/kafka/data/meta.properties; ps -o user= -C java')).toBe('active\nkafka\nkafka\n');

    // the quorum answers through the broker: a leader (this node) is elected
    const status = await on(
      connect,
      [
        `export JAVA_HOME=${JAVA_HOME} LOG_DIR=/tmp/kafka-tools`,
        'for i in $(seq 1 30); do',
        '  if out=$(/opt/kafka/current/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status 2>&1) && printf "%s" "$out" | grep -q "^LeaderId:"; then break; fi',
        '  sleep 2',
        'done',
        'printf "%s\\n" "$out"',
      ].join('\n'),
    );
    expect(status).toMatch(new RegExp(`^ClusterId:\\s+${clusterId}$`, 'm'));
    expect(status).toMatch(/^LeaderId:\s+1$/m);
    expect(status).toMatch(/^CurrentVoters:.*"id": 1\b/m);

    const topics = await on(
      connect,
      `export JAVA_HOME=${JAVA_HOME} LOG_DIR=/tmp/kafka-tools\n` +
        '/opt/kafka/current/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orch-test --partitions 2 >/dev/null\n' +
        '/opt/kafka/current/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic orch-test',
    );
    expect(topics).toMatch(/Topic: orch-test\s+TopicId: \S+\s+PartitionCount: 2\s+ReplicationFactor: 1/);
    // the server logs where the unit says, through the release's log4j.properties
    expect(await on(connect, 'grep -c "Kafka Server started" /var/log/kafka/server.log')).toMatch(/^[1-9]\d*\n$/);
    mainPid = await on(connect, 'systemctl show -p MainPID --value kafka');
    expect(mainPid).toMatch(/^[1-9]\d*\n$/);
  });

  it('a rerun changes nothing: no download, no format, no restart', async () => {
    const { code, events, connect } = await run();
    expect(code).toBe(0);
    expect(changed(events)).toEqual([]);
    expect(mirror.hits.get('kafka/3.9.0/kafka_2.13-3.9.0.tgz')).toBe(1);
    expect(await on(connect, 'systemctl show -p MainPID --value kafka')).toBe(mainPid);
  });
});
