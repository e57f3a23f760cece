/**
 * nessie: Project Nessie, active-active on the hosts of group nessie (datalyptica-minimal-5vm.md VM1-3, 19120;
 * datalyptica-enterprise-50vm.md nessie01-03, "3. Nessie Catalog": stateless, a shared PostgreSQL). See DOC.
 */
import { artifactSource, release, type Release } from '../../src/artifacts/index.js';
import { nessieRelease } from '../../src/artifacts/catalogue.js';
import { ops, serviceLimits } from '../../src/ops/index.js';
import { pickJavaHome } from '../java/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { serviceDatabasePassword } from '../../src/role/database-password.js';
import {
  CONFIG_FILE,
  ETC,
  HEAP_PATTERN,
  SECRETS_FILE,
  apiCheck,
  applicationProperties,
  heapMb,
  javaMajorFor,
  readyCheck,
  roleKeys,
  secretsEnv,
  unit,
  type NessieVars,
} from './render.js';

const DOC = `
nessie: the Nessie server on every host of group nessie (nessie_group), all active behind HAProxy; its state lives in
PostgreSQL, so any node serves any request.

- Release: the server's runner jar on Maven Central (org.projectnessie.nessie:nessie-quarkus, classifier runner), kept
  whole under /opt/nessie/releases/<version>/ (/opt/nessie/current links the one in use); the unit names the jar of
  its release, so an upgrade restarts the service (rolled host by host). Catalogue: 0.99.0 (sha512 of the Maven
  Central download, checked against its .sha1). The seeds' 0.98.2 is not catalogued (not served by the registry
  reachable here, no published checksum found): give nessie_sha512 with it, or use 0.99.0.
- Java: the 0.99.0 jar is Java 21 bytecode (it fails on Java 17 with UnsupportedClassVersionError, checked here), so
  the java role must install a JDK 21+ (java_archive_releases, e.g. ["23.0.2+7"]); the role takes the smallest JDK of
  the java role's java_homes that is new enough, or nessie_java_home. Checked before any host is touched.
- Configuration: /etc/nessie/application.properties (0640 root:nessie), read through -Dquarkus.config.locations.
  Version store: JDBC2 on PostgreSQL (nessie.version.store.persist.jdbc.datasource=postgresql,
  quarkus.datasource.postgresql.*). The seed writes nessie.version.store.type=JDBC, which Nessie 0.9x deprecates
  (its Server Admin Tool migrates JDBC to JDBC2); JDBC stays selectable for an existing repository. The seed's
  nessie.version.store.persist.compression and .max-batch-size do not exist in Nessie 0.99 and are not rendered:
  Nessie refuses to start on a key it does not know (quarkus.config.mapping.validate-unknown, seen here).
- Secrets: the database password and the S3 credentials go only into /etc/nessie/secrets.env (0640 root:nessie), the
  unit's EnvironmentFile; application.properties refers to them as \${NESSIE_JDBC_PASSWORD} etc.
- Iceberg REST: /iceberg on nessie_port is the endpoint Trino's and Spark's Iceberg catalogs point at
  (iceberg.rest-catalog.uri=http://<nessie>:19120/iceberg, or the HAProxy VIP); the warehouses (nessie_warehouses,
  the seed's s3://datalyptica-warehouse/iceberg) and the S3 options go to nessie.catalog.*. The seeds' catalogs use
  Nessie's own API (http://nessie-vip:19120/api/v1, iceberg.catalog.type=nessie), which the server serves too.
- Several nodes: each reads the branch heads from PostgreSQL (Nessie caches only immutable objects unless a
  reference cache is configured), so a branch made on one node is listed by the others at once. Nessie's distributed
  cache invalidation (needed only with nessie.version.store.persist.reference-cache-ttl) is not configured: it
  resolves the peers by DNS and refuses to start when a name does not resolve (seen here with a plain address).
- Health: /q/health/ready on the management port (nessie_management_port; Nessie's own default is 9000, which
  Keycloak's management interface takes on the same VMs of minimal-5vm, hence 19121 here) is UP when the database
  and, with nessie_object_stores_health_check, every warehouse's object store answer; then /api/v2/config names the
  default branch. Restarts roll host by host behind both.
`;

export default defineRole({
  name: 'nessie',
  doc: DOC,
  description: 'Project Nessie servers (active-active) with the JDBC version store on PostgreSQL and the Iceberg REST catalog; secrets in an EnvironmentFile',
  dependsOn: ['java'],
  vars: {
    nessie_version: v.str({ default: '0.98.2', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Nessie release (the datalyptica seeds: 0.98.2), from the artifact catalogue (0.99.0) or with nessie_sha512' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces Maven Central (same path org/projectnessie/nessie/nessie-quarkus/V/...); empty: the official URL' }),
    nessie_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: "sha512 of the runner jar (a release the catalogue lacks, e.g. the seeds' 0.98.2, or a mirror serving other bytes); empty: the catalogue's" }),
    nessie_install_root: v.str({ default: '/opt/nessie', pattern: '^/', doc: 'releases under ROOT/releases/VERSION, linked as ROOT/current' }),
    nessie_user: v.str({ default: 'nessie', doc: 'service user (and group)' }),
    nessie_group: v.str({ default: 'nessie', doc: 'inventory group of the Nessie nodes (minimal-5vm: VM1-3)' }),
    nessie_port: v.port({ default: 19120, doc: 'quarkus.http.port: the REST API (/api/v1, /api/v2) and the Iceberg REST catalog (/iceberg)' }),
    nessie_management_port: v.port({ default: 19121, doc: "quarkus.management.port: /q/health, /q/metrics (Nessie's default 9000 is Keycloak's management port on the same VMs)" }),
    nessie_heap: v.str({ default: '3g', pattern: HEAP_PATTERN, doc: '-Xms/-Xmx (the seeds: 4 GB per Nessie; 3g leaves the rest for metaspace, threads and buffers)' }),
    nessie_data_dir: v.str({ default: '/var/lib/nessie', pattern: '^/', doc: 'working directory of the service (Nessie keeps no data on the host with the JDBC store)' }),
    nessie_version_store_type: v.oneOf(['JDBC2', 'JDBC'] as const, { default: 'JDBC2', doc: "nessie.version.store.type: JDBC2 (current); JDBC (the seed's, deprecated since 0.9x) for an existing repository" }),
    nessie_jdbc_url: v.str({ default: 'jdbc:postgresql://pg-vip:5432/nessie', pattern: '^jdbc:postgresql://', doc: "the version store's database (the seed: jdbc:postgresql://pg-vip:5432/nessie)" }),
    nessie_jdbc_username: v.str({ default: 'nessie', doc: 'database user (owner of the nessie database)' }),
    nessie_jdbc_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "database password (secret): only in /etc/nessie/secrets.env; empty: the one generated for the owner on nessie_database_group's cluster (cluster value db_password_<nessie_jdbc_username>)" }),
    nessie_database_group: v.str({ default: 'patroni', emptyAllowed: true, doc: 'inventory group of the PostgreSQL cluster holding the database, whose generated owner password the role reads when nessie_jdbc_password is empty; empty: none' }),
    nessie_jdbc_max_pool_size: v.int({ default: 20, minimum: 1, maximum: 1000, doc: 'quarkus.datasource.postgresql.jdbc.max-size: connections per node (3 nodes x this must fit max_connections)' }),
    nessie_default_branch: v.str({ default: 'main', pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$', doc: 'nessie.server.default-branch' }),
    nessie_default_warehouse: v.str({ default: 'warehouse', pattern: '^[A-Za-z0-9_-]+$', doc: 'nessie.catalog.default-warehouse (one of nessie_warehouses)' }),
    nessie_warehouses: v.map<string>({ type: 'string', pattern: '^[a-z0-9]+://' }, { default: { warehouse: 's3://datalyptica-warehouse/iceberg' }, doc: "Iceberg REST warehouses: name -> location (the seed's s3://datalyptica-warehouse/iceberg); {} for none" }),
    nessie_s3_endpoint: v.str({ default: '', emptyAllowed: true, doc: "S3 endpoint of the warehouses (the seeds' enterprise object storage, e.g. https://s3.enterprise.local); empty: AWS" }),
    nessie_s3_region: v.str({ default: 'us-east-1', doc: 'S3 region' }),
    nessie_s3_path_style_access: v.bool({ default: false, doc: 'path-style S3 URLs (MinIO and most on-premises S3)' }),
    nessie_s3_access_key_id: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'S3 access key id (secret); empty with the secret key: none configured' }),
    nessie_s3_secret_access_key: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'S3 secret access key (secret)' }),
    nessie_object_stores_health_check: v.bool({ default: true, doc: "readiness includes every warehouse's object store (nessie.catalog.object-stores.health-check.enabled)" }),
    nessie_extra_properties: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more application.properties entries (Nessie refuses keys it does not know)' }),
    nessie_java_home: v.str({ default: '', pattern: '^(|/.*)$', emptyAllowed: true, doc: "JAVA_HOME of the server; empty: the java role's smallest JDK 21+" }),
    nessie_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds a node may take to become ready after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const nv = vars as unknown as NessieVars;
    const out: string[] = [];
    if (!group(vars.nessie_group).some((p) => p.name === host.name)) out.push(`host ${host.name} runs nessie but is not in group ${vars.nessie_group}`);
    if (!nessieReleaseOf(vars.nessie_version, vars.nessie_sha512)) {
      out.push(`nessie_version ${vars.nessie_version}: not in the artifact catalogue (it has 0.99.0): set nessie_sha512 to the sha512 of org/projectnessie/nessie/nessie-quarkus/${vars.nessie_version}/nessie-quarkus-${vars.nessie_version}-runner.jar`);
    }
    const warehouses = Object.keys(vars.nessie_warehouses);
    if (warehouses.length && !warehouses.includes(vars.nessie_default_warehouse)) {
      out.push(`nessie_default_warehouse ${vars.nessie_default_warehouse} is not one of nessie_warehouses (${warehouses.join(', ')})`);
    }
    if ((vars.nessie_s3_access_key_id === '') !== (vars.nessie_s3_secret_access_key === '')) out.push('nessie_s3_access_key_id and nessie_s3_secret_access_key go together: give both or neither');
    if (vars.nessie_jdbc_password === '' && !(vars.nessie_database_group && group(vars.nessie_database_group).length)) {
      out.push(`nessie_jdbc_password is empty and nessie_database_group ${JSON.stringify(vars.nessie_database_group)} names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster's group`);
    }
    if (vars.nessie_port === vars.nessie_management_port) out.push(`nessie_port and nessie_management_port are both ${vars.nessie_port}`);
    const fixed = roleKeys(nv);
    for (const k of Object.keys(vars.nessie_extra_properties)) if (fixed.has(k)) out.push(`nessie_extra_properties.${k}: set by the role from its own variables`);
    try {
      heapMb(vars.nessie_heap);
    } catch (e) {
      out.push((e as Error).message);
    }
    if (!vars.nessie_java_home) {
      const need = javaMajorFor(vars.nessie_version);
      const pkg = Number(host.vars.java_package_version ?? 17);
      const archives = Array.isArray(host.vars.java_archive_releases) ? (host.vars.java_archive_releases as string[]) : [];
      const majors = [pkg, ...archives.map((r) => Number(String(r).split(/[.+]/)[0]))];
      if (!majors.some((m) => m >= need)) {
        out.push(`Nessie ${vars.nessie_version} needs Java ${need} or newer and host ${host.name} gets Java ${majors.join(', ')}: add a Temurin release to java_archive_releases (e.g. ["23.0.2+7"]) or set nessie_java_home`);
      }
    }
    return out;
  },

  clusterValues: ({ vars }) => dbPassword(vars).declare,

  declares: ({ vars }) => ({
    ports: [
      { port: vars.nessie_port, variable: 'nessie_port', description: 'Nessie REST API and Iceberg REST catalog' },
      { port: vars.nessie_management_port, variable: 'nessie_management_port', description: 'Nessie management (health, metrics)' },
    ],
    // the heap and a third more (metaspace, threads, direct buffers): the seed's 4 GB for a 3g heap
    memoryMb: Math.round((heapMb(vars.nessie_heap) * 4) / 3),
    cpus: 2, // the seeds' figure (datalyptica-minimal-5vm.md: 2 CPUs per node)
    serves: [vars.nessie_group],
  }),

  rollout: ({ vars, host }) => ({
    services: ['nessie'],
    health: {
      command: `${readyCheck(host.address, vars.nessie_management_port)} && ${apiCheck(host.address, vars.nessie_port, vars.nessie_default_branch)}`,
      description: `Nessie on ${host.name} ready and serving the repository`,
      timeoutSec: vars.nessie_health_timeout,
      intervalSec: 2,
    },
  }),

  operations: ({ vars, host, exported, cluster }) => {
    const nv = { ...vars, nessie_jdbc_password: dbPassword(vars).value(cluster) } as unknown as NessieVars;
    const rel = nessieReleaseOf(vars.nessie_version, vars.nessie_sha512);
    if (!rel) throw new Error(`nessie_version ${vars.nessie_version} is not in the artifact catalogue: set nessie_sha512`);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.nessie_sha512 || undefined });
    const root = vars.nessie_install_root;
    const user = vars.nessie_user;
    const need = javaMajorFor(vars.nessie_version);
    const javaHome = vars.nessie_java_home || pickJavaHome((exported('java').java_homes ?? {}) as Record<string, string>, need);
    if (!javaHome) throw new Error(`Nessie ${vars.nessie_version} needs Java ${need}+: the java role exports no such JDK on ${host.name} (java_archive_releases)`);
    return [
      ops.packages({ names: ['curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: vars.nessie_data_dir, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url: src.url, sha512: src.sha512!, dest: `${root}/releases/${rel.version}`, link: `${root}/current`, unpack: false }),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.dir({ path: vars.nessie_data_dir, owner: user, group: user, mode: 0o750 }),
      ops.file({ path: CONFIG_FILE, content: applicationProperties(nv), owner: 'root', group: user, mode: 0o640, notify: ['nessie'] }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(nv), owner: 'root', group: user, mode: 0o640, secret: true, notify: ['nessie'] }),
      ops.unit({ name: 'nessie.service', content: unit(nv, javaHome, rel.version), notify: ['nessie'], resources: serviceLimits(host.vars, 'nessie') }),
      ops.service({ name: 'nessie', enabled: true, state: 'started' }),
      ops.healthCheck({
        name: `Nessie ready on ${host.name} (/q/health/ready on ${vars.nessie_management_port}) and serving branch ${vars.nessie_default_branch} on ${vars.nessie_port}`,
        command: `${readyCheck(host.address, vars.nessie_management_port)} && ${apiCheck(host.address, vars.nessie_port, vars.nessie_default_branch)}`,
        timeoutS: vars.nessie_health_timeout,
        intervalS: 2,
      }),
    ];
  },
});

const dbPassword = (vars: { nessie_jdbc_password: string; nessie_jdbc_username: string; nessie_database_group: string }) =>
  serviceDatabasePassword({ password: vars.nessie_jdbc_password, owner: vars.nessie_jdbc_username, group: vars.nessie_database_group });

/** The release of a version: the catalogue's, or (for one it lacks, e.g. the seeds' 0.98.2) Maven Central's layout with the inventory's sha512. */
export function nessieReleaseOf(version: string, sha512: string): Release | undefined {
  try {
    return release('nessie', version);
  } catch {
    if (!sha512) return undefined;
    return nessieRelease(version, sha512.toLowerCase(), 'the inventory (nessie_sha512)');
  }
}
