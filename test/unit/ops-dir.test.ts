import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dir } from '../../src/ops/dir.js';
import { apply, converge, gather, planOf, tmp } from './ops-harness.js';

const st = { type: 'directory', owner: 'root', group: 'root', mode: 0o755, uid: 0, gid: 0 };

describe('dir plan', () => {
  const op = dir({ path: '/var/lib/kafka', owner: 'kafka', group: 'kafka', mode: 0o750 });
  it('parses the stat fact', () => {
    expect(op.fact!.parse('S|directory|kafka|kafka|2750|998|998\n', 0)).toEqual({
      stat: { type: 'directory', owner: 'kafka', group: 'kafka', mode: 0o2750, uid: 998, gid: 998 },
    });
    expect(op.fact!.parse('', 0)).toEqual({ stat: null });
  });
  it('create, change, ok', () => {
    expect(op.plan({ stat: null })).toEqual({
      status: 'change',
      reason: 'create directory (owner kafka, group kafka, mode 0750)',
      script: 'mkdir -p /var/lib/kafka\nchown kafka:kafka /var/lib/kafka\nchmod 00750 /var/lib/kafka',
    });
    expect(op.plan({ stat: { ...st, owner: 'kafka' } })).toEqual({
      status: 'change',
      reason: 'mode 0755 -> 0750, group root -> kafka',
      script: 'chown kafka:kafka /var/lib/kafka\nchmod 00750 /var/lib/kafka',
    });
    expect(op.plan({ stat: { ...st, owner: 'kafka', group: 'kafka', mode: 0o750 } })).toEqual({
      status: 'ok',
      reason: 'directory exists, owner, group and mode match',
    });
    expect(dir({ path: '/x' }).plan({ stat: st })).toEqual({ status: 'ok', reason: 'directory exists' });
  });
  it('only group differs: chgrp', () => {
    const p = dir({ path: '/x', group: 'kafka' }).plan({ stat: st });
    expect(p).toMatchObject({ reason: 'group root -> kafka', script: 'chgrp kafka /x' });
  });
  it('refuses a regular file', () => {
    expect(op.plan({ stat: { ...st, type: 'regular file' } })).toMatchObject({
      status: 'change',
      reason: '/var/lib/kafka is a regular file, not a directory: refusing to replace it',
    });
  });
});

describe('dir on this machine', () => {
  it('creates nested directories, then is ok; clears a setgid bit that is not wanted', () => {
    const d = tmp();
    const path = join(d, 'a b', 'c');
    const op = dir({ path, owner: 'nobody', group: 'nogroup', mode: 0o750 });
    const [first, second] = converge(op);
    expect(first.reason).toBe('create directory (owner nobody, group nogroup, mode 0750)');
    expect(second).toEqual({ status: 'ok', reason: 'directory exists, owner, group and mode match' });
    expect(statSync(path).mode & 0o7777).toBe(0o750);

    chmodSync(path, 0o2750);
    const [fix, ok] = converge(op);
    expect(fix.reason).toBe('mode 2750 -> 0750');
    expect(ok.status).toBe('ok');
  });

  it('recursive: finds and fixes ownership beneath', () => {
    const d = tmp();
    const path = join(d, 'data');
    mkdirSync(join(path, 'sub'), { recursive: true });
    writeFileSync(join(path, 'sub', 'f'), 'x');
    chownSync(path, 65534, 65534);
    const op = dir({ path, owner: 'nobody', group: 'nogroup', recursive: true });
    expect(gather(op.fact!).beneath).toBe(join(path, 'sub'));
    const [first, second] = converge(op);
    expect(first).toMatchObject({ reason: `owner/group differ beneath (${join(path, 'sub')})` });
    expect(first.status === 'change' && first.script).toBe(`chown -R nobody:nogroup ${path}`);
    expect(second).toEqual({ status: 'ok', reason: 'directory exists, owner and group match (recursively)' });
    expect(statSync(join(path, 'sub', 'f')).uid).toBe(65534);
  });

  it('recursive with an unknown user: change, not ok', () => {
    const d = tmp();
    const op = dir({ path: d, owner: 'no-such-user-orch', recursive: true });
    const f = gather(op.fact!);
    expect(f.beneath).toBeNull();
    expect(op.plan(f).reason).toContain('owner root -> no-such-user-orch, owner/group beneath unknown');
  });

  it('a file in the way fails the apply', () => {
    const d = tmp();
    writeFileSync(join(d, 'f'), 'x');
    const r = apply(planOf(dir({ path: join(d, 'f') })));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('is a regular file, not a directory');
  });
});
