import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resourceControls, serviceLimits, withResourceControls } from '../../src/ops/resources.js';
import { unit } from '../../src/ops/systemd.js';
import { converge, tmp } from './ops-harness.js';

const UNIT = '[Unit]\nDescription=Airflow scheduler\n\n[Service]\nExecStart=/opt/airflow/bin/airflow scheduler\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n';

describe('resource controls in units', () => {
  it("vps-trio's airflow-scheduler limit (0.8 CPU, 1.5 GB) becomes CPUQuota=80% and MemoryMax=1536M", () => {
    expect(resourceControls({ memory_mb: 1536, cpus: 0.8 })).toEqual({ memoryMax: '1536M', cpuQuota: '80%' });
    expect(resourceControls({ cpus: 2 })).toEqual({ cpuQuota: '200%' });
    expect(resourceControls({})).toBeUndefined();
    expect(resourceControls(undefined)).toBeUndefined();
  });

  it('puts them at the end of [Service], before the blank line and [Install]', () => {
    expect(withResourceControls(UNIT, { memoryMax: '1536M', cpuQuota: '80%' })).toBe(
      '[Unit]\nDescription=Airflow scheduler\n\n[Service]\nExecStart=/opt/airflow/bin/airflow scheduler\nRestart=on-failure\nMemoryMax=1536M\nCPUQuota=80%\n\n[Install]\nWantedBy=multi-user.target\n',
    );
  });

  it('replaces settings already there, adds a [Service] section when missing, leaves the unit alone without controls', () => {
    const withOld = UNIT.replace('Restart=on-failure\n', 'MemoryMax=4G\nRestart=on-failure\n');
    const out = withResourceControls(withOld, { memoryMax: '800M' });
    expect(out.match(/MemoryMax=/g)).toHaveLength(1);
    expect(out).toContain('Restart=on-failure\nMemoryMax=800M\n\n[Install]');
    expect(withResourceControls('[Unit]\nDescription=x\n', { cpuQuota: '30%' })).toBe('[Unit]\nDescription=x\n\n[Service]\nCPUQuota=30%\n');
    expect(withResourceControls(UNIT, undefined)).toBe(UNIT);
    expect(withResourceControls(UNIT, {})).toBe(UNIT);
  });

  it('refuses values systemd would not take', () => {
    expect(() => withResourceControls(UNIT, { memoryMax: '1.5GB' })).toThrow(/memoryMax "1.5GB"/);
    expect(() => withResourceControls(UNIT, { cpuQuota: '0.8' })).toThrow(/cpuQuota "0.8"/);
  });

  it('serviceLimits reads resource_limits of the host by service name', () => {
    const vars = { resource_limits: { 'airflow-webserver': { memory_mb: 800, cpus: 0.3 } } };
    expect(serviceLimits(vars, 'airflow-webserver.service')).toEqual({ memoryMax: '800M', cpuQuota: '30%' });
    expect(serviceLimits(vars, 'airflow-scheduler')).toBeUndefined();
    expect(serviceLimits({}, 'x')).toBeUndefined();
  });

  it('ops.unit writes the unit with its limits, and a changed limit changes the unit (daemon-reload)', () => {
    const d = tmp();
    const [first, second] = converge(unit({ name: 'airflow-scheduler.service', content: UNIT, dir: d, resources: { memoryMax: '1536M', cpuQuota: '80%' } }));
    expect(first.status).toBe('change');
    expect(second.status).toBe('ok');
    expect(readFileSync(join(d, 'airflow-scheduler.service'), 'utf8')).toContain('MemoryMax=1536M\nCPUQuota=80%\n');
    const [again] = converge(unit({ name: 'airflow-scheduler.service', content: UNIT, dir: d, resources: { memoryMax: '2G' } }));
    expect(again).toMatchObject({ status: 'change', pending: [{ key: 'daemon-reload' }] });
  });
});
