/**
 * The trino role on two simulated hosts laid out as datalyptica-minimal-5vm.md's data plane: tc runs the coordinator
 * that is also a worker (VM4's "coordinator + worker" on 8080), tw two workers (VM5's 8080 and 8081: instances
 * trino@1, trino@2). Real software: Trino 470's server tarball from Maven Central (the seeds' 469 is not served by
 * the registry here; 470 is the next release, same Java 23 requirement), checked against the catalogue's sha512 and
 * served to the hosts as artifact_mirror together with the JDK: the java role installs this machine's Temurin 25 JDK
 * (packed in Adoptium's archive layout) beside Debian's OpenJDK 17, and trino picks it. Debian's PostgreSQL 15 on tc
 * (the postgresql role) backs a postgresql catalog whose password reaches Trino only through secrets.env.
 * The simulated hosts are small: 1G heaps instead of the seed's 26G.
 *   - `--check` on fresh hosts says exactly what the first run changes;
 *   - system.runtime.nodes through the coordinator lists 3 active nodes (1 coordinator); SHOW CATALOGS lists the
 *     inventory's; a table written through the memory catalog reads back; a row inserted with psql reads back
 *     through the postgresql catalog; the catalog file holds no password;
 *   - a rerun and a `--check` change nothing;
 *   - a catalog taken out of the inventory is removed and the processes restart (rolled), the others keep node.id.
 */
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

const TRINO = '470';
const PG_PASSWORD = 'Trino-reader-pw-7';
const art = useArtifactMirror([{ jdk: 23 }, { service: 'trino', version: TRINO, official: true }]);

const t = useRoleTest({
  name: 'trino',
  hosts: [
    { name: 'tc', groups: ['trino_coordinator', 'trino_worker', 'postgresql'], memoryMb: 3072 },
    { name: 'tw', groups: ['trino_worker'], memoryMb: 4096, vars: { trino_worker_instances: 2 } },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'databases', hosts: 'postgresql', roles: ['postgresql'] },
    { name: 'query', hosts: 'trino_coordinator:trino_worker', roles: ['trino'] },
  ],
  vars: () => vars(),
});

const CATALOGS = (pgHost: string) => ({
  tpch: { 'connector.name': 'tpch' },
  memory: { 'connector.name': 'memory', 'memory.max-data-per-node': '64MB' },
  sales: {
    'connector.name': 'postgresql',
    'connection-url': `jdbc:postgresql://${pgHost}:5432/sales`,
    'connection-user': 'trino_reader',
    'connection-password': '${ENV:TRINO_SALES_PASSWORD}',
  },
});

function vars(): Record<string, unknown> {
  return {
    artifact_mirror: art.url,
    java_archive_releases: [art.jdk().release],
    java_archive_sha256: art.jdk().sha256,
    trino_version: TRINO,
    trino_sha512: art.sha512('trino'),
    trino_jvm_heap: '1G',
    trino_catalogs: CATALOGS(t.sim.host('tc').address),
    trino_secrets: { TRINO_SALES_PASSWORD: PG_PASSWORD },
    postgresql_repository: 'distribution',
    postgresql_version: '15',
    postgresql_instances: [{ name: 'main', port: 5432, memory_mb: 256, databases: [{ name: 'sales', owner: 'trino_reader' }] }],
    postgresql_passwords: { trino_reader: PG_PASSWORD },
  };
}
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });

/** SQL through the coordinator's client protocol (what the Trino CLI does): the rows */
async function sql(query: string): Promise<unknown[][]> {
  const base = `http://${t.sim.host('tc').address}:8080`;
  const headers = { 'X-Trino-User': 'test' };
  let page = (await (await fetch(`${base}/v1/statement`, { method: 'POST', body: query, headers })).json()) as { nextUri?: string; data?: unknown[][]; error?: { message: string } };
  const rows: unknown[][] = [];
  for (;;) {
    if (page.error) throw new Error(`Trino: ${page.error.message}`);
    if (page.data) rows.push(...page.data);
    if (!page.nextUri) return rows;
    page = (await (await fetch(page.nextUri, { headers })).json()) as typeof page;
  }
}

describe('trino: coordinator + worker on tc, two workers on tw (datalyptica-minimal-5vm data plane)', () => {
  let predicted: string[] = [];

  it('--check on the fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      'tc artifact /usr/lib/jvm/temurin-' + art.jdk().release,
      'tc file /etc/trino/1/config.properties',
      'tc file /etc/trino/catalog/sales.properties',
      'tw file /etc/trino/2/node.properties',
      'tw instance /etc/systemd/system/trino@2.service.d/orch-instance.conf',
    ]) {
      expect(predicted).toContain(p);
    }
  });

  it('exactly as --check said; the coordinator lists 3 active nodes and the inventory\'s catalogs; queries run on the workers', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[trino] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const nodes = await sql("SELECT node_id, http_uri, coordinator, state, node_version FROM system.runtime.nodes ORDER BY node_id");
    const tc = t.sim.host('tc').address;
    const tw = t.sim.host('tw').address;
    expect(nodes).toEqual([
      ['tc', `http://${tc}:8080`, true, 'active', TRINO],
      ['tw-1', `http://${tw}:8080`, false, 'active', TRINO],
      ['tw-2', `http://${tw}:8081`, false, 'active', TRINO],
    ]);
    expect(await sql('SELECT count(*) FROM system.runtime.nodes')).toEqual([[3]]);
    expect((await sql('SHOW CATALOGS')).map((r) => r[0]).sort()).toEqual(['memory', 'sales', 'system', 'tpch']);

    // a distributed query over the workers, and a table written through the memory connector read back
    expect(await sql('SELECT count(*) FROM tpch.tiny.orders')).toEqual([[15000]]);
    await sql('CREATE TABLE memory.default.regions AS SELECT regionkey, name FROM tpch.tiny.region');
    expect(await sql('SELECT name FROM memory.default.regions WHERE regionkey = 2')).toEqual([['ASIA']]);

    // a row written with psql, read through the postgresql catalog: the password came from secrets.env only
    await t.on('tc', `PGPASSWORD='${PG_PASSWORD}' psql -h 127.0.0.1 -U trino_reader -d sales -v ON_ERROR_STOP=1 -c "CREATE TABLE orders (id int, item text); INSERT INTO orders VALUES (1, 'lakehouse')"`);
    expect(await sql('SELECT item FROM sales.public.orders WHERE id = 1')).toEqual([['lakehouse']]);
    const catalog = await t.on('tc', 'cat /etc/trino/catalog/sales.properties');
    expect(catalog).toContain('connection-password=${ENV:TRINO_SALES_PASSWORD}\n');
    expect(catalog).not.toContain(PG_PASSWORD);
    expect(await t.on('tc', "stat -c '%a %U %G' /etc/trino/secrets.env /etc/trino/catalog/sales.properties")).toBe('640 root trino\n640 root trino\n');

    // processes: user trino, the Temurin JDK the java role installed, the heap as configured
    const ps = (await t.on('tw', "ps -u trino -o user=,args= | sed -E 's/ -cp [^ ]+//' | grep -- -Xmx")).trim().split('\n');
    expect(ps).toHaveLength(2);
    for (const l of ps) expect(l).toMatch(new RegExp(`^trino +/usr/lib/jvm/temurin-${art.jdk().major}/bin/java .*-Xmx1G`));
    expect(await t.on('tw', 'systemctl show -p LimitNOFILE --value trino@2')).toBe('131072\n');
    expect(await t.on('tc', 'java -version 2>&1 | head -1; /usr/lib/jvm/temurin-' + art.jdk().major + '/bin/java -version 2>&1 | head -1')).toMatch(/openjdk version "17[^]*openjdk version "25/);
  });

  it('a rerun and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(changed(check.events)).toEqual([]);
  });

  it('a catalog taken out of the inventory is removed; the processes restart host by host and come back with the same node ids', async () => {
    const catalogs = CATALOGS(t.sim.host('tc').address) as Record<string, unknown>;
    delete catalogs.tpch;
    const { code, events } = await run({ vars: { trino_catalogs: catalogs } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(['tc prune /etc/trino/catalog/*.properties', 'tw prune /etc/trino/catalog/*.properties']);
    // rolled: one host restarts, passes the health check, then the other
    const h = handlers(events);
    expect([...h].sort()).toEqual(['tc health trino', 'tc restart trino@1', 'tw health trino', 'tw restart trino@1', 'tw restart trino@2']);
    const [first, second] = h[0].startsWith('tc') ? ['tc', 'tw'] : ['tw', 'tc'];
    expect(h.indexOf(`${first} health trino`)).toBeLessThan(h.findIndex((x) => x.startsWith(`${second} restart`)));
    expect((await sql('SHOW CATALOGS')).map((r) => r[0]).sort()).toEqual(['memory', 'sales', 'system']);
    expect((await sql('SELECT node_id FROM system.runtime.nodes ORDER BY node_id')).map((r) => r[0])).toEqual(['tc', 'tw-1', 'tw-2']);
    const rerun = await run({ vars: { trino_catalogs: catalogs } });
    expect(changed(rerun.events)).toEqual([]);
  });
});
