/**
 * TEST FIXTURE archive for roles/schema-registry: NOT Confluent Schema Registry (Confluent's archive is in no registry
 * this machine reaches; ../../../../shared/ARTIFACTS.md). It is packed in the layout of Confluent's community archive,
 * under the archive's own name and path, so that the role installs it exactly as it installs the real one:
 *
 *   confluent-7.8.0/bin/schema-registry-start                  ./schema-registry-start (POSIX sh)
 *   confluent-7.8.0/etc/schema-registry/schema-registry.properties   ./schema-registry.properties (a sample)
 *   confluent-7.8.0/share/java/schema-registry/*.jar           the fixture (./SchemaRegistryFixture.java, compiled
 *                                                              here with javac --release 17) + Apache kafka-clients
 *                                                              3.8.0 (Confluent 7.8's Kafka) and its dependencies
 *   confluent-7.8.0/ORCH-TEST-FIXTURE.txt                      what this is
 *
 * Built and cached like the registry-built artifacts (src/sim/artifacts buildWith: keyed by a hash of every
 * input, Maven's jars fetched once); needs mvn and a JDK (javac, jar) on the controller.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { confluentRelease } from '../../../roles/schema-registry/render.js';
import { buildWith, testArtifactCacheDir, type BuiltArtifact } from '../../../src/sim/artifacts/index.js';
import { coordinate, resolveMaven } from '../../../src/sim/artifacts/maven.js';
import type { Recipe } from '../../../src/sim/artifacts/recipe.js';
import type { TarEntry } from '../../../src/sim/artifacts/tgz.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Apache kafka-clients of Confluent Platform 7.8 (Kafka 3.8), and a logger binding for its slf4j */
export const FIXTURE_COORDINATES = ['org.apache.kafka:kafka-clients:3.8.0', 'org.slf4j:slf4j-simple:1.7.36'];
const JAVA_RELEASE = '17';
const SOURCE = 'SchemaRegistryFixture.java';
const MAIN = 'orch.fixture.SchemaRegistryFixture';

const read = (p: string) => readFileSync(join(HERE, p), 'utf8');

function files() {
  return [
    { path: 'bin/schema-registry-start', content: read('schema-registry-start'), mode: 0o755 },
    { path: 'etc/schema-registry/schema-registry.properties', content: read('schema-registry.properties'), mode: 0o644 },
  ];
}

function note(version: string, resolved: string[]): string {
  return [
    `TEST FIXTURE in the layout of Confluent's confluent-community-${version}.tar.gz, built by orch's tests`,
    '(test/helpers/schema-registry-fixture). It is NOT Confluent Schema Registry: bin/schema-registry-start runs',
    `${MAIN}, a small REST server that keeps schemas in the Kafka topic of kafkastore.topic.`,
    'share/java/schema-registry/ holds it and these Maven Central artifacts:',
    '',
    ...resolved,
    '',
  ].join('\n');
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', (e) => reject(new Error(`schema-registry fixture: ${cmd} failed to start (${e.message}): a JDK is needed on the controller`)));
    p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`schema-registry fixture: ${cmd} ${args.join(' ')} exited ${c}:\n${out.slice(-4000)}`))));
  });
}

export const schemaRegistryFixtureRecipe: Recipe = {
  service: 'confluent-community',
  versions: ['7.8.0'],
  inputs() {
    return { fixture: 'schema-registry-fixture', coordinates: FIXTURE_COORDINATES, javaRelease: JAVA_RELEASE, main: MAIN, source: read(SOURCE), files: files() };
  },
  async assemble(version, ctx) {
    const resolved = await resolveMaven(FIXTURE_COORDINATES, { localRepo: ctx.mavenRepo, why: 'schema-registry fixture', log: ctx.log });
    const tmp = await mkdtemp(join(tmpdir(), 'orch-sr-fixture-'));
    try {
      const jar = join(tmp, 'fixture.jar');
      await run('javac', ['--release', JAVA_RELEASE, '-encoding', 'UTF-8', '-cp', resolved.map((a) => a.file).join(':'), '-d', join(tmp, 'classes'), join(HERE, SOURCE)]);
      await run('jar', ['--create', '--file', jar, '--date=2000-01-01T00:00:02Z', '-C', join(tmp, 'classes'), '.']);
      const names = resolved.map((a) => `${a.artifactId}-${a.version}${a.classifier ? `-${a.classifier}` : ''}.jar`);
      if (new Set(names).size !== names.length) throw new Error(`schema-registry fixture: two jars share a name in ${names.join(', ')}`);
      const lib = 'share/java/schema-registry';
      const entries: TarEntry[] = [
        ...files().map((f) => ({ path: f.path, type: 'file' as const, mode: f.mode, data: f.content })),
        { path: `${lib}/orch-schema-registry-fixture-${version}.jar`, type: 'file', mode: 0o644, data: await readFile(jar) },
        ...resolved.map((a, i) => ({ path: `${lib}/${names[i]}`, type: 'file' as const, mode: 0o644, source: a.file })),
        { path: 'ORCH-TEST-FIXTURE.txt', type: 'file', mode: 0o644, data: note(version, resolved.map(coordinate)) },
      ];
      return { entries, resolved: resolved.map(coordinate) };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};

/** The fixture archive under Confluent's path (`archive/7.8/confluent-community-7.8.0.tar.gz`), for serveArtifacts. */
export function buildSchemaRegistryFixture(version = '7.8.0', log?: (s: string) => void): Promise<BuiltArtifact> {
  return buildWith(schemaRegistryFixtureRecipe, confluentRelease(version), testArtifactCacheDir(), log);
}
