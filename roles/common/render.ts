/** Typed renderers of the common role's files. */

export interface LimitEntry {
  domain: string;
  type: 'soft' | 'hard' | '-';
  item: string;
  value: number | string;
}

const HEADER = '# Managed by orch (role common) - do not edit';

/** /etc/security/limits.d/99-orch.conf, as the seed's limits.conf block. */
export function renderLimits(entries: LimitEntry[]): string {
  return [HEADER, ...entries.map((e) => `${e.domain} ${e.type} ${e.item} ${e.value}`)].join('\n') + '\n';
}

/**
 * apt.conf.d snippet pointing apt at an HTTP proxy, without HTTP pipelining: when a proxy answers one of several
 * pipelined requests with an error (apt-cacher-ng does when hosts ask for the same file in the same second), apt
 * 2.6's http method (Debian 12) lost the request and `apt-get update` waited forever (pg01 of the enterprise-tiers e2e,
 * 17 hosts updating at once); one request at a time, the error is that item's, and apt retries it (Acquire::Retries 3).
 */
export function renderAptProxy(url: string): string {
  return `// Managed by orch (role common)\nAcquire::http::Proxy "${url}";\nAcquire::https::Proxy "DIRECT";\nAcquire::http::Pipeline-Depth "0";\nAcquire::Retries "3";\n`;
}

/** A port the firewall opens: declared by a role of the host (or SSH). */
export interface FirewallPort {
  port: number;
  protocol: 'tcp' | 'udp';
  /** `role: what listens there`, written as a comment */
  comment: string;
}

/** SSH first, then the declared ports by protocol and number; one entry per port and protocol. */
export function firewallPorts(declared: Array<{ port: number; protocol: 'tcp' | 'udp'; role: string; description: string }>, sshPort: number): FirewallPort[] {
  const out: FirewallPort[] = [{ port: sshPort, protocol: 'tcp', comment: 'ssh (orch connects here)' }];
  const sorted = [...declared].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
  for (const p of sorted) {
    if (out.some((x) => x.port === p.port && x.protocol === p.protocol)) continue;
    out.push({ port: p.port, protocol: p.protocol, comment: `${p.role}: ${p.description}` });
  }
  return out;
}

const clean = (s: string) => s.replace(/["\\\n<>&]/g, ' ').trim();

/**
 * /etc/nftables.conf (Debian, Ubuntu): a table of orch's own, replaced as a whole on each load; inbound traffic is
 * dropped but for loopback, replies, ICMP and exactly these ports.
 */
export function renderNftables(ports: FirewallPort[]): string {
  return [
    '#!/usr/sbin/nft -f',
    HEADER,
    'table inet orch',
    'delete table inet orch',
    'table inet orch {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    iif "lo" accept',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    ...ports.map((p) => `    ${p.protocol} dport ${p.port} accept comment "${clean(p.comment)}"`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** /etc/firewalld/services/orch.xml (RHEL family): a firewalld service holding exactly these ports. */
export function renderFirewalldService(ports: FirewallPort[]): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Managed by orch (role common) - do not edit -->',
    '<service>',
    '  <short>orch</short>',
    '  <description>The ports the roles of this host declare, opened by orch (role common)</description>',
    ...ports.map((p) => `  <port protocol="${p.protocol}" port="${p.port}"/><!-- ${clean(p.comment).replace(/--/g, '- -')} -->`),
    '</service>',
    '',
  ].join('\n');
}
