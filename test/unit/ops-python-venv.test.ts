import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDigest, ops, parseLock, prepareArtifacts } from '../../src/ops/index.js';

const lockText = 'apache-airflow==2.10.4 --hash=sha256:' + 'a'.repeat(64) + '\nflask==2.2.5\n';
const wheelhouse = { dir: '/c/wheels', tar: '/c/wheels.tar', sha256: 'd'.repeat(64), digest: lockDigest(parseLock(lockText)) };
const TAR = `/var/tmp/.orch-wheelhouse-${wheelhouse.digest.slice(0, 16)}.tar`;

function op(user?: string) {
  return ops.pythonVenv({ venv: '/opt/airflow/venv', lock: '/opt/airflow/lock.txt', lockText, wheelhouse, user });
}

describe('ops.pythonVenv', () => {
  it('fact is the venv freeze; a missing venv (non-zero exit) is null', () => {
    const o = op();
    expect(o.fact?.command).toBe('PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/airflow/venv/bin/pip freeze --all');
    expect(o.fact?.parse('', 127)).toBeNull();
    expect(o.fact?.parse('Flask==2.2.5\n', 0)).toEqual(new Map([['flask', '2.2.5']]));
  });

  it('up to date: ok, nothing uploaded or run', () => {
    const o = op();
    const plan = o.plan(o.fact!.parse('apache-airflow==2.10.4\nFlask==2.2.5\npip==24.0\n', 0));
    expect(plan.status).toBe('ok');
  });

  it('no venv: verifies the pushed tar against its pushed sha256, unpacks, creates the venv and installs the pins offline (no hashes: built wheels differ)', () => {
    const o = op();
    const plan = o.plan(null);
    expect(plan.status).toBe('change');
    if (plan.status !== 'change') return;
    expect(plan.reason).toBe('no venv: create it and install 2 pins');
    expect(plan.script.split('\n')).toEqual([
      `if [ "$(sha256sum <${TAR} | cut -c1-64)" != "$(head -c 64 ${TAR}.sha256)" ]; then rm -f ${TAR} ${TAR}.sha256; printf '%s\\n' 'orch: ${TAR}: sha256 mismatch on the host' >&2; exit 1; fi`,
      `rm -rf /opt/airflow/venv.wheels && mkdir -p /opt/airflow/venv.wheels && tar -xf ${TAR} -C /opt/airflow/venv.wheels && rm -f ${TAR} ${TAR}.sha256`,
      "printf '%s\\n' apache-airflow==2.10.4 flask==2.2.5 >/opt/airflow/venv.wheels/pins.txt",
      'test -x /opt/airflow/venv/bin/python || python3 -m venv /opt/airflow/venv',
      'PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/airflow/venv/bin/pip install --no-input --no-deps --no-index --find-links /opt/airflow/venv.wheels -r /opt/airflow/venv.wheels/pins.txt',
      'rm -rf /opt/airflow/venv.wheels',
    ]);
    expect(o.uploads!(null)).toEqual([
      { local: '/c/wheels.tar', remote: TAR, mode: 0o600 },
      { local: '/c/wheels.tar.sha256', remote: `${TAR}.sha256`, mode: 0o600 },
    ]);
  });

  it('from a lock file on the controller: nothing built to plan; prepareArtifacts builds (here: finds cached) the wheelhouse before the uploads', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'orch-venv-'));
    const lockFile = join(cacheDir, 'lock.txt');
    await writeFile(lockFile, lockText);
    const root = join(cacheDir, 'wheelhouse', wheelhouse.digest);
    const o = ops.pythonVenv({ venv: '/opt/airflow/venv', lock: '/opt/airflow/lock.txt', lockText, lockFile, wheelhouseOptions: { cacheDir, python: '/bin/false' }, notify: ['airflow-scheduler'] });
    expect(o.notify).toEqual(['airflow-scheduler']);
    expect(o.plan(null).status).toBe('change');
    expect(() => o.uploads!(null)).toThrow(/not built yet/);
    // python /bin/false: a build would fail, so only the cached wheelhouse can be found
    await expect(prepareArtifacts([o])).rejects.toThrow();
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'wheels.tar.sha256'), `${'c'.repeat(64)}\n`);
    await prepareArtifacts([o]);
    expect(o.uploads!(null)).toEqual([
      { local: join(root, 'wheels.tar'), remote: TAR, mode: 0o600 },
      { local: join(root, 'wheels.tar.sha256'), remote: `${TAR}.sha256`, mode: 0o600 },
    ]);
    expect(() => ops.pythonVenv({ venv: '/v', lock: '/l', lockText })).toThrow(/exactly one of wheelhouse and lockFile/);
    expect(() => ops.pythonVenv({ venv: '/v', lock: '/l', lockText, wheelhouse: { ...wheelhouse, digest: 'e'.repeat(64) } })).toThrow(/is not the lock's/);
  });

  it('a bump names only what changed; as a user the commands run under runuser', () => {
    const o = op('airflow');
    const plan = o.plan(new Map([['apache-airflow', '2.10.3'], ['flask', '2.2.5']]));
    expect(plan.status).toBe('change');
    if (plan.status !== 'change') return;
    expect(plan.reason).toBe('install 1 of 2 pins: apache-airflow==2.10.4');
    expect(plan.script).toContain("chown -R airflow /opt/airflow/venv.wheels");
    expect(plan.script).toContain("runuser -u airflow -- sh -c 'PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/airflow/venv/bin/pip install");
  });
});
