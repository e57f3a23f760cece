/**
 * Controller-side npm bundle: a Node.js program (configurable-http-proxy, JupyterHub's proxy) installed once on the
 * controller from a package-lock.json kept in the repository (`npm ci`: every package at its locked version,
 * checked against the lock's integrity hashes), cached by the lock's digest and packed as one tar (package.json,
 * package-lock.json, node_modules) for a single verified upload. Hosts need Node.js but reach no registry.
 *
 * `--ignore-scripts`: nothing of the bundle runs on the controller; a package that needs an install script (a
 * native addon) is not bundled this way. The registry is npm's, or the site's (`registry`).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileDigest } from '../core/file-hash.js';
import { cachedOrFilled } from '../core/file-lock.js';
import { defaultCacheDir } from './artifact-cache.js';

const run = promisify(execFile);

export interface NpmBundle {
  /** tar of package.json, package-lock.json and node_modules */
  tar: string;
  /** sha256 of the tar */
  sha256: string;
  /** digest of the lock (package.json and package-lock.json): what the host's marker holds */
  digest: string;
}

export interface NpmBundleOptions {
  cacheDir?: string;
  /** a site registry instead of npm's */
  registry?: string;
}

export interface NpmLock {
  /** package.json's text */
  manifest: string;
  /** package-lock.json's text */
  lock: string;
}

/** Reads the lock directory (package.json and package-lock.json) and checks that the lock pins every package. */
export function readNpmLock(lockDir: string): NpmLock {
  const manifest = readFileSync(join(lockDir, 'package.json'), 'utf8');
  const lock = readFileSync(join(lockDir, 'package-lock.json'), 'utf8');
  checkNpmLock(lock, `${lockDir}/package-lock.json`);
  return { manifest, lock };
}

/**
 * A package-lock.json (lockfileVersion 2 or 3) whose every package has a version and an integrity. The resolved URL
 * may be absent (npm's omit-lockfile-registry-resolved: npm ci then fetches name@version from the registry it is
 * given and checks it against the integrity).
 */
export function checkNpmLock(lockText: string, where: string): void {
  let parsed: { lockfileVersion?: number; packages?: Record<string, { version?: string; resolved?: string; integrity?: string; link?: boolean }> };
  try {
    parsed = JSON.parse(lockText);
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  if (parsed.lockfileVersion !== 2 && parsed.lockfileVersion !== 3) throw new Error(`${where}: lockfileVersion ${parsed.lockfileVersion}, expected 2 or 3 (npm 7+)`);
  const packages = Object.entries(parsed.packages ?? {}).filter(([path]) => path !== '');
  if (!packages.length) throw new Error(`${where}: locks no package`);
  for (const [path, p] of packages) {
    if (p.link) throw new Error(`${where}: ${path} is a link, not a locked package`);
    if (!p.version || !p.integrity) throw new Error(`${where}: ${path} has no version or integrity: not a complete lock (regenerate it with npm install --package-lock-only)`);
  }
}

/** The digest of a lock: what the host's marker records. */
export function npmLockDigest(l: NpmLock): string {
  return createHash('sha256').update(l.manifest).update('\0').update(l.lock).digest('hex');
}

const exists = (path: string) => access(path).then(() => true, () => false);
const inflight = new Map<string, Promise<NpmBundle>>();

/** Builds (once, cached across runs) and returns the bundle of the lock directory `lockDir`. */
export function ensureNpmBundle(lockDir: string, options: NpmBundleOptions = {}): Promise<NpmBundle> {
  const key = `${lockDir}\0${options.cacheDir ?? ''}\0${options.registry ?? ''}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = build(lockDir, options).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

async function build(lockDir: string, options: NpmBundleOptions): Promise<NpmBundle> {
  const lock = readNpmLock(lockDir);
  const digest = npmLockDigest(lock);
  const root = join(options.cacheDir ?? defaultCacheDir(), 'npm-bundle', digest);
  const tar = join(root, 'bundle.tar');
  const shaFile = `${tar}.sha256`;
  const cached = async () => ((await exists(shaFile)) ? { tar, sha256: (await readFile(shaFile, 'utf8')).trim(), digest } : undefined);
  return cachedOrFilled(`${root}.lock`, cached, fill, { what: `the npm bundle of ${lockDir}` });

  async function fill(): Promise<NpmBundle> {
    const work = join(root, `work-${process.pid}`);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      await copyFile(join(lockDir, 'package.json'), join(work, 'package.json'));
      await copyFile(join(lockDir, 'package-lock.json'), join(work, 'package-lock.json'));
      const registry = options.registry ? ['--registry', options.registry] : [];
      await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier', ...registry], {
        cwd: work,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, npm_config_cache: join(options.cacheDir ?? defaultCacheDir(), 'npm-cache') },
      });
      // npm ci leaves its own record of the tree; the bundle is the lock's packages only
      await rm(join(work, 'node_modules', '.package-lock.json'), { force: true });
      const part = `${tar}.part-${process.pid}`;
      await run('tar', ['-cf', part, '-C', work, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', 'package.json', 'package-lock.json', 'node_modules']);
      await rename(part, tar);
      const sha256 = await fileDigest(tar);
      await writeFile(shaFile, `${sha256}\n`);
      return { tar, sha256, digest };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
