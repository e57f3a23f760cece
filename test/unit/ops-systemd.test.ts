// unit files are written under a temp dir; services are planned only (systemctl is never run for a change).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_RELOAD, ENABLE_RELOAD, environmentFileValue, service, unit, type ServiceFact } from '../../src/ops/systemd.js';
import { apply, converge, planOf, tmp } from './ops-harness.js';
import { chmodSync } from 'node:fs';

const UNIT = '[Unit]\nDescription=Kafka\n[Service]\nExecStart=/opt/kafka/current/bin/kafka-server-start.sh\n[Install]\nWantedBy=multi-user.target\n';

describe('unit', () => {
  it('writes the unit file and makes daemon-reload pending; then ok', () => {
    const d = tmp();
    const op = unit({ name: 'kafka.service', content: UNIT, dir: d, notify: ['kafka'] });
    expect(op.kind).toBe('unit');
    expect(op.name).toBe(join(d, 'kafka.service'));
    expect(op.notify).toEqual(['kafka']);
    const [first, second] = converge(op);
    expect(first).toMatchObject({ status: 'change', pending: [DAEMON_RELOAD] });
    expect(DAEMON_RELOAD).toEqual({ key: 'daemon-reload', script: 'systemctl daemon-reload', description: 'reload systemd unit files' });
    expect(second).toEqual({ status: 'ok', reason: 'content, owner, group and mode match' });
    expect(readFileSync(join(d, 'kafka.service'), 'utf8')).toBe(UNIT);
  });
  it('a mode fix alone needs no daemon-reload', () => {
    const d = tmp();
    const op = unit({ name: 'kafka.service', content: UNIT, dir: d });
    converge(op);
    chmodSync(join(d, 'kafka.service'), 0o600);
    const p = planOf(op);
    expect(p).toMatchObject({ status: 'change', reason: 'mode 0600 -> 0644' });
    expect(p.status === 'change' && p.pending).toBeUndefined();
    expect(apply(p).code).toBe(0);
  });
  it('rejects bad unit names', () => {
    expect(() => unit({ name: 'kafka', content: '' })).toThrow(/invalid unit name/);
    expect(() => unit({ name: '../x.service', content: '' })).toThrow(/invalid unit name/);
  });
});

describe('service', () => {
  const base: ServiceFact = { systemd: true, enabled: 'enabled', active: 'active', load: 'loaded' };
  const op = service({ name: 'kafka', enabled: true, state: 'started' });

  it('parses systemctl show LoadState / ActiveState / UnitFileState (one process per service)', () => {
    expect(op.fact!.command).toContain('systemctl show -p LoadState -p ActiveState -p UnitFileState kafka.service');
    expect(op.fact!.parse('SD|1\nLoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n', 0)).toEqual({
      systemd: true,
      enabled: 'disabled',
      active: 'inactive',
      load: 'loaded',
    });
    // a unit that does not exist: no UnitFileState value
    expect(op.fact!.parse('SD|1\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n', 0)).toMatchObject({ enabled: '', load: 'not-found' });
    expect(op.fact!.parse('', 0).systemd).toBe(false);
  });
  it('flushes daemon-reload; implies .service', () => {
    expect(op.flushes).toEqual(['daemon-reload']);
    expect(op.name).toBe('kafka.service');
  });
  it('ok when enabled and running', () => {
    expect(op.plan(base)).toEqual({ status: 'ok', reason: 'enabled, active' });
    expect(op.plan({ ...base, enabled: 'static', active: 'activating' })).toEqual({ status: 'ok', reason: 'static, activating' });
  });
  it('enable and start; reports started', () => {
    expect(op.plan({ ...base, enabled: 'disabled', active: 'inactive' })).toEqual({
      status: 'change',
      reason: 'disabled -> enabled, inactive -> started',
      script: 'systemctl enable --no-reload kafka.service\nsystemctl start kafka.service',
      started: ['kafka.service'],
      pending: [ENABLE_RELOAD],
    });
    expect(op.plan({ ...base, active: 'failed' })).toMatchObject({ reason: 'failed -> started', started: ['kafka.service'] });
  });
  it('a unit not found yet (written earlier in the same phase, or by a package that may have started it with its packaged config) is enabled and (re)started', () => {
    expect(op.plan({ systemd: true, enabled: 'not-found', active: 'inactive', load: 'not-found' })).toMatchObject({
      status: 'change',
      reason: 'not-found -> enabled, inactive -> started',
      script: 'systemctl enable --no-reload kafka.service\nsystemctl restart kafka.service',
    });
    expect(service({ name: 'x', enabled: false, state: 'stopped' }).plan({ systemd: true, enabled: '', active: 'inactive', load: 'not-found' })).toEqual({
      status: 'ok',
      reason: 'not-found, inactive',
    });
  });
  it('disable and stop', () => {
    expect(service({ name: 'kafka.service', enabled: false, state: 'stopped' }).plan(base)).toEqual({
      status: 'change',
      reason: 'enabled -> disabled, active -> stopped',
      script: 'systemctl disable kafka.service\nsystemctl stop kafka.service',
    });
  });
  it('restarted always restarts', () => {
    expect(service({ name: 'kafka', state: 'restarted' }).plan(base)).toEqual({
      status: 'change',
      reason: 'restart (was active)',
      script: 'systemctl restart kafka.service',
      started: ['kafka.service'],
    });
  });
  it('masked and no systemd fail clearly', () => {
    expect(op.plan({ ...base, enabled: 'masked', load: 'masked' }).reason).toBe('kafka.service is masked');
    expect(op.plan({ ...base, systemd: false }).reason).toBe('systemd is not running on this host');
  });
});

describe('environmentFileValue', () => {
  it('double-quotes with \\ " $ escaped; a newline is refused with the caller\'s message', () => {
    expect(environmentFileValue('a"b\\c$d e', 'x')).toBe('"a\\"b\\\\c\\$d e"');
    expect(() => environmentFileValue('a\nb', 'X: a value holds a newline')).toThrow('X: a value holds a newline');
  });

  it('escapes backticks too: sh sourcing the file reads every value back byte for byte', () => {
    const value = `p'w "q" \\ $HOME \`id\` $(id) ; & | < > * ~ #`;
    const file = join(tmp(), 'x.env');
    writeFileSync(file, `X=${environmentFileValue(value, 'x')}\n`);
    const r = spawnSync('sh', ['-c', `set -a; . "$1"; printf %s "$X"`, 'sh', file], { encoding: 'utf8' });
    expect(r.stdout).toBe(value);
  });
});
