/**
 * haproxy + keepalived on 3 simulated hosts (lb1-lb3), real Debian packages: the generated config passes
 * `haproxy -c`; a frontend routes to two real HTTP backends (busybox httpd on lb2/lb3) and stops routing to one marked
 * down by its health check; a config change reloads HAProxy (the master pid stays); a bad config is refused and the old
 * one stays; a rerun and --check change nothing. Keepalived: the VIP (an address of the simulation's subnet) is on the
 * MASTER lb1; killing lb1 moves it to lb2 (BACKUP, priority 100): the test prints the time.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { makeMasker } from '../../src/playbook/secrets.js';
import { jsonReporter } from '../../src/report/json.js';
import { plainReporter } from '../../src/report/plain.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['lb1', 'lb2', 'lb3'];
const sim = useSimHosts({ name: 'haproxy', hosts: HOSTS.map((name) => ({ name, groups: name === 'lb1' ? ['lb'] : ['lb', 'web'] })) });
const dir = mkdtempSync(join(tmpdir(), 'orch-haproxy-'));
writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    lb:\n      hosts: { lb1:, lb2:, lb3: }\n    web:\n      hosts: { lb2:, lb3: }\n');
writeFileSync(join(dir, 'pb.yml'), '- name: os\n  hosts: all\n  roles: [common]\n- name: lb\n  hosts: lb\n  roles: [haproxy, keepalived]\n');
const runs = useRuns();
const log = (s: string) => console.log(`[haproxy] ${s}`);

function vip(): { ip: string; prefix: number } {
  const [base, bits] = sim.state.network.subnet.split('/');
  const o = base.split('.').map(Number);
  return { ip: `${o[0]}.${o[1]}.${o[2]}.${o[3] + 200}`, prefix: Number(bits) };
}
const FRONTENDS = [{ name: 'web', port: 8080, mode: 'http', backends: [{ name: 'web', group: 'web', port: 8081, check: { path: '/health' } }] }];
async function plan(extra: Record<string, unknown> = {}): Promise<RunPlan> {
  const values = { haproxy_frontends: FRONTENDS, keepalived_vip: vip().ip, keepalived_vip_prefix: vip().prefix, keepalived_group: 'lb', ...extra };
  return buildPlan({
    inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(dir, 'pb.yml')),
    registry: new RoleRegistry(),
    extraVars: [{ label: 'test', values, origins: {} }],
  });
}
const run = async (extra: Record<string, unknown> = {}, check = false) => runs.run(await plan(extra), { check });
async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const changed = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status !== 'ok' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : e.type === 'handler' ? [`${e.host} ${e.name}`] : []));
async function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { headers: host ? { host } : {}, signal: AbortSignal.timeout(3000) });
  return { status: r.status, body: (await r.text()).trim() };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mainPid = async () => (await on('lb1', 'systemctl show -p MainPID --value haproxy')).trim();

describe('haproxy + keepalived on simulated hosts', () => {
  it('converges; the config passes haproxy -c; a rerun and --check change nothing', async () => {
    const firstPlan = await plan();
    const first = await runs.run(firstPlan);
    expect(first.code, JSON.stringify(first.events.filter((e) => e.type === 'op-result' && e.result.status === 'failed'))).toBe(0);
    expect(await on('lb1', 'haproxy -c -f /etc/haproxy/haproxy.cfg 2>&1')).toContain('Configuration file is valid');
    expect((await on('lb1', 'systemctl is-active haproxy keepalived')).split('\n').filter(Boolean)).toEqual(['active', 'active']);
    // no keepalived_auth_pass in the inventory: one was made for the group, the same on the three peers, never shown
    const pass = await Promise.all(['lb1', 'lb2', 'lb3'].map(async (h) => (await on(h, "sed -n 's/^ *auth_pass *//p' /etc/keepalived/keepalived.conf")).trim()));
    expect(pass[0]).toMatch(/^[!-~]{8}$/);
    expect(new Set(pass).size).toBe(1);
    // what orch prints of that run (plain lines with diffs, and --json) never shows it
    const printed: string[] = [];
    const mask = makeMasker(firstPlan.secretValues);
    const plain = plainReporter({ write: (x) => printed.push(x), mask, verbose: true, diff: true });
    const json = jsonReporter((x) => printed.push(x), mask);
    for (const e of first.events) {
      plain(e);
      json(e);
    }
    expect(printed.join('')).toContain('keepalived_auth_pass');
    expect(printed.join('')).not.toContain(pass[0]);
    const again = await run();
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run({}, true);
    expect(changed(check.events)).toEqual([]);
  }, 300_000);

  it('routes to the two real HTTP backends, and not to one its health check marks down', async () => {
    for (const h of ['lb2', 'lb3']) {
      await on(h, `DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox >/dev/null && mkdir -p /srv/www && echo ${h} > /srv/www/index.html && echo ok > /srv/www/health && systemd-run --unit web busybox httpd -f -p 8081 -h /srv/www`);
    }
    const seen = new Set<string>();
    // the backends started after HAProxy: each is up after 2 good checks (inter 2s, rise 2)
    for (let i = 0; i < 80 && seen.size < 2; i++) {
      const r = await get(`http://${vip().ip}:8080/`).catch(() => ({ status: 0, body: '' }));
      if (r.status === 200) seen.add(r.body);
      await sleep(250);
    }
    expect([...seen].sort()).toEqual(['lb2', 'lb3']);
    await on('lb3', 'systemctl stop web');
    await sleep(6000); // inter 2s, fall 2
    const bodies = new Set<string>();
    for (let i = 0; i < 10; i++) bodies.add((await get(`http://${vip().ip}:8080/`)).body);
    expect([...bodies]).toEqual(['lb2']);
  }, 120_000);

  it('--check names exactly the change; a change reloads: the master process stays', async () => {
    const pid = await mainPid();
    const check = await run({ haproxy_maxconn: 2000 }, true);
    expect(changed(check.events).sort()).toEqual(['lb1 file /etc/haproxy/haproxy.cfg', 'lb1 reload haproxy', 'lb2 file /etc/haproxy/haproxy.cfg', 'lb2 reload haproxy', 'lb3 file /etc/haproxy/haproxy.cfg', 'lb3 reload haproxy']);
    const r = await run({ haproxy_maxconn: 2000 });
    expect(r.code).toBe(0);
    expect(changed(r.events).filter((c) => c.startsWith('lb1'))).toEqual(['lb1 file /etc/haproxy/haproxy.cfg', 'lb1 reload haproxy']);
    expect((await on('lb1', 'grep -c "maxconn 2000" /etc/haproxy/haproxy.cfg')).trim()).toBe('1');
    expect(await mainPid()).toBe(pid);
    log(`reloaded: master pid ${pid} kept`);
  }, 120_000);

  it('a config haproxy -c refuses is not installed: the old one stays and HAProxy keeps running', async () => {
    const before = await on('lb1', 'sha256sum < /etc/haproxy/haproxy.cfg');
    const r = await run({ haproxy_maxconn: 2000, haproxy_http_timeout: '9999999h' });
    expect(r.code).toBe(2);
    const failed = r.events.find((e) => e.type === 'op-result' && e.host === 'lb1' && e.result.status === 'failed') as Extract<RunEvent, { type: 'op-result' }>;
    expect(failed.result.name).toBe('/etc/haproxy/haproxy.cfg');
    expect(failed.result.reason).toContain('validation failed: haproxy -c -f %s');
    expect(await on('lb1', 'sha256sum < /etc/haproxy/haproxy.cfg')).toBe(before);
    expect((await on('lb1', 'systemctl is-active haproxy')).trim()).toBe('active');
    expect((await get(`http://${vip().ip}:8080/`)).body).toBe('lb2');
  }, 120_000);

  it('the VIP is on the MASTER lb1; killing lb1 moves it to the BACKUP lb2', async () => {
    const { ip } = vip();
    const holds = async (h: string) => (await on(h, 'ip -o -4 addr show')).includes(` ${ip}/`);
    expect(await holds('lb1')).toBe(true);
    expect(await holds('lb2')).toBe(false);
    expect(await holds('lb3')).toBe(false);
    const lb2 = await runs.connector(await plan())('lb2');
    const t0 = Date.now();
    await sim.kill('lb1');
    const killedAt = Date.now();
    const out = await lb2.runScript(`i=0; while ! ip -o -4 addr show | grep -q ' ${ip}/'; do i=$((i+1)); [ $i -lt 2000 ] || exit 1; sleep 0.01; done; date +%s%3N`);
    expect(out.code).toBe(0);
    const ms = Number(out.stdout.trim()) - t0;
    log(`VIP ${ip} moved lb1 -> lb2 in ${(ms / 1000).toFixed(2)} s from the kill (docker kill returned after ${killedAt - t0} ms; seed target < 2 s, advert_int 1)`);
    expect(ms).toBeLessThan(5000);
    let answered = '';
    for (let i = 0; i < 20 && !answered; i++) {
      answered = (await get(`http://${ip}:8080/`).catch(() => ({ body: '' }))).body;
      if (!answered) await sleep(250);
    }
    expect(answered).toBe('lb2');
    expect(await holds('lb3')).toBe(false);
  }, 120_000);
});
