/**
 * An apt cache for the simulated hosts: apt-cacher-ng on the Docker host (port 3142), reached by the containers
 * through their network's gateway address. Purely an accelerator: when it is not installed or does not work,
 * `ensureAptProxy` returns undefined and the hosts download from deb.debian.org directly.
 *
 * Set ORCH_SIM_APT_PROXY=off to disable it, or ORCH_SIM_APT_PROXY=http://host:port to use another proxy.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { noLog, run, sleep, type Log } from './docker.js';

export const APT_PROXY_PORT = 3142;
const PROBE_URL = 'http://deb.debian.org/debian/dists/bookworm/Release.gpg';

function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

/** GET `url` through the HTTP proxy at host:port; resolves with the status code (0 on error). */
function probeViaProxy(host: string, port: number, url: string, timeoutMs = 20_000): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request({ host, port, method: 'GET', path: url, headers: { Host: u.host }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function startAptCacherNg(log: Log): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : ['sudo', '-n'];
  const attempts: string[][] = [];
  if (existsSync('/usr/sbin/service') || existsSync('/sbin/service')) attempts.push([...sudo, 'service', 'apt-cacher-ng', 'start']);
  if (existsSync('/etc/init.d/apt-cacher-ng')) attempts.push([...sudo, '/etc/init.d/apt-cacher-ng', 'start']);
  for (const cmd of attempts) {
    try {
      log(`starting apt-cacher-ng: ${cmd.join(' ')}`);
      await run(cmd[0], cmd.slice(1), { timeoutMs: 30_000 });
      return;
    } catch (e) {
      log(`  failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

let checked: Promise<boolean> | undefined;

/** Is apt-cacher-ng listening on this machine and able to fetch from deb.debian.org? Starts it if needed. */
async function localProxyWorks(log: Log): Promise<boolean> {
  if (!(await portOpen('127.0.0.1', APT_PROXY_PORT))) {
    if (!existsSync('/usr/sbin/apt-cacher-ng')) {
      log('apt-cacher-ng is not installed: simulated hosts download packages directly (setup-host.sh installs it)');
      return false;
    }
    await startAptCacherNg(log);
    for (let i = 0; i < 50 && !(await portOpen('127.0.0.1', APT_PROXY_PORT)); i++) await sleep(200);
    if (!(await portOpen('127.0.0.1', APT_PROXY_PORT))) {
      log('apt-cacher-ng does not listen on port 3142: simulated hosts download packages directly');
      return false;
    }
  }
  const status = await probeViaProxy('127.0.0.1', APT_PROXY_PORT, PROBE_URL);
  if (status !== 200) {
    log(
      `apt-cacher-ng answers ${status || 'nothing'} for ${PROBE_URL}: not using it. ` +
        `Its Debian backend may be unreachable: \`bash scripts/setup-host.sh\` points /etc/apt-cacher-ng/backends_debian at deb.debian.org.`,
    );
    return false;
  }
  return true;
}

/**
 * Make sure the apt cache runs and return the proxy URL containers on a network with this gateway should use
 * (`http://<gateway>:3142`), or undefined when there is no working cache.
 */
export async function ensureAptProxy(opts: { gateway: string; log?: Log }): Promise<string | undefined> {
  const log = opts.log ?? noLog;
  const env = process.env.ORCH_SIM_APT_PROXY;
  if (env === 'off' || env === '0' || env === 'false') return undefined;
  if (env && /^https?:\/\//.test(env)) return env;
  checked ??= localProxyWorks(log);
  const ok = await checked;
  if (!ok) checked = undefined; // try again next time (it may have been installed/fixed meanwhile)
  return ok ? `http://${opts.gateway}:${APT_PROXY_PORT}` : undefined;
}
