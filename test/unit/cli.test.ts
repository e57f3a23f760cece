import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { projectRoot } from '../../src/core/project.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: any) => ((err += String(s)), true));
  vi.spyOn(console, 'log').mockImplementation((s: any) => void (out += String(s) + '\n'));
  vi.spyOn(console, 'error').mockImplementation((s: any) => void (err += String(s) + '\n'));
});
// Never aim a test at the seed inventories' addresses: runs use the 127.0.0.1 fixture.
afterEach(() => vi.restoreAllMocks());

const fixture = (n: string) => join(projectRoot, 'test/fixtures/inventories-cli', n);

describe('orch CLI exit codes', () => {
  it('0: plan site --inventory minimal-5vm works offline', async () => {
    expect(await main(['plan', 'site', '--inventory', 'minimal-5vm'])).toBe(0);
    expect(out).toContain('phase 1 os-preparation  hosts: all -> 5 host(s)');
    expect(out).toContain('vm1, vm2, vm3, vm4, vm5: common');
  });

  it('4: a broken inventory names file, line and key, for every problem at once', async () => {
    expect(await main(['inventory', 'validate', '--inventory', fixture('broken')])).toBe(4);
    expect(err).toMatch(/hosts\.yml:6: all\.children\.web\.hosts\.w1\.ansible_port: /);
    expect(await main(['run', 'site', '--inventory', fixture('broken')])).toBe(4);
  });

  it('4: a role variable that fails its schema, before any host is touched', async () => {
    expect(await main(['run', 'site', '--inventory', fixture('unreachable'), '-e', 'common_timezone=Europe/Paris;reboot'])).toBe(4);
    expect(err).toMatch(/-e: common_timezone: "Europe\/Paris;reboot" is not valid for role common: must match pattern/);
    expect(out).toBe('');
  });

  it('3: an unreachable host', async () => {
    expect(await main(['run', 'site', '--inventory', fixture('unreachable'), '--plain'])).toBe(3);
    expect(out).toMatch(/nowhere UNREACHABLE in phase os-preparation: nowhere \(127\.0\.0\.1:1\): /);
    expect(out).toMatch(/resume after fixing with: --from-phase "os-preparation"/);
  });

  it('4: unknown commands and flags', async () => {
    expect(await main(['frobnicate'])).toBe(4);
    expect(await main(['run', 'site', '--inventory', fixture('unreachable'), '--no-such-flag'])).toBe(4);
    expect(await main(['run', 'site', '--inventory', fixture('unreachable'), '--bogus'])).toBe(4);
  });

  it('roles show lists every variable with type, default and description', async () => {
    expect(await main(['roles', 'show', 'common'])).toBe(0);
    expect(out).toMatch(/common_timezone {2}\(string matching .*; default "UTC"\)\n {6}time zone/);
  });

  it("roles show prints a role's doc, indented, before its variables", async () => {
    expect(await main(['roles', 'show', 'zookeeper'])).toBe(0);
    expect(out).toMatch(/^zookeeper: Apache ZooKeeper .*\ndepends on: java\n\n {2}zookeeper: Apache ZooKeeper, a single node or an ensemble\. The main source is spark-kafka-cluster-aws\.md\n/);
    expect(out).toContain('\n  - Health: the client port listens and `srvr` answers');
    expect(out.indexOf('- Health')).toBeLessThan(out.indexOf('variables:'));
    expect(await main(['roles', 'show', 'etcd'])).toBe(0);
    expect(out).toContain('is removed and added again (`etcdctl member remove` / `member add`)');
  });

  it('--help documents the exit codes', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(out).toContain('4  bad input');
  });
});
