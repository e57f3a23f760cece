/**
 * The clickhouse-keeper role on 3 simulated hosts, with a FIXTURE in place of ClickHouse Keeper: Keeper is not
 * reachable from this machine and no distribution ships it (test/helpers/clickhouse-keeper-fixture/README.md). The
 * fixture is installed where the package puts Keeper (`clickhouse_keeper_source: preinstalled`) and runs under the
 * role's unit: it refuses a config outside the documented <keeper_server> format, creates the role's data dirs as the
 * service user and answers ruok/mntr/srvr as Keeper does, with a stand-in election (lowest server_id of a majority).
 * What this checks is the role: its files merged over the package's config, server_id from node_id, its unit, its
 * health checks (imok, one leader), a member down and back, `--check` and reruns. It does not check Keeper itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { changed, failures, useRoleTest, waitFor } from '../helpers/role-test.js';
import { PROJECT_ROOT } from '../helpers/sim.js';

const HOSTS = ['k1', 'k2', 'k3'];
const t = useRoleTest({
  name: 'ch-keeper',
  hosts: HOSTS.map((name, i) => ({ name, groups: ['clickhouse_keeper'], memoryMb: 512, vars: { node_id: i + 1 } })),
  inventoryVars: { clickhouse_keeper_source: 'preinstalled' },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'coordination', hosts: 'clickhouse_keeper', roles: ['clickhouse-keeper'] },
  ],
});
const run = (check = false) => t.run({ check });
const { on } = t;
const FIXTURE = join(PROJECT_ROOT, 'test/helpers/clickhouse-keeper-fixture');
const word = (h: string, w: string) => on(h, `printf ${w} | nc -w 5 127.0.0.1 9181 || :`);
const state = async (h: string) => /^zk_server_state\t(\w+)$/m.exec(await word(h, 'mntr'))?.[1] ?? '';

describe('clickhouse-keeper: 3 members (the fixture keeper under the role unit)', () => {
  let predicted: string[] = [];

  beforeAll(async () => {
    // what the package would have put there: the binary (here the fixture) and its default config; socat for it
    const plan = await t.plan();
    for (const h of HOSTS) {
      const proxy = String(plan.hostVars.get(h)?.apt_proxy ?? '');
      const opt = proxy ? `-o Acquire::http::Proxy=${proxy}` : '';
      await on(h, `apt-get ${opt} update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get ${opt} install -y -qq --no-install-recommends socat >/dev/null`);
      await on(h, `mkdir -p /etc/clickhouse-keeper && cat >/usr/bin/clickhouse-keeper <<'ORCH_FIXTURE'\n${readFileSync(join(FIXTURE, 'clickhouse-keeper'), 'utf8')}ORCH_FIXTURE\nchmod 0755 /usr/bin/clickhouse-keeper`);
      await on(h, `cat >/etc/clickhouse-keeper/keeper_config.xml <<'ORCH_FIXTURE'\n${readFileSync(join(FIXTURE, 'keeper_config.xml'), 'utf8')}ORCH_FIXTURE`);
    }
  }, 240_000);

  it('--check on fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run(true);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const h of HOSTS) {
      expect(predicted).toContain(`${h} file /etc/clickhouse-keeper/keeper_config.d/orch.xml`);
      expect(predicted).toContain(`${h} unit /etc/systemd/system/clickhouse-keeper.service`);
    }
  });

  it('converges exactly as --check said; every member answers imok, one leader (server 1) and two followers', async () => {
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    for (const h of HOSTS) expect(await word(h, 'ruok')).toBe('imok');
    expect(await Promise.all(HOSTS.map(state))).toEqual(['leader', 'follower', 'follower']);
    // the role's drop-in merged over the package's config: server_id from node_id, the three members, its data dirs
    expect(await on('k2', 'journalctl -u clickhouse-keeper -o cat | grep "fixture: server" | tail -n 1')).toMatch(/server 2 of 3, client port 9181, raft port 9234/);
    expect(await on('k3', 'stat -c %U /data/clickhouse-keeper/coordination/log /data/clickhouse-keeper/coordination/snapshots; systemctl is-active clickhouse-keeper')).toBe('clickhouse\nclickhouse\nactive\n');
  });

  it('a second run and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run(true);
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });

  it('the leader stopped: another leads; a run brings it back, the health check waiting for one leader', async () => {
    await on('k1', 'systemctl stop clickhouse-keeper');
    const { value } = await waitFor(() => Promise.all(['k2', 'k3'].map(state)), (v) => v.join() === 'leader,follower', 20_000);
    expect(value).toEqual(['leader', 'follower']);
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    // k1's service started again, then its health check (imok, one leader among the three) ran
    expect(changed(events)).toEqual(['k1 service clickhouse-keeper.service', 'k1 waitForPort 127.0.0.1:9181', expect.stringMatching(/^k1 health ClickHouse Keeper \S+:9181 answers imok, the group of 3 has one leader$/)]);
    expect(await Promise.all(HOSTS.map(state))).toEqual(['leader', 'follower', 'follower']);
  });
});
