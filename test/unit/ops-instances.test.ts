import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { instances, instanceDropIn, environmentLine, instancesFact, pruneInstances } from '../../src/ops/instances.js';
import { gather, tmp } from './ops-harness.js';

const TEMPLATE = '[Unit]\nDescription=Spark worker %i\n[Service]\nExecStart=/opt/spark/sbin/start-worker.sh --webui-port ${SPARK_WORKER_WEBUI_PORT}\n';

describe('instances', () => {
  it('a template, a drop-in per instance (notifying only that instance), each instance enabled and started, then a prune', () => {
    const list = instances({
      service: 'spark-worker',
      unit: TEMPLATE,
      instances: [
        { id: '1', environment: { SPARK_WORKER_WEBUI_PORT: 8081, SPARK_WORKER_CORES: 8 } },
        { id: '2', environment: { SPARK_WORKER_WEBUI_PORT: 8082, SPARK_WORKER_CORES: 8 }, serviceLines: ['MemoryMax=2816M'] },
      ],
    });
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'unit /etc/systemd/system/spark-worker@.service',
      'dir /etc/systemd/system/spark-worker@1.service.d',
      'instance /etc/systemd/system/spark-worker@1.service.d/orch-instance.conf',
      'dir /etc/systemd/system/spark-worker@2.service.d',
      'instance /etc/systemd/system/spark-worker@2.service.d/orch-instance.conf',
      'service spark-worker@1.service',
      'service spark-worker@2.service',
      'instances spark-worker@*',
    ]);
    expect(list[0].notify).toEqual(['spark-worker@1.service', 'spark-worker@2.service']);
    expect(list[2].notify).toEqual(['spark-worker@1.service']);
    // a new or changed drop-in needs a daemon reload before the service op
    const p = list[2].plan({ stat: null, sha256: null });
    expect(p.status === 'change' && p.pending?.map((a) => a.key)).toEqual(['daemon-reload']);
  });

  it('renders the drop-in with systemd quoting', () => {
    expect(instanceDropIn('pg', { id: 'b', environment: { PGPORT: 5433, OPTS: 'a "b" 50% c\\d' }, serviceLines: ['CPUQuota=140%'] })).toBe(
      '# Managed by orch: instance b of pg@.service\n[Service]\nEnvironment="PGPORT=5433"\nEnvironment="OPTS=a \\"b\\" 50%% c\\\\d"\nCPUQuota=140%\n',
    );
    expect(() => environmentLine('BAD-NAME', 1)).toThrow(/invalid environment variable name/);
    expect(() => environmentLine('X', 'a\nb')).toThrow(/newline/);
  });

  it('refuses bad ids and duplicates', () => {
    expect(() => instances({ service: 'w', unit: '', instances: [{ id: '1 2' }] })).toThrow(/invalid instance id "1 2"/);
    expect(() => instances({ service: 'w', unit: '', instances: [{ id: '1' }, { id: '1' }] })).toThrow(/given twice/);
    expect(() => instances({ service: 'w@', unit: '', instances: [] })).toThrow(/invalid service name/);
  });

  it('finds the instances on a host from drop-ins and enablement links', () => {
    const d = tmp();
    mkdirSync(join(d, 'spark-worker@1.service.d'));
    mkdirSync(join(d, 'spark-worker@3.service.d'));
    mkdirSync(join(d, 'multi-user.target.wants'));
    symlinkSync(join(d, 'spark-worker@.service'), join(d, 'multi-user.target.wants', 'spark-worker@7.service'));
    mkdirSync(join(d, 'spark-master.service.d'));
    writeFileSync(join(d, 'spark-worker@.service'), TEMPLATE);
    const f = gather(instancesFact('spark-worker', d));
    expect(f.present.filter((id) => ['1', '3', '7'].includes(id))).toEqual(['1', '3', '7']);
    expect(f.template).toBe(true);
  });

  it('removes what the list no longer has: stop, disable, drop-in; the template when no instance is left', () => {
    const keep = pruneInstances('spark-worker', ['1', '2']);
    expect(keep.plan({ present: ['1', '2'], template: true })).toEqual({ status: 'ok', reason: 'instances 1, 2; no other' });
    const shrink = keep.plan({ present: ['1', '2', '3'], template: true });
    expect(shrink.status).toBe('change');
    if (shrink.status !== 'change') return;
    expect(shrink.reason).toBe('remove instance 3 (stop, disable, delete its drop-in)');
    expect(shrink.script).toContain('systemctl disable --now spark-worker@3.service');
    expect(shrink.script).toContain('rm -rf /etc/systemd/system/spark-worker@3.service.d');
    expect(shrink.script).not.toContain('spark-worker@2');
    const none = pruneInstances('spark-worker', []).plan({ present: ['1'], template: true });
    expect(none.status === 'change' && none.reason).toBe('remove instance 1 (stop, disable, delete its drop-in); remove spark-worker@.service (no instance left)');
    expect(pruneInstances('spark-worker', []).plan({ present: [], template: false })).toEqual({ status: 'ok', reason: 'no instance' });
  });
});
