import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limits, limitsContent } from '../../src/ops/limits.js';
import { converge, tmp } from './ops-harness.js';

describe('limits', () => {
  const entries = [
    { domain: 'kafka', type: '-' as const, item: 'nofile', value: 100000 },
    { domain: '@kafka', type: 'soft' as const, item: 'memlock', value: 'unlimited' },
  ];
  it('renders entries', () => {
    expect(limitsContent(entries, 'Managed by orch')).toBe('# Managed by orch\nkafka - nofile 100000\n@kafka soft memlock unlimited\n');
    expect(() => limitsContent([{ domain: 'a b', type: '-', item: 'nofile', value: 1 }])).toThrow(/invalid field/);
  });
  it('writes the file root:root 0644 and converges', () => {
    const d = tmp();
    const op = limits({ file: join(d, '90-kafka.conf'), entries });
    expect(op.kind).toBe('limits');
    const [first, second] = converge(op);
    expect(first.reason).toMatch(/^create \(\d+ bytes, sha256 [0-9a-f]{12}\.\., owner root, group root, mode 0644\)$/);
    expect(second).toEqual({ status: 'ok', reason: 'content, owner, group and mode match' });
    expect(readFileSync(join(d, '90-kafka.conf'), 'utf8')).toBe('kafka - nofile 100000\n@kafka soft memlock unlimited\n');
  });
});
