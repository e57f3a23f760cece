import { describe, expect, it } from 'vitest';
import { ops } from '../../src/ops/index.js';

const wheelhouse = { dir: '/c/wheels', tar: '/c/wheels.tar', sha256: 'd'.repeat(64), digest: 'e'.repeat(64) };
const lockText = 'apache-airflow==2.10.4\nflask==2.2.5\n';

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

  it('no venv: verifies the pushed tar, unpacks, creates the venv and installs offline', () => {
    const o = op();
    const plan = o.plan(null);
    expect(plan.status).toBe('change');
    if (plan.status !== 'change') return;
    expect(plan.reason).toBe('no venv: create it and install 2 pins');
    expect(plan.script.split('\n')).toEqual([
      `printf '%s  %s\\n' ${'d'.repeat(64)} /opt/airflow/venv.wheels.tar | sha256sum -c --quiet`,
      'rm -rf /opt/airflow/venv.wheels && mkdir -p /opt/airflow/venv.wheels && tar -xf /opt/airflow/venv.wheels.tar -C /opt/airflow/venv.wheels && rm -f /opt/airflow/venv.wheels.tar',
      'test -x /opt/airflow/venv/bin/python || python3 -m venv /opt/airflow/venv',
      'PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/airflow/venv/bin/pip install --no-input --no-deps --no-index --find-links /opt/airflow/venv.wheels -r /opt/airflow/lock.txt',
      'rm -rf /opt/airflow/venv.wheels',
    ]);
    expect(o.uploads!(null)).toEqual([{ local: '/c/wheels.tar', remote: '/opt/airflow/venv.wheels.tar', mode: 0o600 }]);
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
