/**
 * The jupyterhub role on simulated hosts as datalyptica-minimal-5vm.md runs it on VM4 (JupyterHub 5.2.1, 8000), two
 * hubs here (enterprise-50vm's "JupyterHub (HA)"): they must share the cookie secret. Real software: JupyterHub 5.2.1,
 * JupyterLab 4.3.4 and their dependencies from PyPI (roles/jupyterhub/locks, built into a wheelhouse by this machine,
 * cached, pushed), configurable-http-proxy 4.6.3 from npm (its package-lock.json in the repository, npm ci on this
 * machine, pushed as one bundle), run by Debian's nodejs: the hosts reach no index.
 *   - `--check` on the fresh hosts says exactly what the first run changes;
 *   - /hub/health answers through the proxy, /hub/api reports 5.2.1; the cookie secret is the same on both hubs;
 *   - a local user logs in with PAM (the login form, its XSRF token) and the hub spawns their JupyterLab server: it
 *     runs as that user with the configured environment, the hub reports it ready and the proxy routes /user/<name>/
 *     to it; a user outside jupyterhub_allowed_users is refused;
 *   - secrets (the proxy's API token) only in secrets.env (0600), not in the config, the unit or the process list;
 *   - a rerun changes nothing and reinstalls nothing; `--check` then 0 changes;
 *   - a changed setting restarts the hub behind its health check, and the cookie secret stays.
 */
import { describe, expect, it } from 'vitest';
import { changed, failures, handlers, useRoleTest, waitFor } from '../helpers/role-test.js';

const ALICE_PASSWORD = `Al'ice "pw" $HOME \`id\``;

const t = useRoleTest({
  name: 'jupyterhub',
  hosts: [
    { name: 'jh1', groups: ['jupyterhub'], memoryMb: 2048 },
    { name: 'jh2', groups: ['jupyterhub'], memoryMb: 2048 },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'analytics', hosts: 'jupyterhub', roles: ['jupyterhub'] },
  ],
  vars: () => ({
    jupyterhub_allowed_users: ['alice'],
    jupyterhub_spawner_environment: { SPARK_MASTER: 'spark://spark-master:7077' },
    jupyterhub_health_timeout: 120,
  }),
});
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });
const hub = (name = 'jh1') => `http://${t.sim.host(name).address}:8000`;

/** a tiny cookie jar: name=value pairs from Set-Cookie headers */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(r: Response): void {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** PAM login through the hub's form; resolves with the jar holding the session, or the refused response's status */
async function login(user: string, password: string): Promise<{ jar: Jar; status: number; location: string; body: string }> {
  const jar = new Jar();
  const form = await fetch(`${hub()}/hub/login`, { redirect: 'manual' });
  jar.take(form);
  const html = await form.text();
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(html)?.[1];
  expect(xsrf, 'the login form carries an XSRF token').toBeTruthy();
  const r = await fetch(`${hub()}/hub/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: jar.header() },
    body: new URLSearchParams({ username: user, password, _xsrf: xsrf! }).toString(),
  });
  jar.take(r);
  const body = await r.text();
  return { jar, status: r.status, location: r.headers.get('location') ?? '', body };
}

describe('jupyterhub: two hubs, PAM login, a JupyterLab server spawned for a user (datalyptica-minimal-5vm VM4)', () => {
  let predicted: string[] = [];
  let cookieSecret = '';
  let venvStamp = '';

  it('--check on the fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const h of ['jh1', 'jh2']) {
      for (const p of [
        'python-venv /opt/jupyterhub/venv',
        'node-package /opt/jupyterhub/configurable-http-proxy',
        'file /etc/jupyterhub/jupyterhub_config.py',
        'file /etc/jupyterhub/secrets.env',
        'file /var/lib/jupyterhub/jupyterhub_cookie_secret',
        'unit /etc/systemd/system/jupyterhub.service',
        'service jupyterhub.service',
      ]) {
        expect(predicted).toContain(`${h} ${p}`);
      }
    }
  });

  it('exactly as --check said; both hubs answer /hub/health and report 5.2.1; they share one cookie secret', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) console.log(`[jupyterhub] journal:\n${(await t.sh('jh1', 'journalctl -u jupyterhub --no-pager -n 60 | cut -c1-400')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[jupyterhub] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const h of ['jh1', 'jh2']) {
      expect((await fetch(`${hub(h)}/hub/health`)).status).toBe(200);
      expect(await (await fetch(`${hub(h)}/hub/api`)).json()).toEqual({ version: '5.2.1' });
    }
    const secrets = await Promise.all(['jh1', 'jh2'].map((h) => t.on(h, 'cat /var/lib/jupyterhub/jupyterhub_cookie_secret')));
    expect(secrets[0]).toMatch(/^[0-9a-f]{64}\n$/);
    expect(secrets[1]).toBe(secrets[0]);
    cookieSecret = secrets[0];
    // the proxy is configurable-http-proxy 4.6.3 under Debian's node, started by the hub
    const ps = await t.on('jh1', 'ps -eo user=,args=');
    expect(ps).toMatch(/root +\/usr\/bin\/node \/opt\/jupyterhub\/configurable-http-proxy\/node_modules\/configurable-http-proxy\/bin\/configurable-http-proxy /);
    expect(await t.on('jh1', "sed -n 's/.*\"version\": \"\\([^\"]*\\)\".*/\\1/p' /opt/jupyterhub/configurable-http-proxy/node_modules/configurable-http-proxy/package.json")).toBe('4.6.3\n');
    // secrets: the proxy token only in secrets.env (0600), the cookie secret file 0600
    const token = (await t.on('jh1', "sed -n 's/^CONFIGPROXY_AUTH_TOKEN=//p' /etc/jupyterhub/secrets.env")).trim().replace(/^"|"$/g, '');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(await t.on('jh1', "stat -c '%a %U' /etc/jupyterhub/secrets.env /var/lib/jupyterhub/jupyterhub_cookie_secret")).toBe('600 root\n600 root\n');
    for (const f of ['/etc/jupyterhub/jupyterhub_config.py', '/etc/systemd/system/jupyterhub.service']) expect(await t.on('jh1', `cat ${f}`)).not.toContain(token);
    expect(ps).not.toContain(token);
    venvStamp = await t.on('jh1', "find /opt/jupyterhub/venv -newer /opt/jupyterhub/venv/pyvenv.cfg -type f | wc -l; stat -c '%Y' /opt/jupyterhub/venv/lib/python3.11/site-packages/jupyterhub/__init__.py /opt/jupyterhub/configurable-http-proxy/.orch-npm-bundle");
  });

  it('alice logs in with PAM and gets her JupyterLab server, as alice, routed by the proxy; bob is refused', async () => {
    await t.on('jh1', `useradd --create-home --shell /bin/bash alice && useradd --create-home --shell /bin/bash bob && printf '%s\\n' 'alice:${ALICE_PASSWORD.replace(/'/g, `'\\''`)}' 'bob:bob-pw-1' | chpasswd && echo ok`);
    const refused = await login('bob', 'bob-pw-1');
    // PAM accepts bob, but he is not in jupyterhub_allowed_users: the login form again, with the error, no session
    expect(refused.status).toBe(200);
    expect(refused.body).toContain('Invalid username or password');
    expect(refused.jar.get('jupyterhub-hub-login')).toBeUndefined();
    const wrong = await login('alice', 'not her password');
    expect([wrong.status, wrong.body.includes('Invalid username or password'), wrong.jar.get('jupyterhub-hub-login')]).toEqual([200, true, undefined]);

    const { jar, status, location } = await login('alice', ALICE_PASSWORD);
    expect(status).toBe(302);
    expect(location).toMatch(/\/hub\/(spawn|user|home)?/);
    expect(jar.get('jupyterhub-hub-login')).toBeTruthy();
    // her home page, as the browser lands there
    const home = await fetch(`${hub()}/hub/home`, { redirect: 'manual', headers: { Cookie: jar.header() } });
    jar.take(home);
    expect(home.status).toBe(200);
    await home.text();
    // what her browser does after the login: /hub/spawn starts her server (no options form) and sends her on
    const spawn = await fetch(`${hub()}/hub/spawn`, { redirect: 'manual', headers: { Cookie: jar.header() } });
    const spawnBody = await spawn.text();
    expect(spawn.status, spawnBody.slice(0, 300)).toBe(302);
    expect(spawn.headers.get('location')).toMatch(/\/(hub\/spawn-pending\/alice|user\/alice\/)/);
    // ready: the hub has added her route to the proxy, and /user/alice/ is answered by her server (which sends a browser
    // to the hub's OAuth authorization); before that, the hub answers it (spawn-pending)
    const routed = async () => {
      const r = await fetch(`${hub()}/user/alice/lab`, { redirect: 'manual', headers: { Cookie: jar.header() } });
      await r.text();
      return { status: r.status, location: r.headers.get('location') ?? '' };
    };
    const { value: lab, seconds } = await waitFor(routed, (x) => /\/hub\/api\/oauth2\/authorize\?/.test(x.location), 120_000, 1000);
    console.log(`[jupyterhub] alice's server ready after ${seconds.toFixed(1)} s`);
    expect(lab.status).toBe(302);
    expect(lab.location).toMatch(/client_id=jupyterhub-user-alice/);
    // the proxy's routing table (its API, with the token only root reads on the host): /user/alice/ to a local port
    const routes = JSON.parse(await t.on('jh1', `curl -fsS -H "Authorization: token $(sed -n 's/^CONFIGPROXY_AUTH_TOKEN=//p' /etc/jupyterhub/secrets.env | tr -d '"')" http://127.0.0.1:8001/api/routes`)) as Record<string, { target: string; user?: string }>;
    const route = Object.entries(routes).find(([path]) => /^\/user\/alice\/?$/.test(path));
    expect(route, JSON.stringify(routes)).toBeDefined();
    expect(route![1]).toMatchObject({ user: 'alice', target: expect.stringMatching(/^http:\/\/(127\.0\.0\.1|localhost):[0-9]+\/?$/) });
    // her server: jupyterhub-singleuser from the hub's venv, as alice, with the configured environment
    const pid = (await t.on('jh1', "pgrep -u alice -f 'jupyterhub-singleuser' | head -n 1")).trim();
    expect(pid).toMatch(/^[0-9]+$/);
    expect(await t.on('jh1', `tr '\\0' '\\n' </proc/${pid}/environ | grep -E '^(SPARK_MASTER|USER|HOME)=' | sort`)).toBe('HOME=/home/alice\nSPARK_MASTER=spark://spark-master:7077\nUSER=alice\n');
    expect(await t.on('jh1', `tr '\\0' '\\n' </proc/${pid}/environ`)).not.toContain('CONFIGPROXY_AUTH_TOKEN');
  });

  it('a rerun changes nothing and reinstalls nothing; --check then says 0 changes', async () => {
    const t0 = Date.now();
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    console.log(`[jupyterhub] rerun ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await t.on('jh1', "find /opt/jupyterhub/venv -newer /opt/jupyterhub/venv/pyvenv.cfg -type f | wc -l; stat -c '%Y' /opt/jupyterhub/venv/lib/python3.11/site-packages/jupyterhub/__init__.py /opt/jupyterhub/configurable-http-proxy/.orch-npm-bundle")).toBe(venvStamp);
    const check = await run({ check: true });
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting restarts the hubs behind their health check; the cookie secret stays', async () => {
    const { code, events } = await run({ vars: { jupyterhub_cull_idle_timeout: 600 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(['jh1 file /etc/jupyterhub/jupyterhub_config.py', 'jh2 file /etc/jupyterhub/jupyterhub_config.py']);
    expect(handlers(events).filter((h) => h.startsWith('jh1'))).toEqual(['jh1 restart jupyterhub', 'jh1 health jupyterhub']);
    expect(await t.on('jh1', 'ps -eo args=')).toMatch(/jupyterhub_idle_culler --timeout=600/);
    expect(await t.on('jh2', 'cat /var/lib/jupyterhub/jupyterhub_cookie_secret')).toBe(cookieSecret);
    expect((await fetch(`${hub('jh2')}/hub/health`)).status).toBe(200);
    const rerun = await run({ vars: { jupyterhub_cull_idle_timeout: 600 } });
    expect(changed(rerun.events)).toEqual([]);
  });
});
