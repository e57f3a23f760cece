/**
 * The zookeeper role on 3 simulated hosts with the real ZooKeeper (Debian bookworm's `zookeeper` 3.8.0, the
 * distribution's: `zookeeper_source: package`; the production default, Apache's release archive, is unit-tested),
 * ids from the inventory's node_id:
 *   - `--check` on fresh hosts says exactly what the first run then changes;
 *   - the ensemble elects exactly one leader, every member answers srvr (two followers), myid is node_id, and a
 *     znode written through one member is read through another;
 *   - a second run and a `--check` change nothing.
 */
import { describe, expect, it } from 'vitest';
import { changed, failures, useRoleTest } from '../helpers/role-test.js';

const HOSTS = ['zk1', 'zk2', 'zk3'];
const t = useRoleTest({
  name: 'zookeeper',
  hosts: HOSTS.map((name, i) => ({ name, groups: ['zookeeper'], vars: { node_id: i + 1 } })),
  inventoryVars: { zookeeper_source: 'package', zookeeper_heap: '128m' },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'runtimes', hosts: 'all', roles: ['java'] },
    { name: 'coordination', hosts: 'zookeeper', roles: ['zookeeper'] },
  ],
});
const run = (check = false) => t.run({ check });
const { on } = t;
const srvr = (h: string) => on(h, "printf srvr | nc -w 5 127.0.0.1 2181");

describe('zookeeper: a 3-server ensemble from the Debian package', () => {
  let predicted: string[] = [];

  it('--check on fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run(true);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const h of HOSTS) {
      expect(predicted).toContain(`${h} packages zookeeper, netcat-openbsd`);
      expect(predicted).toContain(`${h} file /etc/zookeeper/conf/zoo.cfg`);
      expect(predicted).toContain(`${h} file /var/lib/zookeeper/myid`);
    }
  });

  it('elects exactly one leader; every member answers srvr; myid is node_id; exactly as --check said', async () => {
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());

    const modes = await Promise.all(HOSTS.map(async (h) => /^Mode: (\w+)$/m.exec(await srvr(h))?.[1]));
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(2);
    expect(await Promise.all(HOSTS.map((h) => on(h, 'cat /var/lib/zookeeper/myid')))).toEqual(['1\n', '2\n', '3\n']);
    const cfg = await on('zk2', 'cat /etc/zookeeper/conf/zoo.cfg');
    expect(cfg).toContain('4lw.commands.whitelist=srvr,mntr,ruok,stat\n');
    expect(cfg.match(/^server\.[123]=\S+:2888:3888$/gm)).toHaveLength(3);
    // the seed's service user and data dir
    expect(await on('zk1', 'ps -o user= -C java; stat -c %U /var/lib/zookeeper; systemctl is-active zookeeper')).toBe('spark\nspark\nactive\n');
    expect(await on('zk1', "printf ruok | nc -w 5 127.0.0.1 2181")).toBe('imok');
    // a znode written through one server is read through another
    const cli = (h: string, c: string) => on(h, `/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:2181 ${c} 2>/dev/null`);
    await cli('zk1', 'create /orch-test ensemble');
    expect(await cli('zk3', 'get /orch-test')).toContain('ensemble');
  });

  it('a second run and a --check change nothing', async () => {
    const again = await run();
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run(true);
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });
});
