import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { file, lines, parseFileFact } from '../../src/ops/file.js';
import { sha256 } from '../../src/ops/write.js';
import { apply, converge, gather, planOf, tmp } from './ops-harness.js';

const NOBODY = 65534;

describe('lines', () => {
  it('joins with exactly one trailing newline, dropping false/null/undefined and flattening', () => {
    expect(lines('a', 'b')).toBe('a\nb\n');
    expect(lines('a\n\n')).toBe('a\n');
    const tls = false;
    expect(lines('a', false, null, undefined, ['b', tls && 'x', 'c'], 3)).toBe('a\nb\nc\n3\n');
    expect(lines()).toBe('');
  });
});

describe('file fact parse', () => {
  it('parses stat and sha256', () => {
    const f = parseFileFact(`S|regular file|root|kafka|640|0|998\nH|${'a'.repeat(64)}  -\n`);
    expect(f).toEqual({
      stat: { type: 'regular file', owner: 'root', group: 'kafka', mode: 0o640, uid: 0, gid: 998 },
      sha256: 'a'.repeat(64),
    });
    expect(parseFileFact('')).toEqual({ stat: null, sha256: null });
    expect(parseFileFact('S|directory|root|root|755|0|0\n').stat?.type).toBe('directory');
  });
});

describe('file plan', () => {
  const content = 'hello\n';
  const sha = sha256(content);
  const stat = { type: 'regular file', owner: 'root', group: 'root', mode: 0o644, uid: 0, gid: 0 };
  const op = file({ path: '/etc/x.conf', content, owner: 'kafka', group: 'kafka', mode: 0o640 });

  it('create', () => {
    const p = op.plan({ stat: null, sha256: null });
    expect(p).toMatchObject({
      status: 'change',
      reason: `create (6 bytes, sha256 ${sha.slice(0, 12)}.., owner kafka, group kafka, mode 0640)`,
      diff: { path: '/etc/x.conf', after: content },
    });
    if (p.status === 'change') expect(p.diff?.before).toBeUndefined();
  });
  it('ownership only: no content rewrite', () => {
    const p = op.plan({ stat, sha256: sha });
    expect(p).toMatchObject({ status: 'change', reason: 'mode 0644 -> 0640, owner root -> kafka, group root -> kafka' });
    if (p.status === 'change') {
      expect(p.script).toBe("chown kafka:kafka /etc/x.conf\nchmod 0640 /etc/x.conf");
      expect(p.diff).toBeUndefined();
    }
  });
  it('content and mode', () => {
    const p = op.plan({ stat: { ...stat, owner: 'kafka', group: 'kafka', uid: 998, gid: 998 }, sha256: 'b'.repeat(64) });
    expect(p.reason).toBe(`content differs (sha256 bbbbbbbbbbbb.. -> ${sha.slice(0, 12)}..), mode 0644 -> 0640`);
  });
  it('ok', () => {
    expect(op.plan({ stat: { ...stat, owner: 'kafka', group: 'kafka', mode: 0o640 }, sha256: sha })).toEqual({
      status: 'ok',
      reason: 'content, owner, group and mode match',
    });
    expect(file({ path: '/x', content }).plan({ stat, sha256: sha })).toEqual({ status: 'ok', reason: 'content matches' });
    expect(file({ path: '/x', content, mode: '0644' }).plan({ stat, sha256: sha }).reason).toBe('content and mode match');
  });
  it('numeric owner matches the uid', () => {
    expect(file({ path: '/x', content, owner: '0', group: '0' }).plan({ stat, sha256: sha }).status).toBe('ok');
  });
  it('refuses to replace a directory', () => {
    const p = op.plan({ stat: { ...stat, type: 'directory' }, sha256: null });
    expect(p).toMatchObject({ status: 'change', reason: '/etc/x.conf is a directory, not a regular file: refusing to replace it' });
  });
  it('secret: masked diff, op marked secret', () => {
    const s = file({ path: '/etc/secret', content: 'pw\n', secret: true, notify: ['kafka'] });
    expect(s.secret).toBe(true);
    expect(s.notify).toEqual(['kafka']);
    expect(s.plan({ stat: null, sha256: null })).toMatchObject({ diff: { masked: true } });
  });
  it('rejects relative paths, bad modes and validate without %s', () => {
    expect(() => file({ path: 'x', content })).toThrow(/absolute/);
    expect(() => file({ path: '/x', content, mode: '0999' })).toThrow(/invalid file mode/);
    expect(() => file({ path: '/x', content, validate: 'true' })).toThrow(/%s/);
  });
});

describe('file on this machine', () => {
  it('creates, is idempotent, fixes mode only, rewrites content keeping unmanaged owner', () => {
    const d = tmp();
    const path = join(d, "it's a file.conf");
    const op = file({ path, content: 'a=1\n', mode: 0o640, group: 'nogroup' });
    const [first, second] = converge(op);
    expect(first.reason).toMatch(/^create \(4 bytes, sha256 [0-9a-f]{12}\.\., group nogroup, mode 0640\)$/);
    expect(second).toEqual({ status: 'ok', reason: 'content, group and mode match' });
    expect(readFileSync(path, 'utf8')).toBe('a=1\n');
    expect(statSync(path).mode & 0o7777).toBe(0o640);
    expect(readdirSync(d)).toEqual([path.slice(d.length + 1)]); // no temp files left

    chmodSync(path, 0o604);
    const fix = planOf(op);
    expect(fix).toMatchObject({ status: 'change', reason: 'mode 0604 -> 0640' });
    expect(apply(fix).code).toBe(0);
    expect(planOf(op).status).toBe('ok');

    chownSync(path, NOBODY, statSync(path).gid); // owner is not managed: must survive a content rewrite
    const op2 = file({ path, content: 'a=2\n', mode: 0o640, group: 'nogroup' });
    const [p1, p2] = converge(op2);
    expect(p1.reason).toMatch(/^content differs \(sha256 [0-9a-f]{12}\.\. -> [0-9a-f]{12}\.\.\)$/);
    expect(p2.status).toBe('ok');
    expect(statSync(path).uid).toBe(NOBODY);
    expect(readFileSync(path, 'utf8')).toBe('a=2\n');
  });

  it('new files without a mode get 0644', () => {
    const d = tmp();
    converge(file({ path: join(d, 'f'), content: '' }));
    expect(statSync(join(d, 'f')).mode & 0o7777).toBe(0o644);
    expect(statSync(join(d, 'f')).size).toBe(0);
  });

  it('is binary safe (every byte value, multi-line base64)', () => {
    const d = tmp();
    const content = Buffer.alloc(5000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7) % 256;
    const op = file({ path: join(d, 'bin'), content });
    const [first, second] = converge(op);
    expect(first.status === 'change' && first.diff?.masked).toBe(true);
    expect(second.status).toBe('ok');
    expect(readFileSync(join(d, 'bin')).equals(content)).toBe(true);
  });

  it('validate: a failing check leaves the target untouched and no temp file', () => {
    const d = tmp();
    const path = join(d, 'sudoers');
    writeFileSync(path, 'good\n');
    const bad = file({ path, content: 'bad\n', validate: 'grep -q good %s' });
    const r = apply(planOf(bad));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('orch: validation failed: grep -q good %s');
    expect(readFileSync(path, 'utf8')).toBe('good\n');
    expect(readdirSync(d)).toEqual(['sudoers']);
    const [, ok] = converge(file({ path, content: 'good too\n', validate: 'grep -q good %s' }));
    expect(ok.status).toBe('ok');
  });

  it('backup keeps the old content', () => {
    const d = tmp();
    const path = join(d, 'f');
    writeFileSync(path, 'old\n');
    converge(file({ path, content: 'new\n', backup: true }));
    const backups = readdirSync(d).filter((n) => n.startsWith('f.') && n.endsWith('~'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(d, backups[0]), 'utf8')).toBe('old\n');
  });

  it('replaces a symlink with a regular file, refuses a directory', () => {
    const d = tmp();
    writeFileSync(join(d, 'target'), 'x');
    symlinkSync(join(d, 'target'), join(d, 'link'));
    const [first, second] = converge(file({ path: join(d, 'link'), content: 'y\n' }));
    expect(first.reason).toMatch(/^replace symbolic link with a regular file/);
    expect(second.status).toBe('ok');
    expect(readFileSync(join(d, 'target'), 'utf8')).toBe('x');

    mkdirSync(join(d, 'dir'));
    const r = apply(planOf(file({ path: join(d, 'dir'), content: 'z' })));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('is a directory, not a regular file');
    expect(existsSync(join(d, 'dir'))).toBe(true);
  });

  it('fact of an absent file', () => {
    expect(gather(file({ path: '/nonexistent/orch/x', content: '' }).fact!)).toEqual({ stat: null, sha256: null });
  });
});
