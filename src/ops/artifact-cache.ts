/**
 * Controller-side artifact cache: each (url, sha512) is downloaded once into
 * `<cacheDir>/<first 16 hex of sha512>/<file name>` and verified against its sha512 before use.
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

/** The file name of an artifact URL (last path segment, decoded). */
export function artifactFileName(url: string): string {
  const name = basename(decodeURIComponent(new URL(url).pathname));
  if (!name || name === '.' || name === '..' || name.includes('\n')) throw new Error(`cannot tell the file name of ${url}`);
  return name;
}

/** Where `ensureCached` keeps the artifact. */
export function cachedPath(url: string, sha512: string, cacheDir = defaultCacheDir()): string {
  return join(cacheDir, normaliseSha512(sha512).slice(0, 16), artifactFileName(url));
}

async function sha512Of(path: string): Promise<string> {
  const h = createHash('sha512');
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

async function download(url: string, sha512: string, dest: string): Promise<void> {
  await mkdir(join(dest, '..'), { recursive: true });
  const part = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  const h = createHash('sha512');
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(await source(url), hashing, createWriteStream(part, { mode: 0o644 }));
    const got = h.digest('hex');
    if (got !== sha512) throw new Error(`sha512 mismatch for ${url}: expected ${sha512}, got ${got}`);
    await rename(part, dest);
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
}

const verified = new Map<string, Promise<string>>();

/** Download (once) and verify; resolves to the local path of the verified file. */
export function ensureCached(url: string, sha512: string, cacheDir = defaultCacheDir()): Promise<string> {
  const sha = normaliseSha512(sha512);
  const path = cachedPath(url, sha, cacheDir);
  const key = `${path}\n${sha}`;
  let p = verified.get(key);
  if (!p) {
    p = (async () => {
      if (await exists(path)) {
        if ((await sha512Of(path)) === sha) return path;
        await rm(path, { force: true }); // corrupted or replaced: fetch again
      }
      await download(url, sha, path);
      return path;
    })();
    verified.set(key, p);
    p.catch(() => verified.delete(key));
  }
  return p;
}
