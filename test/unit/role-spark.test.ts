/**
 * The spark role offline, against the seeds: spark-kafka-cluster-aws.md's spark-env.sh, spark-defaults.conf and units,
 * datalyptica-minimal-5vm.md's workers (16 cores / 48g, two on VM5) and FILESYSTEM recovery, the enterprise standby
 * master (ZooKeeper only), vps-trio's daemon memory and resource controls, RHEL, the S3A jar op, and the health
 * probes over a recorded master JSON. The real cluster: test/integration/role-spark.test.ts.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import spark, { S3A_JARS, sparkRelease } from '../../roles/spark/index.js';
import { jarFile, mavenUrl } from '../../roles/spark/jar.js';
import {
  layoutProblems,
  masterAnswers,
  masters,
  masterUnit,
  masterUrl,
  memoryMb,
  recoveryOpts,
  sparkDefaults,
  sparkEnv,
  workerInstances,
  workersRegistered,
  workerTemplate,
  zookeeperUrl,
  type SparkVars,
} from '../../roles/spark/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import type { Plan } from '../../src/ops/types.js';
import { sh, tmp } from './ops-harness.js';
import { PYSPARK_SDISTS, SPARK_MAIN_CLASSES, sdistUrl, sparkFiles, sparkRecipe } from '../../src/sim/artifacts/spark/recipe.js';
import { named, roleContext, written } from './role-harness.js';

const DEFAULTS = Object.fromEntries(Object.entries(spark.vars).map(([k, s]) => [k, s.default])) as unknown as SparkVars;

/** spark-kafka-cluster-aws.md: the master 10.0.136.17, two workers */
const AWS: PeerHost[] = [
  { name: 'master', address: '10.0.136.17', groups: ['spark_master'], vars: {} },
  { name: 'worker1', address: '10.0.136.18', groups: ['spark_worker'], vars: {} },
  { name: 'worker2', address: '10.0.136.19', groups: ['spark_worker'], vars: {} },
];
/** datalyptica-minimal-5vm.md: master + worker on VM4, two workers on VM5 */
const MINIMAL: PeerHost[] = [
  { name: 'vm4', address: 'vm4', groups: ['spark_master', 'spark_worker'], vars: {} },
  { name: 'vm5', address: 'vm5', groups: ['spark_worker'], vars: { spark_worker_instances: 2 } },
];

function ctx(o: { host: string; peers?: PeerHost[]; osFamily?: HostFacts['osFamily']; vars?: Record<string, unknown> }): RoleContext<any> {
  const peers = o.peers ?? AWS;
  const self = peers.find((p) => p.name === o.host)!;
  const java = o.osFamily === 'redhat' ? '/usr/lib/jvm/jre-17-openjdk' : '/usr/lib/jvm/java-17-openjdk-amd64';
  return roleContext(spark, { peers, host: o.host, facts: { osFamily: o.osFamily ?? 'debian', osId: o.osFamily === 'redhat' ? 'rhel' : 'ubuntu', cpus: 4, memoryMb: 8192 }, vars: { spark_version: '3.5.0', ...self.vars, ...o.vars }, exported: { java: { java_home: java } } });
}
const props = (text: string) => Object.fromEntries(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
const v = (o: Partial<SparkVars> = {}): SparkVars => ({ ...DEFAULTS, ...o });

describe('spark: spark-kafka-cluster-aws.md', () => {
  const ms = masters(AWS.slice(0, 1), DEFAULTS);

  it("renders the seed's spark-env.sh: the master's host and ports, the workers' 2 cores / 4g", () => {
    const master = sparkEnv(v(), { address: '10.0.136.17', javaHome: '/usr/lib/jvm/java-17-openjdk-amd64', master: ms[0], worker: false, zkUrl: '' });
    expect(master).toContain('export SPARK_MASTER_HOST="10.0.136.17"\nexport SPARK_MASTER_PORT=7077\nexport SPARK_MASTER_WEBUI_PORT=8080\n');
    expect(master).not.toContain('SPARK_WORKER');
    expect(master).not.toContain('SPARK_MASTER_OPTS'); // no recovery in the seed
    const worker = sparkEnv(v(), { address: '10.0.136.18', javaHome: '/j', master: undefined, worker: true, zkUrl: '' });
    expect(worker).toContain('export SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-2}"\nexport SPARK_WORKER_MEMORY="${SPARK_WORKER_MEMORY:-4g}"\n');
    expect(worker).toContain('export SPARK_WORKER_DIR="${SPARK_WORKER_DIR:-/opt/spark/work}"');
    expect(worker).toContain('export SPARK_LOCAL_HOSTNAME="10.0.136.18"');
    // SPARK_WORKER_INSTANCES would make one unit start several workers: each instance is its own unit instead
    expect(worker).not.toMatch(/^export SPARK_WORKER_INSTANCES/m);
    expect(worker).not.toContain('SPARK_MASTER_HOST');
  });

  it("renders the seed's spark-defaults.conf: master, event log, 2g executor/driver, S3A with the instance profile", () => {
    const d = props(sparkDefaults(v({ spark_event_log_dir: '/opt/spark/logs' }), masterUrl(ms)));
    expect(d).toMatchObject({
      'spark.master': 'spark://10.0.136.17:7077',
      'spark.eventLog.enabled': 'true',
      'spark.eventLog.dir': 'file:///opt/spark/logs',
      'spark.executor.memory': '2g',
      'spark.driver.memory': '2g',
      'spark.hadoop.fs.s3a.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
      'spark.hadoop.fs.s3a.aws.credentials.provider': 'com.amazonaws.auth.InstanceProfileCredentialsProvider',
      'spark.hadoop.fs.s3a.endpoint': 's3.eu-north-1.amazonaws.com',
    });
    expect(d['spark.hadoop.fs.s3a.access.key']).toBeUndefined();
  });

  it('S3A keys from secrets switch to the simple provider, and the file becomes secret and 0640', () => {
    const d = props(sparkDefaults(v({ spark_s3a_access_key: 'AKIA', spark_s3a_secret_key: 's3cr3t', spark_s3a_endpoint: 'http://minio:9000', spark_s3a_path_style_access: true }), 'spark://m:7077'));
    expect(d).toMatchObject({
      'spark.hadoop.fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
      'spark.hadoop.fs.s3a.access.key': 'AKIA',
      'spark.hadoop.fs.s3a.secret.key': 's3cr3t',
      'spark.hadoop.fs.s3a.path.style.access': 'true',
    });
    const list = spark.operations(ctx({ host: 'worker1', vars: { spark_s3a_access_key: 'AKIA', spark_s3a_secret_key: 's3cr3t' } }));
    const f = named(list, 'file', '/opt/spark/conf/spark-defaults.conf')!;
    expect(f.secret).toBe(true);
    expect((f.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>).script).toContain('chmod 0640');
    expect(spark.validate!(ctx({ host: 'worker1', vars: { spark_s3a_access_key: 'AKIA' } }))).toContain('spark_s3a_access_key and spark_s3a_secret_key: give both or neither');
  });

  it("the units: the seed's start scripts as user spark, in the foreground under systemd", () => {
    const m = masterUnit(v(), '/usr/lib/jvm/java-17-openjdk-amd64');
    for (const l of ['Type=simple', 'User=spark', 'Environment=SPARK_NO_DAEMONIZE=true', 'Environment=SPARK_CONF_DIR=/opt/spark/conf', 'ExecStart=/opt/spark/current/sbin/start-master.sh', 'Restart=on-failure']) {
      expect(m.split('\n')).toContain(l);
    }
    expect(workerTemplate(v(), '/j', 'spark://10.0.136.17:7077').split('\n')).toContain('ExecStart=/opt/spark/current/sbin/start-worker.sh spark://10.0.136.17:7077');
  });

  it('operations on the master and on a worker: release, S3A jars, config, units, health', () => {
    const m = spark.operations(ctx({ host: 'master' }));
    const art = named(m, 'artifact', '/opt/spark/releases/3.5.0')!;
    expect(art.notify).toEqual(['spark-master']);
    expect(named(m, 'artifact', '/opt/spark/releases/3.5.0/jars/hadoop-aws-3.3.4.jar')).toBeDefined();
    expect(named(m, 'artifact', '/opt/spark/releases/3.5.0/jars/aws-java-sdk-bundle-1.12.262.jar')).toBeDefined();
    expect(named(m, 'unit', '/etc/systemd/system/spark-master.service')).toBeDefined();
    expect(named(m, 'unit', '/etc/systemd/system/spark-worker@.service')).toBeUndefined();
    // a host that is no worker removes any instance left from before
    expect(named(m, 'instances', 'spark-worker@*')).toBeDefined();
    expect(named(m, 'health')!.name).toBe('Spark master 10.0.136.17:7077 answers ALIVE on :8080/json');
    const w = spark.operations(ctx({ host: 'worker2' }));
    expect(written(named(w, 'unit', '/etc/systemd/system/spark-worker@.service'))).toContain('start-worker.sh spark://10.0.136.17:7077');
    expect(written(named(w, 'instance', '/etc/systemd/system/spark-worker@1.service.d/orch-instance.conf'))).toBe(
      [
        '# Managed by orch: instance 1 of spark-worker@.service',
        '[Service]',
        'Environment="SPARK_WORKER_CORES=2"',
        'Environment="SPARK_WORKER_MEMORY=4g"',
        'Environment="SPARK_WORKER_WEBUI_PORT=8081"',
        'Environment="SPARK_WORKER_DIR=/opt/spark/work"',
        '',
      ].join('\n'),
    );
    expect(named(w, 'health')!.name).toBe('worker 10.0.136.19:8081 ALIVE at the master with the cores / memory it runs with (configured: 2 / 4g)');
    expect(named(w, 'unit', '/etc/systemd/system/spark-master.service')).toBeUndefined();
    expect(named(w, 'packages')!.name).toContain('python3');
    expect(spark.validate!(ctx({ host: 'worker1' }))).toEqual([]);
  });

  it('declares the master and worker ports, memory and cores', () => {
    expect(spark.declares!(ctx({ host: 'master' })).ports!.map((p) => p.port)).toEqual([7077, 8080]);
    const d = spark.declares!(ctx({ host: 'worker1' }));
    expect(d.ports!.map((p) => p.port)).toEqual([8081]);
    expect(d.memoryMb).toBe(4096 + 1024);
    expect(d.cpus).toBe(2);
    expect(d.serves).toEqual(['spark_master', 'spark_worker']);
  });
});

describe('spark: datalyptica-minimal-5vm.md and enterprise-50vm.md', () => {
  const big = { spark_worker_cores: 16, spark_worker_memory: '48g' };

  it('two workers of 16 cores / 48g on VM5: own web UI ports (8081, 8082), dirs and units', () => {
    expect(workerInstances(v({ ...big, spark_worker_instances: 2 }))).toEqual([
      { id: '1', cores: 16, memory: '48g', port: 0, webuiPort: 8081, dir: '/opt/spark/work' },
      { id: '2', cores: 16, memory: '48g', port: 0, webuiPort: 8082, dir: '/opt/spark/work-2' },
    ]);
    expect(workerInstances(v({ spark_worker_instances: 2, spark_worker_port: 7078 })).map((w) => w.port)).toEqual([7078, 7079]);
    const list = spark.operations(ctx({ host: 'vm5', peers: MINIMAL, vars: big }));
    expect(written(named(list, 'instance', '/etc/systemd/system/spark-worker@2.service.d/orch-instance.conf'))).toContain('Environment="SPARK_WORKER_WEBUI_PORT=8082"\nEnvironment="SPARK_WORKER_DIR=/opt/spark/work-2"\n');
    expect(named(list, 'service', 'spark-worker@2.service')).toBeDefined();
    expect(spark.declares!(ctx({ host: 'vm5', peers: MINIMAL, vars: big })).ports!.map((p) => p.port)).toEqual([8081, 8082]);
    expect(spark.declares!(ctx({ host: 'vm5', peers: MINIMAL, vars: big })).memoryMb).toBe(2 * (48 * 1024 + 1024));
    // VM4: master and one worker on the same host
    const vm4 = spark.operations(ctx({ host: 'vm4', peers: MINIMAL, vars: big }));
    expect(named(vm4, 'unit', '/etc/systemd/system/spark-master.service')).toBeDefined();
    expect(named(vm4, 'service', 'spark-worker@1.service')).toBeDefined();
    expect(spark.declares!(ctx({ host: 'vm4', peers: MINIMAL })).ports!.map((p) => p.port)).toEqual([7077, 8080, 8081]);
  });

  it('FILESYSTEM recovery on /opt/spark/recovery (minimal-5vm); ZooKeeper recovery (enterprise standby)', () => {
    expect(recoveryOpts(v({ spark_recovery_mode: 'FILESYSTEM' }), '')).toBe('-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=/opt/spark/recovery');
    const list = spark.operations(ctx({ host: 'vm4', peers: MINIMAL, vars: { spark_recovery_mode: 'FILESYSTEM' } }));
    expect(written(named(list, 'file', '/opt/spark/conf/spark-env.sh'))).toContain('export SPARK_MASTER_OPTS="-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=/opt/spark/recovery"');
    expect(named(list, 'dir', '/opt/spark/recovery')).toBeDefined();
    const zk: PeerHost[] = [1, 2, 3].map((n) => ({ name: `zk${n}`, address: `10.20.10.${n}`, groups: ['zookeeper'], vars: n === 3 ? { zookeeper_client_port: 2182 } : {} }));
    expect(zookeeperUrl(v(), zk)).toBe('10.20.10.1:2181,10.20.10.2:2181,10.20.10.3:2182');
    expect(recoveryOpts(v({ spark_recovery_mode: 'ZOOKEEPER' }), '10.20.10.1:2181')).toBe('-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=10.20.10.1:2181 -Dspark.deploy.zookeeper.dir=/spark');
  });

  it('two masters: workers and drivers get both; only ZOOKEEPER elects one (the seed\'s FILESYSTEM with two is refused)', () => {
    const ENT: PeerHost[] = [
      { name: 'spark-master01', address: '10.20.30.11', groups: ['spark_master'], vars: {} },
      { name: 'spark-master02', address: '10.20.30.12', groups: ['spark_master'], vars: {} },
      { name: 'spark-worker01', address: '10.20.30.21', groups: ['spark_worker'], vars: {} },
      { name: 'zk1', address: '10.20.10.1', groups: ['zookeeper'], vars: {} },
    ];
    const two = masters(ENT.slice(0, 2), DEFAULTS);
    expect(masterUrl(two)).toBe('spark://10.20.30.11:7077,10.20.30.12:7077');
    const fs = { spark_recovery_mode: 'FILESYSTEM', spark_recovery_dir: '/opt/datalyptica/shared/spark-recovery' };
    expect(spark.validate!(ctx({ host: 'spark-worker01', peers: ENT, vars: fs }))[0]).toMatch(/^spark: 2 masters \(spark-master01, spark-master02\) with recovery mode FILESYSTEM: only ZOOKEEPER elects one active master/);
    expect(spark.validate!(ctx({ host: 'spark-worker01', peers: ENT, vars: { spark_recovery_mode: 'ZOOKEEPER' } }))).toEqual([]);
    expect(layoutProblems(v({ spark_recovery_mode: 'ZOOKEEPER' }), two, '', { master: true, worker: false })).toEqual(['spark: recovery mode ZOOKEEPER needs spark_zookeeper_url or hosts in the group zookeeper']);
    const w = spark.operations(ctx({ host: 'spark-worker01', peers: ENT, vars: { spark_recovery_mode: 'ZOOKEEPER' } }));
    expect(written(named(w, 'unit', '/etc/systemd/system/spark-worker@.service'))).toContain('start-worker.sh spark://10.20.30.11:7077,10.20.30.12:7077');
    const m2 = spark.operations(ctx({ host: 'spark-master02', peers: ENT, vars: { spark_recovery_mode: 'ZOOKEEPER' } }));
    expect(written(named(m2, 'file', '/opt/spark/conf/spark-env.sh'))).toContain('-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=10.20.10.1:2181');
    expect(named(m2, 'health')!.name).toContain('answers ALIVE or STANDBY');
    // the rollout: the active master last
    const r = spark.rollout!(ctx({ host: 'spark-master02', peers: ENT, vars: { spark_recovery_mode: 'ZOOKEEPER' } }));
    expect(r.services).toEqual(['spark-master', 'spark-worker@*', 'spark-history-server']);
    expect(r.leader).toContain("grep -q '\"status\":\"ALIVE\"'");
    expect(spark.rollout!(ctx({ host: 'spark-worker01', peers: ENT, vars: { spark_recovery_mode: 'ZOOKEEPER' } })).leader).toBeUndefined();
  });
});

describe('spark: vps-trio-resource-analysis.md, versions, RHEL', () => {
  it('SPARK_DAEMON_MEMORY=768m; master 1280 MiB / 0.6 CPU and each worker 2816 MiB / 1.4 CPU as systemd resource controls', () => {
    const limits = { resource_limits: { 'spark-master': { memory_mb: 1280, cpus: 0.6 }, 'spark-worker': { memory_mb: 2816, cpus: 1.4 } } };
    const trio: PeerHost[] = [{ name: 'vps3', address: '10.104.0.4', groups: ['spark_master', 'spark_worker'], vars: { ...limits, spark_worker_instances: 2 } }];
    const list = spark.operations(ctx({ host: 'vps3', peers: trio, vars: { spark_daemon_memory: '768m', spark_worker_cores: 1, spark_worker_memory: '2g' } }));
    const unit = written(named(list, 'unit', '/etc/systemd/system/spark-master.service'));
    expect(unit).toContain('MemoryMax=1280M\nCPUQuota=60%\n');
    for (const i of ['1', '2']) {
      expect(written(named(list, 'instance', `/etc/systemd/system/spark-worker@${i}.service.d/orch-instance.conf`))).toContain('Environment="SPARK_WORKER_CORES=1"\nEnvironment="SPARK_WORKER_MEMORY=2g"\n');
      expect(written(named(list, 'instance', `/etc/systemd/system/spark-worker@${i}.service.d/orch-instance.conf`))).toContain('MemoryMax=2816M\nCPUQuota=140%\n');
    }
    expect(written(named(list, 'file', '/opt/spark/conf/spark-env.sh'))).toContain('export SPARK_DAEMON_MEMORY="768m"');
    expect(written(named(list, 'file', '/opt/spark/conf/spark-defaults.conf'))).toContain('spark.eventLog.dir file:///var/spark-events\n');
    expect((named(list, 'dir', '/var/spark-events')!.plan({ stat: null }) as Extract<Plan, { status: 'change' }>).script).toContain('chmod 03777');
  });

  it('3.5.0 comes from the catalogue; 3.5.4 (not catalogued) needs spark_sha512, then keeps Apache\'s path', () => {
    expect(sparkRelease('3.5.0', '')!.sha512).toMatch(/^8883c67e/);
    expect(sparkRelease('3.5.4', '')).toBeUndefined();
    expect(spark.validate!(ctx({ host: 'worker1', vars: { spark_version: '3.5.4' } }))).toEqual([
      'spark_version 3.5.4: not in the artifact catalogue (no published checksum pinned; it has 3.5.0): set spark_sha512 to the sha512 Apache publishes as spark-3.5.4-bin-hadoop3.tgz.sha512',
    ]);
    const list = spark.operations(ctx({ host: 'worker1', vars: { spark_version: '3.5.4', spark_sha512: 'AB'.repeat(64), artifact_mirror: 'https://mirror.example/apache/' } }));
    const art = named(list, 'artifact', '/opt/spark/releases/3.5.4')!;
    expect((art.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>).reason).toBe('download spark-3.5.4-bin-hadoop3.tgz (sha512 abababababab..) and unpack, /opt/spark/current: create link -> /opt/spark/releases/3.5.4');
  });

  it('RHEL: the same layout with its JDK path; python3 and curl by the same names', () => {
    const list = spark.operations(ctx({ host: 'worker1', osFamily: 'redhat' }));
    expect(written(named(list, 'unit', '/etc/systemd/system/spark-worker@.service'))).toContain('Environment=JAVA_HOME=/usr/lib/jvm/jre-17-openjdk\n');
    expect(written(named(list, 'file', '/opt/spark/conf/spark-env.sh'))).toContain('export JAVA_HOME="/usr/lib/jvm/jre-17-openjdk"');
    const p = named(list, 'packages')!;
    expect(p.name).toBe('curl, python3');
  });

  it('memory sizes as the master reports them', () => {
    expect(memoryMb('4g')).toBe(4096);
    expect(memoryMb('768m')).toBe(768);
    expect(memoryMb('48G')).toBe(49152);
    expect(() => memoryMb('4gb')).toThrow(/expected a number with m or g/);
  });
});

describe('spark: the S3A jars and the health probes', () => {
  it('pins hadoop-aws 3.3.4 and the AWS SDK bundle 1.12.262 from Maven Central, verified on the host', () => {
    const [aws, sdk] = S3A_JARS['3.3.4'];
    expect(mavenUrl('https://repo1.maven.org/maven2', aws)).toBe('https://repo1.maven.org/maven2/org/apache/hadoop/hadoop-aws/3.3.4/hadoop-aws-3.3.4.jar');
    expect(mavenUrl('https://mirror.example/maven/', sdk)).toBe('https://mirror.example/maven/com/amazonaws/aws-java-sdk-bundle/1.12.262/aws-java-sdk-bundle-1.12.262.jar');
    const dir = tmp('orch-jar-');
    const dest = join(dir, 'jars', 'x.jar');
    writeFileSync(join(dir, 'upload'), 'jar bytes');
    const sha = sh(`sha256sum <${join(dir, 'upload')} | cut -c1-64`).stdout.trim();
    const op = jarFile({ url: 'https://repo1.maven.org/maven2/g/x/1/x-1.jar', sha256: sha, dest });
    const p = op.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>;
    expect(p.reason).toBe(`download x.jar (sha256 ${sha.slice(0, 12)}..)`);
    expect(() => op.uploads!({ stat: null, sha256: null })).toThrow(/not downloaded/);
    // the host-side script: verifies the upload, then moves it into place (as root it also sets root:root 0644)
    const remote = /^f=(\S+)$/m.exec(p.script)![1].replace(/^'|'$/g, '');
    sh(`cp ${join(dir, 'upload')} ${remote}`);
    const r = sh(p.script.replace('chown root:root "$f"; ', ''));
    expect(r.code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('jar bytes');
    writeFileSync(remote, 'tampered');
    const bad = sh(`( ${p.script}\n) 2>&1`);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('sha256 mismatch on the host');
    expect(op.plan({ stat: { type: 'regular file', owner: 'root', group: 'root', mode: 0o644, uid: 0, gid: 0 }, sha256: sha })).toEqual({ status: 'ok', reason: `x.jar in place (sha256 ${sha.slice(0, 12)}..)` });
  });

  /**
   * a master's /json/ as Spark 3.5.0 prints it: recorded from the integration test's cluster (addresses replaced), with
   * a DEAD registration added at 10.0.136.18:8082, as the master lists a worker it lost
   */
  const JSON_TEXT = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'spark-master.json'), 'utf8');
  function withFakeCurl(json: string): NodeJS.ProcessEnv {
    const bin = tmp('orch-curl-');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'payload'), json);
    writeFileSync(join(bin, 'curl'), `#!/bin/sh\ncat ${join(bin, 'payload')}\n`);
    chmodSync(join(bin, 'curl'), 0o755);
    return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  }

  it('a worker is healthy when the active master lists it ALIVE with its cores and memory', () => {
    const env = withFakeCurl(JSON_TEXT);
    const ms = masters([{ name: 'm1', address: '10.0.136.17', groups: [], vars: {} }], DEFAULTS);
    const w = (o: Partial<SparkVars> = {}) => workerInstances(v(o));
    expect(sh(workersRegistered(ms, '10.0.136.18', w()), env).code).toBe(0);
    expect(sh(masterAnswers(ms[0], ['ALIVE']), env).code).toBe(0);
    // another memory, other cores, a second instance not there, an unknown host: not healthy, saying which
    const mem = sh(workersRegistered(ms, '10.0.136.18', w({ spark_worker_memory: '2g' })), env);
    expect(mem.code).toBe(1);
    expect(mem.stdout).toContain('worker http://10.0.136.18:8081 is not ALIVE with 2 cores / 2g at the master');
    expect(sh(workersRegistered(ms, '10.0.136.18', w({ spark_worker_cores: 1 })), env).code).toBe(1);
    expect(sh(workersRegistered(ms, '10.0.136.18', w({ spark_worker_instances: 2 })), env).stdout).toContain('http://10.0.136.18:8082 is not ALIVE');
    expect(sh(workersRegistered(ms, '10.0.136.99', w()), env).code).toBe(1);
    // the recording has a DEAD registration at 10.0.136.18:8082 (a worker the master lost): it does not count
    expect(sh(workersRegistered(ms, '10.0.136.18', w({ spark_worker_instances: 2 })), env).stdout).toBe('worker http://10.0.136.18:8082 is not ALIVE with 2 cores / 4g at the master\n');
    // the master's own totals after the last worker (cores 4, memory 8192) are not taken for that worker's
    expect(sh(workersRegistered(ms, '10.0.136.19', w()), env).code).toBe(0);
    expect(sh(workersRegistered(ms, '10.0.136.19', w({ spark_worker_cores: 4 })), env).code).toBe(1);
    expect(sh(workersRegistered(ms, '10.0.136.19', w({ spark_worker_memory: '8g' })), env).code).toBe(1);
    // 'running': the cores and memory the instance's main process was started with (its environment), as before a restart
    const proc = tmp('orch-proc-');
    writeFileSync(join(proc, 'systemctl'), '#!/bin/sh\necho 4242\n');
    chmodSync(join(proc, 'systemctl'), 0o755);
    const running = workersRegistered(ms, '10.0.136.18', w({ spark_worker_cores: 1 }), 'running').replaceAll('/proc/"${pid:-0}"/environ', `${proc}/environ-"\${pid:-0}"`);
    const penv = { ...env, PATH: `${proc}:${env.PATH}` };
    writeFileSync(join(proc, 'environ-4242'), 'HOME=/\0SPARK_WORKER_CORES=2\0SPARK_WORKER_MEMORY=4g\0');
    expect(sh(running, penv)).toEqual({ code: 0, stdout: '' });
    writeFileSync(join(proc, 'environ-4242'), 'SPARK_WORKER_CORES=1\0SPARK_WORKER_MEMORY=4096m\0');
    expect(sh(running, penv).stdout).toBe('worker http://10.0.136.18:8081 is not ALIVE at the master with the cores / memory it runs with: 1 / 4096m\n');
    writeFileSync(join(proc, 'environ-4242'), 'SPARK_WORKER_CORES=2\0SPARK_WORKER_MEMORY=4096m\0');
    expect(sh(running, penv).code).toBe(0);
    writeFileSync(join(proc, 'systemctl'), '#!/bin/sh\necho 0\n');
    expect(sh(running, penv).stdout).toBe('spark-worker@1 is not running\n');
    // a standby master: not ALIVE, so the worker check looks for another
    const standby = withFakeCurl(JSON_TEXT.replace('"status" : "ALIVE"', '"status" : "STANDBY"'));
    expect(sh(masterAnswers(ms[0], ['ALIVE']), standby).stdout).toContain('master 10.0.136.17 is not ALIVE: "status":"STANDBY"');
    expect(sh(masterAnswers(ms[0], ['ALIVE', 'STANDBY']), standby).code).toBe(0);
    expect(sh(workersRegistered(ms, '10.0.136.18', w()), standby).stdout).toContain('no master is ALIVE (10.0.136.17)');
  });
});

describe('spark: the history server and the test artifact recipe', () => {
  it('the history server: its unit, SPARK_HISTORY_OPTS on the event log directory, port 18080', () => {
    const list = spark.operations(ctx({ host: 'master', vars: { spark_history_server: true } }));
    expect(written(named(list, 'unit', '/etc/systemd/system/spark-history-server.service'))).toContain('ExecStart=/opt/spark/current/sbin/start-history-server.sh\n');
    expect(written(named(list, 'file', '/opt/spark/conf/spark-env.sh'))).toContain('export SPARK_HISTORY_OPTS="-Dspark.history.fs.logDirectory=file:///var/spark-events -Dspark.history.ui.port=18080"');
    expect(list.filter((o) => o.kind.startsWith('wait')).map((o) => o.name).join()).toContain('http://10.0.136.17:18080/api/v1/applications');
    expect(named(list, 'file', '/opt/spark/conf/spark-defaults.conf')!.notify).toEqual(['spark-history-server']);
    expect(spark.declares!(ctx({ host: 'master', vars: { spark_history_server: true } })).ports!.map((p) => p.port)).toEqual([7077, 8080, 18080]);
  });

  it("the recipe pins PyPI's sdists and its sbin scripts start the real classes through spark-daemon.sh, as Apache's do", () => {
    expect(sdistUrl('3.5.0')).toBe('https://files.pythonhosted.org/packages/92/11/5c0f24537fa68624cb6271d2a8a8982e81bd05f5cb51e9d2d2a89baa0e1a/pyspark-3.5.0.tar.gz');
    expect(Object.values(PYSPARK_SDISTS).every((x) => /^[0-9a-f]{64}$/.test(x.sha256))).toBe(true);
    const files = Object.fromEntries(sparkFiles().map((f) => [f.path, f]));
    expect(Object.keys(files).sort()).toEqual(['conf/spark-defaults.conf.template', 'conf/spark-env.sh.template', 'sbin/start-master.sh', 'sbin/start-worker.sh', 'sbin/stop-master.sh', 'sbin/stop-worker.sh']);
    expect(files['sbin/start-master.sh'].content).toContain('CLASS="org.apache.spark.deploy.master.Master"');
    expect(files['sbin/start-master.sh'].content).toContain('spark-daemon.sh start $CLASS 1');
    expect(files['sbin/start-worker.sh'].content).toContain('CLASS="org.apache.spark.deploy.worker.Worker"');
    expect(files['sbin/start-master.sh'].mode).toBe(0o755);
    expect(SPARK_MAIN_CLASSES['sbin/start-worker.sh']).toBe('org.apache.spark.deploy.worker.Worker');
    // the foreground mode the units use: start-worker.sh with SPARK_NO_DAEMONIZE runs one worker, given the master and
    // the instance's web UI port (spark-daemon.sh stubbed to print what it is asked to start)
    const home = tmp('orch-spark-home-');
    mkdirSync(join(home, 'sbin'));
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'sbin', 'start-worker.sh'), files['sbin/start-worker.sh'].content);
    writeFileSync(join(home, 'sbin', 'spark-config.sh'), '');
    writeFileSync(join(home, 'bin', 'load-spark-env.sh'), '');
    writeFileSync(join(home, 'sbin', 'spark-daemon.sh'), '#!/bin/sh\necho "$@"\n');
    chmodSync(join(home, 'sbin', 'spark-daemon.sh'), 0o755);
    const r = sh(`SPARK_HOME=${home} SPARK_WORKER_WEBUI_PORT=8082 SPARK_WORKER_PORT=7079 bash ${home}/sbin/start-worker.sh spark://m:7077`);
    expect(r.stdout).toBe('start org.apache.spark.deploy.worker.Worker 1 --webui-port 8082 --port 7079 spark://m:7077\n');
    // the recipe's cache key covers the scripts' content
    expect(JSON.stringify(sparkRecipe.inputs('3.5.0'))).toContain('spark-daemon.sh start $CLASS 1');
  });
});
