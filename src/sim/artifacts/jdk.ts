/**
 * A JDK archive for the simulated hosts from the Temurin JDK this machine has (the real Eclipse Temurin build, as
 * Adoptium's Debian package installs it under /usr/lib/jvm), packed in the layout of Adoptium's release archive:
 * `jdk-<release>/bin/java ...`, named as Adoptium names it (OpenJDK25U-jdk_x64_linux_hotspot_25.0.3_9.tar.gz). Its
 * release comes from the JDK's own `release` file (IMPLEMENTOR_VERSION="Temurin-25.0.3+9"). Not Adoptium's archive
 * byte for byte, so its sha256 goes to the java role as java_archive_sha256.
 *
 * Packed once per machine under the test-artifact cache; reproducible (sorted names, fixed mtime and owner).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { temurinRelease } from '../../artifacts/index.js';
import { fileDigest } from '../../core/file-hash.js';
import { cachedOrFilled } from '../../core/file-lock.js';
import { testArtifactCacheDir } from './index.js';

export interface LocalJdk {
  /** the Temurin release, e.g. 25.0.3+9 */
  release: string;
  major: number;
  /** the archive on the controller */
  file: string;
  /** its path under a mirror, as Adoptium's (temurin25-binaries/releases/download/jdk-25.0.3%2B9/...) */
  path: string;
  sha256: string;
}

/** Temurin JDKs this machine has (/usr/lib/jvm/temurin-*), newest major first */
export function localTemurinHomes(): string[] {
  if (!existsSync('/usr/lib/jvm')) return [];
  return readdirSync('/usr/lib/jvm')
    .filter((d) => /^temurin-[0-9]+-jdk-/.test(d))
    .map((d) => join('/usr/lib/jvm', d))
    .sort((a, b) => Number(/temurin-([0-9]+)/.exec(b)![1]) - Number(/temurin-([0-9]+)/.exec(a)![1]));
}

/** The release name in a JDK's `release` file (Temurin-25.0.3+9 -> 25.0.3+9) */
export function releaseOf(home: string): string {
  const text = readFileSync(join(home, 'release'), 'utf8');
  const m = /^IMPLEMENTOR_VERSION="Temurin-([0-9.]+\+[0-9]+)"/m.exec(text);
  if (!m) throw new Error(`${home}/release names no Temurin release (IMPLEMENTOR_VERSION="Temurin-V+B")`);
  return m[1];
}

/** Pack (or take from the cache) the newest local Temurin JDK of at least `minMajor`. */
export async function localTemurinArchive(minMajor: number, log?: (s: string) => void): Promise<LocalJdk> {
  const home = localTemurinHomes().find((h) => Number(/temurin-([0-9]+)/.exec(h)![1]) >= minMajor);
  if (!home) throw new Error(`no Temurin JDK ${minMajor}+ under /usr/lib/jvm on this machine (the test hosts' JDK archive is packed from it)`);
  const release = releaseOf(home);
  const arch = { x64: 'x64', amd64: 'x64', arm64: 'aarch64', aarch64: 'aarch64' }[/-jdk-(.+)$/.exec(home)![1]] ?? 'x64';
  const rel = temurinRelease(release, arch);
  const dir = join(testArtifactCacheDir(), `temurin-${release}-local`);
  const file = join(dir, rel.fileName);
  const shaFile = `${file}.sha256`;
  const cached = async (): Promise<LocalJdk | undefined> => {
    if (!existsSync(file) || !existsSync(shaFile)) return undefined;
    const sha256 = (await readFile(shaFile, 'utf8')).trim();
    if ((await fileDigest(file)) !== sha256) return undefined;
    log?.(`${rel.fileName}: cache hit (${dir})`);
    return { release, major: Number(release.split('.')[0]), file, path: rel.path, sha256 };
  };
  const pack = async (): Promise<LocalJdk> => {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    const t0 = Date.now();
    // GNU tar: the JDK's directory renamed to Adoptium's top dir, reproducible entries
    execFileSync('tar', ['--sort=name', '--mtime=2026-01-01 00:00Z', '--owner=0', '--group=0', '--numeric-owner', '-C', '/usr/lib/jvm', `--transform=s,^${home.split('/').pop()},${rel.topDir},`, '-czf', tmp, home.split('/').pop()!], { stdio: 'inherit' });
    const sha256 = await fileDigest(tmp);
    await rename(tmp, file);
    await writeFile(shaFile, `${sha256}\n`);
    log?.(`${rel.fileName}: packed from ${home} in ${((Date.now() - t0) / 1000).toFixed(1)} s, sha256 ${sha256.slice(0, 16)}..`);
    return { release, major: Number(release.split('.')[0]), file, path: rel.path, sha256 };
  };
  return cachedOrFilled(`${dir}.lock`, cached, pack, { log, what: `the packing of ${rel.fileName}` });
}
