/** Typed renderer of /etc/keepalived/keepalived.conf: one VRRP instance holding the VIP, tracking HAProxy. */

export interface KeepalivedConfig {
  routerName: string;
  state: 'MASTER' | 'BACKUP';
  priority: number;
  interface: string;
  virtualRouterId: number;
  advertInt: number;
  vip: string;
  vipPrefix: number;
  authPass: string;
  /** this host's address and its peers' (unicast VRRP); empty peers: multicast */
  self: string;
  peers: string[];
  /** service whose failure gives up the VIP (systemctl is-active), '' for none */
  trackService: string;
}

/** Priority and state of each member: the first host of the group is MASTER at `top`, the others BACKUP at top-1, top-2 ... */
export function vrrpRole(members: string[], host: string, top: number, override: number): { state: 'MASTER' | 'BACKUP'; priority: number } {
  const i = Math.max(0, members.indexOf(host));
  return { state: i === 0 ? 'MASTER' : 'BACKUP', priority: override > 0 ? override : top - i };
}

export function renderKeepalivedConf(c: KeepalivedConfig): string {
  const out = [
    '# Managed by orch (role keepalived) - do not edit',
    'global_defs {',
    `    router_id ${c.routerName}`,
    '    enable_script_security',
    '    script_user root',
    '}',
  ];
  if (c.trackService) {
    out.push(
      '',
      `vrrp_script chk_${c.trackService.replace(/[^A-Za-z0-9_]/g, '_')} {`,
      `    script "/usr/bin/systemctl is-active --quiet ${c.trackService}"`,
      '    interval 1',
      '    fall 2',
      '    rise 2',
      '}',
    );
  }
  out.push(
    '',
    'vrrp_instance VI_1 {',
    `    state ${c.state}`,
    `    interface ${c.interface}`,
    `    virtual_router_id ${c.virtualRouterId}`,
    `    priority ${c.priority}`,
    `    advert_int ${c.advertInt}`,
  );
  if (c.peers.length) out.push(`    unicast_src_ip ${c.self}`, '    unicast_peer {', ...c.peers.map((p) => `        ${p}`), '    }');
  out.push(
    '    authentication {',
    '        auth_type PASS',
    `        auth_pass ${c.authPass}`,
    '    }',
    '    virtual_ipaddress {',
    `        ${c.vip}/${c.vipPrefix} dev ${c.interface}`,
    '    }',
  );
  if (c.trackService) out.push('    track_script {', `        chk_${c.trackService.replace(/[^A-Za-z0-9_]/g, '_')}`, '    }');
  out.push('}');
  return out.join('\n') + '\n';
}
