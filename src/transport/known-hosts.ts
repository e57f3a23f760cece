/**
 * Host key verification against an OpenSSH known_hosts file.
 *
 * Understands plain and comma-separated names, wildcard and `!negated` patterns, the `[host]:port`
 * form used for ports other than 22, hashed names (`|1|salt|hmac-sha1`), and the `@revoked` /
 * `@cert-authority` markers (cert-authority lines are ignored: orch does not do host certificates).
 * A changed key is always refused; an unknown host is refused unless the policy accepts new hosts,
 * in which case a `name keytype base64` line is appended (writes are serialised in-process).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KnownHostsPolicy {
  /** known_hosts file to read and append to (default ~/.ssh/known_hosts) */
  file: string;
  /** trust and record the key of a host seen for the first time (`--accept-new-hosts`) */
  acceptNew: boolean;
}

export function defaultKnownHostsFile(): string {
  return path.join(os.homedir(), '.ssh', 'known_hosts');
}

export interface KnownHostsEntry {
  /** 1-based line number in the file */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** the host field as written (patterns, or one hashed name) */
  hosts: string;
  keyType: string;
  /** raw public key blob (base64-decoded) */
  key: Buffer;
}

export type HostKeyVerdict =
  | { ok: true; added: boolean }
  | { ok: false; reason: 'unknown' | 'mismatch' | 'revoked'; message: string };

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(address: string, port: number): string {
  const host = address.toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Hash a host name the way `HashKnownHosts yes` does: `|1|base64(salt)|base64(hmac-sha1(salt, name))`. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

/** Parse a known_hosts file; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'revoked' && m !== 'cert-authority') continue;
      marker = m;
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, b64] = fields;
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) continue;
    entries.push({ line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** Does a host field (hashed name, or comma-separated patterns) match `name` (see knownHostName)? */
export function hostFieldMatches(hosts: string, name: string): boolean {
  const lname = name.toLowerCase();
  if (hosts.startsWith('|1|')) {
    const [, , salt, mac] = hosts.split('|');
    if (!salt || !mac) return false;
    const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(lname).digest();
    const given = Buffer.from(mac, 'base64');
    return given.length === expected.length && given.equals(expected);
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    if (globMatch(negated ? pattern.slice(1) : pattern, lname)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** The key type named inside a public key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256` ...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Key types of one family count as "the same type" for mismatch detection (all ECDSA curves, as OpenSSH). */
function keyFamily(type: string): string {
  return type.startsWith('ecdsa-sha2-') ? 'ecdsa' : type;
}

/** Host key algorithms ssh2 can negotiate, most preferred first (ssh2's default order). */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algorithmsForKeyType(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

async function readEntries(file: string): Promise<KnownHostsEntry[]> {
  try {
    return parseKnownHosts(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Host key algorithms to offer, with the types already recorded for this host first, so that the
 * server presents a key we can check rather than an unknown one of another type (as OpenSSH does).
 */
export async function preferredHostKeyAlgorithms(file: string, address: string, port: number): Promise<string[]> {
  const name = knownHostName(address, port);
  const known = (await readEntries(file)).filter((e) => !e.marker && hostFieldMatches(e.hosts, name));
  const first: string[] = [];
  for (const e of known) {
    for (const algo of algorithmsForKeyType(e.keyType)) {
      if (DEFAULT_HOST_KEY_ALGORITHMS.includes(algo) && !first.includes(algo)) first.push(algo);
    }
  }
  return [...first, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

function judge(entries: KnownHostsEntry[], file: string, name: string, key: Buffer): HostKeyVerdict | undefined {
  const type = keyTypeOf(key);
  const fp = `${type} ${fingerprint(key)}`;
  const matching = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const revoked = matching.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) {
    return { ok: false, reason: 'revoked', message: `host key ${fp} for ${name} is marked @revoked in ${file}:${revoked.line}` };
  }
  const plain = matching.filter((e) => !e.marker);
  if (plain.some((e) => e.key.equals(key))) return { ok: true, added: false };
  const changed = plain.find((e) => keyFamily(e.keyType) === keyFamily(type));
  if (changed) {
    return {
      ok: false,
      reason: 'mismatch',
      message:
        `host key mismatch for ${name}: the server offered ${fp} but ${file}:${changed.line} records a different ` +
        `${changed.keyType} key (possible man-in-the-middle attack, or the host was reinstalled); if the new key is ` +
        `legitimate, remove line ${changed.line} from ${file} (ssh-keygen -R '${name}' -f ${file})`,
    };
  }
  return undefined;
}

const writeLocks = new Map<string, Promise<unknown>>();

/** Run `fn` after every earlier locked call on the same file has finished. */
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(file);
  const previous = writeLocks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  writeLocks.set(key, tail);
  void tail.then(() => {
    if (writeLocks.get(key) === tail) writeLocks.delete(key);
  });
  return run;
}

async function appendEntry(file: string, name: string, key: Buffer): Promise<HostKeyVerdict> {
  return withFileLock(file, async () => {
    // Another connection may have recorded (or contradicted) this host while we waited.
    const again = judge(await readEntries(file), file, name, key);
    if (again) return again;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    let prefix = '';
    try {
      const current = await fs.readFile(file);
      if (current.length > 0 && current[current.length - 1] !== 0x0a) prefix = '\n';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fs.appendFile(file, `${prefix}${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
    return { ok: true, added: true };
  });
}

/** Check the key a server presented (raw blob, as ssh2's hostVerifier gets it) against the policy. */
export async function checkHostKey(
  policy: KnownHostsPolicy,
  address: string,
  port: number,
  key: Buffer,
): Promise<HostKeyVerdict> {
  const name = knownHostName(address, port);
  const verdict = judge(await readEntries(policy.file), policy.file, name, key);
  if (verdict) return verdict;
  if (policy.acceptNew) return appendEntry(policy.file, name, key);
  const keyscan = port === 22 ? `ssh-keyscan ${address}` : `ssh-keyscan -p ${port} ${address}`;
  return {
    ok: false,
    reason: 'unknown',
    message:
      `unknown host key for ${name} (${keyTypeOf(key)} ${fingerprint(key)}) not in ${policy.file}; ` +
      `run with --accept-new-hosts to trust it on first use, or add it with: ${keyscan} >> ${policy.file}`,
  };
}
