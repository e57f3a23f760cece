import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLinkFact, symlink } from '../../src/ops/symlink.js';
import { apply, converge, planOf, tmp } from './ops-harness.js';

describe('symlink', () => {
  it('parses the fact', () => {
    expect(parseLinkFact('L|/opt/kafka/releases/3.9.0\n')).toEqual({ link: '/opt/kafka/releases/3.9.0' });
    expect(parseLinkFact('O|directory\n')).toEqual({ other: 'directory' });
    expect(parseLinkFact('')).toEqual({});
  });

  it('plans', () => {
    const op = symlink({ path: '/opt/kafka/current', target: '/opt/kafka/releases/3.9.0' });
    expect(op.plan({})).toEqual({
      status: 'change',
      reason: 'create link -> /opt/kafka/releases/3.9.0',
      script: 'ln -sfn /opt/kafka/releases/3.9.0 /opt/kafka/.orch.current.tmp\nmv -fT /opt/kafka/.orch.current.tmp /opt/kafka/current',
    });
    expect(op.plan({ link: '/opt/kafka/releases/3.8.0' }).reason).toBe(
      'link target /opt/kafka/releases/3.8.0 -> /opt/kafka/releases/3.9.0',
    );
    expect(op.plan({ link: '/opt/kafka/releases/3.9.0' })).toEqual({ status: 'ok', reason: 'link points to /opt/kafka/releases/3.9.0' });
    expect(op.plan({ other: 'directory' }).reason).toBe('/opt/kafka/current is a directory, not a symbolic link: refusing to replace it');
  });

  it('creates and retargets atomically on this machine', () => {
    const d = tmp();
    mkdirSync(join(d, 'r1'));
    mkdirSync(join(d, 'r 2'));
    const path = join(d, 'current');
    const [, ok] = converge(symlink({ path, target: join(d, 'r1') }));
    expect(ok.status).toBe('ok');
    // retarget a link to a directory: ln -n + mv -T must replace the link, not write inside r1
    const [first, second] = converge(symlink({ path, target: join(d, 'r 2') }));
    expect(first.reason).toBe(`link target ${join(d, 'r1')} -> ${join(d, 'r 2')}`);
    expect(second.status).toBe('ok');
    expect(readlinkSync(path)).toBe(join(d, 'r 2'));
    // relative targets are kept verbatim
    const [, rel] = converge(symlink({ path, target: 'r1' }));
    expect(rel.status).toBe('ok');
    expect(readlinkSync(path)).toBe('r1');
  });

  it('refuses to replace a regular file', () => {
    const d = tmp();
    writeFileSync(join(d, 'f'), 'x');
    const r = apply(planOf(symlink({ path: join(d, 'f'), target: '/tmp' })));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('is a regular file, not a symbolic link');
  });
});
