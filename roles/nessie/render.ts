/**
 * Nessie's files, typed: application.properties (the Quarkus configuration the runner jar reads through
 * quarkus.config.locations), the EnvironmentFile holding its secrets, the systemd unit and the health checks.
 */
import { environmentFileValue } from '../../src/ops/index.js';
export const ETC = '/etc/nessie';
export const CONFIG_FILE = `${ETC}/application.properties`;
export const SECRETS_FILE = `${ETC}/secrets.env`;
export const HEAP_PATTERN = '^[0-9]+[mMgG]$';

export interface NessieVars {
  nessie_version: string;
  nessie_install_root: string;
  nessie_user: string;
  nessie_group: string;
  nessie_port: number;
  nessie_management_port: number;
  nessie_heap: string;
  nessie_data_dir: string;
  nessie_version_store_type: 'JDBC2' | 'JDBC';
  nessie_jdbc_url: string;
  nessie_jdbc_username: string;
  nessie_jdbc_password: string;
  nessie_jdbc_max_pool_size: number;
  nessie_default_branch: string;
  nessie_default_warehouse: string;
  nessie_warehouses: Record<string, string>;
  nessie_s3_endpoint: string;
  nessie_s3_region: string;
  nessie_s3_path_style_access: boolean;
  nessie_s3_access_key_id: string;
  nessie_s3_secret_access_key: string;
  nessie_object_stores_health_check: boolean;
  nessie_extra_properties: Record<string, string | number | boolean>;
  nessie_health_timeout: number;
}

/** the runner jar of a release under the install root (the unit names it, so an upgrade changes the unit) */
export const jarPath = (v: Pick<NessieVars, 'nessie_install_root'>, version: string) => `${v.nessie_install_root}/releases/${version}/nessie-quarkus-${version}-runner.jar`;

/** a JVM size (`3g`, `1536m`) in MiB */
export function heapMb(heap: string): number {
  const m = /^([0-9]+)([mMgG])$/.exec(heap);
  if (!m) throw new Error(`nessie_heap ${JSON.stringify(heap)}: expected e.g. 3g or 1536m`);
  return Number(m[1]) * (m[2].toLowerCase() === 'g' ? 1024 : 1);
}

function value(x: string | number | boolean): string {
  const s = String(x);
  if (/[\n\r]/.test(s)) throw new Error(`a Nessie property value holds a newline: ${JSON.stringify(s.slice(0, 40))}`);
  return s;
}

/** the environment variables of secrets.env, read by application.properties as ${NAME} */
export const ENV = {
  jdbcPassword: 'NESSIE_JDBC_PASSWORD',
  s3AccessKeyId: 'NESSIE_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'NESSIE_S3_SECRET_ACCESS_KEY',
} as const;

/** Quarkus config keys the role sets from its own variables (nessie_extra_properties may not set them) */
export function roleKeys(v: NessieVars): Set<string> {
  return new Set(Object.keys(propertiesOf(v)));
}

const hasS3Credentials = (v: Pick<NessieVars, 'nessie_s3_access_key_id' | 'nessie_s3_secret_access_key'>) => v.nessie_s3_access_key_id !== '' || v.nessie_s3_secret_access_key !== '';

function propertiesOf(v: NessieVars): Record<string, string | number | boolean> {
  const p: Record<string, string | number | boolean> = {
    'quarkus.http.port': v.nessie_port,
    'quarkus.management.port': v.nessie_management_port,
    'nessie.server.default-branch': v.nessie_default_branch,
    // the seed's version store: PostgreSQL through JDBC (JDBC2 is the current schema; JDBC is deprecated since 0.9x)
    'nessie.version.store.type': v.nessie_version_store_type,
    'nessie.version.store.persist.jdbc.datasource': 'postgresql',
    'quarkus.datasource.postgresql.jdbc.url': v.nessie_jdbc_url,
    'quarkus.datasource.postgresql.username': v.nessie_jdbc_username,
    'quarkus.datasource.postgresql.password': `\${${ENV.jdbcPassword}}`,
    'quarkus.datasource.postgresql.jdbc.max-size': v.nessie_jdbc_max_pool_size,
  };
  const warehouses = Object.entries(v.nessie_warehouses);
  if (warehouses.length) {
    p['nessie.catalog.default-warehouse'] = v.nessie_default_warehouse;
    for (const [name, location] of warehouses) p[`nessie.catalog.warehouses.${name}.location`] = location;
    if (v.nessie_s3_endpoint) p['nessie.catalog.service.s3.default-options.endpoint'] = v.nessie_s3_endpoint;
    p['nessie.catalog.service.s3.default-options.region'] = v.nessie_s3_region;
    p['nessie.catalog.service.s3.default-options.path-style-access'] = v.nessie_s3_path_style_access;
    if (hasS3Credentials(v)) {
      // Nessie resolves urn:nessie-secret:quarkus:<key> to <key>.name / <key>.secret of its configuration
      p['nessie.catalog.service.s3.default-options.access-key'] = 'urn:nessie-secret:quarkus:orch-secrets.s3-default';
      p['orch-secrets.s3-default.name'] = `\${${ENV.s3AccessKeyId}}`;
      p['orch-secrets.s3-default.secret'] = `\${${ENV.s3SecretAccessKey}}`;
    }
  }
  p['nessie.catalog.object-stores.health-check.enabled'] = v.nessie_object_stores_health_check;
  return p;
}

/**
 * application.properties: HTTP and management ports, the JDBC version store on PostgreSQL (the password only as
 * ${NESSIE_JDBC_PASSWORD} from secrets.env), the Iceberg REST catalog's warehouses and S3 options, then
 * nessie_extra_properties. Nessie validates its configuration (quarkus.config.mapping.validate-unknown): a key it does
 * not know stops it at start-up.
 */
export function applicationProperties(v: NessieVars): string {
  const p = propertiesOf(v);
  for (const [k, x] of Object.entries(v.nessie_extra_properties)) {
    if (k in p) throw new Error(`nessie_extra_properties.${k}: set by the role from its own variables`);
    p[k] = x;
  }
  return `# Managed by orch (role nessie)\n${Object.entries(p).map(([k, x]) => `${k}=${value(x)}`).join('\n')}\n`;
}

/** a secret's value in secrets.env (systemd's EnvironmentFile quoting) */
const envValue = (name: string, x: string) => environmentFileValue(x, `${name}: a secret holds a newline`);

/** secrets.env (0640 root:nessie): the database password and the S3 credentials, as systemd's EnvironmentFile reads them */
export function secretsEnv(v: Pick<NessieVars, 'nessie_jdbc_password' | 'nessie_s3_access_key_id' | 'nessie_s3_secret_access_key'>): string {
  const lines = [`${ENV.jdbcPassword}=${envValue('nessie_jdbc_password', v.nessie_jdbc_password)}`];
  if (hasS3Credentials(v)) {
    lines.push(`${ENV.s3AccessKeyId}=${envValue('nessie_s3_access_key_id', v.nessie_s3_access_key_id)}`, `${ENV.s3SecretAccessKey}=${envValue('nessie_s3_secret_access_key', v.nessie_s3_secret_access_key)}`);
  }
  return `# Managed by orch (role nessie): secrets application.properties reads as \${NAME}\n${lines.join('\n')}\n`;
}

/** nessie.service: the runner jar of the release in the foreground, the configuration from /etc/nessie */
export function unit(v: Pick<NessieVars, 'nessie_user' | 'nessie_heap' | 'nessie_data_dir' | 'nessie_install_root'>, javaHome: string, version: string): string {
  heapMb(v.nessie_heap);
  return `# Managed by orch (role nessie)
[Unit]
Description=Project Nessie ${version}
Documentation=https://projectnessie.org/nessie-latest/configuration/
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${v.nessie_user}
Group=${v.nessie_user}
WorkingDirectory=${v.nessie_data_dir}
Environment=JAVA_HOME=${javaHome}
EnvironmentFile=${SECRETS_FILE}
ExecStart=${javaHome}/bin/java -Xms${v.nessie_heap} -Xmx${v.nessie_heap} -XX:+ExitOnOutOfMemoryError -Dquarkus.config.locations=${CONFIG_FILE} -jar ${jarPath(v, version)}
LimitNOFILE=65536
Restart=on-failure
RestartSec=10
TimeoutStopSec=60
SuccessExitStatus=143

[Install]
WantedBy=multi-user.target
`;
}

/** POSIX sh: exit 0 once Nessie on `address` is ready (its management interface's /q/health/ready answers 200: UP) */
export function readyCheck(address: string, managementPort: number): string {
  return `curl -fsS --max-time 5 -o /dev/null http://${address}:${managementPort}/q/health/ready`;
}

/** POSIX sh: exit 0 once the REST API serves the repository (GET /api/v2/config names the default branch) */
export function apiCheck(address: string, port: number, branch: string): string {
  return `curl -fsS --max-time 5 http://${address}:${port}/api/v2/config | grep -q '"defaultBranch" *: *"${branch}"'`;
}

/** the Java major a Nessie server release needs: 0.99.0's classes are Java 21 bytecode (class file 65) */
export function javaMajorFor(_version: string): number {
  return 21;
}

