/**
 * Kafka (Scala 2.13) in the release's own layout, from Maven Central:
 *
 *   kafka_2.13-<v>/libs/*.jar      org.apache.kafka:kafka_2.13, kafka-tools, kafka-storage, kafka-metadata
 *                                  (and kafka-server from 3.7 on), Connect's connect-runtime, connect-file,
 *                                  connect-json, connect-api, connect-transforms + their runtime dependencies (the
 *                                  ZooKeeper client jar that ZooKeeper-mode brokers need comes with kafka_2.13) +
 *                                  reload4j logging
 *   kafka_2.13-<v>/bin/*.sh        POSIX sh scripts of this folder (kafka-run-class.sh, kafka-server-start.sh,
 *                                  connect-distributed.sh and the tools' one-liners)
 *   kafka_2.13-<v>/config/...      log4j.properties, tools-log4j.properties, connect-log4j.properties,
 *                                  kraft/server.properties, server.properties, connect-distributed.properties
 *   kafka_2.13-<v>/ORCH-TEST-BUILD.txt  what this is and the resolved coordinates
 *
 * Every script's main class is checked to be in libs/ before the archive is written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../core/project.js';
import { coordinate, jarEntries, resolveMaven, type MavenArtifact } from '../maven.js';
import type { Recipe, RecipeContext } from '../recipe.js';
import type { TarEntry } from '../tgz.js';

/** this folder in the source tree (its scripts are not compiled: dist/ reads them here too) */
const HERE = join(projectRoot, 'src', 'sim', 'artifacts', 'kafka');
const SCALA = '2.13';
/** what the release's libs/ carries for logging (Kafka's own poms leave the slf4j binding out) */
const LOGGING = ['org.slf4j:slf4j-reload4j:1.7.36', 'ch.qos.reload4j:reload4j:1.2.25'];

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Kafka Connect's modules, as the release's libs/ carries them (connect-file: the FileStream example connectors) */
export const CONNECT_MODULES = ['connect-runtime', 'connect-file', 'connect-json', 'connect-api', 'connect-transforms'];

/** the Kafka versions this recipe builds (those of the catalogue) */
export const KAFKA_VERSIONS = ['3.9.0', '3.6.1'];

/** The coordinates to resolve for a Kafka version (pinned: the same list resolves to the same jars). */
export function kafkaCoordinates(version: string): string[] {
  const modules = [`kafka_${SCALA}`, 'kafka-tools', 'kafka-storage', 'kafka-metadata'];
  if (versionAtLeast(version, '3.7.0')) modules.push('kafka-server');
  modules.push(...CONNECT_MODULES);
  return [...modules.map((m) => `org.apache.kafka:${m}:${version}`), ...LOGGING];
}

/** bin/<script> → the class it runs, per version (tools moved from core to kafka-tools over 3.x) */
export function kafkaTools(version: string): Record<string, string> {
  const v37 = versionAtLeast(version, '3.7.0');
  return {
    'kafka-storage.sh': 'kafka.tools.StorageTool',
    'kafka-metadata-quorum.sh': 'org.apache.kafka.tools.MetadataQuorumCommand',
    'kafka-topics.sh': v37 ? 'org.apache.kafka.tools.TopicCommand' : 'kafka.admin.TopicCommand',
    'kafka-configs.sh': 'kafka.admin.ConfigCommand',
    'kafka-broker-api-versions.sh': 'kafka.admin.BrokerApiVersionsCommand',
    'kafka-console-producer.sh': 'kafka.tools.ConsoleProducer',
    'kafka-console-consumer.sh': versionAtLeast(version, '3.8.0') ? 'org.apache.kafka.tools.consumer.ConsoleConsumer' : 'kafka.tools.ConsoleConsumer',
    'kafka-consumer-groups.sh': v37 ? 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand' : 'kafka.admin.ConsumerGroupCommand',
  };
}

/** the scripts written in full (not from tool.sh.in) → the class each runs */
export const START_SCRIPTS: Record<string, string> = {
  'kafka-server-start.sh': 'kafka.Kafka',
  'connect-distributed.sh': 'org.apache.kafka.connect.cli.ConnectDistributed',
  'zookeeper-shell.sh': 'org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka',
};

/** the scripts and config files of this folder, as they go into the release (path under the top dir → content) */
export function kafkaFiles(version: string): Array<{ path: string; content: string; mode: number }> {
  const read = (p: string) => readFileSync(join(HERE, p), 'utf8');
  const files = [
    { path: 'bin/kafka-run-class.sh', content: read('bin/kafka-run-class.sh'), mode: 0o755 },
    { path: 'bin/kafka-server-start.sh', content: read('bin/kafka-server-start.sh'), mode: 0o755 },
    { path: 'bin/kafka-server-stop.sh', content: read('bin/kafka-server-stop.sh'), mode: 0o755 },
    { path: 'bin/connect-distributed.sh', content: read('bin/connect-distributed.sh'), mode: 0o755 },
    { path: 'bin/zookeeper-shell.sh', content: read('bin/zookeeper-shell.sh'), mode: 0o755 },
    { path: 'config/log4j.properties', content: read('config/log4j.properties'), mode: 0o644 },
    { path: 'config/connect-log4j.properties', content: read('config/connect-log4j.properties'), mode: 0o644 },
    { path: 'config/connect-distributed.properties', content: read('config/connect-distributed.properties'), mode: 0o644 },
    { path: 'config/tools-log4j.properties', content: read('config/tools-log4j.properties'), mode: 0o644 },
    { path: 'config/server.properties', content: read('config/server.properties'), mode: 0o644 },
    { path: 'config/kraft/server.properties', content: read('config/kraft/server.properties'), mode: 0o644 },
  ];
  const tool = read('bin/tool.sh.in');
  for (const [name, main] of Object.entries(kafkaTools(version))) {
    files.push({ path: `bin/${name}`, content: tool.replaceAll('@NAME@', name).replaceAll('@MAIN_CLASS@', main), mode: 0o755 });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** libs/ file names as the release names them: artifactId-version[-classifier].jar; a clash is an error */
export function libNames(artifacts: Pick<MavenArtifact, 'groupId' | 'artifactId' | 'version' | 'classifier' | 'type'>[]): string[] {
  const seen = new Map<string, string>();
  return artifacts.map((a) => {
    if (a.type !== 'jar') throw new Error(`kafka libs: ${coordinate(a)} is a ${a.type}, not a jar`);
    const name = `${a.artifactId}-${a.version}${a.classifier ? `-${a.classifier}` : ''}.jar`;
    const other = seen.get(name);
    if (other) throw new Error(`kafka libs: ${coordinate(a)} and ${other} would both be libs/${name}`);
    seen.set(name, coordinate(a));
    return name;
  });
}

function buildNote(version: string, resolved: MavenArtifact[]): string {
  return [
    `Apache Kafka ${version} (Scala ${SCALA}) in the layout of kafka_${SCALA}-${version}.tgz, assembled by orch's test helper`,
    '(src/sim/artifacts) from Maven Central. NOT the Apache release archive: the bin/ scripts and config/ files',
    'are orch\'s own; libs/ holds these artifacts:',
    '',
    ...resolved.map((a) => coordinate(a)),
    '',
  ].join('\n');
}

export const kafkaRecipe: Recipe = {
  service: 'kafka',
  versions: KAFKA_VERSIONS,
  inputs(version) {
    return {
      scala: SCALA,
      coordinates: kafkaCoordinates(version),
      files: kafkaFiles(version),
      mainClasses: { ...Object.fromEntries(Object.entries(START_SCRIPTS).map(([k, c]) => [`bin/${k}`, c])), ...kafkaTools(version) },
    };
  },
  async assemble(version: string, ctx: RecipeContext) {
    const resolved = await resolveMaven(kafkaCoordinates(version), { localRepo: ctx.mavenRepo, why: `kafka ${version} test artifact`, log: ctx.log });
    const names = libNames(resolved);
    // every script's main class must be in libs/: a moved class fails here, not on a host
    const classes = new Set<string>();
    for (const a of resolved) for (const e of jarEntries(a.file)) if (e.endsWith('.class')) classes.add(e);
    const mains: Record<string, string> = { ...START_SCRIPTS, ...kafkaTools(version) };
    // and what the roles load besides the scripts' classes: ZooKeeper mode's client, the FileStream example connector
    const needed: Record<string, string> = { ...mains, '(ZooKeeper client)': 'org.apache.zookeeper.ZooKeeper', '(connect-file)': 'org.apache.kafka.connect.file.FileStreamSourceConnector' };
    const missing = Object.entries(needed).filter(([, c]) => !classes.has(`${c.replaceAll('.', '/')}.class`));
    if (missing.length) {
      throw new Error(`kafka ${version} test artifact: main classes not in the resolved jars: ${missing.map(([s, c]) => `${s.startsWith('(') ? s : `bin/${s}`} -> ${c}`).join(', ')}`);
    }
    const entries: TarEntry[] = [
      ...kafkaFiles(version).map((f) => ({ path: f.path, type: 'file' as const, mode: f.mode, data: f.content })),
      ...resolved.map((a, i) => ({ path: `libs/${names[i]}`, type: 'file' as const, mode: 0o644, source: a.file })),
      { path: 'ORCH-TEST-BUILD.txt', type: 'file' as const, mode: 0o644, data: buildNote(version, resolved) },
    ];
    return { entries, resolved: resolved.map(coordinate) };
  },
};
