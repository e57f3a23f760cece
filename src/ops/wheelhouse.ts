/**
 * Controller-side wheelhouse: the wheels of a lock, fetched once from PyPI (or the site index) by the controller,
 * cached under the artifact cache dir by the lock's digest, and packed as one tar for a single verified upload.
 * Hosts never reach an index: they install with `pip install --no-index --find-links <wheelhouse>`.
 *
 * Hashes of the lock are checked here, on the controller (`pip wheel --require-hashes`); sdists in the lock
 * (e.g. python-nvd3) are built into wheels, whose hash is not the lock's: the host install therefore verifies
 * the tar's sha256 (the upload) rather than per-wheel hashes.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileDigest } from '../core/file-hash.js';
import { cachedOrFilled } from '../core/file-lock.js';
import { defaultCacheDir } from './artifact-cache.js';
import { lockDigest, parseLock } from './python-lock.js';

const run = promisify(execFile);

export interface Wheelhouse {
  /** directory of wheels on the controller */
  dir: string;
  /** tar of the directory's wheels (flat), for one upload */
  tar: string;
  /** sha256 of the tar */
  sha256: string;
  /** digest of the lock's pins (see lockDigest) */
  digest: string;
}

export interface WheelhouseOptions {
  /** the controller's Python of the hosts' minor version (cp311 wheels need a 3.11); default python3.11 */
  python?: string;
  cacheDir?: string;
  /** a site index instead of PyPI */
  indexUrl?: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

const inflight = new Map<string, Promise<Wheelhouse>>();

/** Builds (once) and returns the wheelhouse of the lock file at `lockPath`. */
export function ensureWheelhouse(lockPath: string, options: WheelhouseOptions = {}): Promise<Wheelhouse> {
  const key = `${lockPath}\0${options.cacheDir ?? ''}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = build(lockPath, options).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

async function build(lockPath: string, options: WheelhouseOptions): Promise<Wheelhouse> {
  const text = await readFile(lockPath, 'utf8');
  const packages = parseLock(text);
  const digest = lockDigest(packages);
  const root = join(options.cacheDir ?? defaultCacheDir(), 'wheelhouse', digest);
  const dir = join(root, 'wheels');
  const tar = join(root, 'wheels.tar');
  const shaFile = join(root, 'wheels.tar.sha256');
  const cached = async () => ((await exists(shaFile)) ? { dir, tar, sha256: (await readFile(shaFile, 'utf8')).trim(), digest } : undefined);
  // two processes (parallel test files, two runs) building the same wheelhouse: one builds, the other waits
  return cachedOrFilled(`${root}.lock`, cached, fill, { what: `the wheelhouse of ${lockPath}` });

  async function fill(): Promise<Wheelhouse> {
    await mkdir(root, { recursive: true });
    const part = `${dir}.part-${process.pid}`;
    await rm(part, { recursive: true, force: true });
    const python = options.python ?? 'python3.11';
    const index = options.indexUrl !== undefined ? ['--index-url', options.indexUrl] : [];
    await run(python, ['-m', 'pip', 'wheel', '--disable-pip-version-check', '--no-input', '--no-deps', '--require-hashes',
      ...index, '-r', lockPath, '-w', part], { maxBuffer: 64 * 1024 * 1024 });
    const wheels = (await readdir(part)).filter((f) => f.endsWith('.whl'));
    if (wheels.length !== packages.length) {
      throw new Error(`wheelhouse for ${lockPath}: ${wheels.length} wheels for ${packages.length} pins`);
    }
    await rm(dir, { recursive: true, force: true });
    await rename(part, dir);
    const tarPart = `${tar}.part-${process.pid}`;
    await run('tar', ['-cf', tarPart, '-C', dir, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', ...wheels.sort()]);
    await rename(tarPart, tar);
    const sha256 = await fileDigest(tar);
    await writeFile(shaFile, `${sha256}\n`);
    return { dir, tar, sha256, digest };
  }
}
