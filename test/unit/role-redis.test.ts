import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import redis from '../../roles/redis/index.js';
import sentinel from '../../roles/redis-sentinel/index.js';
import { liveDigest, renderOrchConf } from '../../roles/redis/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import { hostFacts } from './role-harness.js';

const facts = (osFamily: HostFacts['osFamily']): HostFacts => hostFacts({ osFamily, osId: osFamily, osVersion: '1', cpus: 2, memoryMb: 2048, hostname: 'vm1' });
const peer = (name: string, address: string, groups: string[]): PeerHost => ({ name, address, groups, vars: {} });
// minimal-5vm: Redis master VM3, replica VM2, Sentinels VM1-3
const HOSTS = [peer('vm1', '10.20.0.11', ['redis_sentinel']), peer('vm2', '10.20.0.12', ['redis', 'redis_sentinel']), peer('vm3', '10.20.0.13', ['redis', 'redis_sentinel'])];
const PW = 'redis-Secret1';
function ctx(role: typeof redis | typeof sentinel, host: string, osFamily: HostFacts['osFamily'] = 'debian', vars: Record<string, unknown> = {}) {
  const defaults = Object.fromEntries(Object.entries(role.vars).map(([k, s]) => [k, s.default]));
  return {
    vars: { ...defaults, redis_password: PW, ...vars },
    host: { ...HOSTS.find((h) => h.name === host)!, facts: facts(osFamily) },
    group: (g: string) => HOSTS.filter((h) => h.groups.includes(g)),
    allHosts: () => HOSTS,
    exported: () => ({}),
    // the engine resolves the cluster value: the inventory's redis_password, as here
    cluster: (name: string) => (name === 'redis_password' ? String({ redis_password: PW, ...vars }.redis_password) : ''),
  } as RoleContext<any>;
}
const sh = (script: string) => execFileSync('sh', ['-n', '-c', script]); // syntax check with the system's sh

describe('redis role', () => {
  it("orch.conf: the seed's port, password for requirepass and masterauth, 4 GB maxmemory, no replicaof", () => {
    const op = redis.operations(ctx(redis, 'vm2')).find((o) => o.name === '/etc/redis/orch.conf')!;
    const text = (op.plan({ stat: null, sha256: null } as never) as { diff: { after: string } }).diff.after;
    expect(text).toBe(
      [
        '# Managed by orch (role redis) - do not edit. Included at the end of redis.conf, which Redis and Sentinel rewrite.',
        '# No replicaof here: Sentinel owns the replication topology.',
        'bind 0.0.0.0',
        'port 6379',
        `requirepass ${PW}`,
        `masterauth ${PW}`,
        'maxmemory 4294967296',
        'maxmemory-policy allkeys-lru',
        '',
      ].join('\n'),
    );
    expect(op.secret).toBe(true);
    expect(op.notify).toEqual(['redis-server']);
  });

  it('operations in order; the packaged redis.conf only gets the include line; Debian and RHEL names', () => {
    const names = (os: HostFacts['osFamily']) => redis.operations(ctx(redis, 'vm2', os)).map((o) => `${o.kind} ${o.name}`);
    expect(names('debian').slice(1)).toEqual([
      'file /etc/redis/orch.conf',
      'command redis: /etc/redis/redis.conf ends with include /etc/redis/orch.conf',
      'service redis-server.service',
      'waitForPort 127.0.0.1:6379',
      'command redis: live settings (password, maxmemory) as orch.conf says',
      'command redis: initial layout: replica of vm3 (while no Sentinel knows a master)',
    ]);
    expect(names('redhat')[3]).toBe('service redis.service');
    expect(redis.operations(ctx(redis, 'vm2', 'redhat'))[0].fact!.command).toContain("rpm -q --qf '%{NAME}\\n' redis");
    expect(redis.operations(ctx(redis, 'vm2', 'debian'))[0].fact!.command).toContain('redis-server');
    expect(redis.operations(ctx(redis, 'vm3')).at(-1)!.name).toBe('redis: initial layout: master (while no Sentinel knows one)');
  });

  it('the initial layout asks every Sentinel first, and never names the password on a command line', () => {
    const ops = redis.operations(ctx(redis, 'vm2'));
    const layout = ops.at(-1)!;
    const fact = layout.fact!.command;
    expect(fact).toContain("for s in 10.20.0.11 10.20.0.12 10.20.0.13; do");
    expect(fact).toContain('SENTINEL get-master-addr-by-name datalyptica');
    expect(fact).toContain('grep -qx master_host:10.20.0.13');
    const apply = layout.plan({ unless: 1 } as never) as { script: string };
    expect(apply.script).toContain('rcli REPLICAOF 10.20.0.13 6379');
    for (const o of ops) {
      if (o.kind !== 'command') continue;
      expect(o.fact!.command).not.toContain(PW);
      expect((o.plan({ unless: 1 } as never) as { script: string }).script).not.toContain(PW);
      sh(o.fact!.command);
      sh((o.plan({ unless: 1 } as never) as { script: string }).script);
    }
    const live = ops.find((o) => o.name.startsWith('redis: live'))!;
    expect(live.fact!.command).toContain(liveDigest({ bind: '0.0.0.0', port: 6379, password: PW, maxmemoryMb: 4096, maxmemoryPolicy: 'allkeys-lru' }));
    expect(renderOrchConf({ bind: '0.0.0.0', port: 6380, password: PW, maxmemoryMb: 0, maxmemoryPolicy: 'noeviction' })).toContain('maxmemory 0\n');
  });

  it('declares 6379 and the seed memory; validate wants the master in the group', () => {
    expect(redis.declares!(ctx(redis, 'vm2')).ports!.map((p) => p.port)).toEqual([6379]);
    expect(redis.declares!(ctx(redis, 'vm2')).memoryMb).toBe(4096);
    expect(redis.validate!(ctx(redis, 'vm2'))).toEqual([]);
    expect(redis.validate!(ctx(redis, 'vm2', 'debian', { redis_master_host: 'vm1' }))).toEqual(['redis_master_host: vm1 is not in group redis (vm2, vm3)']);
  });
});

describe('redis-sentinel role', () => {
  it('monitors the master under its name with quorum 2, asking the other Sentinels first, else VM3', () => {
    const ops = sentinel.operations(ctx(sentinel, 'vm1'));
    expect(ops.map((o) => `${o.kind} ${o.name}`).slice(1)).toEqual([
      'command redis-sentinel: /etc/redis/sentinel.conf has port 26379',
      'service redis-sentinel.service',
      'waitForPort 127.0.0.1:26379',
      'command redis-sentinel: monitor datalyptica (quorum 2)',
    ]);
    const mon = ops.at(-1)!;
    expect(mon.fact!.command).toContain('[ "$(get quorum)" = 2 ] && [ "$(get down-after-milliseconds)" = 5000 ] && [ "$(get failover-timeout)" = 60000 ] && [ "$(get parallel-syncs)" = 1 ]');
    expect(mon.fact!.command).not.toContain(PW);
    const script = (mon.plan({ unless: 1 } as never) as { script: string }).script;
    expect(script).toContain('for s in 10.20.0.12 10.20.0.13; do');
    expect(script).toContain("m=$(sentinel_master) || m=10.20.0.13");
    expect(script).toContain("SENTINEL MONITOR %s %s %s %s\\n' datalyptica \"$m\" 6379 2");
    sh(mon.fact!.command);
    sh(script);
  });

  it('declares 26379 and a sentinel quorum; RHEL takes Sentinel from the redis package', () => {
    const d = sentinel.declares!(ctx(sentinel, 'vm1'));
    expect(d.ports!.map((p) => p.port)).toEqual([26379]);
    expect(d.quorum).toEqual([{ group: 'redis_sentinel', kind: 'sentinel', protects: 'Redis failover (promoting a replica when the master fails)' }]);
    expect(sentinel.operations(ctx(sentinel, 'vm1', 'redhat'))[0].fact!.command).toContain("rpm -q --qf '%{NAME}\\n' redis");
    expect(sentinel.operations(ctx(sentinel, 'vm1', 'debian'))[0].fact!.command).toContain('redis-sentinel');
    expect(sentinel.validate!(ctx(sentinel, 'vm1', 'debian', { redis_sentinel_quorum: 4 }))).toEqual([
      'redis_sentinel_quorum: 4 is more than the 3 Sentinels of redis_sentinel: no failover could ever be agreed',
    ]);
  });
});

describe('inside a container', () => {
  it("a drop-in turns off PrivateUsers (systemd cannot set up the user namespace there), with a daemon-reload; not on a VM", () => {
    const c = { ...ctx(redis, 'vm2'), host: { ...ctx(redis, 'vm2').host, facts: { ...facts('debian'), container: true } } } as RoleContext<any>;
    const ops = redis.operations(c);
    expect(ops.slice(0, 2).map((o) => o.name)).toEqual(['/etc/systemd/system/redis-server.service.d', '/etc/systemd/system/redis-server.service.d/orch-container.conf']);
    const p = ops[1].plan({ stat: null, sha256: null } as never) as { diff: { after: string }; pending: Array<{ key: string }> };
    expect(p.diff.after).toContain('[Service]\nPrivateUsers=false\n');
    expect(p.pending.map((a) => a.key)).toEqual(['daemon-reload']);
    expect(sentinel.operations({ ...c, vars: { ...c.vars, ...Object.fromEntries(Object.entries(sentinel.vars).filter(([k]) => !(k in c.vars)).map(([k, s]) => [k, s.default])) } } as RoleContext<any>)[1].name).toBe(
      '/etc/systemd/system/redis-sentinel.service.d/orch-container.conf',
    );
    expect(redis.operations(ctx(redis, 'vm2')).some((o) => o.name.includes('orch-container'))).toBe(false);
  });
});

describe('the password as a cluster value', () => {
  it('both roles declare the same spec on the Sentinel group; without Sentinels, on the Redis group', () => {
    const a = redis.clusterValues!(ctx(redis, 'vm2'));
    const b = sentinel.clusterValues!(ctx(sentinel, 'vm1'));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ name: 'redis_password', group: 'redis_sentinel', secret: true, override: 'redis_password' });
    expect({ ...b[0], pattern: String(b[0].pattern) }).toEqual({ ...a[0], pattern: String(a[0].pattern) });
    const noSentinels = { ...ctx(redis, 'vm2'), group: (g: string) => (g === 'redis_sentinel' ? [] : HOSTS.filter((h) => h.groups.includes(g))) } as RoleContext<any>;
    expect(redis.clusterValues!(noSentinels)[0].group).toBe('redis');
    expect(redis.vars.redis_password.default).toBe('');
    expect(a[0].pattern!.test('short')).toBe(false);
  });

  it("reads it back from orch.conf's requirepass, or from Sentinel's auth-pass on a Sentinel-only host", () => {
    const [spec] = redis.clusterValues!(ctx(redis, 'vm2'));
    const dir = mkdtempSync(join(tmpdir(), 'orch-redis-'));
    const read = (files: Record<string, string>) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const cmd = spec.read!.replaceAll('/etc/redis/orch.conf', `${dir}/orch.conf`).replaceAll('/etc/redis/sentinel.conf', `${dir}/sentinel.conf`);
      return execFileSync('sh', ['-c', cmd]).toString().trim();
    };
    expect(read({})).toBe('');
    expect(read({ 'sentinel.conf': 'port 26379\nsentinel monitor datalyptica 10.20.0.13 6379 2\nsentinel auth-pass datalyptica "from-sentinel-1"\n' })).toBe('from-sentinel-1');
    const op = redis.operations(ctx(redis, 'vm2')).find((o) => o.name === '/etc/redis/orch.conf')!;
    const orchConf = (op.plan({ stat: null, sha256: null } as never) as { diff: { after: string } }).diff.after;
    expect(read({ 'orch.conf': orchConf })).toBe(PW);
  });
});
