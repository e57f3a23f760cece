import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reloadThroughApi } from '../../src/ops/reload.js';

/** this machine's sh (`-e` for a run's script, as the runner runs it; facts without), a stand-in curl first on PATH logging its arguments to <dir>/calls */
const sh = (script: string, dir: string, flags = '-c') => execFileSync('sh', [flags, script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });

describe('ops.reloadThroughApi', () => {
  it('POSTs once per content: the marker keeps the sha256 of what was last loaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-reload-'));
    writeFileSync(join(dir, 'curl'), `#!/bin/sh\necho "$@" >> '${dir}/calls'\n`);
    chmodSync(join(dir, 'curl'), 0o755);
    const marker = join(dir, 'loaded.sha256');
    const op = (content: string) => reloadThroughApi({ name: 'x: load (POST /-/reload)', url: 'http://127.0.0.1:9090/-/reload', content, marker });
    /** the op's fact on this machine, then its plan */
    const planned = (content: string) => {
      const o = op(content);
      return o.plan(o.fact!.parse(sh(o.fact!.command, dir), 0));
    };
    expect(op('a').name).toBe('x: load (POST /-/reload)');
    // nothing loaded yet: due, and its script POSTs and writes the marker
    const first = planned('config a');
    if (first.status !== 'change') throw new Error(`expected a change, got ${first.status}: ${first.reason}`);
    sh(first.script, dir, '-ec');
    expect(readFileSync(join(dir, 'calls'), 'utf8')).toBe('-fsS -X POST --max-time 30 http://127.0.0.1:9090/-/reload\n');
    expect(existsSync(marker)).toBe(true);
    // the same content again: ok, no POST; another content: due again
    expect(planned('config a').status).toBe('ok');
    expect(planned('config b').status).toBe('change');
  });
});
