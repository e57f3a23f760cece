/**
 * Keycloak's files, typed: the build options (what `kc.sh build` bakes in) and their marker, keycloak.conf (the
 * runtime options), the Infinispan cache configuration with a JGroups stack that needs no multicast, the
 * EnvironmentFile with the secrets, the systemd unit and the health check.
 */
import { environmentFileValue } from '../../src/ops/index.js';
import type { PeerHost } from '../../src/role/define.js';

export const ETC = '/etc/keycloak';
export const CONF_FILE = `${ETC}/keycloak.conf`;
export const SECRETS_FILE = `${ETC}/secrets.env`;
export const CACHE_FILE_NAME = 'cache-ispn-orch.xml';
export const CACHE_FILE = `${ETC}/${CACHE_FILE_NAME}`;
export const IMPORT_DIR = `${ETC}/import`;
export const BUILD_MARKER = '.orch-build-options';
export const HEAP_PATTERN = '^[0-9]+[mMgG]$';

export type OptionValue = string | number | boolean;

export interface KeycloakVars {
  keycloak_version: string;
  keycloak_install_root: string;
  keycloak_user: string;
  keycloak_group: string;
  keycloak_http_port: number;
  keycloak_management_port: number;
  keycloak_cluster_port: number;
  keycloak_heap: string;
  keycloak_db_url: string;
  keycloak_db_username: string;
  keycloak_db_password: string;
  keycloak_hostname: string;
  keycloak_proxy_headers: 'xforwarded' | 'forwarded' | 'none';
  keycloak_http_relative_path: string;
  keycloak_metrics_enabled: boolean;
  keycloak_features: string[];
  keycloak_features_disabled: string[];
  keycloak_build_options: Record<string, OptionValue>;
  keycloak_runtime_options: Record<string, OptionValue>;
  keycloak_log_level: string;
  keycloak_bootstrap_admin_username: string;
  keycloak_bootstrap_admin_password: string;
  keycloak_realm_import_files: string[];
  keycloak_health_timeout: number;
}

export const releaseDir = (v: Pick<KeycloakVars, 'keycloak_install_root'>, version: string) => `${v.keycloak_install_root}/releases/${version}`;

/** a JVM size (`3g`, `512m`) in MiB */
export function heapMb(heap: string): number {
  const m = /^([0-9]+)([mMgG])$/.exec(heap);
  if (!m) throw new Error(`keycloak_heap ${JSON.stringify(heap)}: expected e.g. 3g or 512m`);
  return Number(m[1]) * (m[2].toLowerCase() === 'g' ? 1024 : 1);
}

/** Keycloak 26.0's build-time options (`kc.sh build --help`): only these may go to keycloak_build_options */
export const BUILD_TIME_OPTIONS = new Set([
  'db',
  'db-driver',
  'transaction-xa-enabled',
  'features',
  'features-disabled',
  'http-relative-path',
  'https-client-auth',
  'health-enabled',
  'http-management-relative-path',
  'https-management-client-auth',
  'legacy-observability-interface',
  'metrics-enabled',
  'vault',
  'fips-mode',
]);

function optionValue(k: string, x: OptionValue): string {
  const s = String(x);
  if (/[\n\r]/.test(s)) throw new Error(`Keycloak option ${k}: a value holds a newline`);
  return s;
}

/**
 * The build options, in a fixed order: PostgreSQL, health (the readiness check needs it) and metrics on, the
 * features, the relative path, then keycloak_build_options sorted. These are what `kc.sh build` bakes into
 * lib/quarkus; the marker holds them one per line.
 */
export function buildOptions(v: Pick<KeycloakVars, 'keycloak_metrics_enabled' | 'keycloak_features' | 'keycloak_features_disabled' | 'keycloak_http_relative_path' | 'keycloak_build_options'>): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['db', 'postgres'],
    ['health-enabled', 'true'],
    ['metrics-enabled', String(v.keycloak_metrics_enabled)],
  ];
  if (v.keycloak_features.length) out.push(['features', v.keycloak_features.join(',')]);
  if (v.keycloak_features_disabled.length) out.push(['features-disabled', v.keycloak_features_disabled.join(',')]);
  if (v.keycloak_http_relative_path !== '/') out.push(['http-relative-path', v.keycloak_http_relative_path]);
  const fixed = new Set(out.map(([k]) => k).concat(['features', 'features-disabled', 'http-relative-path']));
  for (const k of Object.keys(v.keycloak_build_options).sort()) {
    if (fixed.has(k)) throw new Error(`keycloak_build_options.${k}: set by the role from its own variables`);
    if (!BUILD_TIME_OPTIONS.has(k)) throw new Error(`keycloak_build_options.${k}: not a build option of Keycloak 26.0 (${[...BUILD_TIME_OPTIONS].join(', ')}); runtime options go to keycloak_runtime_options`);
    out.push([k, optionValue(k, v.keycloak_build_options[k])]);
  }
  return out;
}

/** what the marker in the release directory holds after a build with these options */
export const buildMarker = (opts: Array<[string, string]>) => opts.map(([k, x]) => `${k}=${x}`).join('\n') + '\n';

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The build as one POSIX sh script: `kc.sh build` with the options as arguments (the release's own conf/keycloak.conf
 * holds only comments), then the marker, written only when the build succeeded. And the guard: ok when the marker
 * holds exactly these options (a changed runtime option leaves it as it is: no build).
 */
export function buildCommand(dir: string, javaHome: string, opts: Array<[string, string]>): { run: string; unless: string } {
  const marker = `${dir}/${BUILD_MARKER}`;
  const args = opts.map(([k, x]) => sq(`--${k}=${x}`)).join(' ');
  return {
    run: [`JAVA_HOME=${sq(javaHome)} ${sq(`${dir}/bin/kc.sh`)} build ${args}`, `printf '%s' ${sq(buildMarker(opts))} >${sq(`${marker}.tmp`)}`, `mv -f ${sq(`${marker}.tmp`)} ${sq(marker)}`].join('\n'),
    unless: `[ "$(cat ${sq(marker)} 2>/dev/null; echo x)" = ${sq(`${buildMarker(opts)}x`)} ]`,
  };
}

/** keycloak.conf: the runtime options (database, HTTP behind the proxy, management port, hostname, caches, logging) */
export function keycloakConf(v: KeycloakVars): string {
  const entries: Array<[string, OptionValue]> = [
    ['db-url', v.keycloak_db_url],
    ['db-username', v.keycloak_db_username],
    ['http-enabled', true],
    ['http-port', v.keycloak_http_port],
    ['http-management-port', v.keycloak_management_port],
    ...(v.keycloak_hostname ? ([['hostname', v.keycloak_hostname]] as Array<[string, OptionValue]>) : ([['hostname-strict', false]] as Array<[string, OptionValue]>)),
    ...(v.keycloak_proxy_headers !== 'none' ? ([['proxy-headers', v.keycloak_proxy_headers]] as Array<[string, OptionValue]>) : []),
    ['cache', 'ispn'],
    ['cache-config-file', CACHE_FILE_NAME],
    ['log-level', v.keycloak_log_level],
  ];
  const fixed = new Set(entries.map(([k]) => k).concat(['hostname', 'hostname-strict', 'proxy-headers', 'db-password', 'db', 'cache-stack']));
  for (const k of Object.keys(v.keycloak_runtime_options).sort()) {
    if (fixed.has(k)) throw new Error(`keycloak_runtime_options.${k}: set by the role from its own variables`);
    if (BUILD_TIME_OPTIONS.has(k)) throw new Error(`keycloak_runtime_options.${k}: a build option (it takes kc.sh build): put it in keycloak_build_options`);
    entries.push([k, v.keycloak_runtime_options[k]]);
  }
  return (
    '# Managed by orch (role keycloak): runtime options; the build options are baked in by kc.sh build (see the role doc)\n' +
    '# db-password, the bootstrap admin: from the EnvironmentFile /etc/keycloak/secrets.env\n' +
    entries.map(([k, x]) => `${k}=${optionValue(k, x)}`).join('\n') +
    '\n'
  );
}

/** the cluster members JGroups' TCPPING contacts: every host of the group, address[port], in inventory order */
export function initialHosts(group: PeerHost[], port: number): string {
  return group.map((p) => `${p.address}[${Number(p.vars.keycloak_cluster_port ?? port)}]`).join(',');
}

/**
 * The Infinispan configuration: Keycloak 26.0.7's own conf/cache-ispn.xml (the same caches, owners and limits) with
 * its transport on a JGroups stack `orch-tcpping`: the `tcp` stack with MPING (multicast discovery) replaced by
 * TCPPING over the inventory's members. Keycloak 26.0 offers no stack that needs neither multicast nor a cloud API
 * (its cache-stack values: tcp, udp, kubernetes, ec2, azure, google; jdbc-ping comes with 26.1).
 */
export function cacheConfig(members: string): string {
  if (!/^[0-9A-Za-z.:\-[\],]+$/.test(members)) throw new Error(`keycloak cluster members ${JSON.stringify(members)}: expected address[port],...`);
  const localCache = (name: string, memory: string, expiration = '') => `        <local-cache name="${name}" simple-cache="true">
            <encoding>
                <key media-type="application/x-java-object"/>
                <value media-type="application/x-java-object"/>
            </encoding>
${expiration ? `            ${expiration}\n` : ''}            <memory max-count="${memory}"/>
        </local-cache>`;
  const distributed = (name: string, owners: number, memory = true) => `        <distributed-cache name="${name}" owners="${owners}">
            <expiration lifespan="-1"/>
${memory ? '            <memory max-count="10000"/>\n' : ''}        </distributed-cache>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Managed by orch (role keycloak): Keycloak 26.0.7's conf/cache-ispn.xml, clustered over TCP without multicast -->
<infinispan
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:schemaLocation="urn:infinispan:config:15.0 http://www.infinispan.org/schemas/infinispan-config-15.0.xsd"
        xmlns="urn:infinispan:config:15.0">

    <jgroups>
        <!-- the tcp stack, discovery by TCPPING over the inventory's Keycloak hosts instead of MPING (multicast) -->
        <stack name="orch-tcpping" extends="tcp">
            <TCPPING initial_hosts="${members}" port_range="0" stack.combine="REPLACE" stack.position="MPING"/>
        </stack>
    </jgroups>

    <cache-container name="keycloak">
        <transport lock-timeout="60000" stack="orch-tcpping"/>
${localCache('realms', '10000')}
${localCache('users', '10000')}
${distributed('sessions', 1)}
${distributed('authenticationSessions', 2, false)}
${distributed('offlineSessions', 1)}
${distributed('clientSessions', 1)}
${distributed('offlineClientSessions', 1)}
${distributed('loginFailures', 2, false)}
${localCache('authorization', '10000')}
        <replicated-cache name="work">
            <expiration lifespan="-1"/>
        </replicated-cache>
${localCache('keys', '1000', '<expiration max-idle="3600000"/>')}
        <distributed-cache name="actionTokens" owners="2">
            <encoding>
                <key media-type="application/x-java-object"/>
                <value media-type="application/x-java-object"/>
            </encoding>
            <expiration max-idle="-1" lifespan="-1" interval="300000"/>
            <memory max-count="-1"/>
        </distributed-cache>
    </cache-container>
</infinispan>
`;
}

/** a secret's value in secrets.env (systemd's EnvironmentFile quoting) */
const envValue = (name: string, x: string) => environmentFileValue(x, `${name}: a secret holds a newline`);

/** secrets.env (0640 root:keycloak): the database password and the bootstrap admin (used once, on the first start) */
export function secretsEnv(v: Pick<KeycloakVars, 'keycloak_db_password' | 'keycloak_bootstrap_admin_username' | 'keycloak_bootstrap_admin_password'>): string {
  return [
    '# Managed by orch (role keycloak): secrets, as systemd reads an EnvironmentFile',
    `KC_DB_PASSWORD=${envValue('keycloak_db_password', v.keycloak_db_password)}`,
    `KC_BOOTSTRAP_ADMIN_USERNAME=${envValue('keycloak_bootstrap_admin_username', v.keycloak_bootstrap_admin_username)}`,
    `KC_BOOTSTRAP_ADMIN_PASSWORD=${envValue('keycloak_bootstrap_admin_password', v.keycloak_bootstrap_admin_password)}`,
  ].join('\n') + '\n';
}

/** keycloak.service: `kc.sh start --optimized` of the release, the heap and the JGroups address from the inventory */
export function unit(v: Pick<KeycloakVars, 'keycloak_user' | 'keycloak_heap' | 'keycloak_install_root' | 'keycloak_cluster_port'>, o: { javaHome: string; version: string; address: string; importRealm: boolean }): string {
  heapMb(v.keycloak_heap);
  const dir = releaseDir(v, o.version);
  return `# Managed by orch (role keycloak)
[Unit]
Description=Keycloak ${o.version}
Documentation=https://www.keycloak.org/server/configuration-production
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${v.keycloak_user}
Group=${v.keycloak_user}
Environment=JAVA_HOME=${o.javaHome}
Environment="JAVA_OPTS_KC_HEAP=-Xms${v.keycloak_heap} -Xmx${v.keycloak_heap}"
Environment="JAVA_OPTS_APPEND=-Djgroups.bind.address=${o.address} -Djgroups.bind.port=${v.keycloak_cluster_port} -Djava.net.preferIPv4Stack=true"
EnvironmentFile=${SECRETS_FILE}
ExecStart=${dir}/bin/kc.sh --config-file=${CONF_FILE} start --optimized${o.importRealm ? ' --import-realm' : ''}
LimitNOFILE=65536
Restart=on-failure
RestartSec=10
TimeoutStopSec=120
SuccessExitStatus=143

[Install]
WantedBy=multi-user.target
`;
}

/** POSIX sh: exit 0 once Keycloak on `address` is ready (/health/ready on the management port answers 200) */
export function readyCheck(address: string, managementPort: number, relativePath = '/'): string {
  const path = relativePath === '/' ? '' : relativePath.replace(/\/$/, '');
  return `curl -fsS --max-time 5 -o /dev/null http://${address}:${managementPort}${path}/health/ready`;
}

/** the Java major Keycloak 26 needs: 17 or 21 (Debian's OpenJDK 17 does) */
export const JAVA_MIN = 17;
