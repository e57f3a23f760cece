/**
 * The keycloak role on three simulated hosts as datalyptica-minimal-5vm.md runs it on VM1-3 (a cluster of 3 on 8080),
 * on PostgreSQL: Debian's PostgreSQL 15 on kc1 (the postgresql role; the seeds' Patroni cluster is another role's
 * test). Real software: Keycloak 26.0.7's distribution zip from Maven Central (the seeds' version), checked against the
 * catalogue's sha512 and served to the hosts as artifact_mirror; Debian's OpenJDK 17 from the java role.
 * Scaled for the small simulated hosts: 512m heaps instead of the seed's 3g (4 GB per node), a pool of 20 database
 * connections per node (Keycloak's default 100 x 3 would pass PostgreSQL's 100).
 *   - `--check` on fresh hosts says exactly what the first run changes (kc.sh build on each host included);
 *   - the three nodes form one Infinispan cluster over TCP without multicast (a view of 3 members in each log);
 *   - a realm created through the admin REST API on kc1 is read on kc2; after kc2 has cached it, a change made on kc1
 *     is seen on kc2 (the cluster's invalidation); the realm imported from the inventory's file is there;
 *   - secrets only in secrets.env (0640); a rerun and a `--check` change nothing;
 *   - a changed build option runs kc.sh build once per node (rolled), a changed runtime option none.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, handlers, useRoleTest, waitFor } from '../helpers/role-test.js';

const KEYCLOAK = '26.0.7';
const DB_PASSWORD = 'Kc-db-pw-3141';
const ADMIN_PASSWORD = 'Kc-admin-pw-2718';
const HOSTS = ['kc1', 'kc2', 'kc3'];
const art = useArtifactMirror([{ service: 'keycloak', version: KEYCLOAK, official: true }]);
const realmFile = join(mkdtempSync(join(tmpdir(), 'orch-kc-realm-')), 'imported-realm.json');
writeFileSync(realmFile, JSON.stringify({ realm: 'imported', enabled: true, displayName: 'Imported from the inventory' }));


const t = useRoleTest({
  name: 'keycloak',
  hosts: [
    { name: 'kc1', groups: ['keycloak', 'postgresql'], memoryMb: 2048 },
    { name: 'kc2', groups: ['keycloak'], memoryMb: 1536 },
    { name: 'kc3', groups: ['keycloak'], memoryMb: 1536 },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'databases', hosts: 'postgresql', roles: ['postgresql'] },
    { name: 'iam', hosts: 'keycloak', roles: ['keycloak'] },
  ],
  vars: () => vars(),
});

function vars(): Record<string, unknown> {
  return {
    artifact_mirror: art.url,
    keycloak_heap: '512m',
    keycloak_db_url: `jdbc:postgresql://${t.sim.host('kc1').address}:5432/keycloak`,
    keycloak_db_password: DB_PASSWORD,
    keycloak_bootstrap_admin_password: ADMIN_PASSWORD,
    keycloak_runtime_options: { 'db-pool-max-size': 20 },
    keycloak_realm_import_files: [realmFile],
    keycloak_health_timeout: 420,
    postgresql_repository: 'distribution',
    postgresql_version: '15',
    postgresql_instances: [{ name: 'main', port: 5432, memory_mb: 256, databases: [{ name: 'keycloak', owner: 'keycloak' }] }],
    postgresql_passwords: { keycloak: DB_PASSWORD },
  };
}
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });
const base = (host: string) => `http://${t.sim.host(host).address}:8080`;

/** an admin token from a node (tokens carry the node's URL as issuer: hostname-strict=false) */
async function token(host: string): Promise<string> {
  const r = await fetch(`${base(host)}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (!r.ok) throw new Error(`token from ${host}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}
async function admin(host: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: any }> {
  const r = await fetch(`${base(host)}/admin${path}`, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${await token(host)}`, 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}
const builds = (events: Parameters<typeof changed>[0]) => changed(events).filter((c) => / command kc\.sh build /.test(c));
/** the last Infinispan cluster view in a node's journal: its member count */
async function viewSize(host: string): Promise<number> {
  const out = (await t.sh(host, "journalctl -u keycloak --no-pager | grep -o 'ISPN000094: Received new cluster view for channel ISPN: \\[[^]]*\\] ([0-9]*)' | tail -1")).stdout;
  const m = /\((\d+)\)\s*$/.exec(out.trim());
  return m ? Number(m[1]) : 0;
}

describe('keycloak: a cluster of 3 on PostgreSQL (datalyptica-minimal-5vm VM1-3)', () => {
  let predicted: string[] = [];

  it('--check on the fresh hosts lists what the first run will do', async () => {
    // a UTF8 database, as on a real Debian VM (the simulated host's locale is C; see role-nessie.test.ts)
    await t.on('kc1', `mkdir -p /etc/postgresql-common/createcluster.d && printf '%s\\n' "initdb_options = '--encoding=UTF8 --locale=C.UTF-8'" >/etc/postgresql-common/createcluster.d/utf8.conf`);
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    expect(builds(events).sort()).toEqual(HOSTS.map((h) => `${h} command kc.sh build (db=postgres health-enabled=true metrics-enabled=true)`));
    for (const p of [`kc2 artifact /opt/keycloak/releases/${KEYCLOAK}`, 'kc3 file /etc/keycloak/keycloak.conf', 'kc1 file /etc/keycloak/secrets.env', 'kc1 file /etc/keycloak/import/imported-realm.json', 'kc2 unit /etc/systemd/system/keycloak.service']) {
      expect(predicted).toContain(p);
    }
  });

  it('exactly as --check said; one cluster of 3; a realm made on kc1 is read, and its change seen, on kc2; the imported realm exists', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) console.log(`[keycloak] kc2's journal:\n${(await t.sh('kc2', 'journalctl -u keycloak --no-pager -n 60 | cut -c1-300')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[keycloak] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    for (const h of HOSTS) {
      const r = await fetch(`http://${t.sim.host(h).address}:9000/health/ready`);
      expect(r.status).toBe(200);
    }
    const views = await waitFor(() => Promise.all(HOSTS.map(viewSize)), (v) => v.every((n) => n === 3), 180_000, 2000);
    console.log(`[keycloak] cluster views ${views.value.join(', ')} after ${views.seconds.toFixed(1)} s`);
    expect(views.value).toEqual([3, 3, 3]);

    expect((await admin('kc1', '/realms', { method: 'POST', body: { realm: 'datalyptica', enabled: true, displayName: 'Datalyptica' } })).status).toBe(201);
    const read = await admin('kc2', '/realms/datalyptica');
    expect(read.status).toBe(200);
    expect(read.json.displayName).toBe('Datalyptica');
    // kc2 now holds the realm in its local cache: a change on kc1 reaches it only through the cluster's invalidation
    expect((await admin('kc1', '/realms/datalyptica', { method: 'PUT', body: { displayName: 'Datalyptica IAM' } })).status).toBe(204);
    const seen = await waitFor(async () => (await admin('kc2', '/realms/datalyptica')).json.displayName, (x) => x === 'Datalyptica IAM', 20_000, 500);
    expect(seen.value).toBe('Datalyptica IAM');
    expect((await admin('kc3', '/realms/imported')).json).toMatchObject({ realm: 'imported', displayName: 'Imported from the inventory' });

    const conf = await t.on('kc2', 'cat /etc/keycloak/keycloak.conf');
    expect(conf).toContain('proxy-headers=xforwarded\n');
    expect(conf).not.toContain(DB_PASSWORD);
    expect(await t.on('kc2', "stat -c '%a %U %G' /etc/keycloak/secrets.env /etc/keycloak/keycloak.conf")).toBe('640 root keycloak\n640 root keycloak\n');
    expect(await t.on('kc3', 'cat /opt/keycloak/current/.orch-build-options')).toBe('db=postgres\nhealth-enabled=true\nmetrics-enabled=true\n');
    const ps = (await t.on('kc3', 'ps -u keycloak -o args=')).trim();
    expect(ps).toMatch(/-Xms512m -Xmx512m/);
    expect(ps).toMatch(/-Djgroups\.bind\.address=/);
    expect(ps).toMatch(/start --optimized$/);
  });

  it('a rerun and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed build option: kc.sh build once on each node, restarts rolled host by host; a rerun builds nothing', async () => {
    const features = { keycloak_features: ['token-exchange'] };
    const { code, events } = await run({ vars: features });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(builds(events).sort()).toEqual(HOSTS.map((h) => `${h} command kc.sh build (db=postgres health-enabled=true metrics-enabled=true features=token-exchange)`));
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(builds(events).sort());
    const h = handlers(events);
    const order = h.filter((x) => x.endsWith('restart keycloak')).map((x) => x.split(' ')[0]);
    expect([...order].sort()).toEqual(HOSTS);
    for (let i = 1; i < order.length; i++) expect(h.indexOf(`${order[i - 1]} health keycloak`)).toBeLessThan(h.indexOf(`${order[i]} restart keycloak`));
    expect(await t.on('kc2', 'cat /opt/keycloak/current/.orch-build-options')).toBe('db=postgres\nhealth-enabled=true\nmetrics-enabled=true\nfeatures=token-exchange\n');
    const info = await admin('kc2', '/serverinfo');
    console.log(`[keycloak] disabled features after the build: ${JSON.stringify(info.json.profileInfo?.disabledFeatures)}`);
    expect(JSON.stringify(info.json.profileInfo?.disabledFeatures ?? [])).not.toMatch(/TOKEN_EXCHANGE/i);
    expect(JSON.stringify(info.json.profileInfo?.previewFeatures ?? [])).toMatch(/TOKEN_EXCHANGE/i);
    const rerun = await run({ vars: features });
    expect(changed(rerun.events)).toEqual([]);
  });

  it('a changed runtime option: keycloak.conf rewritten and the nodes restarted, no kc.sh build', async () => {
    const opts = { keycloak_features: ['token-exchange'], keycloak_log_level: 'warn' };
    const { code, events } = await run({ vars: opts });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(builds(events)).toEqual([]);
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(HOSTS.map((h) => `${h} file /etc/keycloak/keycloak.conf`));
    expect(handlers(events).filter((x) => x.endsWith('restart keycloak')).length).toBe(3);
    expect(await t.on('kc1', 'cat /etc/keycloak/keycloak.conf')).toContain('log-level=warn\n');
    expect((await admin('kc3', '/realms/datalyptica')).json.displayName).toBe('Datalyptica IAM');
    expect(changed((await run({ vars: opts })).events)).toEqual([]);
  });
});
