/**
 * common: the seed's "Operating System Requirements" and "Phase 1 - OS Preparation" for every VM:
 * base packages, kernel parameters (/etc/sysctl.d), file limits (/etc/security/limits.d), the data
 * mount points, time zone, and an optional package proxy (`apt_proxy`, e.g. a site mirror or apt-cacher-ng).
 * With `common_firewall: true` (off by default, as in the seeds) the host's firewall opens exactly the ports the
 * roles of this host declare, and SSH: firewalld on the RHEL family, nftables on Debian/Ubuntu.
 * `resource_limits` (read by the roles of the host when they write their units) is declared here, so that it is
 * validated and documented once.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import type { ResourceLimit } from '../../src/ops/resources.js';
import { firewallPorts, renderAptProxy, renderFirewalldService, renderLimits, renderNftables, type LimitEntry } from './render.js';

export default defineRole({
  name: 'common',
  description: 'OS preparation: packages, sysctl, limits, data directories, time zone, package proxy',
  vars: {
    common_packages: v.list<string>({ type: 'string', minLength: 1 }, { default: ['ca-certificates', 'curl', 'tzdata', 'procps'], doc: 'packages every host gets' }),
    common_sysctl: v.map<string | number>(
      { type: ['string', 'integer'] },
      {
        default: {},
        doc: 'kernel parameters, persisted in /etc/sysctl.d/99-orch.conf and applied live where the kernel allows',
      },
    ),
    common_sysctl_file: v.str({ default: '/etc/sysctl.d/99-orch.conf', pattern: '^/etc/sysctl\\.d/[^/]+\\.conf$', doc: 'sysctl drop-in file' }),
    common_limits: v.list<LimitEntry>(
      {
        type: 'object',
        required: ['domain', 'type', 'item', 'value'],
        additionalProperties: false,
        properties: {
          domain: { type: 'string', minLength: 1 },
          type: { enum: ['soft', 'hard', '-'] },
          item: { type: 'string', minLength: 1 },
          value: { type: ['integer', 'string'] },
        },
      },
      { default: [], doc: 'pam_limits entries, written to /etc/security/limits.d/99-orch.conf' },
    ),
    common_data_dirs: v.list<string>({ type: 'string', pattern: '^/' }, { default: ['/data'], doc: 'data mount points to create (root:root 0755)' }),
    common_timezone: v.str({ default: 'UTC', pattern: '^[A-Za-z0-9_+/-]+$', doc: 'time zone (a name under /usr/share/zoneinfo)' }),
    common_firewall: v.bool({
      default: false,
      doc: 'turn the firewall on: it lets in exactly the ports the roles of this host declare, and SSH (firewalld on RHEL, nftables on Debian/Ubuntu)',
    }),
    resource_limits: v.map<ResourceLimit>(
      {
        type: 'object',
        additionalProperties: false,
        properties: { memory_mb: { type: 'integer', minimum: 16 }, cpus: { type: 'number', exclusiveMinimum: 0 } },
      },
      { default: {}, doc: 'limits by service (unit name): { memory_mb, cpus }, written as MemoryMax= / CPUQuota= into its unit by the role that runs it' },
    ),
    apt_proxy: v.str({ default: '', pattern: '^(|https?://[^\\s"]+)$', doc: 'HTTP proxy for apt (Debian family), e.g. http://mirror.example:3142; empty for none' }),
  },
  operations({ vars, host, declaredPorts }) {
    const debian = host.facts.osFamily === 'debian';
    const list = [];
    if (debian && vars.apt_proxy) {
      list.push(ops.file({ path: '/etc/apt/apt.conf.d/01orch-proxy', content: renderAptProxy(vars.apt_proxy), owner: 'root', group: 'root', mode: 0o644 }));
    }
    list.push(ops.packages({ names: vars.common_packages, osFamily: host.facts.osFamily }));
    if (Object.keys(vars.common_sysctl).length) {
      list.push(ops.sysctl({ file: vars.common_sysctl_file, values: vars.common_sysctl, header: '# Managed by orch (role common) - do not edit' }));
    }
    if (vars.common_limits.length) {
      list.push(ops.file({ path: '/etc/security/limits.d/99-orch.conf', content: renderLimits(vars.common_limits), owner: 'root', group: 'root', mode: 0o644 }));
    }
    for (const d of vars.common_data_dirs) list.push(ops.dir({ path: d, owner: 'root', group: 'root', mode: 0o755 }));
    list.push(ops.symlink({ path: '/etc/localtime', target: `/usr/share/zoneinfo/${vars.common_timezone}` }));
    if (debian) list.push(ops.file({ path: '/etc/timezone', content: `${vars.common_timezone}\n`, owner: 'root', group: 'root', mode: 0o644 }));
    if (vars.common_firewall) {
      const ports = firewallPorts(declaredPorts?.() ?? [], Number(host.vars.ansible_port ?? host.vars.port ?? 22));
      if (debian) {
        list.push(
          ops.packages({ names: ['nftables'], osFamily: host.facts.osFamily }),
          ops.file({ path: '/etc/nftables.conf', content: renderNftables(ports), owner: 'root', group: 'root', mode: 0o755, notify: ['nftables'] }),
          ops.service({ name: 'nftables', enabled: true, state: 'started' }),
        );
      } else if (host.facts.osFamily === 'redhat') {
        list.push(
          ops.packages({ names: ['firewalld'], osFamily: host.facts.osFamily }),
          ops.service({ name: 'firewalld', enabled: true, state: 'started' }),
          ops.file({ path: '/etc/firewalld/services/orch.xml', content: renderFirewalldService(ports), owner: 'root', group: 'root', mode: 0o644, notify: ['firewalld'] }),
          ops.command({
            name: 'firewalld: allow the service orch in the default zone',
            run: 'firewall-cmd --reload\nfirewall-cmd --permanent --add-service=orch\nfirewall-cmd --reload',
            unless: 'firewall-cmd --permanent --query-service=orch',
          }),
        );
      } else throw new Error(`common_firewall: no firewall support for OS family ${host.facts.osFamily} (${host.facts.osId})`);
    }
    return list;
  },
});
