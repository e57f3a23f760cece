import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprint,
  hashHostName,
  hostFieldMatches,
  keyTypeOf,
  knownHostName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
} from '../../src/transport/known-hosts.js';

/** A public key blob as SSH sends it: string(type) + string(key material). */
function blob(type: string, material: Buffer = randomBytes(32)): Buffer {
  const str = (b: Buffer) => Buffer.concat([u32(b.length), b]);
  return Buffer.concat([str(Buffer.from(type)), str(material)]);
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
const b64 = (b: Buffer) => b.toString('base64');

function tmpFile(content?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'orch-kh-')), 'known_hosts');
  if (content !== undefined) writeFileSync(file, content);
  return file;
}

describe('known_hosts parsing', () => {
  it('parses plain, comma-separated, markers, comments and skips junk', () => {
    const k1 = blob('ssh-ed25519');
    const k2 = blob('ssh-rsa');
    const text = [
      '# comment',
      '',
      `vm1,10.0.0.1 ssh-ed25519 ${b64(k1)} root@vm1`,
      `@revoked * ssh-rsa ${b64(k2)}`,
      `@cert-authority *.example.com ssh-rsa ${b64(k2)}`,
      `@bogus vm1 ssh-rsa ${b64(k2)}`,
      'garbage line',
      `vm2 ssh-rsa not*base64`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).toEqual([
      [3, undefined, 'vm1,10.0.0.1', 'ssh-ed25519'],
      [4, 'revoked', '*', 'ssh-rsa'],
      [5, 'cert-authority', '*.example.com', 'ssh-rsa'],
    ]);
    expect(entries[0].key.equals(k1)).toBe(true);
    expect(keyTypeOf(k1)).toBe('ssh-ed25519');
    expect(fingerprint(k1)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('names hosts like OpenSSH: plain on port 22, [host]:port otherwise', () => {
    expect(knownHostName('VM1.example.com', 22)).toBe('vm1.example.com');
    expect(knownHostName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('matches plain names, lists, wildcards and negations', () => {
    expect(hostFieldMatches('vm1,10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostFieldMatches('vm1,10.0.0.1', '10.0.0.10')).toBe(false);
    expect(hostFieldMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('10.0.0.1', '[10.0.0.1]:2222')).toBe(false);
    expect(hostFieldMatches('[10.0.0.1]:2222', '10.0.0.1')).toBe(false);
    expect(hostFieldMatches('*.example.com', 'db.example.com')).toBe(true);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(hostFieldMatches('vm?', 'vm7')).toBe(true);
    expect(hostFieldMatches('VM1', 'vm1')).toBe(true);
  });

  it('matches hashed entries computed like OpenSSH (HMAC-SHA1 keyed by the salt)', () => {
    const salt = randomBytes(20);
    const mac = createHmac('sha1', salt).update('[127.0.0.1]:2222').digest();
    const hashed = `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
    expect(hostFieldMatches(hashed, '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches(hashed, '127.0.0.1')).toBe(false);
    expect(hashHostName('[127.0.0.1]:2222', salt)).toBe(hashed);
  });
});

describe('checkHostKey', () => {
  it('accepts a known key (plain, [host]:port, hashed)', async () => {
    const k = blob('ssh-ed25519');
    const file = tmpFile(
      [`10.0.0.1 ssh-ed25519 ${b64(k)}`, `[10.0.0.2]:2222 ssh-ed25519 ${b64(k)}`, `${hashHostName('db1')} ssh-ed25519 ${b64(k)}`].join('\n'),
    );
    const policy = { file, acceptNew: false };
    expect(await checkHostKey(policy, '10.0.0.1', 22, k)).toEqual({ ok: true, added: false });
    expect(await checkHostKey(policy, '10.0.0.2', 2222, k)).toEqual({ ok: true, added: false });
    expect(await checkHostKey(policy, 'db1', 22, k)).toEqual({ ok: true, added: false });
    // port 2222 entry does not vouch for port 22
    expect((await checkHostKey(policy, '10.0.0.2', 22, k)).ok).toBe(false);
  });

  it('refuses an unknown host and tells the user what to do', async () => {
    const file = tmpFile('');
    const v = await checkHostKey({ file, acceptNew: false }, '10.0.0.9', 2200, blob('ssh-ed25519'));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toBe('unknown');
    expect(v.message).toContain('--accept-new-hosts');
    expect(v.message).toContain('ssh-keyscan -p 2200 10.0.0.9');
    expect(v.message).toContain(file);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('with acceptNew, appends `host keytype base64` and then accepts', async () => {
    const file = tmpFile('vm0 ssh-rsa AAAA'); // no trailing newline
    const k22 = blob('ssh-ed25519');
    const k2222 = blob('ecdsa-sha2-nistp256');
    const policy = { file, acceptNew: true };
    expect(await checkHostKey(policy, '10.0.0.1', 22, k22)).toEqual({ ok: true, added: true });
    expect(await checkHostKey(policy, '10.0.0.1', 2222, k2222)).toEqual({ ok: true, added: true });
    expect(readFileSync(file, 'utf8')).toBe(
      `vm0 ssh-rsa AAAA\n10.0.0.1 ssh-ed25519 ${b64(k22)}\n[10.0.0.1]:2222 ecdsa-sha2-nistp256 ${b64(k2222)}\n`,
    );
    expect(await checkHostKey({ file, acceptNew: false }, '10.0.0.1', 22, k22)).toEqual({ ok: true, added: false });
  });

  it('creates a missing file and serialises concurrent appends', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orch-kh-')), 'sub', 'known_hosts');
    const keys = Array.from({ length: 40 }, () => blob('ssh-ed25519'));
    const verdicts = await Promise.all(keys.map((k, i) => checkHostKey({ file, acceptNew: true }, `10.1.0.${i}`, 22, k)));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    // the same host seen by two connections at once is recorded once
    const again = blob('ssh-ed25519');
    await Promise.all([1, 2, 3].map(() => checkHostKey({ file, acceptNew: true }, 'twice', 22, again)));
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(41);
    for (let i = 0; i < 40; i++) expect(lines).toContain(`10.1.0.${i} ssh-ed25519 ${b64(keys[i])}`);
  });

  it('always refuses a changed key of the same type, naming file and line, even with acceptNew', async () => {
    const old = blob('ssh-ed25519');
    const file = tmpFile(`# header\nother ssh-ed25519 ${b64(blob('ssh-ed25519'))}\n[10.0.0.1]:2222 ssh-ed25519 ${b64(old)}\n`);
    const v = await checkHostKey({ file, acceptNew: true }, '10.0.0.1', 2222, blob('ssh-ed25519'));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toBe('mismatch');
    expect(v.message).toContain(`${file}:3`);
    expect(v.message).toContain('remove line 3');
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(4);
  });

  it('treats a key of another type as new (refused without acceptNew)', async () => {
    const file = tmpFile(`10.0.0.1 ssh-rsa ${b64(blob('ssh-rsa'))}\n`);
    const v = await checkHostKey({ file, acceptNew: false }, '10.0.0.1', 22, blob('ssh-ed25519'));
    expect(v.ok || v.reason).toBe('unknown');
  });

  it('refuses a @revoked key even if also listed as known', async () => {
    const k = blob('ssh-ed25519');
    const file = tmpFile(`@revoked * ssh-ed25519 ${b64(k)}\n10.0.0.1 ssh-ed25519 ${b64(k)}\n`);
    const v = await checkHostKey({ file, acceptNew: true }, '10.0.0.1', 22, k);
    expect(v.ok || v.reason).toBe('revoked');
  });

  it('ignores @cert-authority lines', async () => {
    const k = blob('ssh-ed25519');
    const file = tmpFile(`@cert-authority * ssh-ed25519 ${b64(k)}\n`);
    const v = await checkHostKey({ file, acceptNew: false }, '10.0.0.1', 22, k);
    expect(v.ok || v.reason).toBe('unknown');
  });

  it('offers the host key algorithms already recorded for the host first', async () => {
    const file = tmpFile(`[10.0.0.1]:2222 ssh-rsa ${b64(blob('ssh-rsa'))}\n`);
    const algos = await preferredHostKeyAlgorithms(file, '10.0.0.1', 2222);
    expect(algos.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algos).toContain('ssh-ed25519');
    expect((await preferredHostKeyAlgorithms(file, '10.0.0.1', 22))[0]).toBe('ssh-ed25519');
  });
});
