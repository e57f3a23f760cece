/**
 * The superset role on a simulated host as datalyptica-minimal-5vm.md runs it on VM4 (Superset 4.1.1, 8088), with its
 * metadata database on real PostgreSQL (Debian's 15, the postgresql role) and its caches on real Redis reached through
 * a Sentinel (Debian's redis-server and redis-sentinel, the redis and redis-sentinel roles: the seeds' layout, one
 * of each here), all on the one host. Real software: Superset 4.1.1 and its 145 dependencies from PyPI, resolved into
 * roles/superset/locks, built into a wheelhouse by this machine (cached) and pushed: the host reaches no index.
 * SECRET_KEY and the Redis password are cluster values (generated, kept on the hosts); the database and admin
 * passwords are full of shell metacharacters.
 *   - `--check` on the fresh host says exactly what the first run changes;
 *   - /health OK; the admin logs in through /api/v1/security/login and its token lists /api/v1/database/; a value set through
 *     Superset's cache is a key in Redis; the schema is at 4.1.1's head;
 *   - secrets only in secrets.env (0640 root:superset), not in superset_config.py, the unit or the process list;
 *   - a rerun changes nothing and reinstalls nothing, SECRET_KEY kept; `--check` then 0 changes;
 *   - a changed setting restarts Superset behind /health, runs no db upgrade, init or admin again; the admin still logs in.
 */
import { describe, expect, it } from 'vitest';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

const PG_PASSWORD = `Su'per"set $HOME \`id\` \\x %n; &|`;
const ADMIN_PASSWORD = `Adm'in "pw" $x \`y\` %s`;
const ENV = "set -a; . /etc/superset/superset.env; . /etc/superset/secrets.env; set +a; cd /var/lib/superset";

const t = useRoleTest({
  name: 'superset',
  hosts: [{ name: 'bi1', groups: ['postgresql', 'redis', 'redis_sentinel', 'superset'], memoryMb: 3072 }],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'databases', hosts: 'postgresql', roles: ['postgresql'] },
    { name: 'redis', hosts: 'redis', roles: ['redis'] },
    { name: 'sentinel', hosts: 'redis_sentinel', roles: ['redis-sentinel'] },
    { name: 'analytics', hosts: 'superset', roles: ['superset'] },
  ],
  vars: () => ({
    postgresql_repository: 'distribution',
    postgresql_version: '15',
    postgresql_instances: [{ name: 'main', port: 5432, memory_mb: 256, databases: [{ name: 'superset', owner: 'superset' }] }],
    postgresql_passwords: { superset: PG_PASSWORD },
    redis_master_host: 'bi1',
    redis_maxmemory_mb: 64,
    redis_sentinel_quorum: 1,
    superset_database_uri: `postgresql+psycopg2://superset@${t.sim.host('bi1').address}:5432/superset`,
    superset_database_password: PG_PASSWORD,
    superset_database_group: '',
    superset_admin_password: ADMIN_PASSWORD,
    superset_workers: 2,
    superset_threads: 2,
  }),
});
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });
const web = () => `http://${t.sim.host('bi1').address}:8088`;
const asSuperset = (cmd: string) => `runuser -u superset -- sh -c '${ENV}; ${cmd}'`;
const login = (password: string) =>
  fetch(`${web()}/api/v1/security/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'admin', password, provider: 'db', refresh: true }) });

describe('superset: on PostgreSQL and Redis behind a Sentinel (datalyptica-minimal-5vm VM4)', () => {
  let predicted: string[] = [];
  let secretKey = '';
  let venvStamp = '';

  it('--check on the fresh host lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      'bi1 python-venv /opt/superset/venv',
      'bi1 file /etc/superset/superset_config.py',
      'bi1 file /etc/superset/secrets.env',
      "bi1 command superset: metadata schema at Superset 4.1.1's head (superset db upgrade)",
      'bi1 command superset: roles and permissions of Superset 4.1.1 (superset init)',
      'bi1 command superset: admin user admin',
      'bi1 unit /etc/systemd/system/superset.service',
    ]) {
      expect(predicted).toContain(p);
    }
  });

  it('exactly as --check said; /health OK, the admin logs in, the caches are in Redis', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) console.log(`[superset] journal:\n${(await t.sh('bi1', 'journalctl -u superset --no-pager -n 60 | cut -c1-400')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[superset] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    expect(await (await fetch(`${web()}/health`)).text()).toBe('OK');
    const login = await fetch(`${web()}/api/v1/security/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD, provider: 'db', refresh: true }),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    // the token opens the REST API (the admin may list databases); without one it is refused
    const dbs = await fetch(`${web()}/api/v1/database/`, { headers: { Authorization: `Bearer ${token}` } });
    expect(dbs.status).toBe(200);
    expect(((await dbs.json()) as { count: number }).count).toBe(0);
    expect((await fetch(`${web()}/api/v1/database/`)).status).toBe(401);
    const wrong = await fetch(`${web()}/api/v1/security/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'not-it', provider: 'db' }),
    });
    expect(wrong.status).toBe(401);

    // Superset's cache (CACHE_CONFIG) is Redis through the Sentinel: a value set there is a key in database 1
    const probe = await t.on('bi1', asSuperset(`exec /opt/superset/venv/bin/python -c "from superset.app import create_app; app = create_app(); app.app_context().push(); from superset.extensions import cache_manager; cache_manager.cache.set(\\"orch-probe\\", \\"42\\"); print(cache_manager.cache.get(\\"orch-probe\\"))" 2>/dev/null`));
    expect(probe.trim().split('\n').pop()).toBe('42');
    const keys = await t.on('bi1', 'REDISCLI_AUTH="$(cat /var/lib/orch/values/redis_password)" redis-cli -n 1 --scan --pattern "superset_*"');
    expect(keys.split('\n')).toContain('superset_orch-probe');
    expect(await t.on('bi1', "grep -c RedisSentinelCache /etc/superset/superset_config.py")).toBe('1\n');

    // the metadata schema: at 4.1.1's head, the admin a row
    const psql = (sql: string) => t.on('bi1', `su postgres -c "psql -At -d superset -c \\"${sql}\\""`);
    expect((await psql("SELECT username FROM ab_user WHERE username = 'admin'")).trim()).toBe('admin');
    const schema = await t.sh('bi1', asSuperset('exec /opt/superset/venv/bin/python /opt/superset/superset-state.py schema "$SUPERSET_DB_URI"').replace('$SUPERSET_DB_URI', `postgresql+psycopg2://superset@${t.sim.host('bi1').address}:5432/superset`));
    expect(schema.code).toBe(0);
    console.log(`[superset] ${schema.stdout.trim()}`);

    // secrets: SECRET_KEY generated once and kept, only secrets.env holds them, no password on a command line
    secretKey = (await t.on('bi1', 'cat /var/lib/orch/values/superset_secret_key')).trim();
    expect(secretKey).toMatch(/^[A-Za-z0-9+/=]{56}$/);
    expect(await t.on('bi1', "sed -n 's/^SUPERSET_SECRET_KEY=//p' /etc/superset/secrets.env")).toBe(`"${secretKey}"\n`);
    expect(await t.on('bi1', "stat -c '%a %U %G' /etc/superset/secrets.env /etc/superset/superset_config.py")).toBe('640 root superset\n640 root superset\n');
    for (const f of ['/etc/superset/superset_config.py', '/etc/systemd/system/superset.service', '/etc/superset/superset.env']) {
      const text = await t.on('bi1', `cat ${f}`);
      expect(text).not.toContain(secretKey);
      expect(text).not.toContain("Su'per");
    }
    const ps = await t.on('bi1', 'ps -e -o args=');
    for (const s of ["Su'per", "Adm'in", secretKey]) expect(ps).not.toContain(s);
    expect(ps.split('\n').filter((l) => /gunicorn .*superset\.app:create_app\(\)/.test(l)).length).toBe(3); // master + 2 workers
    venvStamp = await t.on('bi1', "find /opt/superset/venv -newer /opt/superset/venv/pyvenv.cfg -type f | wc -l; stat -c '%Y' /opt/superset/venv/lib/python3.11/site-packages/superset/__init__.py");
  });

  it('a rerun changes nothing and reinstalls nothing, SECRET_KEY kept; --check then says 0 changes', async () => {
    const t0 = Date.now();
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    console.log(`[superset] rerun ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const venv = again.events.flatMap((e) => (e.type === 'op-result' && e.result.kind === 'python-venv' ? [e.result.reason] : []));
    expect(venv).toEqual([expect.stringMatching(/^146 pins installed/)]);
    expect(await t.on('bi1', "find /opt/superset/venv -newer /opt/superset/venv/pyvenv.cfg -type f | wc -l; stat -c '%Y' /opt/superset/venv/lib/python3.11/site-packages/superset/__init__.py")).toBe(venvStamp);
    expect((await t.on('bi1', 'cat /var/lib/orch/values/superset_secret_key')).trim()).toBe(secretKey);
    const check = await run({ check: true });
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting restarts Superset behind /health and runs no db upgrade, init or admin again', async () => {
    const { code, events } = await run({ vars: { superset_row_limit: 10000 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health '))).toEqual(['bi1 file /etc/superset/superset_config.py']);
    expect(handlers(events)).toEqual(['bi1 restart superset', 'bi1 health superset']);
    expect(await t.on('bi1', 'grep ^ROW_LIMIT /etc/superset/superset_config.py')).toBe('ROW_LIMIT = 10000\n');
    expect((await login(ADMIN_PASSWORD)).status).toBe(200);
    expect(changed((await run({ vars: { superset_row_limit: 10000 } })).events)).toEqual([]);
  });
});
