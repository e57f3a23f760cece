/**
 * Faults on simulated hosts, each injected while a run is working, and what an operator then sees:
 *   - sshd restarted on a host mid-phase, its sessions killed with it: the run ends (no hang), the other hosts
 *     finish, that host fails cleanly or finishes; a rerun converges it;
 *   - a host cut off the network mid-phase (`docker network disconnect`): reported unreachable, the others finish,
 *     the recap names the phase to resume; reconnected, a rerun converges it;
 *   - orch itself killed (SIGKILL) in the middle of an apply: the file it was replacing is at every moment either
 *     the old one or the new one, whole (temp file, then rename); the next run converges;
 *   - a full disk (a 1 MiB tmpfs) while a file is written: a clear error, the old file intact, no temp file left;
 *   - an artifact mirror that is down: a clear error naming it, nothing installed on any host;
 *   - a package mirror (apt proxy) that is down: a clear error naming it, the package not installed; back, a rerun
 *     installs it.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import type { RunEvent } from '../../src/report/events.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { containerName, networkName } from '../../src/sim/hosts.js';
import { faultContent } from '../fixtures/faults/roles/fault-file/index.js';
import { useRuns } from '../helpers/run.js';
import { failures, sleep, waitFor } from '../helpers/role-test.js';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';

const pexec = promisify(execFile);
const HOSTS = ['f1', 'f2', 'f3'];
const sim = useSimHosts({ name: 'faults', hosts: HOSTS.map((name) => ({ name, groups: ['demo'] })) });
const runs = useRuns();
const invDir = mkdtempSync(join(tmpdir(), 'orch-faults-'));
writeFileSync(join(invDir, 'hosts.yml'), `all:\n  hosts:\n${HOSTS.map((h) => `    ${h}:\n`).join('')}`);
const FIXTURES = join(PROJECT_ROOT, 'test/fixtures');
const playbooks = {
  slow: join(FIXTURES, 'converge/playbooks/slow.yml'),
  file: join(FIXTURES, 'faults/playbooks/file.yml'),
  artifact: join(FIXTURES, 'faults/playbooks/artifact.yml'),
  package: join(FIXTURES, 'faults/playbooks/package.yml'),
};
/** a TCP port that was free a moment ago on every address of this machine: nothing listens there */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
const log = (s: string) => console.log(`[faults] ${s}`);
/**
 * For README's figures: each fault as it is injected, and as survived when its test's last assertion passed; every
 * read of a file orch was replacing when the fault hit, and how many of those were neither the old nor the new file.
 */
const tally = { injected: [] as string[], survived: [] as string[], fileReads: 0, halfWritten: 0 };
afterAll(() => {
  console.log(`[figures] faults: ${tally.injected.length} injected, ${tally.survived.length} survived (${tally.survived.join('; ')})`);
  console.log(`[figures] half-written: ${tally.fileReads} read(s) of files orch was writing when a fault hit, ${tally.halfWritten} half-written`);
});

async function run(playbook: string, o: { vars?: Record<string, unknown>; limit?: string; onEvent?: (e: RunEvent) => void } = {}) {
  const p = await buildPlan({
    inventory: loadInventory(invDir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(playbook),
    registry: RoleRegistry.forPlaybook(playbook),
    limit: o.limit,
    extraVars: o.vars ? [{ label: 'extra vars', values: o.vars, origins: {} }] : [],
  });
  return runs.run(p, { onEvent: o.onEvent });
}
/** a command on the host's container, not over SSH (the faults cut SSH) */
async function exec(host: string, cmd: string): Promise<string> {
  const { stdout } = await pexec('docker', ['exec', containerName(sim.name, host), 'sh', '-c', cmd], { timeout: 60_000 });
  return stdout;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const recapOf = (events: RunEvent[]) => events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
const hostFailed = (events: RunEvent[]) => events.filter((e) => e.type === 'host-failed') as Array<Extract<RunEvent, { type: 'host-failed' }>>;

describe('faults injected while orch works', () => {
  it('sshd restarted on a host mid-phase, its sessions killed: the others finish, that host stops cleanly; a rerun converges it', async () => {
    let injected: Promise<unknown> | undefined;
    const t0 = Date.now();
    const { code, events } = await run(playbooks.slow, {
      onEvent: (e) => {
        if (e.type === 'phase-start' && e.phase === 'slow') injected = sleep(2000).then(() => (tally.injected.push('sshd restart'), exec('f2', "systemctl restart ssh; pkill -KILL -f '[s]shd: root@' || true")));
      },
    });
    await injected;
    log(`sshd restart + sessions killed on f2: the run ended after ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}`);
    const failed = hostFailed(events);
    // f2 either finished or failed cleanly, as one host, naming the connection; f1 and f3 finished the phase
    expect(failed.map((e) => e.host).filter((h) => h !== 'f2')).toEqual([]);
    for (const f of failed) expect(f.error).toMatch(/connection|closed|ssh|reset|unreachable|keepalive/i);
    const ended = events.flatMap((e) => (e.type === 'host-end' && e.phase === 'slow' ? [e.host] : [])).sort();
    expect(ended).toEqual(expect.arrayContaining(['f1', 'f3']));
    expect(code).toBe(failed.length ? (failed[0].unreachable ? 3 : 2) : 0);
    const again = await run(playbooks.slow);
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(await exec('f2', 'test -f /var/lib/demo/slow.done && echo done')).toBe('done\n');
    tally.survived.push('sshd restart');
  });

  it('a host cut off the network mid-phase: reported unreachable, the others finish, the recap names the phase; reconnected, a rerun converges it', async () => {
    await exec('f3', 'rm -f /var/lib/demo/slow.done');
    await exec('f1', 'rm -f /var/lib/demo/slow.done');
    const net = networkName(sim.name);
    const container = containerName(sim.name, 'f3');
    let cut: Promise<unknown> | undefined;
    const t0 = Date.now();
    const { code, events } = await run(playbooks.slow, {
      onEvent: (e) => {
        if (e.type === 'phase-start' && e.phase === 'slow') cut = sleep(2000).then(() => (tally.injected.push('network cut'), pexec('docker', ['network', 'disconnect', net, container])));
      },
    });
    await cut;
    log(`f3 disconnected mid-phase: the run ended after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(code).toBe(3);
    expect(hostFailed(events).map((e) => [e.host, e.phase, e.unreachable])).toEqual([['f3', 'slow', true]]);
    expect(events.flatMap((e) => (e.type === 'host-end' && e.phase === 'slow' ? [e.host] : [])).sort()).toEqual(['f1', 'f2']);
    expect(recapOf(events).resumeFrom).toBe('slow');
    expect(await exec('f1', 'test -f /var/lib/demo/slow.done && echo done')).toBe('done\n');

    await pexec('docker', ['network', 'connect', '--ip', sim.host('f3').address, '--alias', 'f3', net, container]);
    const again = await run(playbooks.slow);
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    // the cut left the command running on f3 (it finished there unseen) or not: either way the rerun converges it
    const f3 = again.events.flatMap((e) => (e.type === 'op-result' && e.host === 'f3' && e.result.status === 'changed' ? [e.result.name] : []));
    expect([[], ['slow marker']]).toContainEqual(f3);
    expect(await exec('f3', 'test -f /var/lib/demo/slow.done && echo done')).toBe('done\n');
    tally.survived.push('network cut');
  });

  it('orch killed (SIGKILL) in the middle of an apply: the file is the old one or the new one, whole, at every moment; the next run converges', async () => {
    const A = faultContent('old', 256);
    const B = faultContent('new', 256);
    expect((await run(playbooks.file, { vars: { fault_seed: 'old', fault_size_kb: 256 } })).code).toBe(0);
    expect((await exec('f1', 'sha256sum < /srv/faults/data.bin')).slice(0, 64)).toBe(sha(A));

    // the real command line, in its own process, on an inventory with the simulation's connection variables
    const overlay = parse(readFileSync(sim.overlayFile, 'utf8')) as { hosts: Record<string, Record<string, unknown>> };
    const cliInv = mkdtempSync(join(tmpdir(), 'orch-faults-cli-'));
    writeFileSync(join(cliInv, 'hosts.yml'), stringify({ all: { hosts: overlay.hosts } }));
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'bin/orch'), 'run', playbooks.file, '--inventory', cliInv, '--plain', '-e', '{"fault_seed": "new", "fault_size_kb": 256, "fault_validate_sleep": 8}'],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (c, s) => r(s ?? c)));
    // orch is in the apply: the new content is in a temp file on f1, the slow validate step running
    // ([s]leep: the pattern does not match this probe's own command line)
    const inApply = await waitFor(() => exec('f1', "if pgrep -f '[s]leep 8' >/dev/null; then ls -A /srv/faults | grep -c '^[.]orch[.]'; else echo none; fi"), (o) => /^[1-9]/.test(o.trim()), 60_000, 200);
    expect(inApply.value.trim()).toMatch(/^[1-9]/);
    child.kill('SIGKILL');
    tally.injected.push('orch SIGKILLed');
    expect(await exited).toBe('SIGKILL');
    log(`orch SIGKILLed ${inApply.seconds.toFixed(1)} s into the run, during f1's apply; output so far: ${out.trim().split('\n').length} line(s)`);
    // the target is at every moment A or B, whole
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const h = (await exec('f1', 'sha256sum < /srv/faults/data.bin')).slice(0, 64);
      tally.fileReads++;
      if (h !== sha(A) && h !== sha(B)) tally.halfWritten++;
      expect([sha(A), sha(B)]).toContain(h);
      seen.add(h === sha(A) ? 'old' : 'new');
      await sleep(500);
    }
    log(`after the kill f1's file was: ${[...seen].join(' then ')} (never anything else)`);
    const again = await run(playbooks.file, { vars: { fault_seed: 'new', fault_size_kb: 256 } });
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    for (const h of HOSTS) expect((await exec(h, 'sha256sum < /srv/faults/data.bin')).slice(0, 64)).toBe(sha(B));
    expect((await run(playbooks.file, { vars: { fault_seed: 'new', fault_size_kb: 256 } })).events.some((e) => e.type === 'op-result' && e.result.status === 'changed')).toBe(false);
    tally.survived.push('orch SIGKILLed');
  });

  it('a full disk while a file is written: a clear error, the old file intact, no temp file left', async () => {
    await exec('f2', 'mkdir -p /srv/full && mount -t tmpfs -o size=1m tmpfs /srv/full');
    try {
      const small = { fault_path: '/srv/full/data.bin', fault_seed: 'small', fault_size_kb: 16 };
      expect((await run(playbooks.file, { vars: small, limit: 'f2' })).code).toBe(0);
      tally.injected.push('full disk');
      const { code, events } = await run(playbooks.file, { vars: { ...small, fault_seed: 'big', fault_size_kb: 2048 }, limit: 'f2' });
      expect(code).toBe(2);
      const failed = events.find((e) => e.type === 'op-result' && e.result.status === 'failed') as Extract<RunEvent, { type: 'op-result' }>;
      log(`full disk: ${failed.result.name}: ${(failed.result.output ?? failed.result.reason).trim().split('\n')[0]}`);
      expect(failed.result.name).toBe('/srv/full/data.bin');
      expect(`${failed.result.reason}\n${failed.result.output ?? ''}`).toMatch(/No space left on device/);
      const kept = (await exec('f2', 'sha256sum < /srv/full/data.bin')).slice(0, 64);
      tally.fileReads++;
      if (kept !== sha(faultContent('small', 16))) tally.halfWritten++;
      expect(kept).toBe(sha(faultContent('small', 16)));
      expect(await exec('f2', 'ls -A /srv/full')).toBe('data.bin\n');
      tally.survived.push('full disk');
    } finally {
      await exec('f2', 'umount /srv/full');
    }
  });

  it('an artifact mirror that is down: a clear error naming it, nothing installed on any host', async () => {
    const url = `http://127.0.0.1:${await deadPort()}/mirror/fault/fault-1.tgz`;
    tally.injected.push('artifact mirror down');
    const { code, events } = await run(playbooks.artifact, { vars: { fault_artifact_url: url } });
    expect(code).not.toBe(0);
    const said = JSON.stringify(events.filter((e) => e.type === 'host-failed' || e.type === 'run-aborted' || (e.type === 'op-result' && e.result.status === 'failed')));
    log(`mirror down: ${said.slice(0, 300)}`);
    expect(said).toContain(url);
    expect(said).toMatch(/ECONNREFUSED|refused/i);
    for (const h of HOSTS) expect(await exec(h, 'ls -d /opt/fault /var/tmp/.orch-artifact-* 2>/dev/null | wc -l')).toBe('0\n');
    tally.survived.push('artifact mirror down');
  });
  it('a package mirror that is down: a clear error naming it, the package not installed', async () => {
    const proxy = `http://${sim.state.network.gateway}:${await deadPort()}`;
    tally.injected.push('package mirror down');
    const { code, events } = await run(playbooks.package, { vars: { apt_proxy: proxy }, limit: 'f1' });
    expect(code).toBe(2);
    const failed = events.find((e) => e.type === 'op-result' && e.result.status === 'failed') as Extract<RunEvent, { type: 'op-result' }>;
    const said = `${failed.result.reason}\n${failed.result.output ?? ''}`;
    log(`package mirror down: ${failed.result.kind} ${failed.result.name}: ${said.split('\n').find((l) => /connect|fail|proxy/i.test(l))?.trim()}`);
    expect(failed.result.name).toBe('cowsay');
    expect(said).toContain(proxy.replace(/^http:\/\//, ''));
    expect(await exec('f1', "dpkg-query -W -f '${Status}' cowsay 2>/dev/null | grep -c 'install ok installed' || true")).toBe('0\n');
    // the mirror back (the simulation's own apt settings): a rerun installs it
    const again = await run(playbooks.package, { limit: 'f1' });
    expect(failures(again.events)).toEqual([]);
    expect(await exec('f1', "dpkg-query -W -f '${Status}' cowsay")).toBe('install ok installed');
    tally.survived.push('package mirror down');
  });
});
