import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editLine, lineInFile } from '../../src/ops/line-in-file.js';
import { apply, converge, gather, planOf, tmp } from './ops-harness.js';

describe('editLine (Ansible lineinfile semantics)', () => {
  const re = /^vm\.swappiness\s*=/;
  it('replaces the last matching line in place', () => {
    expect(editLine('a\nvm.swappiness = 60\nb\nvm.swappiness=30\nc\n', re, 'vm.swappiness = 1')).toEqual({
      content: 'a\nvm.swappiness = 60\nb\nvm.swappiness = 1\nc\n',
      action: 'line 4 replaced',
    });
  });
  it('unchanged when the last match already is the line', () => {
    const t = 'vm.swappiness = 1\n';
    expect(editLine(t, re, 'vm.swappiness = 1')).toEqual({ content: t, action: null });
  });
  it('appends, adding a missing final newline first', () => {
    expect(editLine('a\nb', re, 'vm.swappiness = 1')).toEqual({ content: 'a\nb\nvm.swappiness = 1\n', action: 'line appended' });
    expect(editLine('', re, 'x')).toEqual({ content: 'x\n', action: 'line appended' });
  });
  it('no regexp match: an exact line (ignoring CR/LF) is normalised, not duplicated', () => {
    expect(editLine('x = 1\r\ny\n', /^nomatch/, 'x = 1')).toEqual({ content: 'x = 1\ny\n', action: 'line 1 replaced' });
    expect(editLine('y\nx = 1', /^nomatch/, 'x = 1')).toEqual({ content: 'y\nx = 1\n', action: 'line 2 replaced' });
    expect(editLine('x = 1\n', /^nomatch/, 'x = 1').action).toBeNull();
  });
  it('a CRLF line matching the regexp is replaced with an LF line', () => {
    expect(editLine('k=1\r\n', /^k=/, 'k=2').content).toBe('k=2\n');
  });
  it('ignores g/y flags (stateful test)', () => {
    expect(editLine('k=1\nk=2\n', /^k=/g, 'k=3').content).toBe('k=1\nk=3\n');
  });
});

describe('lineInFile plan', () => {
  const op = lineInFile({ path: '/etc/x', regexp: '^a=', line: 'a=2' });
  const stat = { type: 'regular file', owner: 'root', group: 'root', mode: 0o644, uid: 0, gid: 0 };
  it('parses the fact (base64 content)', () => {
    const f = op.fact!.parse(`S|regular file|root|root|644|0|0\nC|\n${Buffer.from('a=1\n').toString('base64')}\n`, 0);
    expect(f.content?.toString()).toBe('a=1\n');
    expect(f.tooLarge).toBe(false);
    expect(op.plan(f)).toMatchObject({ status: 'change', reason: 'line 1 replaced', diff: { before: 'a=1\n', after: 'a=2\n' } });
  });
  it('absent without create fails; with create creates', () => {
    expect(op.plan({ stat: null, content: null, tooLarge: false })).toMatchObject({
      status: 'change',
      reason: '/etc/x does not exist (create is false)',
    });
    const c = lineInFile({ path: '/etc/x', regexp: '^a=', line: 'a=2', create: true, mode: 0o600 });
    expect(c.plan({ stat: null, content: null, tooLarge: false }).reason).toBe('create with the line (mode 0600)');
  });
  it('ok and ownership reasons', () => {
    expect(op.plan({ stat, content: Buffer.from('a=2\n'), tooLarge: false })).toEqual({ status: 'ok', reason: 'line present' });
    const m = lineInFile({ path: '/etc/x', regexp: '^a=', line: 'a=2', mode: 0o600 });
    expect(m.plan({ stat, content: Buffer.from('a=2\n'), tooLarge: false })).toMatchObject({ reason: 'mode 0644 -> 0600' });
    expect(m.plan({ stat, content: Buffer.from('a=1\n'), tooLarge: false })).toMatchObject({ reason: 'line 1 replaced, mode 0644 -> 0600' });
  });
  it('refuses large and non-UTF-8 files', () => {
    expect(op.plan({ stat, content: null, tooLarge: true }).reason).toMatch(/larger than/);
    expect(op.plan({ stat, content: Buffer.from([0xff, 0xfe, 0x0a]), tooLarge: false }).reason).toBe('/etc/x is not UTF-8 text');
  });
});

describe('lineInFile on this machine', () => {
  it('replaces in place, keeps owner and mode, is idempotent', () => {
    const d = tmp();
    const path = join(d, "my 'conf'");
    writeFileSync(path, '# c\nlisteners=PLAINTEXT://:9092\nlog.dirs=/tmp\n', { mode: 0o640 });
    const op = lineInFile({ path, regexp: /^log\.dirs=/, line: 'log.dirs=/var/lib/kafka' });
    const [first, second] = converge(op);
    expect(first.reason).toBe('line 3 replaced');
    expect(second).toEqual({ status: 'ok', reason: 'line present' });
    expect(readFileSync(path, 'utf8')).toBe('# c\nlisteners=PLAINTEXT://:9092\nlog.dirs=/var/lib/kafka\n');
    expect(statSync(path).mode & 0o7777).toBe(0o640);
    expect(readdirSync(d)).toEqual(["my 'conf'"]);
  });

  it('appends to a file without a final newline', () => {
    const d = tmp();
    const path = join(d, 'f');
    writeFileSync(path, 'a');
    const [first, second] = converge(lineInFile({ path, regexp: '^b', line: 'b' }));
    expect(first.reason).toBe('line appended');
    expect(second.status).toBe('ok');
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
  });

  it('creates the file (and parent directories) when asked', () => {
    const d = tmp();
    const path = join(d, 'sub', 'new');
    const [, ok] = converge(lineInFile({ path, regexp: '^x', line: 'x=1', create: true, mode: 0o600 }));
    expect(ok).toEqual({ status: 'ok', reason: 'line present, mode matches' });
    expect(readFileSync(path, 'utf8')).toBe('x=1\n');
    expect(statSync(path).mode & 0o7777).toBe(0o600);
  });

  it('fails rather than overwrite a file changed since the fact', () => {
    const d = tmp();
    const path = join(d, 'f');
    writeFileSync(path, 'a=1\n');
    const op = lineInFile({ path, regexp: '^a=', line: 'a=2' });
    const plan = op.plan(gather(op.fact!));
    writeFileSync(path, 'a=1\nsomeone=else\n');
    const r = apply(plan);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('changed since facts were gathered');
    expect(readFileSync(path, 'utf8')).toBe('a=1\nsomeone=else\n');
  });

  it('absent file without create fails the apply', () => {
    const r = apply(planOf(lineInFile({ path: join(tmp(), 'none'), regexp: '^a', line: 'a' })));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('does not exist');
  });
});
