/**
 * The zookeeper role offline, against spark-kafka-cluster-aws.md: its zookeeper.properties and unit for the single
 * node, ensembles (server.N, myid from node_id, unique ids checked offline), the release and the Debian package,
 * RHEL (no package: the release), declarations and the srvr checks. The real ensemble: test/integration/zookeeper.test.ts.
 */
import { describe, expect, it } from 'vitest';
import zookeeper from '../../roles/zookeeper/index.js';
import { heapMb, leaderCommand, renderUnit, servers, srvrCommand } from '../../roles/zookeeper/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import type { Plan } from '../../src/ops/types.js';
import { sh } from './ops-harness.js';
import { defaultsOf, named, properties, roleContext, written } from './role-harness.js';

// spark-kafka-cluster-aws.md, "Service Configuration: Apache Zookeeper": the file, comments dropped
const SEED_PROPERTIES = {
  dataDir: '/var/lib/zookeeper',
  clientPort: '2181',
  maxClientCnxns: '0',
  tickTime: '2000',
  initLimit: '10',
  syncLimit: '5',
  'autopurge.snapRetainCount': '3',
  'autopurge.purgeInterval': '1',
};

const MASTER: PeerHost[] = [{ name: 'master', address: '10.0.136.17', groups: ['zookeeper'], vars: {} }];
const TRIO: PeerHost[] = [1, 2, 3].map((n) => ({ name: `zk${n}`, address: `10.0.0.${10 + n}`, groups: ['zookeeper'], vars: { node_id: n } }));

function ctx(o: { host?: string; peers?: PeerHost[]; osFamily?: HostFacts['osFamily']; vars?: Record<string, unknown> } = {}): RoleContext<any> {
  return roleContext(zookeeper, {
    peers: o.peers ?? MASTER,
    host: o.host,
    facts: { osFamily: o.osFamily ?? 'debian', memoryMb: 4096 },
    vars: o.vars,
    exported: { java: { java_home: '/usr/lib/jvm/java-11-openjdk-amd64' } },
  });
}

describe("zookeeper role: the seed's single node", () => {
  const list = zookeeper.operations(ctx());
  it("the inventory's resource_limits.zookeeper becomes MemoryMax= / CPUQuota= of the unit (vps-trio: 512 MB / 0.1 CPU)", () => {
    const limited = zookeeper.operations(ctx({ peers: [{ ...MASTER[0], vars: { resource_limits: { zookeeper: { memory_mb: 512, cpus: 0.1 } } } }] }));
    const unit = written(named(limited, 'unit'));
    expect(unit).toContain('MemoryMax=512M\n');
    expect(unit).toContain('CPUQuota=10%\n');
    expect(written(named(list, 'unit'))).not.toContain('MemoryMax=');
  });

  it("zookeeper.properties has the seed's values, the 4lw whitelist and the AdminServer off; no server.N lines", () => {
    const cfg = written(named(list, 'file', '/etc/zookeeper/zookeeper.properties'));
    expect(properties(cfg)).toEqual({ ...SEED_PROPERTIES, '4lw.commands.whitelist': 'srvr,mntr,ruok,stat', 'admin.enableServer': 'false' });
    expect(cfg.split('\n').slice(1, 9).map((l) => l.split('=')[0])).toEqual(Object.keys(SEED_PROPERTIES)); // in the seed's order
  });

  it('myid 1 in /var/lib/zookeeper, owned by the seed user spark', () => {
    const myid = named(list, 'file', '/var/lib/zookeeper/myid')!;
    expect(written(myid)).toBe('1\n');
    expect(named(list, 'dir', '/var/lib/zookeeper')!.plan({ stat: null })).toMatchObject({ status: 'change' });
    expect(defaultsOf(zookeeper)).toMatchObject({ zookeeper_user: 'spark', zookeeper_data_dir: '/var/lib/zookeeper', zookeeper_client_port: 2181, zookeeper_heap: '512m' });
  });

  it("the unit: the seed's (after network, User=spark, Restart=on-failure, RestartSec=10), running QuorumPeerMain of the release", () => {
    expect(written(named(list, 'unit'))).toBe(
      [
        '[Unit]',
        'Description=Apache Zookeeper',
        'After=network.target',
        '',
        '[Service]',
        'Type=simple',
        'User=spark',
        'Group=spark',
        'ExecStart=/usr/lib/jvm/java-11-openjdk-amd64/bin/java -Xms512m -Xmx512m -Dzookeeper.log.dir=/var/log/zookeeper -Dzookeeper.root.logger=INFO,CONSOLE -cp /opt/zookeeper/current/lib/*:/opt/zookeeper/current/conf org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/zookeeper/zookeeper.properties',
        'SuccessExitStatus=143',
        'Restart=on-failure',
        'RestartSec=10',
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    );
  });

  it('release: the Apache archive with its pinned sha256, /opt/zookeeper/current; netcat for srvr', () => {
    const art = named(list, 'artifact')!;
    const p = art.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>;
    expect(art.name).toBe('/opt/zookeeper/releases/3.8.4');
    expect(p.reason).toContain('download apache-zookeeper-3.8.4-bin.tar.gz (sha256 284cb4675adb..)');
    expect(named(list, 'packages')!.name).toBe('netcat-openbsd');
    expect(list.map((o) => o.kind)).toEqual(['user', 'packages', 'artifact', 'dir', 'dir', 'dir', 'file', 'file', 'unit', 'service', 'waitForPort', 'command']);
  });

  it('declares the client port only, the heap, the data dir and a one-member zab group', () => {
    expect(zookeeper.declares!(ctx())).toEqual({
      ports: [{ port: 2181, variable: 'zookeeper_client_port', description: 'ZooKeeper clients' }],
      memoryMb: 512,
      dataDirs: ['/var/lib/zookeeper'],
      quorum: [{ group: 'zookeeper', kind: 'zab', protects: 'ZooKeeper writes, and what is kept there (Kafka metadata in ZooKeeper mode, ClickHouse replication)' }],
    });
    expect(heapMb('1g')).toBe(1024);
  });
});

describe('zookeeper role: ensembles', () => {
  it('server.N=host:2888:3888 for every member, myid from node_id (zookeeper_id wins), ports 2888/3888 declared', () => {
    const list = zookeeper.operations(ctx({ peers: TRIO, host: 'zk2' }));
    const cfg = written(named(list, 'file', '/etc/zookeeper/zookeeper.properties'));
    expect(cfg.split('\n').filter((l) => l.startsWith('server.'))).toEqual(['server.1=10.0.0.11:2888:3888', 'server.2=10.0.0.12:2888:3888', 'server.3=10.0.0.13:2888:3888']);
    expect(written(named(list, 'file', '/var/lib/zookeeper/myid'))).toBe('2\n');
    expect(servers([{ ...TRIO[0], vars: { node_id: 1, zookeeper_id: 7 } }], { peerPort: 2888, electionPort: 3888 })[0].id).toBe(7);
    expect(zookeeper.declares!(ctx({ peers: TRIO })).ports!.map((p) => p.port)).toEqual([2181, 2888, 3888]);
  });

  it('validate: ids present, in range and unique; the host in group zookeeper; srvr whitelisted', () => {
    expect(zookeeper.validate!(ctx({ peers: TRIO }))).toEqual([]);
    expect(zookeeper.validate!(ctx())).toEqual([]); // a single node without node_id is myid 1
    const dup = TRIO.map((p) => (p.name === 'zk3' ? { ...p, vars: { node_id: 1 } } : p));
    expect(zookeeper.validate!(ctx({ peers: dup }))).toEqual(['hosts zk1 and zk3 have the same ZooKeeper id 1 (myid): give each a unique node_id or zookeeper_id']);
    const missing = TRIO.map((p) => (p.name === 'zk2' ? { ...p, vars: {} } : p));
    expect(zookeeper.validate!(ctx({ peers: missing }))).toEqual(['host zk2 has no ZooKeeper id: set node_id (or zookeeper_id) to a number 1-255 unique in group zookeeper']);
    const big = TRIO.map((p) => (p.name === 'zk2' ? { ...p, vars: { node_id: 300 } } : p));
    expect(zookeeper.validate!(ctx({ peers: big }))).toEqual(['host zk2: ZooKeeper id 300 is out of range (1-255)']);
    expect(zookeeper.validate!(ctx({ host: 'other' }))).toEqual(['host other runs zookeeper but is not in the inventory group zookeeper, whose hosts make the ensemble']);
    expect(zookeeper.validate!(ctx({ vars: { zookeeper_4lw_whitelist: ['ruok'] } }))).toEqual(['zookeeper_4lw_whitelist must keep srvr: the health check and rolling restarts ask it']);
  });
});

describe('zookeeper role: sources by OS family', () => {
  it("Debian package: zookeeper + netcat, the package's jars and /etc/zookeeper/conf/zoo.cfg, no artifact", () => {
    const list = zookeeper.operations(ctx({ vars: { zookeeper_source: 'package' } }));
    expect(named(list, 'packages')!.name).toBe('zookeeper, netcat-openbsd');
    expect(named(list, 'artifact')).toBeUndefined();
    expect(properties(written(named(list, 'file', '/etc/zookeeper/conf/zoo.cfg')))).toMatchObject(SEED_PROPERTIES);
    expect(written(named(list, 'unit'))).toContain(' -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/zookeeper/conf/zoo.cfg\n');
    expect(named(list, 'dir', '/etc/zookeeper/conf')).toBeUndefined(); // the package's alternatives link
  });

  it('RHEL: the release with nmap-ncat; a package source is refused, naming the way out', () => {
    const list = zookeeper.operations(ctx({ osFamily: 'redhat' }));
    expect(named(list, 'packages')!.name).toBe('nmap-ncat');
    expect(named(list, 'packages')!.fact!.command).toContain('rpm -q');
    expect(named(list, 'artifact')!.name).toBe('/opt/zookeeper/releases/3.8.4');
    expect(named(list, 'file', '/etc/zookeeper/zookeeper.properties')).toBeDefined();
    expect(() => zookeeper.operations(ctx({ osFamily: 'redhat', vars: { zookeeper_source: 'package' } }))).toThrow(/no ZooKeeper package.*use zookeeper_source: release/);
  });
});

describe('zookeeper role: srvr checks', () => {
  const withAnswer = (cmd: string, answer: string) => sh(cmd.replace(/printf '%s' srvr \| nc -w 5 127\.0\.0\.1 2181/, `printf '${answer}'`)).code;
  it('healthy when srvr says leader, follower or standalone; leader only when leader', () => {
    const ans = (mode: string) => `Zookeeper version: 3.8.0\\nLatency min/avg/max: 0/0.0/0\\nMode: ${mode}\\nNode count: 5\\n`;
    expect(withAnswer(srvrCommand(2181), ans('follower'))).toBe(0);
    expect(withAnswer(srvrCommand(2181), ans('standalone'))).toBe(0);
    expect(withAnswer(srvrCommand(2181), 'This ZooKeeper instance is not currently serving requests\\n')).toBe(1);
    expect(withAnswer(leaderCommand(2181), ans('leader'))).toBe(0);
    expect(withAnswer(leaderCommand(2181), ans('follower'))).toBe(1);
    const r = zookeeper.rollout!(ctx());
    expect(r).toMatchObject({ services: ['zookeeper'], leader: leaderCommand(2181) });
    expect(renderUnit({ java: '/j', user: 'u', group: 'g', heap: '1g', classpath: 'c', config: '/z', logDir: '/l', jvmFlags: '-XX:+UseG1GC' })).toContain('ExecStart=/j -Xms1g -Xmx1g -XX:+UseG1GC -D');
  });
});
