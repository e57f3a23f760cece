/**
 * Controller-side artifact cache: each (url, checksum) is downloaded once into
 * `<cacheDir>/<first 16 hex of the checksum>/<file name>` and verified against it before use. The checksum is a
 * sha512 (128 hex digits, optionally `sha512:`-prefixed) or, for projects that publish no sha512 (etcd's
 * SHA256SUMS), a `sha256:`-prefixed sha256.
 * A mismatch is an error naming both hashes and the partial download is deleted: an unverified file is
 * never returned. A cached file is re-verified once per process (and replaced if it no longer matches).
 * Supports http(s) (Node's fetch) and file:// URLs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/** `$XDG_CACHE_HOME/orch/artifacts`, else `~/.cache/orch/artifacts`. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'orch', 'artifacts');
}

export function normaliseSha512(sha512: string): string {
  const s = sha512.trim().toLowerCase().replace(/^sha512[:-]/, '');
  if (!/^[0-9a-f]{128}$/.test(s)) throw new Error(`invalid sha512 ${JSON.stringify(sha512)}: expected 128 hex digits`);
  return s;
}

export function normaliseSha256(sha256: string): string {
  const s = sha256.trim().toLowerCase().replace(/^sha256[:-]/, '');
  if (!/^[0-9a-f]{64}$/.test(s)) throw new Error(`invalid sha256 ${JSON.stringify(sha256)}: expected 64 hex digits`);
  return s;
}

/** A checksum: the algorithm and its lowercase hex digest. */
export interface Digest {
  algo: 'sha512' | 'sha256';
  hex: string;
}

/** `sha256:<64 hex>` is a sha256; anything else must be a sha512 (128 hex digits, optionally `sha512:`-prefixed). */
export function parseDigest(checksum: string): Digest {
  if (/^\s*sha256[:-]/i.test(checksum)) return { algo: 'sha256', hex: normaliseSha256(checksum) };
  return { algo: 'sha512', hex: normaliseSha512(checksum) };
}

/** The file name of an artifact URL (last path segment, decoded). */
export function artifactFileName(url: string): string {
  const name = basename(decodeURIComponent(new URL(url).pathname));
  if (!name || name === '.' || name === '..' || name.includes('\n')) throw new Error(`cannot tell the file name of ${url}`);
  return name;
}

/** Where `ensureCached` keeps the artifact. */
export function cachedPath(url: string, checksum: string, cacheDir = defaultCacheDir()): string {
  return join(cacheDir, parseDigest(checksum).hex.slice(0, 16), artifactFileName(url));
}

async function digestOf(path: string, algo: Digest['algo']): Promise<string> {
  const h = createHash(algo);
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function source(url: string): Promise<Readable> {
  const u = new URL(url);
  if (u.protocol === 'file:') return createReadStream(fileURLToPath(u));
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported artifact URL scheme ${u.protocol} (${url})`);
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new Error(`download ${url} failed: ${(e as Error).cause ? String((e as Error).cause) : (e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new Error(`download ${url} failed: HTTP ${res.status} ${res.statusText}`);
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

async function download(url: string, want: Digest, dest: string): Promise<void> {
  await mkdir(join(dest, '..'), { recursive: true });
  const part = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  const h = createHash(want.algo);
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(await source(url), hashing, createWriteStream(part, { mode: 0o644 }));
    const got = h.digest('hex');
    if (got !== want.hex) throw new Error(`${want.algo} mismatch for ${url}: expected ${want.hex}, got ${got}`);
    await rename(part, dest);
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
}

const verified = new Map<string, Promise<string>>();

/** Download (once) and verify against a sha512 (or `sha256:<hex>`); resolves to the local path of the verified file. */
export function ensureCached(url: string, checksum: string, cacheDir = defaultCacheDir()): Promise<string> {
  const want = parseDigest(checksum);
  const path = cachedPath(url, checksum, cacheDir);
  const key = `${path}\n${want.algo}:${want.hex}`;
  let p = verified.get(key);
  if (!p) {
    p = (async () => {
      if (await exists(path)) {
        if ((await digestOf(path, want.algo)) === want.hex) return path;
        await rm(path, { force: true }); // corrupted or replaced: fetch again
      }
      await download(url, want, path);
      return path;
    })();
    verified.set(key, p);
    p.catch(() => verified.delete(key));
  }
  return p;
}
