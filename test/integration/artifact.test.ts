/**
 * The artifact path roles use for Kafka, Spark and the rest, end to end on simulated hosts: a release
 * archive (a fixture built here, served on 127.0.0.1) is downloaded ONCE into the controller cache,
 * verified against its sha512, pushed over SFTP to every host, unpacked, and `current` points at it;
 * a rerun changes nothing; a wrong sha512 fails before anything reaches the host.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops, prepareArtifacts } from '../../src/ops/index.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['a1', 'a2'];
const sim = useSimHosts({ name: 'artifact', hosts: HOSTS.map((name) => ({ name, groups: ['app'] })) });
const work = mkdtempSync(join(tmpdir(), 'orch-artifact-'));
const cacheDir = join(work, 'cache');
const APP = '#!/bin/sh\necho fixture-app 1.0\n';
let server: Server;
let url = '';
let sha512 = '';
let hits = 0;

beforeAll(async () => {
  // the fixture release: fixture-app-1.0/{bin/app,conf/app.properties}, as an upstream tarball lays it out
  const src = join(work, 'src', 'fixture-app-1.0');
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'conf'));
  writeFileSync(join(src, 'bin', 'app'), APP, { mode: 0o755 });
  writeFileSync(join(src, 'conf', 'app.properties'), 'port=8080\n');
  const tgz = join(work, 'fixture-app-1.0.tgz');
  execFileSync('tar', ['-C', join(work, 'src'), '-czf', tgz, 'fixture-app-1.0']);
  const body = readFileSync(tgz);
  sha512 = createHash('sha512').update(body).digest('hex');
  server = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  url = `http://127.0.0.1:${addr.port}/dist/fixture-app-1.0.tgz`;
});
const runs = useRuns();
afterAll(() => server?.close());

const app = defineRole({
  name: 'fixture-app',
  description: 'installs the fixture release',
  vars: { app_sha512: v.str({ doc: 'sha512 of the release' }) },
  operations: ({ vars }) => [
    ops.artifact({ url, sha512: vars.app_sha512, dest: '/opt/fixture/releases/1.0', link: '/opt/fixture/current', stripComponents: 1, cacheDir }),
  ],
});

async function run(sha: string) {
  const dir = mkdtempSync(join(work, 'inv-'));
  writeFileSync(join(dir, 'hosts.yml'), `all:\n  children:\n    app:\n      hosts:\n${HOSTS.map((h) => `        ${h}:\n`).join('')}`);
  writeFileSync(join(dir, 'pb.yml'), '- name: install\n  hosts: app\n  roles: [fixture-app]\n');
  const registry = new RoleRegistry([]);
  registry.add(app);
  const plan = await buildPlan({
    inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(dir, 'pb.yml')),
    registry,
    extraVars: [{ label: 'test', values: { app_sha512: sha }, origins: {} }],
  });
  return runs.run(plan, { prepare: prepareArtifacts });
}

describe('artifacts on simulated hosts', () => {
  it('downloads once, verifies, pushes to every host, unpacks and links current', async () => {
    const { code, events, connect } = await run(sha512);
    expect(events.filter((e) => e.type === 'host-failed')).toEqual([]);
    expect(code).toBe(0);
    expect(hits).toBe(1);
    for (const h of HOSTS) {
      const r = await (await connect(h)).runScript(
        'readlink /opt/fixture/current; /opt/fixture/current/bin/app; cat /opt/fixture/current/conf/app.properties; ls -A /var/tmp | grep -c orch-artifact || true',
      );
      // the pushed archive was removed after unpacking
      expect(r.stdout).toBe('/opt/fixture/releases/1.0\nfixture-app 1.0\nport=8080\n0\n');
    }
  });

  it('a rerun changes nothing and downloads nothing', async () => {
    const { code, events } = await run(sha512);
    expect(code).toBe(0);
    expect(events.filter((e) => e.type === 'op-result' && e.result.status !== 'ok')).toEqual([]);
    expect(hits).toBe(1);
  });

  it('a wrong sha512 fails the hosts with both hashes named, and nothing is installed', async () => {
    const wrong = 'ab'.repeat(64);
    // a new release directory, so the wrong archive would have to be installed
    const { code, events, connect } = await run(wrong);
    expect(code).toBe(2);
    const failed = events.filter((e) => e.type === 'host-failed') as Array<Extract<RunEvent, { type: 'host-failed' }>>;
    expect(failed.map((e) => e.host).sort()).toEqual(HOSTS);
    expect(failed[0].error).toContain(wrong.slice(0, 16));
    expect(failed[0].error).toContain(sha512.slice(0, 16));
    // the installed release is untouched: its marker still names the right archive
    const r = await (await connect('a1')).runScript('head -n1 /opt/fixture/releases/1.0/.orch-artifact');
    expect(r.stdout.trim()).toBe(sha512);
  });
});
