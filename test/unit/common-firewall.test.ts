import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import common from '../../roles/common/index.js';
import { firewallPorts, renderFirewalldService, renderNftables } from '../../roles/common/render.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defineRole, type HostFacts, type RoleContext } from '../../src/role/define.js';
import type { DeclaredPort } from '../../src/role/declare.js';
import { v } from '../../src/role/vars.js';
import { q } from '../../src/ops/quote.js';
import { runPlan } from '../../src/runner/run.js';
import { localConnection } from '../../src/transport/local.js';
import { tempInventory } from '../helpers/inventory.js';

const KAFKA: DeclaredPort[] = [
  { port: 9093, protocol: 'tcp', role: 'kafka', variable: 'kafka_controller_port', description: 'KRaft controller' },
  { port: 9092, protocol: 'tcp', role: 'kafka', variable: 'kafka_port', description: 'Kafka broker' },
  { port: 8125, protocol: 'udp', role: 'statsd', description: 'StatsD "metrics"' },
];

const facts = (osFamily: HostFacts['osFamily']): HostFacts => ({ osFamily, osId: osFamily, osVersion: '1', arch: 'x86_64', user: 'root', root: true, cpus: 2, memoryMb: 2048, hostname: 'h1', systemd: true, container: false });

function ctx(osFamily: HostFacts['osFamily'], firewall: boolean, ports: DeclaredPort[], hostVars: Record<string, unknown> = {}): RoleContext<any> {
  const defaults = Object.fromEntries(Object.entries(common.vars).map(([k, s]) => [k, s.default]));
  const self = { name: 'h1', address: '10.0.0.1', groups: ['all'], vars: hostVars };
  return {
    vars: { ...defaults, common_firewall: firewall },
    host: { ...self, facts: facts(osFamily) },
    group: () => [self],
    allHosts: () => [self],
    exported: () => ({}),
    cluster: () => '',
    declaredPorts: () => ports,
  } as RoleContext<any>;
}

describe('common: firewall from the declared ports', () => {
  it('is off by default: no firewall operation at all', () => {
    expect(common.vars.common_firewall.default).toBe(false);
    const names = common.operations(ctx('debian', false, KAFKA)).map((o) => o.name).join('\n');
    expect(names).not.toMatch(/nftables|firewall/);
  });

  it('Debian: nftables lets in exactly SSH and the declared ports', () => {
    const ops = common.operations(ctx('debian', true, KAFKA, { ansible_port: 2222 }));
    expect(ops.map((o) => `${o.kind} ${o.name}`).slice(-3)).toEqual(['packages nftables', 'file /etc/nftables.conf', 'service nftables.service']);
    const conf = renderNftables(firewallPorts(KAFKA, 2222));
    expect(ops.find((o) => o.name === '/etc/nftables.conf')?.notify).toEqual(['nftables']);
    const rules = conf.split('\n').filter((l) => / dport /.test(l));
    expect(rules).toEqual([
      '    tcp dport 2222 accept comment "ssh (orch connects here)"',
      '    tcp dport 9092 accept comment "kafka: Kafka broker"',
      '    tcp dport 9093 accept comment "kafka: KRaft controller"',
      '    udp dport 8125 accept comment "statsd: StatsD  metrics"',
    ]);
    expect(conf).toContain('type filter hook input priority filter; policy drop;');
    expect(conf).toMatch(/^#!\/usr\/sbin\/nft -f\n/);
  });

  it('RHEL: a firewalld service with exactly those ports, allowed in the default zone', () => {
    const ops = common.operations(ctx('redhat', true, KAFKA));
    expect(ops.map((o) => `${o.kind} ${o.name}`).slice(-4)).toEqual([
      'packages firewalld',
      'service firewalld.service',
      'file /etc/firewalld/services/orch.xml',
      'command firewalld: allow the service orch in the default zone',
    ]);
    const xml = renderFirewalldService(firewallPorts(KAFKA, 22));
    expect(xml.match(/<port [^>]+>/g)).toEqual(['<port protocol="tcp" port="22"/>', '<port protocol="tcp" port="9092"/>', '<port protocol="tcp" port="9093"/>', '<port protocol="udp" port="8125"/>']);
  });

  it('an OS family without firewall support is an error, not a silent open host', () => {
    expect(() => common.operations(ctx('unknown', true, []))).toThrow(/no firewall support for OS family unknown/);
  });
});

describe('declared ports reach the roles at run time (plan -> runner -> RoleContext.declaredPorts)', () => {
  it('a role sees the ports every role of its host declares, from every phase', async () => {
    const out = mkdtempSync(join(tmpdir(), 'orch-ports-'));
    const svc = defineRole({
      name: 'svc',
      description: 'declares two ports',
      vars: { svc_port: v.port({ default: 7000, doc: 'port' }) },
      declares: ({ vars }) => ({ ports: [{ port: vars.svc_port, variable: 'svc_port', description: 'svc' }, { port: 7001, protocol: 'udp', description: 'gossip' }] }),
      operations: () => [],
    });
    const fw = defineRole({
      name: 'fw',
      description: 'writes what it sees',
      vars: {},
      operations: ({ host, declaredPorts }) => {
        const path = join(out, host.name);
        const text = (declaredPorts?.() ?? []).map((p) => `${p.role} ${p.port}/${p.protocol}`).join(',');
        return [{ kind: 'file', name: path, fact: null, plan: () => ({ status: 'change', reason: 'test', script: `printf '%s' ${q(text)} > ${q(path)}` }) }];
      },
    });
    const reg = new RoleRegistry([]);
    reg.add(svc);
    reg.add(fw);
    const pbFile = join(out, 'pb.yml');
    writeFileSync(pbFile, '- name: first\n  hosts: all\n  roles: [fw]\n- name: second\n  hosts: all\n  roles: [svc]\n');
    const inv = loadInventory(tempInventory({ 'hosts.yml': 'all:\n  hosts:\n    h1: { svc_port: 7100 }\n' }));
    const plan = await buildPlan({ inventory: inv, playbook: loadPlaybook(pbFile), registry: reg, phase: 'first' });
    const code = await runPlan(plan, { check: false, diff: false, emit: () => {}, connect: async () => localConnection() });
    expect(code).toBe(0);
    expect(readFileSync(join(out, 'h1'), 'utf8')).toBe('svc 7100/tcp,svc 7001/udp');
  });
});
