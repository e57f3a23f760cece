import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CGROUP_LIMITS, parseHostFacts } from '../../src/runner/host-facts.js';

const BASE = 'id=debian\nlike=\nversion=12\narch=x86_64\nuser=root\nuid=0\ncpus=2\nmem_kb=24683520\nhostname=vm1\nsystemd=1\ncontainer=1\n';

describe('host facts: resources are the cgroup limits when lower than the machine', () => {
  it('cgroup v2: a simulated VM limited to 3 GiB reports 3072 MiB, the machine 24105', () => {
    const f = parseHostFacts(BASE + 'cg2_mem=max\ncg2_cpu=max 100000\ncg2_mem=3221225472\ncg2_cpu=max 100000\ncg2_mem=max\n');
    expect(f).toMatchObject({ memoryMb: 3072, machineMemoryMb: 24105, cpus: 2, machineCpus: 2, osFamily: 'debian', container: true });
  });

  it('cgroup v2 cpu.max: a quota of 1.5 CPUs; the lowest level wins; a limit above the machine changes nothing', () => {
    expect(parseHostFacts(BASE + 'cg2_cpu=150000 100000\ncg2_cpu=100000 100000\n').cpus).toBe(1);
    expect(parseHostFacts(BASE + 'cg2_cpu=150000 100000\n').cpus).toBe(1.5);
    const big = parseHostFacts(BASE + 'cg2_mem=68719476736\ncg2_cpu=800000 100000\n');
    expect(big).toMatchObject({ memoryMb: 24105, cpus: 2 });
  });

  it('cgroup v1: limit_in_bytes and cfs quota/period; the unlimited values are ignored', () => {
    const none = parseHostFacts(BASE + 'cg1_mem=9223372036854771712\ncg1_cpu=-1\ncg1_period=100000\n');
    expect(none).toMatchObject({ memoryMb: 24105, cpus: 2 });
    const lim = parseHostFacts(BASE + 'cg1_mem=2147483648\ncg1_mem=9223372036854771712\ncg1_cpu=50000\ncg1_period=100000\ncg1_cpu=-1\ncg1_period=100000\n');
    expect(lim).toMatchObject({ memoryMb: 2048, cpus: 0.5 });
  });

  it('no cgroup lines (an old kernel, a VM): the machine', () => {
    expect(parseHostFacts(BASE)).toMatchObject({ memoryMb: 24105, cpus: 2, machineMemoryMb: 24105 });
  });
});

describe('host facts: the cgroup part of the script, run by sh on a fake /sys/fs/cgroup', () => {
  function run(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'orch-cg-'));
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), text);
    }
    const script = CGROUP_LIMITS.replaceAll('/sys/fs/cgroup', `${root}/sys/fs/cgroup`).replaceAll('/proc/1/cgroup', `${root}/proc/1/cgroup`);
    return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  }

  it('v2, container in the host cgroup namespace: reads the container scope and its parents up to the root', () => {
    const out = run({
      'proc/1/cgroup': '0::/system.slice/docker-abc.scope\n',
      'sys/fs/cgroup/system.slice/docker-abc.scope/memory.max': '3221225472\n',
      'sys/fs/cgroup/system.slice/docker-abc.scope/cpu.max': '200000 100000\n',
      'sys/fs/cgroup/system.slice/memory.max': 'max\n',
    });
    expect(out).toBe('cg2_mem=3221225472\ncg2_cpu=200000 100000\ncg2_mem=max\n');
    expect(parseHostFacts(BASE + out)).toMatchObject({ memoryMb: 3072, cpus: 2 });
  });

  it('v2, private cgroup namespace: the namespace root holds the limit', () => {
    const out = run({ 'proc/1/cgroup': '0::/init.scope\n', 'sys/fs/cgroup/init.scope/memory.max': 'max\n', 'sys/fs/cgroup/memory.max': '1073741824\n', 'sys/fs/cgroup/cpu.max': '50000 100000\n' });
    expect(parseHostFacts(BASE + out)).toMatchObject({ memoryMb: 1024, cpus: 0.5 });
  });

  it('v1: memory and cpu,cpuacct controllers along the path of PID 1', () => {
    const out = run({
      'proc/1/cgroup': '4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n3:cpuset:/docker/abc\n',
      'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '2147483648\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '150000\n',
      'sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    });
    expect(out).toContain('cg1_mem=2147483648\ncg1_mem=9223372036854771712\n');
    expect(parseHostFacts(BASE + out)).toMatchObject({ memoryMb: 2048, cpus: 1.5 });
  });

  it('a VM (PID 1 in init.scope, nothing limited): prints nothing that lowers the machine', () => {
    const out = run({ 'proc/1/cgroup': '0::/init.scope\n', 'sys/fs/cgroup/init.scope/memory.max': 'max\n', 'sys/fs/cgroup/init.scope/cpu.max': 'max 100000\n' });
    expect(parseHostFacts(BASE + out)).toMatchObject({ memoryMb: 24105, cpus: 2 });
  });
});
