/**
 * A reproducible .tar.gz: the same entries give the same bytes. Entries sorted by path, every parent directory
 * listed, fixed mtime, uid/gid 0 (root:root), modes as given (0755 directories and executables, 0644 files), ustar
 * headers, gzip without a timestamp or file name (Node's zlib). No GNU tar needed on the controller.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** 2000-01-01T00:00:00Z: every entry's mtime (tar tools warn about 0) */
export const FIXED_MTIME = 946_684_800;

export type TarEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; mode?: number; data: Buffer | string }
  | { path: string; type: 'file'; mode?: number; source: string };

interface Sized {
  path: string;
  type: 'dir' | 'file';
  mode: number;
  size: number;
  data?: Buffer;
  source?: string;
}

function checkPath(p: string): void {
  if (!p || p.startsWith('/') || p.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\0\n]/.test(p)) {
    throw new Error(`tar entry path ${JSON.stringify(p)}: must be relative, without empty, . or .. segments`);
  }
}

function octal(n: number, width: number): string {
  const s = n.toString(8);
  if (s.length > width - 1) throw new Error(`tar: ${n} does not fit a ${width}-byte field`);
  return s.padStart(width - 1, '0') + '\0';
}

/** name/prefix split of ustar: name ≤ 100 bytes, prefix ≤ 155 bytes, split at a slash */
function splitName(full: string): { name: string; prefix: string } {
  if (Buffer.byteLength(full) <= 100) return { name: full, prefix: '' };
  for (let i = full.lastIndexOf('/'); i > 0; i = full.lastIndexOf('/', i - 1)) {
    const prefix = full.slice(0, i);
    const name = full.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return { name, prefix };
  }
  throw new Error(`tar entry path too long for ustar: ${full}`);
}

/** One 512-byte ustar header. */
export function tarHeader(e: { path: string; type: 'dir' | 'file'; mode: number; size: number }, mtime = FIXED_MTIME): Buffer {
  const h = Buffer.alloc(512, 0);
  const { name, prefix } = splitName(e.type === 'dir' ? `${e.path}/` : e.path);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(e.type === 'dir' ? 0 : e.size, 12), 124, 12, 'ascii');
  h.write(octal(mtime, 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii');
  h.write(e.type === 'dir' ? '5' : '0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** The entries as they go into the archive: sorted, parents added, sizes known, duplicates refused. */
export async function normaliseEntries(entries: TarEntry[]): Promise<Sized[]> {
  const byPath = new Map<string, Sized>();
  for (const e of entries) {
    checkPath(e.path);
    if (byPath.has(e.path)) throw new Error(`tar: ${e.path} listed twice`);
    if (e.type === 'dir') byPath.set(e.path, { path: e.path, type: 'dir', mode: e.mode ?? 0o755, size: 0 });
    else if ('data' in e) {
      const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8');
      byPath.set(e.path, { path: e.path, type: 'file', mode: e.mode ?? 0o644, size: data.length, data });
    } else {
      const s = await stat(e.source);
      if (!s.isFile()) throw new Error(`tar: ${e.source} (for ${e.path}) is not a file`);
      byPath.set(e.path, { path: e.path, type: 'file', mode: e.mode ?? 0o644, size: s.size, source: e.source });
    }
  }
  for (const p of [...byPath.keys()]) {
    for (let d = posix.dirname(p); d !== '.'; d = posix.dirname(d)) {
      const existing = byPath.get(d);
      if (existing && existing.type !== 'dir') throw new Error(`tar: ${d} is a file and a parent of ${p}`);
      if (!existing) byPath.set(d, { path: d, type: 'dir', mode: 0o755, size: 0 });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function* tarStream(entries: Sized[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    yield tarHeader(e);
    if (e.type !== 'file') continue;
    let n = 0;
    if (e.data) {
      n = e.data.length;
      yield e.data;
    } else {
      for await (const chunk of createReadStream(e.source!)) {
        n += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    if (n !== e.size) throw new Error(`tar: ${e.source} changed size while packing (${e.size} -> ${n})`);
    if (n % 512) yield Buffer.alloc(512 - (n % 512), 0);
  }
  yield Buffer.alloc(1024, 0);
}

/** Write the archive to `dest` (atomically: temp file, then rename); resolves to its sha512. */
export async function writeTgz(dest: string, entries: TarEntry[]): Promise<string> {
  const list = await normaliseEntries(entries);
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part-${process.pid}-${Date.now()}`;
  const h = createHash('sha512');
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.from(tarStream(list)), createGzip({ level: 6 }), hashing, createWriteStream(part, { mode: 0o644 }));
    await rename(part, dest);
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
  return h.digest('hex');
}

/** every regular file under `root` as a tar entry under `prefix`, keeping its executable bit; `skip` filters by name */
export function filesUnder(root: string, prefix: string, skip: (name: string) => boolean = () => false): TarEntry[] {
  const out: TarEntry[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (skip(e.name)) continue;
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, `${prefix}/${e.name}`, skip));
    else if (e.isFile()) out.push({ path: `${prefix}/${e.name}`, type: 'file', mode: statSync(p).mode & 0o111 ? 0o755 : 0o644, source: p });
  }
  return out;
}
