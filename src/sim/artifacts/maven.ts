/**
 * Maven Central through the `mvn` client: a generated pom listing the wanted coordinates, resolved with
 * maven-dependency-plugin's `list` (runtime scope: compile + runtime, transitively) into a local repository under the
 * test-artifact cache, so a machine fetches each jar once. Also: the entries of a jar (to check a main class is there).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../../core/file-lock.js';

/** pinned, so that resolution does not depend on the Maven installation's default plugin version */
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  type: string;
  classifier?: string;
  version: string;
  scope: string;
  /** the file in the local repository */
  file: string;
}

export const coordinate = (a: Pick<MavenArtifact, 'groupId' | 'artifactId' | 'version' | 'classifier'>) =>
  `${a.groupId}:${a.artifactId}:${a.version}${a.classifier ? `:${a.classifier}` : ''}`;

const COORD = /^([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+):([A-Za-z0-9_.+-]+)(?::([A-Za-z0-9_.-]+))?$/;

/** `groupId:artifactId:version[:classifier]`, versions pinned (no ranges) */
export function parseCoordinate(c: string): { groupId: string; artifactId: string; version: string; classifier?: string } {
  const m = COORD.exec(c);
  if (!m) throw new Error(`maven coordinate ${JSON.stringify(c)}: expected groupId:artifactId:version[:classifier] with a pinned version`);
  return { groupId: m[1], artifactId: m[2], version: m[3], ...(m[4] ? { classifier: m[4] } : {}) };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function generatePom(coords: string[]): string {
  const deps = coords.map((c) => {
    const d = parseCoordinate(c);
    return `    <dependency><groupId>${esc(d.groupId)}</groupId><artifactId>${esc(d.artifactId)}</artifactId><version>${esc(d.version)}</version>${
      d.classifier ? `<classifier>${esc(d.classifier)}</classifier>` : ''
    }</dependency>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>orch.test-artifacts</groupId>',
    '  <artifactId>resolve</artifactId>',
    '  <version>1</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    ...deps,
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/**
 * Parse the `list` goal's output file: `   g:a:type[:classifier]:version:scope:/path[ -- module x]` lines.
 */
export function parseDependencyList(text: string): MavenArtifact[] {
  const out: MavenArtifact[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/ -- module .*$/, '').trim();
    if (!line || !line.includes(':/')) continue;
    const at = line.indexOf(':/');
    const file = line.slice(at + 1);
    const parts = line.slice(0, at).split(':');
    if (parts.length !== 5 && parts.length !== 6) throw new Error(`unexpected line in the dependency list: ${raw}`);
    const [groupId, artifactId, type] = parts;
    const classifier = parts.length === 6 ? parts[3] : undefined;
    const version = parts[parts.length - 2];
    const scope = parts[parts.length - 1];
    out.push({ groupId, artifactId, type, ...(classifier ? { classifier } : {}), version, scope, file });
  }
  return out.sort((a, b) => (coordinate(a) < coordinate(b) ? -1 : coordinate(a) > coordinate(b) ? 1 : 0));
}

/** mvn on PATH, or an error saying how to get it */
export function requireMaven(why: string): void {
  const r = spawnSync('mvn', ['-v'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `${why} needs Maven (mvn) on PATH to fetch from Maven Central${r.error ? ` (${(r.error as Error).message})` : ''}: ` +
        'install it (Debian: apt-get install -y maven) and a JDK, or build the artifact on a machine that has it',
    );
  }
}

/** Resolve `coords` and their runtime dependencies from Maven Central into `localRepo`. */
export async function resolveMaven(coords: string[], o: { localRepo: string; why: string; log?: (s: string) => void }): Promise<MavenArtifact[]> {
  requireMaven(o.why);
  await mkdir(o.localRepo, { recursive: true });
  // Maven's local repository is not safe for two mvn processes writing at once (parallel test files)
  return withFileLock(`${o.localRepo}.lock`, () => resolveLocked(coords, o), { log: o.log, what: `the Maven repository ${o.localRepo}` });
}

async function resolveLocked(coords: string[], o: { localRepo: string; why: string; log?: (s: string) => void }): Promise<MavenArtifact[]> {
  const dir = await mkdtemp(join(o.localRepo, '..', '.resolve-'));
  try {
    await writeFile(join(dir, 'pom.xml'), generatePom(coords));
    const listFile = join(dir, 'dependencies.txt');
    const args = [
      '-q',
      '-B',
      `-Dmaven.repo.local=${o.localRepo}`,
      `${DEPENDENCY_PLUGIN}:list`,
      '-DincludeScope=runtime',
      '-DoutputAbsoluteArtifactFilename=true',
      `-DoutputFile=${listFile}`,
    ];
    o.log?.(`mvn ${args.join(' ')}`);
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      const p = spawn('mvn', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      p.stdout.on('data', (d) => (output += d));
      p.stderr.on('data', (d) => (output += d));
      p.on('error', reject);
      p.on('close', (c) => resolve({ code: c ?? 1, output }));
    });
    if (code !== 0) throw new Error(`${o.why}: mvn failed (exit ${code}) resolving ${coords.join(', ')}:\n${output.slice(-4000)}`);
    const list = parseDependencyList(await readFile(listFile, 'utf8'));
    if (!list.length) throw new Error(`${o.why}: mvn resolved nothing for ${coords.join(', ')}`);
    return list;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The entry names of a zip/jar, from its central directory (no zip64: jars here are small). */
export function jarEntries(file: string): string[] {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${file} is not a zip/jar (no end of central directory)`);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff) throw new Error(`${file}: zip64 jars are not supported here`);
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    const names: string[] = [];
    for (let p = 0; p + 46 <= cd.length; ) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: corrupt central directory at ${cdOffset + p}`);
      const n = cd.readUInt16LE(p + 28);
      const x = cd.readUInt16LE(p + 30);
      const c = cd.readUInt16LE(p + 32);
      names.push(cd.toString('utf8', p + 46, p + 46 + n));
      p += 46 + n + x + c;
    }
    return names;
  } finally {
    closeSync(fd);
  }
}
