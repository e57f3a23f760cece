import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import keepalived from '../../roles/keepalived/index.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import { hostFacts } from './role-harness.js';

const facts = (osFamily: HostFacts['osFamily']): HostFacts => hostFacts({ osFamily, osId: osFamily, osVersion: '1', cpus: 2, memoryMb: 2048, hostname: 'vm1' });
const peer = (name: string, address: string, vars: Record<string, unknown> = {}): PeerHost => ({ name, address, groups: ['control_plane', 'keepalived'], vars });
const HOSTS = [peer('vm1', '10.20.0.11'), peer('vm2', '10.20.0.12'), peer('vm3', '10.20.0.13')];
const writeTmp = (text: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'orch-keepalived-')), 'keepalived.conf');
  writeFileSync(f, text);
  return f;
};
const defaults = Object.fromEntries(Object.entries(keepalived.vars).map(([k, s]) => [k, s.default]));
const ctx = (host: string, osFamily: HostFacts['osFamily'] = 'debian', vars: Record<string, unknown> = {}, hosts = HOSTS) =>
  ({
    vars: { ...defaults, keepalived_auth_pass: 'vrrp-pw1', ...vars },
    host: { ...hosts.find((h) => h.name === host)!, facts: facts(osFamily) },
    group: (g: string) => hosts.filter((h) => h.groups.includes(g)),
    allHosts: () => hosts,
    exported: () => ({}),
    // the engine resolves the cluster value: the inventory's keepalived_auth_pass when set, as here
    cluster: (name: string) => (name === 'keepalived_auth_pass' ? String({ ...defaults, keepalived_auth_pass: 'vrrp-pw1', ...vars }.keepalived_auth_pass) : ''),
  }) as RoleContext<any>;
const conf = (host: string, osFamily: HostFacts['osFamily'] = 'debian', vars: Record<string, unknown> = {}) => {
  const op = keepalived.operations(ctx(host, osFamily, vars)).find((o) => o.name === '/etc/keepalived/keepalived.conf')!;
  return { op, text: (op.plan({ stat: null, sha256: null } as never) as { diff: { after: string } }).diff.after };
};

describe('keepalived role', () => {
  it("VM1 is MASTER at 101 with the seed's VIP, unicast to VM2/VM3, PASS auth from the secret, tracking haproxy", () => {
    expect(conf('vm1').text).toBe(
      [
        '# Managed by orch (role keepalived) - do not edit',
        'global_defs {',
        '    router_id vm1',
        '    enable_script_security',
        '    script_user root',
        '}',
        '',
        'vrrp_script chk_haproxy {',
        '    script "/usr/bin/systemctl is-active --quiet haproxy"',
        '    interval 1',
        '    fall 2',
        '    rise 2',
        '}',
        '',
        'vrrp_instance VI_1 {',
        '    state MASTER',
        '    interface eth0',
        '    virtual_router_id 51',
        '    priority 101',
        '    advert_int 1',
        '    unicast_src_ip 10.20.0.11',
        '    unicast_peer {',
        '        10.20.0.12',
        '        10.20.0.13',
        '    }',
        '    authentication {',
        '        auth_type PASS',
        '        auth_pass vrrp-pw1',
        '    }',
        '    virtual_ipaddress {',
        '        10.20.0.100/24 dev eth0',
        '    }',
        '    track_script {',
        '        chk_haproxy',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('VM2 and VM3 are BACKUP at 100 and 99; a host priority overrides the group order', () => {
    expect(conf('vm2').text).toContain('    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 100\n');
    expect(conf('vm3').text).toContain('    state BACKUP\n');
    expect(conf('vm3').text).toContain('    priority 99\n');
    expect(conf('vm3', 'debian', { keepalived_priority: 50 }).text).toContain('    priority 50\n');
    expect(conf('vm1', 'debian', { keepalived_unicast: false }).text).not.toContain('unicast_peer');
  });

  it('the file is secret (root 0600) and a change reloads keepalived; RHEL uses the same package, path and service', () => {
    const { op } = conf('vm1', 'redhat');
    expect(op.secret).toBe(true);
    expect(op.notify).toEqual(['reload:keepalived']);
    const ops = keepalived.operations(ctx('vm1', 'redhat'));
    expect(ops[0].fact!.command).toContain("rpm -q --qf '%{NAME}\\n' keepalived");
    expect(ops.map((o) => o.name).slice(1)).toEqual(['/etc/keepalived/keepalived.conf', 'keepalived.service']);
    expect(keepalived.operations(ctx('vm1', 'debian'))[0].fact!.command).toContain('keepalived');
  });

  it('the auth secret: from the inventory, else made once (8 characters) and read back from keepalived.conf; validate refuses equal priorities', () => {
    expect(keepalived.vars.keepalived_auth_pass.default).toBe('');
    expect(keepalived.vars.keepalived_auth_pass.secret).toBe(true);
    expect(new RegExp(keepalived.vars.keepalived_auth_pass.schema.pattern as string).test('123456789')).toBe(false);
    const [spec] = keepalived.clusterValues!(ctx('vm1'));
    expect(spec).toMatchObject({ name: 'keepalived_auth_pass', group: 'keepalived', secret: true, override: 'keepalived_auth_pass' });
    const made = spec.generate!();
    expect(made).toMatch(/^[!-~]{8}$/);
    expect(spec.pattern!.test(made)).toBe(true);
    expect(spec.generate!()).not.toBe(made);
    // the read command finds the password in the file the role writes
    const text = conf('vm2').text;
    const out = execFileSync('sh', ['-c', spec.read!.replaceAll('/etc/keepalived/keepalived.conf', '"$F"')], { env: { F: writeTmp(text) } }).toString().trim();
    expect(out).toBe('vrrp-pw1');
    expect(keepalived.validate!(ctx('vm1'))).toEqual([]);
    const same = [peer('vm1', 'a'), peer('vm2', 'b', { keepalived_priority: 101 })];
    expect(keepalived.validate!(ctx('vm1', 'debian', {}, same))).toEqual(['keepalived_priority: two peers of keepalived share a priority (101, 101)']);
  });
});
