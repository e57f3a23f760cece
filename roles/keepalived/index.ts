/**
 * keepalived: the VRRP virtual IP in front of HAProxy (the seed: "Keepalived VIP management", MASTER on VM1,
 * BACKUP on VM2/VM3; HAProxy failover < 2 s). The first host of the `keepalived` group is MASTER (priority 101),
 * the next ones BACKUP (100, 99, ...); peers talk unicast VRRP, authenticated with a secret; a track script gives
 * the VIP up when HAProxy is not active. A config change reloads keepalived (SIGHUP), which keeps the VIP where it is.
 */
import { randomBytes } from 'node:crypto';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import { renderKeepalivedConf, vrrpRole } from './render.js';

export const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';

export default defineRole({
  name: 'keepalived',
  description: 'Keepalived VRRP: the load balancer VIP, MASTER on the first host of the group, BACKUPs by priority, tracking HAProxy',
  vars: {
    keepalived_vip: v.str({ default: '10.20.0.100', pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$', doc: "virtual IP (the seed's HAProxy VIP, lb.datalyptica.local)" }),
    keepalived_vip_prefix: v.int({ default: 24, minimum: 1, maximum: 32, doc: 'prefix length of the VIP (the application network is a /24)' }),
    keepalived_interface: v.str({ default: 'eth0', pattern: '^[A-Za-z0-9_.:-]+$', doc: 'network interface carrying the VIP (the seed: NIC2, application network)' }),
    keepalived_virtual_router_id: v.int({ default: 51, minimum: 1, maximum: 255, doc: 'VRRP virtual router id, unique on the network segment' }),
    keepalived_priority_top: v.int({ default: 101, minimum: 2, maximum: 254, doc: "the MASTER's priority; the BACKUPs get one less each, in group order (101, 100, 99)" }),
    keepalived_priority: v.int({ default: 0, minimum: 0, maximum: 254, doc: "this host's priority, overriding its place in the group (0: from the group order)" }),
    keepalived_advert_int: v.int({ default: 1, minimum: 1, maximum: 255, doc: 'VRRP advertisement interval, seconds (VRRPv2: whole seconds; a BACKUP takes over after 3 missed adverts)' }),
    keepalived_auth_pass: v.str({
      default: '',
      pattern: '^([!-~]{1,8})?$',
      secret: true,
      emptyAllowed: true,
      doc: 'VRRP PASS authentication between the peers (1-8 printable characters, VRRPv2 carries 8), from a secret; empty: generated once for the group and kept on its hosts',
    }),
    keepalived_unicast: v.bool({ default: true, doc: 'unicast VRRP to the other hosts of the group (works where multicast is filtered); false: multicast' }),
    keepalived_track_service: v.str({ default: 'haproxy', pattern: '^[A-Za-z0-9@_.-]*$', doc: "service whose failure (systemctl is-active, checked every second, 2 failures) gives the VIP up; '' for none" }),
    keepalived_group: v.str({ default: 'keepalived', doc: 'inventory group of the VRRP peers (its first host is MASTER)' }),
  },
  declares: () => ({ memoryMb: 128, cpus: 0.1 }),
  // the VRRP password: the inventory's, or made once (8 characters) and read back from keepalived.conf on the peers
  clusterValues: ({ vars }) => [
    {
      name: 'keepalived_auth_pass',
      doc: 'VRRP PASS authentication of the peers',
      group: vars.keepalived_group,
      secret: true,
      override: 'keepalived_auth_pass',
      pattern: /^[!-~]{1,8}$/,
      read: `sed -n 's/^[[:space:]]*auth_pass[[:space:]]*//p' ${KEEPALIVED_CONF} 2>/dev/null | head -n 1`,
      generate: () => randomBytes(6).toString('base64url'),
    },
  ],
  validate: ({ vars, group }) => {
    const members = group(vars.keepalived_group);
    const problems: string[] = [];
    if (!members.length) problems.push(`keepalived_group: inventory group ${vars.keepalived_group} has no hosts`);
    const prios = members.map((m) => vrrpRole(members.map((x) => x.name), m.name, vars.keepalived_priority_top, Number(m.vars.keepalived_priority ?? 0)).priority);
    if (new Set(prios).size !== prios.length) problems.push(`keepalived_priority: two peers of ${vars.keepalived_group} share a priority (${prios.join(', ')})`);
    return problems;
  },
  operations({ vars, host, group, cluster }) {
    const members = group(vars.keepalived_group);
    const { state, priority } = vrrpRole(members.map((m) => m.name), host.name, vars.keepalived_priority_top, vars.keepalived_priority);
    const conf = renderKeepalivedConf({
      routerName: host.name,
      state,
      priority,
      interface: vars.keepalived_interface,
      virtualRouterId: vars.keepalived_virtual_router_id,
      advertInt: vars.keepalived_advert_int,
      vip: vars.keepalived_vip,
      vipPrefix: vars.keepalived_vip_prefix,
      authPass: cluster('keepalived_auth_pass'),
      self: host.address,
      peers: vars.keepalived_unicast ? members.filter((m) => m.name !== host.name).map((m) => m.address) : [],
      trackService: vars.keepalived_track_service,
    });
    return [
      ops.packages({ names: ['keepalived'], osFamily: host.facts.osFamily }),
      ops.file({ path: KEEPALIVED_CONF, content: conf, owner: 'root', group: 'root', mode: 0o600, secret: true, notify: ['reload:keepalived'] }),
      ops.service({ name: 'keepalived', enabled: true, state: 'started' }),
    ];
  },
});
