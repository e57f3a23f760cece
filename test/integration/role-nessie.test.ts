/**
 * The nessie role on three simulated hosts as datalyptica-minimal-5vm.md runs it on VM1-3 (three active nodes on
 * 19120), with the JDBC version store on PostgreSQL: Debian's PostgreSQL 15 on n1 (the postgresql role; the seeds'
 * Patroni cluster is another role's test). Real software: Nessie 0.99.0's runner jar from Maven Central (the seeds'
 * 0.98.2 is not served by the registry here; 0.99.0 is the next release), checked against the catalogue's sha512 and
 * served to the hosts as artifact_mirror with the JDK: Nessie 0.99 needs Java 21+, so the java role installs this
 * machine's Temurin JDK (packed in Adoptium's layout) beside Debian's OpenJDK 17 and nessie picks it.
 * Scaled for the small simulated hosts: 256m heaps instead of the seed's 3g (4 GB per node), a pool of 5
 * connections per node. No S3 here (MinIO is another role), so the warehouse's object store is left out of
 * readiness (nessie_object_stores_health_check: false); the Iceberg REST config still names the warehouse.
 *   - `--check` on fresh hosts says exactly what the first run changes;
 *   - a branch created through the REST API v2 (POST /api/v2/trees) on n1 is listed by n2 and n3;
 *   - /iceberg/v1/config on n3 serves the inventory's warehouse; the password is only in secrets.env (0640);
 *   - a rerun and a `--check` change nothing;
 *   - a changed setting restarts the nodes host by host behind the health check; the branch is still there.
 */
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

const NESSIE = '0.99.0';
const PG_PASSWORD = 'Nessie-db-pw-5';
const S3_SECRET = 'Nessie-s3-secret-9';
const art = useArtifactMirror([{ jdk: 21 }, { service: 'nessie', version: NESSIE, official: true }]);

const t = useRoleTest({
  name: 'nessie',
  hosts: [
    { name: 'n1', groups: ['nessie', 'postgresql'], memoryMb: 1536 },
    { name: 'n2', groups: ['nessie'], memoryMb: 1024 },
    { name: 'n3', groups: ['nessie'], memoryMb: 1024 },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'databases', hosts: 'postgresql', roles: ['postgresql'] },
    { name: 'catalog', hosts: 'nessie', roles: ['nessie'] },
  ],
  vars: () => vars(),
});

function vars(): Record<string, unknown> {
  return {
    artifact_mirror: art.url,
    java_archive_releases: [art.jdk().release],
    java_archive_sha256: art.jdk().sha256,
    nessie_version: NESSIE,
    nessie_heap: '256m',
    nessie_jdbc_max_pool_size: 5,
    nessie_jdbc_url: `jdbc:postgresql://${t.sim.host('n1').address}:5432/nessie`,
    nessie_jdbc_password: PG_PASSWORD,
    nessie_warehouses: { warehouse: 's3://datalyptica-warehouse/iceberg' },
    nessie_s3_endpoint: 'http://s3.invalid:9000',
    nessie_s3_path_style_access: true,
    nessie_s3_access_key_id: 'orch-test-access-key',
    nessie_s3_secret_access_key: S3_SECRET,
    nessie_object_stores_health_check: false,
    nessie_health_timeout: 90,
    postgresql_repository: 'distribution',
    postgresql_version: '15',
    postgresql_instances: [{ name: 'main', port: 5432, memory_mb: 256, databases: [{ name: 'nessie', owner: 'nessie' }] }],
    postgresql_passwords: { nessie: PG_PASSWORD },
  };
}
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });
const api = (host: string) => `http://${t.sim.host(host).address}:19120`;

async function json(url: string, init?: RequestInit): Promise<any> {
  const r = await fetch(url, init);
  const body = await r.text();
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${r.status} ${body}`);
  return JSON.parse(body);
}
const branches = async (host: string) => ((await json(`${api(host)}/api/v2/trees`)).references as Array<{ name: string; type: string; hash: string }>).map((r) => `${r.type} ${r.name}`).sort();

describe('nessie: three active nodes on PostgreSQL (datalyptica-minimal-5vm VM1-3)', () => {
  let predicted: string[] = [];

  it('--check on the fresh hosts lists what the first run will do', async () => {
    // Nessie's JDBC2 schema needs a UTF8 database (COLLATE "ucs_basic"); the simulated host's locale is C, so
    // pg_createcluster would make a SQL_ASCII cluster ("collation ucs_basic for encoding SQL_ASCII does not exist",
    // seen here). A real Debian VM's UTF-8 locale gives UTF8; this host is told so as postgresql-common reads it.
    await t.on('n1', `mkdir -p /etc/postgresql-common/createcluster.d && printf '%s\\n' "initdb_options = '--encoding=UTF8 --locale=C.UTF-8'" >/etc/postgresql-common/createcluster.d/utf8.conf`);
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      `n2 artifact /opt/nessie/releases/${NESSIE}`,
      'n3 file /etc/nessie/application.properties',
      'n1 file /etc/nessie/secrets.env',
      'n2 unit /etc/systemd/system/nessie.service',
    ]) {
      expect(predicted).toContain(p);
    }
  });

  it('exactly as --check said; a branch created on n1 is listed by n2 and n3; the Iceberg REST endpoint serves the warehouse', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) console.log(`[nessie] n1's journal:\n${(await t.sh('n1', 'journalctl -u nessie --no-pager -n 60 | cut -c1-400')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[nessie] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    for (const h of ['n1', 'n2', 'n3']) {
      const ready = await json(`http://${t.sim.host(h).address}:19121/q/health/ready`);
      expect(ready.status).toBe('UP');
      expect((ready.checks as Array<{ name: string; status: string }>).find((c) => c.name === 'Database connections health check')?.status).toBe('UP');
    }
    const main = (await json(`${api('n1')}/api/v2/trees/main`)).reference;
    expect(main).toMatchObject({ type: 'BRANCH', name: 'main' });
    const created = await json(`${api('n1')}/api/v2/trees?name=etl&type=BRANCH`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'BRANCH', name: 'main', hash: main.hash }),
    });
    expect(created.reference).toMatchObject({ type: 'BRANCH', name: 'etl', hash: main.hash });
    expect(await branches('n2')).toEqual(['BRANCH etl', 'BRANCH main']);
    expect(await branches('n3')).toEqual(['BRANCH etl', 'BRANCH main']);
    // the version store is the database: the repository's tables are in PostgreSQL's nessie database
    expect((await t.on('n1', `su postgres -c "psql -At -d nessie -c 'SHOW server_encoding'"`)).trim()).toBe('UTF8');
    const tables = (await t.on('n1', `su postgres -c "psql -At -d nessie -c 'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1'"`)).trim().split('\n');
    console.log(`[nessie] tables in PostgreSQL: ${tables.join(', ')}`);
    expect(tables.some((x) => /refs/.test(x)) && tables.some((x) => /objs/.test(x))).toBe(true);

    const iceberg = await json(`${api('n3')}/iceberg/v1/config`);
    expect(iceberg.defaults.warehouse).toBe('s3://datalyptica-warehouse/iceberg');
    expect(iceberg.overrides['s3.endpoint']).toBe('http://s3.invalid:9000');
    expect(iceberg.overrides.uri).toBe(`${api('n3')}/iceberg/`);

    // secrets only in the EnvironmentFile
    const props = await t.on('n2', 'cat /etc/nessie/application.properties');
    expect(props).toContain('quarkus.datasource.postgresql.password=${NESSIE_JDBC_PASSWORD}\n');
    expect(props).toContain('nessie.version.store.type=JDBC2\n');
    expect(props).not.toContain(PG_PASSWORD);
    expect(props).not.toContain(S3_SECRET);
    expect(await t.on('n2', "stat -c '%a %U %G' /etc/nessie/secrets.env /etc/nessie/application.properties")).toBe('640 root nessie\n640 root nessie\n');
    // the process: user nessie, the Temurin JDK the java role installed, the heap as configured
    const ps = (await t.on('n3', 'ps -u nessie -o user=,args=')).trim();
    expect(ps).toMatch(new RegExp(`^nessie +/usr/lib/jvm/temurin-${art.jdk().major}/bin/java -Xms256m -Xmx256m .*-jar /opt/nessie/releases/${NESSIE}/nessie-quarkus-${NESSIE}-runner.jar$`));
  });

  it('a rerun and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting restarts the nodes one host at a time behind the health check; the branch is still listed', async () => {
    const { code, events } = await run({ vars: { nessie_jdbc_max_pool_size: 6 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(['n1', 'n2', 'n3'].map((h) => `${h} file /etc/nessie/application.properties`));
    const h = handlers(events);
    expect([...h].sort()).toEqual(['n1 health nessie', 'n1 restart nessie', 'n2 health nessie', 'n2 restart nessie', 'n3 health nessie', 'n3 restart nessie']);
    // rolled: each host's health check passes before the next host restarts
    const order = h.filter((x) => x.endsWith('restart nessie')).map((x) => x.split(' ')[0]);
    for (let i = 1; i < order.length; i++) expect(h.indexOf(`${order[i - 1]} health nessie`)).toBeLessThan(h.indexOf(`${order[i]} restart nessie`));
    for (const host of ['n1', 'n2', 'n3']) expect(await branches(host)).toEqual(['BRANCH etl', 'BRANCH main']);
    const rerun = await run({ vars: { nessie_jdbc_max_pool_size: 6 } });
    expect(changed(rerun.events)).toEqual([]);
  });
});
