/**
 * The simulator itself: two containers come up with systemd + sshd, the system ssh client logs in with the sim key
 * while strictly checking the sim known_hosts file, labels/hostnames/limits are right, kill/start keeps the
 * identity, and simDown leaves nothing behind.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { simDown, simStatus, simStateDir } from '../../src/sim/index.js';
import { PROJECT_ROOT, useSimHosts, type SimHostHandle } from '../helpers/sim.js';

const pexec = promisify(execFile);
const docker = new Docker();

function ssh(h: SimHostHandle, command: string, knownHosts = h.knownHostsFile, connectTimeout = 10) {
  return pexec(
    'ssh',
    [
      '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'IdentitiesOnly=yes',
      '-o', `ConnectTimeout=${connectTimeout}`,
      '-i', h.keyFile,
      '-p', String(h.port),
      `${h.user}@${h.address}`,
      command,
    ],
    { timeout: 30_000 },
  );
}

describe('simulated hosts', () => {
  const sim = useSimHosts({
    name: 'test-sim',
    hosts: [
      { name: 'alpha', groups: ['web'], memoryMb: 512, cpus: 1 },
      { name: 'beta', groups: ['db', 'web'] },
    ],
  });

  it('lets the system ssh client in with the sim key, verifying the sim known_hosts', async () => {
    for (const h of sim.hosts) {
      await ssh(h, 'true');
      const { stdout } = await ssh(h, 'hostname; systemctl is-active ssh; systemctl is-system-running; id -u');
      expect(stdout.trim().split('\n')).toEqual([h.name, 'active', 'running', '0']);
    }
  });

  it('refuses a host whose key does not match known_hosts (the check is real)', async () => {
    const [alpha, beta] = sim.hosts;
    const dir = await mkdtemp(join(tmpdir(), 'orch-sim-test-'));
    try {
      const betaKey = (await readFile(beta.knownHostsFile, 'utf8')).split('\n').find((l) => l.startsWith(`${beta.address} `))!;
      const wrong = join(dir, 'known_hosts');
      await writeFile(wrong, `${alpha.address} ${betaKey.split(' ').slice(1).join(' ')}\n`);
      await expect(ssh(alpha, 'true', wrong)).rejects.toThrow(/host key|REMOTE HOST IDENTIFICATION/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names, labels, limits and the overlay are right', async () => {
    const overlay = parse(await readFile(sim.overlayFile, 'utf8')) as { hosts: Record<string, Record<string, unknown>> };
    expect(Object.keys(overlay.hosts)).toEqual(['alpha', 'beta']);
    for (const h of sim.hosts) {
      const info = await docker.getContainer(`orch-sim-${sim.name}-${h.name}`).inspect();
      expect(info.Config.Hostname).toBe(h.name);
      expect(info.Config.Labels).toMatchObject({ 'orch.sim': sim.name, 'orch.host': h.name });
      expect(info.NetworkSettings.Networks[`orch-sim-${sim.name}`].IPAddress).toBe(h.address);
      expect(h.address.startsWith('10.')).toBe(false);
      expect(overlay.hosts[h.name]).toMatchObject({
        ansible_host: h.address,
        ansible_port: 22,
        ansible_user: 'root',
        ansible_ssh_private_key_file: h.keyFile,
        orch_known_hosts: h.knownHostsFile,
      });
    }
    const alpha = await docker.getContainer(`orch-sim-${sim.name}-alpha`).inspect();
    expect(alpha.Config.Labels['orch.groups']).toBe('web');
    expect(alpha.HostConfig.Memory).toBe(512 * 2 ** 20);
    expect(alpha.HostConfig.NanoCpus).toBe(1e9);
    const beta = await docker.getContainer(`orch-sim-${sim.name}-beta`).inspect();
    expect(beta.Config.Labels['orch.groups']).toBe('db,web');
    expect(beta.HostConfig.Memory).toBe(0);
    // hosts resolve each other by inventory name; the base image has no python
    const { stdout } = await ssh(sim.host('alpha'), 'getent hosts beta; command -v python3 || echo no-python');
    expect(stdout).toContain(sim.host('beta').address);
    expect(stdout).toContain('no-python');
  });

  it('reaches the apt cache through the gateway when there is one', async () => {
    const proxy = sim.state.aptProxy;
    if (!proxy) return; // no apt-cacher-ng on this machine: the overlay has no apt_proxy and that is fine
    const { stdout } = await ssh(sim.host('beta'), `curl -s -o /dev/null -w '%{http_code}' -m 10 ${proxy}/acng-report.html`);
    expect(stdout.trim()).toBe('200');
  });

  it('kill and start keep address and host key', async () => {
    await sim.kill('beta');
    expect((await simStatus(sim.name)).find((s) => s.host === 'beta')?.state).toBe('exited');
    await expect(ssh(sim.host('beta'), 'true', undefined, 2)).rejects.toThrow();
    await sim.start('beta');
    const { stdout } = await ssh(sim.host('beta'), 'hostname');
    expect(stdout.trim()).toBe('beta');
    const status = await simStatus(sim.name);
    expect(status.map((s) => [s.host, s.state, s.address])).toEqual([
      ['alpha', 'running', sim.host('alpha').address],
      ['beta', 'running', sim.host('beta').address],
    ]);
  });

  it('simDown leaves nothing behind', async () => {
    await simDown(sim.name, { projectRoot: PROJECT_ROOT });
    const filters = JSON.stringify({ label: [`orch.sim=${sim.name}`] });
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
    expect((await docker.listNetworks()).map((n) => n.Name)).not.toContain(`orch-sim-${sim.name}`);
    expect(existsSync(simStateDir(PROJECT_ROOT, sim.name))).toBe(false);
  });
});
