/**
 * The registry-built test artifacts' pieces that need no network: the recipe hash, the reproducible tar.gz, the
 * Kafka layout (scripts, main classes, libs/ names), the Maven list parsing, the cache hit, the mirror server, and
 * the bin/ scripts' behaviour against a stand-in `java` that prints what it is given.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mirrorUrl, release } from '../../src/artifacts/index.js';
import { buildArtifact, buildWith, recipeFor, recipeKey, serveArtifacts, testArtifactCacheDir, type Recipe } from '../../src/sim/artifacts/index.js';
import { kafkaCoordinates, kafkaFiles, kafkaTools, libNames } from '../../src/sim/artifacts/kafka/recipe.js';
import { generatePom, jarEntries, parseCoordinate, parseDependencyList, requireMaven } from '../../src/sim/artifacts/maven.js';
import { FIXED_MTIME, normaliseEntries, tarHeader, writeTgz, type TarEntry } from '../../src/sim/artifacts/tgz.js';

const work = mkdtempSync(join(tmpdir(), 'orch-artifacts-unit-'));
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

describe('reproducible tar.gz', () => {
  const entries = (): TarEntry[] => [
    { path: 'app-1.0/bin/run.sh', type: 'file', mode: 0o755, data: '#!/bin/sh\necho run\n' },
    { path: 'app-1.0/libs/b.jar', type: 'file', data: Buffer.alloc(1000, 2) },
    { path: 'app-1.0/libs/a.jar', type: 'file', data: Buffer.alloc(513, 1) },
    { path: 'app-1.0/conf/app.properties', type: 'file', data: 'port=1\n' },
  ];

  it('the same entries give the same bytes, whatever their order and the files\' mtimes', async () => {
    const src = join(work, 'src.bin');
    writeFileSync(src, Buffer.alloc(700, 9));
    const one = await writeTgz(join(work, 'one.tgz'), [...entries(), { path: 'app-1.0/x.bin', type: 'file', source: src }]);
    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(src, Buffer.alloc(700, 9)); // a new mtime, same content
    const two = await writeTgz(join(work, 'two.tgz'), [{ path: 'app-1.0/x.bin', type: 'file', source: src }, ...entries().reverse()]);
    expect(two).toBe(one);
    expect(sha512(readFileSync(join(work, 'one.tgz')))).toBe(one);
    expect(readFileSync(join(work, 'two.tgz')).equals(readFileSync(join(work, 'one.tgz')))).toBe(true);
    const three = await writeTgz(join(work, 'three.tgz'), [...entries(), { path: 'app-1.0/x.bin', type: 'file', data: Buffer.alloc(700, 8) }]);
    expect(three).not.toBe(one);
  });

  it('GNU tar reads it: sorted, parents first, root:root, fixed mtime, modes kept, contents intact', async () => {
    await writeTgz(join(work, 'list.tgz'), entries());
    const listing = execFileSync('tar', ['--numeric-owner', '--utc', '-tvzf', join(work, 'list.tgz')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/));
    expect(listing.map((f) => f[5])).toEqual([
      'app-1.0/',
      'app-1.0/bin/',
      'app-1.0/bin/run.sh',
      'app-1.0/conf/',
      'app-1.0/conf/app.properties',
      'app-1.0/libs/',
      'app-1.0/libs/a.jar',
      'app-1.0/libs/b.jar',
    ]);
    expect(new Set(listing.map((f) => f[1]))).toEqual(new Set(['0/0']));
    expect(new Set(listing.map((f) => `${f[3]} ${f[4]}`))).toEqual(new Set(['2000-01-01 00:00']));
    expect(listing.map((f) => f[0])).toEqual(['drwxr-xr-x', 'drwxr-xr-x', '-rwxr-xr-x', 'drwxr-xr-x', '-rw-r--r--', 'drwxr-xr-x', '-rw-r--r--', '-rw-r--r--']);
    const out = join(work, 'x');
    mkdirSync(out);
    execFileSync('tar', ['-xzf', join(work, 'list.tgz'), '-C', out]);
    expect(readFileSync(join(out, 'app-1.0/bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho run\n');
    expect(readFileSync(join(out, 'app-1.0/libs/a.jar')).equals(Buffer.alloc(513, 1))).toBe(true);
  });

  it('long paths use the ustar prefix; bad paths and duplicates are refused', async () => {
    const long = `${'d'.repeat(90)}/${'f'.repeat(90)}.jar`;
    const h = tarHeader({ path: long, type: 'file', mode: 0o644, size: 1 });
    expect(h.toString('utf8', 0, 100).replace(/\0+$/, '')).toBe(`${'f'.repeat(90)}.jar`);
    expect(h.toString('utf8', 345, 500).replace(/\0+$/, '')).toBe('d'.repeat(90));
    expect(h.toString('ascii', 136, 147)).toBe(FIXED_MTIME.toString(8).padStart(11, '0'));
    await expect(normaliseEntries([{ path: '../x', type: 'dir' }])).rejects.toThrow(/must be relative/);
    await expect(normaliseEntries([{ path: '/abs', type: 'dir' }])).rejects.toThrow(/must be relative/);
    await expect(normaliseEntries([{ path: 'a', type: 'dir' }, { path: 'a', type: 'dir' }])).rejects.toThrow(/listed twice/);
    await expect(normaliseEntries([{ path: 'a', type: 'file', data: '' }, { path: 'a/b', type: 'file', data: '' }])).rejects.toThrow(/a is a file and a parent of a\/b/);
  });
});

describe('the Kafka recipe', () => {
  it('resolves the release\'s modules at the release version, kafka-server from 3.7 on, plus reload4j logging', () => {
    expect(kafkaCoordinates('3.9.0')).toEqual([
      'org.apache.kafka:kafka_2.13:3.9.0',
      'org.apache.kafka:kafka-tools:3.9.0',
      'org.apache.kafka:kafka-storage:3.9.0',
      'org.apache.kafka:kafka-metadata:3.9.0',
      'org.apache.kafka:kafka-server:3.9.0',
      'org.apache.kafka:connect-runtime:3.9.0',
      'org.apache.kafka:connect-file:3.9.0',
      'org.apache.kafka:connect-json:3.9.0',
      'org.apache.kafka:connect-api:3.9.0',
      'org.apache.kafka:connect-transforms:3.9.0',
      'org.slf4j:slf4j-reload4j:1.7.36',
      'ch.qos.reload4j:reload4j:1.2.25',
    ]);
    expect(kafkaCoordinates('3.6.1')).not.toContain('org.apache.kafka:kafka-server:3.6.1');
    expect(kafkaCoordinates('3.6.1')).toContain('org.apache.kafka:connect-runtime:3.6.1');
  });

  it('lays out bin/ and config/ as the release does, each tool script running its class through kafka-run-class.sh', () => {
    const files = kafkaFiles('3.9.0');
    const paths = files.map((f) => f.path);
    for (const p of [
      'bin/kafka-run-class.sh',
      'bin/kafka-server-start.sh',
      'bin/kafka-server-stop.sh',
      'bin/kafka-storage.sh',
      'bin/kafka-metadata-quorum.sh',
      'bin/kafka-topics.sh',
      'config/log4j.properties',
      'config/tools-log4j.properties',
      'config/kraft/server.properties',
      'config/server.properties',
      'bin/connect-distributed.sh',
      'bin/zookeeper-shell.sh',
      'config/connect-log4j.properties',
      'config/connect-distributed.properties',
    ]) {
      expect(paths).toContain(p);
    }
    for (const f of files) expect(f.mode).toBe(f.path.startsWith('bin/') ? 0o755 : 0o644);
    const topics = files.find((f) => f.path === 'bin/kafka-topics.sh')!.content;
    expect(topics).toContain('exec "$(dirname -- "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"\n');
    expect(topics).not.toMatch(/@[A-Z_]+@/);
    expect(kafkaTools('3.9.0')['kafka-storage.sh']).toBe('kafka.tools.StorageTool');
    expect(kafkaTools('3.9.0')['kafka-metadata-quorum.sh']).toBe('org.apache.kafka.tools.MetadataQuorumCommand');
    expect(kafkaTools('3.6.1')['kafka-topics.sh']).toBe('kafka.admin.TopicCommand');
    expect(files.find((f) => f.path === 'config/kraft/server.properties')!.content).toMatch(/^process\.roles=broker,controller$/m);
    expect(files.find((f) => f.path === 'bin/connect-distributed.sh')!.content).toContain('kafka-run-class.sh" $DAEMON $EXTRA_ARGS org.apache.kafka.connect.cli.ConnectDistributed "$@"\n');
    // Apache's kafka-run-class.sh leaves the FileStream connectors off the class path (KAFKA-13748): plugin.path loads them
    expect(files.find((f) => f.path === 'bin/kafka-run-class.sh')!.content).toContain('connect-file-*.jar) ;;');
  });

  it('names libs/ jars artifactId-version.jar, refusing a clash or a non-jar', () => {
    const a = (groupId: string, artifactId: string, version: string, type = 'jar') => ({ groupId, artifactId, version, type });
    expect(libNames([a('com.yammer.metrics', 'metrics-core', '2.2.0'), a('io.dropwizard.metrics', 'metrics-core', '4.1.12.1')])).toEqual([
      'metrics-core-2.2.0.jar',
      'metrics-core-4.1.12.1.jar',
    ]);
    expect(() => libNames([a('x', 'core', '1'), a('y', 'core', '1')])).toThrow(/x:core:1 would both be libs\/core-1\.jar/);
    expect(() => libNames([a('x', 'core', '1', 'pom')])).toThrow(/is a pom, not a jar/);
  });

  it('the recipe hash changes with the version, the coordinates and every script\'s content, and nothing else', () => {
    const kafka = recipeFor('kafka');
    const r390 = release('kafka', '3.9.0');
    const k1 = recipeKey(kafka, r390);
    expect(k1).toMatch(/^[0-9a-f]{64}$/);
    expect(recipeKey(kafka, r390)).toBe(k1);
    expect(recipeKey(kafka, release('kafka', '3.6.1'))).not.toBe(k1);
    const inputs = kafka.inputs('3.9.0') as { files: Array<{ path: string; content: string }>; coordinates: string[] };
    const edited = (change: (i: typeof inputs) => void): Recipe => {
      const copy = structuredClone(inputs);
      change(copy);
      return { ...kafka, inputs: () => copy };
    };
    expect(recipeKey(edited(() => {}), r390)).toBe(k1);
    expect(recipeKey(edited((i) => (i.files[0].content += '\n')), r390)).not.toBe(k1);
    expect(recipeKey(edited((i) => (i.coordinates[0] = 'org.apache.kafka:kafka_2.13:3.9.1')), r390)).not.toBe(k1);
  });
});

describe('maven', () => {
  it('parses the dependency list, with classifiers and module notes, sorted', () => {
    const text = [
      '',
      'The following files have been resolved:',
      '   org.apache.kafka:kafka-clients:jar:3.9.0:compile:/r/kafka-clients-3.9.0.jar -- module kafka.clients (auto)',
      '   io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.105.Final:runtime:/r/epoll.jar',
      '   org.apache.kafka:kafka_2.13:jar:3.9.0:compile:/r/kafka_2.13-3.9.0.jar',
      '',
    ].join('\n');
    expect(parseDependencyList(text)).toEqual([
      { groupId: 'io.netty', artifactId: 'netty-transport-native-epoll', type: 'jar', classifier: 'linux-x86_64', version: '4.1.105.Final', scope: 'runtime', file: '/r/epoll.jar' },
      { groupId: 'org.apache.kafka', artifactId: 'kafka-clients', type: 'jar', version: '3.9.0', scope: 'compile', file: '/r/kafka-clients-3.9.0.jar' },
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', type: 'jar', version: '3.9.0', scope: 'compile', file: '/r/kafka_2.13-3.9.0.jar' },
    ]);
  });

  it('generates a pom of pinned coordinates and refuses ranges', () => {
    const pom = generatePom(['org.apache.kafka:kafka_2.13:3.9.0', 'io.netty:netty-transport-native-epoll:4.1.105.Final:linux-x86_64']);
    expect(pom).toContain('<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>3.9.0</version></dependency>');
    expect(pom).toContain('<classifier>linux-x86_64</classifier>');
    expect(() => parseCoordinate('org.apache.kafka:kafka_2.13:[3.0,4.0)')).toThrow(/pinned version/);
    expect(() => parseCoordinate('kafka_2.13')).toThrow(/groupId:artifactId:version/);
  });

  it('without mvn on PATH, building says what is missing and how to get it', () => {
    const old = process.env.PATH;
    process.env.PATH = join(work, 'no-such-bin');
    try {
      expect(() => requireMaven('kafka 3.9.0 test artifact')).toThrow(/^kafka 3\.9\.0 test artifact needs Maven \(mvn\) on PATH .*apt-get install -y maven/);
    } finally {
      process.env.PATH = old;
    }
  });

  it('lists the entries of a jar from its central directory', () => {
    const d = join(work, 'jar');
    mkdirSync(join(d, 'kafka/tools'), { recursive: true });
    writeFileSync(join(d, 'kafka/Kafka.class'), 'x');
    writeFileSync(join(d, 'kafka/tools/StorageTool.class'), 'y');
    execFileSync('zip', ['-qr', join(work, 'k.jar'), 'kafka'], { cwd: d });
    expect(jarEntries(join(work, 'k.jar')).sort()).toEqual(['kafka/', 'kafka/Kafka.class', 'kafka/tools/', 'kafka/tools/StorageTool.class']);
    writeFileSync(join(work, 'not.jar'), 'plain text');
    expect(() => jarEntries(join(work, 'not.jar'))).toThrow(/not a zip\/jar/);
  });
});

describe('cache and mirror', () => {
  // a recipe that needs no registry, building into the Kafka release's name and path: the cache and the server do
  // not depend on where the entries come from (the real Kafka build is in test/integration/artifact-registry.test.ts)
  let assembled = 0;
  let content = '#!/bin/sh\necho one\n';
  const local = (): Recipe => ({
    service: 'kafka',
    versions: ['3.9.0'],
    inputs: () => ({ content }),
    async assemble() {
      assembled++;
      return { entries: [{ path: 'bin/x.sh', type: 'file', mode: 0o755, data: content }], resolved: ['local:x:1'] };
    },
  });
  const rel = release('kafka', '3.9.0');
  const cacheDir = join(work, 'cache');
  let mirror: Awaited<ReturnType<typeof serveArtifacts>> | undefined;
  afterAll(() => mirror?.close());

  it('the cache dir follows XDG_CACHE_HOME', () => {
    const old = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = '/x/cache';
    try {
      expect(testArtifactCacheDir()).toBe('/x/cache/orch/test-artifacts');
    } finally {
      if (old === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = old;
    }
  });

  it('refuses an unknown service or a version the recipe does not build', async () => {
    await expect(buildArtifact({ service: 'nope', version: '1' })).rejects.toThrow(/no test-artifact recipe for nope \(recipes: flink, kafka, minio, spark\)/);
    await expect(buildArtifact({ service: 'kafka', version: '3.9.9' })).rejects.toThrow(/does not build 3\.9\.9 \(it builds: 3\.9\.0, 3\.6\.1\)/);
  });

  it('builds once; a second build is a cache hit with the same file and sha512; a changed or corrupted input rebuilds', async () => {
    const first = await buildWith(local(), rel, cacheDir);
    expect(first).toMatchObject({ cached: false, fileName: 'kafka_2.13-3.9.0.tgz', path: 'kafka/3.9.0/kafka_2.13-3.9.0.tgz', topDir: 'kafka_2.13-3.9.0', resolved: ['local:x:1'] });
    expect(sha512(readFileSync(first.file))).toBe(first.sha512);
    expect(execFileSync('tar', ['-tzf', first.file], { encoding: 'utf8' })).toBe('kafka_2.13-3.9.0/\nkafka_2.13-3.9.0/bin/\nkafka_2.13-3.9.0/bin/x.sh\n');
    const second = await buildWith(local(), rel, cacheDir);
    expect(second).toEqual({ ...first, cached: true });
    expect(assembled).toBe(1);
    // a corrupted cached archive is not trusted: rebuilt, to the same bytes
    writeFileSync(first.file, 'garbage');
    const repaired = await buildWith(local(), rel, cacheDir);
    expect(repaired).toEqual({ ...first, cached: false });
    expect(assembled).toBe(2);
    // another script content is another recipe: another key, another archive
    content = '#!/bin/sh\necho two\n';
    const changed = await buildWith(local(), rel, cacheDir);
    expect(changed.cached).toBe(false);
    expect(changed.key).not.toBe(first.key);
    expect(changed.sha512).not.toBe(first.sha512);
    content = '#!/bin/sh\necho one\n';
    expect((await buildWith(local(), rel, cacheDir)).cached).toBe(true);
  });

  it('serves artifacts on 127.0.0.1 under the release path, so that the mirror rule finds them; anything else is a 404', async () => {
    const built = await buildWith(local(), rel, cacheDir);
    mirror = await serveArtifacts([built]);
    expect(mirror.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(mirrorUrl(rel, mirror.url));
    expect(res.status).toBe(200);
    expect(sha512(Buffer.from(await res.arrayBuffer()))).toBe(built.sha512);
    expect(mirror.hits.get('kafka/3.9.0/kafka_2.13-3.9.0.tgz')).toBe(1);
    expect((await fetch(`${mirror.url}kafka/3.9.0/other.tgz`)).status).toBe(404);
    expect((await fetch(`${mirror.url}kafka_2.13-3.9.0.tgz`)).status).toBe(404);
  });
});

describe('the Kafka bin/ scripts', () => {
  // a release tree with the recipe's files and a stand-in java that prints its arguments, one per line
  const home = join(work, 'kafka_2.13-3.9.0');
  const javaHome = join(work, 'jdk');
  for (const f of kafkaFiles('3.9.0')) {
    mkdirSync(join(home, f.path, '..'), { recursive: true });
    writeFileSync(join(home, f.path), f.content);
    chmodSync(join(home, f.path), f.mode);
  }
  mkdirSync(join(home, 'libs'), { recursive: true });
  for (const jar of ['kafka_2.13-3.9.0.jar', 'connect-file-3.9.0.jar', 'connect-runtime-3.9.0.jar']) writeFileSync(join(home, 'libs', jar), '');
  const libs = `${home}/libs/connect-runtime-3.9.0.jar:${home}/libs/kafka_2.13-3.9.0.jar`;
  mkdirSync(join(javaHome, 'bin'), { recursive: true });
  writeFileSync(join(javaHome, 'bin', 'java'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
  const run = (script: string, args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync('sh', [join(home, 'bin', script), ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', JAVA_HOME: javaHome, LOG_DIR: join(work, 'logs'), ...env },
    });
    return { code: r.status, args: r.stdout.trim().split('\n'), stderr: r.stderr };
  };

  it('kafka-server-start.sh runs kafka.Kafka with the release\'s libs (not the FileStream connectors), log4j.properties and a 1G heap by default', () => {
    const r = run('kafka-server-start.sh', ['/etc/kafka/server.properties', '--override', 'node.id=2']);
    expect(r.code).toBe(0);
    expect(r.args).toContain('-Xmx1G');
    expect(r.args).toContain('-Xms1G');
    expect(r.args).toContain(`-Dlog4j.configuration=file:${home}/bin/../config/log4j.properties`);
    expect(r.args).toContain(`-Dkafka.logs.dir=${join(work, 'logs')}`);
    expect(r.args).toContain(`-Xlog:gc*:file=${join(work, 'logs')}/kafkaServer-gc.log:time,tags:filecount=10,filesize=100M`);
    expect(r.args.slice(r.args.indexOf('-cp'), r.args.indexOf('-cp') + 2)).toEqual(['-cp', libs]);
    expect(r.args.slice(-4)).toEqual(['kafka.Kafka', '/etc/kafka/server.properties', '--override', 'node.id=2']);
  });

  it('honours KAFKA_HEAP_OPTS, KAFKA_OPTS, KAFKA_LOG4J_OPTS, JMX_PORT and CLASSPATH', () => {
    const r = run('kafka-server-start.sh', ['/etc/kafka/server.properties'], {
      KAFKA_HEAP_OPTS: '-Xmx256m -Xms256m',
      KAFKA_OPTS: '-Dfoo=bar -javaagent:/opt/jmx.jar',
      KAFKA_LOG4J_OPTS: '-Dlog4j.configuration=file:/etc/kafka/log4j.properties',
      JMX_PORT: '9999',
      CLASSPATH: '/opt/extra/*',
    });
    expect(r.code).toBe(0);
    expect(r.args).toContain('-Xmx256m');
    expect(r.args).not.toContain('-Xmx1G');
    expect(r.args).toContain('-Dlog4j.configuration=file:/etc/kafka/log4j.properties');
    expect(r.args).toContain('-Dcom.sun.management.jmxremote.port=9999');
    expect(r.args[r.args.indexOf('-cp') + 1]).toBe(`${libs}:/opt/extra/*`);
    // KAFKA_OPTS come after the class path and before the class
    expect(r.args.slice(r.args.indexOf('kafka.Kafka') - 2, r.args.indexOf('kafka.Kafka'))).toEqual(['-Dfoo=bar', '-javaagent:/opt/jmx.jar']);
  });

  it('connect-distributed.sh runs ConnectDistributed with connect-log4j.properties and Apache\'s default heap', () => {
    const r = run('connect-distributed.sh', ['/etc/kafka-connect/connect-distributed.properties']);
    expect(r.code).toBe(0);
    expect(r.args.slice(-2)).toEqual(['org.apache.kafka.connect.cli.ConnectDistributed', '/etc/kafka-connect/connect-distributed.properties']);
    expect(r.args).toContain('-Xms256M');
    expect(r.args).toContain('-Xmx2G');
    expect(r.args).toContain(`-Dlog4j.configuration=file:${home}/bin/../config/connect-log4j.properties`);
    expect(run('connect-distributed.sh', ['/x'], { KAFKA_HEAP_OPTS: '-Xmx300m' }).args).not.toContain('-Xmx2G');
  });

  it('zookeeper-shell.sh connects to the server given first, as Apache\'s does (-server)', () => {
    const r = run('zookeeper-shell.sh', ['zk1:2181', 'ls', '/brokers/ids']);
    expect(r.code).toBe(0);
    expect(r.args.slice(-5)).toEqual(['org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka', '-server', 'zk1:2181', 'ls', '/brokers/ids']);
  });

  it('the tools run their class with tools-log4j.properties and a 256M heap; without a config the server refuses', () => {
    const s = run('kafka-storage.sh', ['random-uuid']);
    expect(s.code).toBe(0);
    expect(s.args.slice(-2)).toEqual(['kafka.tools.StorageTool', 'random-uuid']);
    expect(s.args).toContain('-Xmx256M');
    expect(s.args).toContain(`-Dlog4j.configuration=file:${home}/config/tools-log4j.properties`);
    const q = run('kafka-metadata-quorum.sh', ['--bootstrap-server', 'localhost:9092', 'describe', '--status']);
    expect(q.args.slice(-5)).toEqual(['org.apache.kafka.tools.MetadataQuorumCommand', '--bootstrap-server', 'localhost:9092', 'describe', '--status']);
    expect(run('kafka-topics.sh', ['--list']).args.slice(-2)).toEqual(['org.apache.kafka.tools.TopicCommand', '--list']);
    const none = run('kafka-server-start.sh', []);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('USAGE:');
  });
});
