/** schema-registry: see DOC below (also shown by `orch roles show schema-registry`). */
import { artifactSource } from '../../src/artifacts/index.js';
import { ops, serviceLimits } from '../../src/ops/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import {
  CONFIG,
  LOG_DIR,
  SERVICE,
  confluentRelease,
  healthCommand,
  heapMb,
  kafkaStore,
  problems,
  schemaRegistryProperties,
  unitFile,
  type SchemaRegistryVars,
} from './render.js';

const DOC = `
schema-registry: Confluent Schema Registry 7.8.0, as datalyptica-minimal-5vm.md runs it on VM1 and VM2 (port 8085,
2 GB, "leader election") and datalyptica-enterprise-50vm.md on schema01-03: every host of the inventory group
schema_registry is an instance; the instances share one store, the Kafka topic _schemas, and elect a leader among
themselves (schema.registry.group.id, leader.eligibility true on every host).

- Source: Confluent's community archive, https://packages.confluent.io/archive/7.8/confluent-community-7.8.0.tar.gz
  (or artifact_mirror + the same path), unpacked to /opt/confluent/releases/7.8.0 with /opt/confluent/current, run as
  bin/schema-registry-start /etc/schema-registry/schema-registry.properties (the config outside the release, where
  Confluent's packages keep it, so an upgrade keeps it). Confluent publishes no checksum this project could find and
  pin, so the archive is not in the artifact catalogue and the inventory MUST
  give schema_registry_sha512 (or schema_registry_sha256) of the archive it checked: without it the run stops
  before touching any host. The same archive serves Debian/Ubuntu and RHEL (only java_home differs, from the java role).
- schema-registry.properties: listeners http://0.0.0.0:8085, host.name the host's address (what the other
  instances forward writes to), kafkastore.bootstrap.servers the brokers of the kafka group (its hosts whose
  kafka_process_roles include broker) on the kafka-kraft role's kafka_port where the inventory sets it,
  kafkastore.topic _schemas with the cluster's replication factor (kafka_default_replication_factor where set, else
  3, capped at the brokers: 1 for a single broker), schema.registry.group.id, leader.eligibility.
- Unit confluent-schema-registry.service (Confluent's own unit name) as cp-schema-registry:confluent, heap -Xms/-Xmx
  schema_registry_heap (1g of the seed's 2 GB), LimitNOFILE 100000, logs in ${LOG_DIR}; resource_limits
  for confluent-schema-registry become MemoryMax=/CPUQuota=. A change restarts one instance at a time, each healthy
  before the next.
- Health: GET / answers and GET /subjects is a JSON array, on the host's address.

Verified in this repository against a FIXTURE, not Confluent's software: Confluent's archive is in no registry this
machine reaches, so test/integration/role-schema-registry.test.ts installs test/helpers/schema-registry-fixture, a
small Java program (Apache kafka-clients from Maven Central) packed in the archive's layout (bin/schema-registry-start,
etc/schema-registry/, share/java/schema-registry/) and served as artifact_mirror. It serves the REST subset the health
check and the test use and keeps schemas in the real _schemas topic of a real Kafka (kafka-kraft), so a schema
registered on one instance is read through the other; it has no leader election, compatibility checks or deletes.
The role installs it exactly as it would install the archive; what the test proves is the role's work (install,
configuration, unit, shared store, health, idempotence), not Schema Registry's behaviour.
`.trim();

export default defineRole({
  name: 'schema-registry',
  description: "Confluent Schema Registry from Confluent's archive: instances sharing the Kafka _schemas topic, leader-eligible",
  doc: DOC,
  dependsOn: ['java'],
  vars: {
    schema_registry_version: v.str({ default: '7.8.0', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Confluent Platform version of the community archive (the seeds: 7.8.0)' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL replacing https://packages.confluent.io/ (same path: archive/7.8/confluent-community-7.8.0.tar.gz); empty: the official URL' }),
    schema_registry_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: 'sha512 of the archive; this or schema_registry_sha256 is REQUIRED (no checksum is published that orch could pin)' }),
    schema_registry_sha256: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{64})$', emptyAllowed: true, doc: 'sha256 of the archive, instead of schema_registry_sha512' }),
    schema_registry_install_root: v.str({ default: '/opt/confluent', pattern: '^/[^\\s]*$', doc: 'the archive unpacks under ROOT/releases/VERSION, linked as ROOT/current' }),
    schema_registry_user: v.str({ default: 'cp-schema-registry', pattern: '^[a-z_][a-z0-9_-]*$', doc: "service user (Confluent's packages: cp-schema-registry)" }),
    schema_registry_group: v.str({ default: 'confluent', pattern: '^[a-z_][a-z0-9_-]*$', doc: "service group (Confluent's packages: confluent)" }),
    schema_registry_port: v.port({ default: 8085, doc: 'REST listener, http://0.0.0.0:PORT (the seeds: 8085)' }),
    schema_registry_kafka_group: v.str({ default: 'kafka', doc: "inventory group of the Kafka cluster: its brokers are kafkastore.bootstrap.servers" }),
    schema_registry_kafka_port: v.port({ default: 9092, doc: "the brokers' listener port (a broker's kafka_port, the kafka-kraft role's variable, wins where the inventory sets it)" }),
    schema_registry_topic: v.str({ default: '_schemas', pattern: '^[A-Za-z0-9._-]+$', doc: 'kafkastore.topic' }),
    schema_registry_replication_factor: v.int({ default: 0, minimum: 0, doc: "kafkastore.topic.replication.factor; 0: the cluster's (kafka_default_replication_factor, else 3 capped at the brokers)" }),
    schema_registry_group_id: v.str({ default: 'schema-registry', pattern: '^[A-Za-z0-9._-]+$', doc: 'schema.registry.group.id: the instances that elect a leader together' }),
    schema_registry_leader_eligibility: v.bool({ default: true, doc: 'leader.eligibility of this instance' }),
    schema_registry_heap: v.str({ default: '1g', pattern: '^[0-9]+[mMgG]$', doc: "JVM heap (-Xms = -Xmx), of the seed's 2 GB per instance" }),
    schema_registry_extra_properties: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more schema-registry.properties entries (schema.compatibility.level ...)' }),
    schema_registry_limit_nofile: v.int({ default: 100000, minimum: 1024, doc: 'LimitNOFILE of the unit' }),
    schema_registry_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds an instance may take to answer after a (re)start' }),
  },

  validate: ({ vars, group }) => problems(vars, group(vars.schema_registry_kafka_group)),

  declares: ({ vars }) => ({
    ports: [{ port: vars.schema_registry_port, variable: 'schema_registry_port', description: 'Schema Registry REST API' }],
    memoryMb: heapMb(vars.schema_registry_heap) + 1024, // heap + metaspace, threads, buffers: the seed's 2 GB at 1g
    cpus: 1,
    serves: ['schema_registry'],
  }),

  rollout: ({ vars, host }) => ({
    services: [SERVICE],
    health: { command: healthCommand(host.address, vars.schema_registry_port), description: 'Schema Registry answers GET / and GET /subjects', timeoutSec: vars.schema_registry_health_timeout, intervalSec: 2 },
  }),

  operations: ({ vars, host, group, exported }) => {
    const sv = vars as SchemaRegistryVars;
    const rel = confluentRelease(vars.schema_registry_version);
    if (!vars.schema_registry_sha512 && !vars.schema_registry_sha256) throw new Error(problems(sv, group(vars.schema_registry_kafka_group))[0]);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.schema_registry_sha512 || undefined, sha256: vars.schema_registry_sha256 || undefined });
    const javaHome = String(exported('java').java_home);
    const home = `${vars.schema_registry_install_root}/current`;
    const user = vars.schema_registry_user;
    const grp = vars.schema_registry_group;
    const store = kafkaStore(sv, group(vars.schema_registry_kafka_group));
    return [
      ops.group({ name: grp, system: true }),
      ops.user({ name: user, group: grp, system: true, home: '/var/lib/schema-registry', createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url: src.url, sha512: src.sha512, sha256: src.sha256, dest: `${vars.schema_registry_install_root}/releases/${rel.version}`, link: home, stripComponents: 1 }),
      ops.dir({ path: '/etc/schema-registry', owner: 'root', group: grp, mode: 0o750 }),
      ops.dir({ path: '/var/log/confluent', owner: 'root', group: grp, mode: 0o755 }),
      ops.dir({ path: LOG_DIR, owner: user, group: grp, mode: 0o750 }),
      ops.file({ path: CONFIG, content: schemaRegistryProperties(sv, host.address, store), owner: 'root', group: grp, mode: 0o640, notify: [SERVICE] }),
      ops.unit({ name: `${SERVICE}.service`, content: unitFile(sv, javaHome, home), notify: [SERVICE], resources: serviceLimits(host.vars, SERVICE) }),
      ops.service({ name: SERVICE, enabled: true, state: 'started' }),
      ops.waitForHttp({ url: `http://${host.address}:${vars.schema_registry_port}/`, timeoutS: vars.schema_registry_health_timeout }),
      ops.healthCheck({
        name: `Schema Registry answers GET / and GET /subjects (store ${vars.schema_registry_topic} on ${store.brokers} broker(s), replication factor ${store.replicationFactor})`,
        command: healthCommand(host.address, vars.schema_registry_port),
        timeoutS: vars.schema_registry_health_timeout,
        intervalS: 2,
      }),
    ];
  },
});
