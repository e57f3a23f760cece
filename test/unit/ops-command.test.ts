import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/ops/command.js';
import { apply, converge, gather, planOf, tmp } from './ops-harness.js';

describe('command', () => {
  it('without a guard always runs, and says so', () => {
    const op = command({ name: 'say hi', run: 'echo hi' });
    expect(op.fact).toBeNull();
    expect(op.plan(null)).toEqual({ status: 'change', reason: 'no guard (creates/unless/onlyIf): always runs', script: 'echo hi' });
  });

  it('creates: runs once', () => {
    const d = tmp();
    const marker = join(d, 'formatted marker');
    const op = command({ name: 'format storage', run: `echo done > '${marker}'`, creates: marker });
    const [first, second] = converge(op);
    expect(first.reason).toBe(`${marker} absent`);
    expect(second).toEqual({ status: 'ok', reason: `${marker} exists` });
    expect(readFileSync(marker, 'utf8')).toBe('done\n');
  });

  it('unless: ok when the check succeeds; guards cannot exit the fact script', () => {
    const d = tmp();
    const f = join(d, 'f');
    const op = command({ name: 'init', run: `touch '${f}'`, unless: `test -e '${f}'\nexit 3` });
    const first = planOf(op);
    expect(first).toMatchObject({ status: 'change', reason: 'unless-command failed (exit 3)' });
    expect(apply(first).code).toBe(0);
    const ok = command({ name: 'init', run: `touch '${f}'`, unless: `test -e '${f}'` });
    expect(planOf(ok)).toEqual({ status: 'ok', reason: 'unless-command succeeded' });
  });

  it('onlyIf: skip when the check fails', () => {
    expect(planOf(command({ name: 'x', run: 'true', onlyIf: 'false' }))).toEqual({ status: 'skip', reason: 'onlyIf-command failed (exit 1)' });
    expect(planOf(command({ name: 'x', run: 'true', onlyIf: 'true' }))).toMatchObject({ status: 'change', reason: 'onlyIf-command succeeded' });
  });

  it('combined guards and parse', () => {
    const op = command({ name: 'x', run: 'true', creates: '/nonexistent/orch', unless: 'false', onlyIf: 'true' });
    expect(gather(op.fact!)).toEqual({ created: false, unless: 1, onlyIf: 0 });
    expect(op.plan({ created: false, unless: 1, onlyIf: 0 }).reason).toBe('/nonexistent/orch absent, unless-command failed (exit 1), onlyIf-command succeeded');
  });

  it('the run script runs under set -e', () => {
    const d = tmp();
    const r = apply(command({ name: 'x', run: `false\ntouch '${d}/after'` }).plan(null));
    expect(r.code).not.toBe(0);
    expect(existsSync(join(d, 'after'))).toBe(false);
  });
});
