/**
 * The benchmark role (bench/roles/bench-common) must leave byte-identical state to the Ansible baseline:
 * every file rendered for bench-h01 of 5 hosts equals the reference copy Ansible produced
 * (bench/reference/N5-bench-h01/, copied from shared/bench/ansible-baseline/reference/).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { managedFiles, type BenchInput, type BenchNode } from '../../bench/roles/bench-common/render.js';
import role, { settingsOf, DEFAULTS } from '../../bench/roles/bench-common/index.js';
import type { PeerHost, RoleContext, HostFacts } from '../../src/role/define.js';
import type { FileDiff, Plan } from '../../src/ops/types.js';

const REF = fileURLToPath(new URL('../../bench/reference/N5-bench-h01', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const nodes = (n: number): BenchNode[] =>
  Array.from({ length: n }, (_, k) => ({ name: `bench-h${String(k + 1).padStart(2, '0')}`, id: k + 1, ip: `10.199.0.${11 + k}` }));

const input = (self: number, n: number): BenchInput => {
  const all = nodes(n);
  return { settings: settingsOf(DEFAULTS), self: all[self - 1], nodes: all };
};

const refFiles = walk(REF).map((p) => `/${relative(REF, p)}`).sort();

describe('bench-common renderers', () => {
  it('render the same set of files as the reference', () => {
    expect(managedFiles(input(1, 5)).map((f) => f.path).sort()).toEqual(refFiles);
  });

  for (const path of refFiles) {
    it(`${path} is byte-identical to Ansible's (host 1 of 5)`, () => {
      const f = managedFiles(input(1, 5)).find((x) => x.path === path)!;
      expect(Buffer.from(f.content, 'utf8').equals(readFileSync(join(REF, path)))).toBe(true);
      expect(f.content).toBe(readFileSync(join(REF, path), 'utf8'));
    });
  }

  it('host-specific values follow the host (host 3 of 5, host 1 of 1)', () => {
    const h3 = Object.fromEntries(managedFiles(input(3, 5)).map((f) => [f.path, f.content]));
    expect(h3['/etc/motd']).toBe('bench-h03: datalyptica 1.0.0 node 3 of 5 (worker)\n');
    expect(h3['/etc/datalyptica/trino-config.properties']).toContain('coordinator=false\n');
    expect(h3['/etc/datalyptica/trino-node.properties']).toContain('node.id=bench-h03-0003\n');
    expect(h3['/etc/datalyptica/spark-defaults.conf']).toContain('spark.master spark://10.199.0.11:7077\nspark.driver.host 10.199.0.13\n');
    const h1 = Object.fromEntries(managedFiles(input(1, 1)).map((f) => [f.path, f.content]));
    expect(h1['/etc/datalyptica/server.properties']).toContain('controller.quorum.voters=1@10.199.0.11:9093\n');
    expect(h1['/etc/datalyptica/server.properties']).toContain('default.replication.factor=1\n');
  });
});

// ------------------------------------------------------------------ the role's operations

const facts: HostFacts = {
  osFamily: 'debian', osId: 'debian', osVersion: '12', arch: 'x86_64', user: 'root', root: true,
  cpus: 2, memoryMb: 1024, hostname: 'bench-h01', systemd: true, container: true,
};

function ctx(self: number, n: number): RoleContext<any> {
  const peers: PeerHost[] = nodes(n).map((x) => ({ name: x.name, address: x.ip, groups: ['all', 'bench'], vars: { node_id: x.id, ansible_host: x.ip } }));
  return {
    vars: { ...DEFAULTS, node_id: self },
    host: { ...peers[self - 1], facts },
    group: (g) => peers.filter((p) => p.groups.includes(g)),
    allHosts: () => peers,
    exported: () => ({}),
    cluster: (n) => {
      throw new Error(`no cluster value ${n}`);
    },
  };
}

describe('bench-common operations', () => {
  const ops = role.operations(ctx(1, 5));

  it('has about 40 steps worth of operations, every file managed', () => {
    expect(ops.length).toBeGreaterThanOrEqual(40);
    const names = ops.map((o) => o.name).join('\n');
    for (const p of refFiles) expect(names).toContain(p);
  });

  it('writes the reference content on a fresh host', () => {
    const written = new Map<string, string>();
    const absent = { stat: null, sha256: null };
    const live = (v: string) => ({ exists: true, writable: true, value: v });
    for (const op of ops) {
      let p: Plan;
      if (['file', 'unit', 'limits'].includes(op.kind)) p = op.plan(absent);
      else if (op.kind === 'sysctl')
        p = op.plan({ file: absent, live: { 'net.core.somaxconn': live('4096'), 'net.ipv4.tcp_max_syn_backlog': live('512'), 'net.ipv4.ip_local_port_range': live('32768 60999') } });
      else if (op.kind === 'lineInFile') p = op.plan({ stat: { type: 'regular empty file', owner: 'root', group: 'root', mode: 0o644, uid: 0, gid: 0 }, content: Buffer.alloc(0), tooLarge: false });
      else continue;
      expect(p.status, op.name).toBe('change');
      const d = (p as { diff?: FileDiff }).diff;
      if (d) written.set(d.path, d.after);
    }
    for (const path of refFiles) expect(written.get(path), path).toBe(readFileSync(join(REF, path), 'utf8'));
  });

  it('applies only the net.* sysctls live, and only where they differ', () => {
    const op = ops.find((o) => o.kind === 'sysctl')!;
    const live = (v: string) => ({ exists: true, writable: true, value: v });
    const p = op.plan({
      file: { stat: null, sha256: null },
      live: { 'net.core.somaxconn': live('65535'), 'net.ipv4.tcp_max_syn_backlog': live('512'), 'net.ipv4.ip_local_port_range': live('10000 65535') },
    }) as Extract<Plan, { status: 'change' }>;
    expect(p.script).toContain("sysctl -w net.ipv4.tcp_max_syn_backlog=8192");
    expect(p.script).not.toContain('somaxconn=');
    expect(p.script).not.toMatch(/sysctl -w '?(vm|fs)\./);
  });

  it('validates its inputs offline (step 01)', () => {
    expect(role.validate!(ctx(1, 5))).toEqual([]);
    const bad = ctx(1, 5);
    bad.group = () => [];
    expect(role.validate!(bad).length).toBeGreaterThan(0);
  });
});
