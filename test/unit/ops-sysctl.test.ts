// Never runs the real `sysctl -w`: scripts run with a stub `sysctl` first in a PATH without /sbin and /usr/sbin.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { procPath, sysctl, sysctlContent, type SysctlFact } from '../../src/ops/sysctl.js';
import { sha256 } from '../../src/ops/write.js';
import { applyScript, gather, sh, tmp } from './ops-harness.js';

const values = { 'vm.swappiness': 1, 'net.core.somaxconn': 4096, 'net.ipv4.ip_local_port_range': '1024 65000' };
const content = sysctlContent(values, 'Managed by orch');
const fileOk = { stat: { type: 'regular file', owner: 'root', group: 'root', mode: 0o644, uid: 0, gid: 0 }, sha256: sha256(content) };
const live = (v: Partial<Record<string, { exists?: boolean; writable?: boolean; value: string }>>): SysctlFact['live'] => {
  const base: SysctlFact['live'] = {
    'vm.swappiness': { exists: true, writable: true, value: '1' },
    'net.core.somaxconn': { exists: true, writable: true, value: '4096' },
    'net.ipv4.ip_local_port_range': { exists: true, writable: true, value: '1024 65000' },
  };
  for (const [k, x] of Object.entries(v)) base[k] = { exists: true, writable: true, ...x! };
  return base;
};

describe('sysctl content and fact', () => {
  it('renders header and key = value lines in order', () => {
    expect(content).toBe('# Managed by orch\nvm.swappiness = 1\nnet.core.somaxconn = 4096\nnet.ipv4.ip_local_port_range = 1024 65000\n');
    expect(sysctlContent({ a: 1 })).toBe('a = 1\n');
  });
  it('maps keys to /proc/sys paths (sysctl swaps . and /)', () => {
    expect(procPath('net.ipv4.conf.eth0/1.rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.1/rp_filter');
  });
  it('parses live values with normalised whitespace, writability and missing keys', () => {
    const op = sysctl({ file: '/etc/sysctl.d/99-orch.conf', values: { ...values, 'no.such': 1 } });
    const f = op.fact!.parse('K0|0|60 \nK1|1|4096 \nK2|1|32768\t60999 \nK3|-|\n', 0);
    expect(f.live).toEqual({
      'vm.swappiness': { exists: true, writable: false, value: '60' },
      'net.core.somaxconn': { exists: true, writable: true, value: '4096' },
      'net.ipv4.ip_local_port_range': { exists: true, writable: true, value: '32768 60999' },
      'no.such': { exists: false, writable: false, value: '' },
    });
    expect(f.file).toEqual({ stat: null, sha256: null });
  });
  it('inside a container, global keys are never set even where /proc/sys is writable; namespaced ones are', () => {
    const op = sysctl({ file: '/etc/sysctl.d/99-orch.conf', values });
    const f = op.fact!.parse('C|1\nK0|1|60 \nK1|1|128 \nK2|1|32768\t60999 \n', 0);
    expect(f.live['vm.swappiness']).toEqual({ exists: true, writable: false, value: '60', hostGlobal: true });
    expect(f.live['net.core.somaxconn'].writable).toBe(true);
    const plan = op.plan({ file: fileOk, live: f.live });
    expect(plan.status).toBe('change');
    if (plan.status !== 'change') return;
    expect(plan.script).toContain("sysctl -w net.core.somaxconn=4096");
    expect(plan.script).not.toContain('vm.swappiness');
    expect(plan.reason).toContain('not set live inside a container (global kernel parameters belong to its host): vm.swappiness 60 -> 1');
  });
  it('the real fact on this machine (read-only)', () => {
    const op = sysctl({ file: '/nonexistent/orch.conf', values: { 'vm.swappiness': 1, 'no.such.key': 1 } });
    const f = gather(op.fact!);
    expect(f.live['vm.swappiness'].exists).toBe(true);
    expect(f.live['vm.swappiness'].value).toMatch(/^\d+$/);
    expect(f.live['no.such.key'].exists).toBe(false);
    const range = gather(sysctl({ file: '/x', values: { 'net.ipv4.ip_local_port_range': '1 2' } }).fact!);
    expect(range.live['net.ipv4.ip_local_port_range'].value).toMatch(/^\d+ \d+$/);
  });
});

describe('sysctl plan', () => {
  const op = sysctl({ file: '/etc/sysctl.d/99-orch.conf', values, header: 'Managed by orch' });
  it('ok', () => {
    expect(op.plan({ file: fileOk, live: live({}) })).toEqual({ status: 'ok', reason: '/etc/sysctl.d/99-orch.conf matches, live values match' });
  });
  it('live value differs: sysctl -w with an argv-quoted key=value', () => {
    const p = op.plan({ file: fileOk, live: live({ 'net.ipv4.ip_local_port_range': { value: '32768 60999' } }) });
    expect(p).toMatchObject({ status: 'change', reason: 'net.ipv4.ip_local_port_range 32768 60999 -> 1024 65000' });
    if (p.status === 'change') expect(p.script).toContain("sysctl -w 'net.ipv4.ip_local_port_range=1024 65000'");
  });
  it('file differs', () => {
    const p = op.plan({ file: { ...fileOk, sha256: 'c'.repeat(64) }, live: live({}) });
    expect(p.reason).toMatch(/^\/etc\/sysctl\.d\/99-orch\.conf: content differs \(sha256 cccccccccccc\.\. -> [0-9a-f]{12}\.\.\)$/);
    expect(p.status === 'change' && p.diff?.after).toBe(content);
  });
  it('unsettable keys (read-only /proc/sys, e.g. in a container): skip with reason, no script', () => {
    const p = op.plan({ file: fileOk, live: live({ 'vm.swappiness': { value: '60', writable: false } }) });
    expect(p).toEqual({
      status: 'skip',
      reason: '/etc/sysctl.d/99-orch.conf matches; cannot set live: vm.swappiness 60 -> 1 (/proc/sys/vm/swappiness read-only)',
    });
  });
  it('unsettable keys that already have the value are ok', () => {
    expect(op.plan({ file: fileOk, live: live({ 'vm.swappiness': { value: '1', writable: false } }) }).status).toBe('ok');
  });
  it('file change plus an unsettable key: change naming both', () => {
    const p = op.plan({ file: { stat: null, sha256: null }, live: live({ 'vm.swappiness': { value: '60', writable: false } }) });
    expect(p.status).toBe('change');
    expect(p.reason).toMatch(/^\/etc\/sysctl\.d\/99-orch\.conf: create \(.*\); cannot set live: vm\.swappiness 60 -> 1 \(\/proc\/sys\/vm\/swappiness read-only\)$/);
    if (p.status === 'change') expect(p.script).not.toContain('sysctl -w');
  });
  it('applyLive false: only the file', () => {
    const p = sysctl({ file: '/etc/sysctl.d/x.conf', values, applyLive: (k) => !k.startsWith('vm.') });
    expect(p.fact!.command).not.toContain('vm/swappiness');
    const f = { file: { ...fileOk, sha256: sha256(sysctlContent(values)) }, live: live({}) };
    delete (f.live as Record<string, unknown>)['vm.swappiness'];
    expect(p.plan(f).status).toBe('ok');
  });
  it('applyLive false for every key: no live probe, file only', () => {
    const p = sysctl({ file: '/etc/sysctl.d/x.conf', values: { 'vm.swappiness': 1 }, applyLive: false });
    expect(p.fact!.command).not.toContain('sysctl -n');
    expect(p.plan({ file: { ...fileOk, sha256: sha256('vm.swappiness = 1\n') }, live: {} })).toEqual({
      status: 'ok',
      reason: '/etc/sysctl.d/x.conf matches (values not applied live)',
    });
  });
  it('rejects bad keys and values', () => {
    expect(() => sysctl({ file: '/x', values: { 'a b': 1 } })).toThrow(/invalid key/);
    expect(() => sysctl({ file: '/x', values: { a: 'x\ny' } })).toThrow(/invalid value/);
  });
});

describe('sysctl scripts with a stub sysctl', () => {
  function stub(behaviour: 'ok' | 'readonly' | 'invalid') {
    const d = tmp();
    const bin = join(d, 'bin');
    sh(`mkdir -p '${bin}'`);
    const msg = {
      ok: 'echo "$2"',
      readonly: `echo "sysctl: setting key \\"\${2%%=*}\\": Read-only file system" >&2; exit 1`,
      invalid: `echo "sysctl: setting key \\"\${2%%=*}\\": Invalid argument" >&2; exit 1`,
    }[behaviour];
    writeFileSync(join(bin, 'sysctl'), `#!/bin/sh\necho "$*" >>'${d}/calls'\n${msg}\n`);
    chmodSync(join(bin, 'sysctl'), 0o755);
    const env = { PATH: `${bin}:/usr/bin:/bin`, LC_ALL: 'C' };
    expect(sh('command -v sysctl', env).stdout.trim()).toBe(join(bin, 'sysctl'));
    return { d, env };
  }
  it('a failing sysctl -w for permission reasons prints the \\x1eSKIP line when nothing else changed', () => {
    const { d, env } = stub('readonly');
    const op = sysctl({ file: join(d, 'f.conf'), values: { 'vm.swappiness': 1 } });
    const p = op.plan({ file: { ...fileOk, sha256: sha256(sysctlContent({ 'vm.swappiness': 1 })) }, live: { 'vm.swappiness': { exists: true, writable: true, value: '60' } } });
    expect(p.status).toBe('change');
    const r = sh(applyScript(p.status === 'change' ? p.script : ''), env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('\x1eSKIP vm.swappiness: cannot be set live here\n');
    expect(readFileSync(join(d, 'calls'), 'utf8')).toBe('-w vm.swappiness=1\n');
  });

  it('writes the file and reports no SKIP when the file changed', () => {
    const { d, env } = stub('readonly');
    const file = join(d, 'f.conf');
    const op = sysctl({ file, values: { 'vm.swappiness': 1 } });
    const p = op.plan({ file: { stat: null, sha256: null }, live: { 'vm.swappiness': { exists: true, writable: true, value: '60' } } });
    const r = sh(applyScript(p.status === 'change' ? p.script : ''), env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1eSKIP');
    expect(readFileSync(file, 'utf8')).toBe('vm.swappiness = 1\n');
  });

  it('other sysctl -w failures fail the op', () => {
    const { d, env } = stub('invalid');
    const op = sysctl({ file: join(d, 'f.conf'), values: { 'vm.swappiness': 1 } });
    const p = op.plan({ file: { ...fileOk, sha256: sha256('vm.swappiness = 1\n') }, live: { 'vm.swappiness': { exists: true, writable: true, value: '60' } } });
    const r = sh(applyScript(p.status === 'change' ? p.script : ''), env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Invalid argument');
  });

  it('success: sets the value (stub) and writes the file', () => {
    const { d, env } = stub('ok');
    const file = join(d, 'f.conf');
    const op = sysctl({ file, values: { 'net.core.somaxconn': 4096 } });
    const p = op.plan({ file: { stat: null, sha256: null }, live: { 'net.core.somaxconn': { exists: true, writable: true, value: '128' } } });
    expect(p.reason).toMatch(/; net\.core\.somaxconn 128 -> 4096$/);
    const r = sh(applyScript(p.status === 'change' ? p.script : ''), env);
    expect(r.code).toBe(0);
    expect(readFileSync(join(d, 'calls'), 'utf8')).toBe('-w net.core.somaxconn=4096\n');
    // idempotence of the file part: the real fact of the file now matches
    const f = gather(op.fact!);
    expect(op.plan({ ...f, live: { 'net.core.somaxconn': { exists: true, writable: true, value: '4096' } } }).status).toBe('ok');
  });
});
