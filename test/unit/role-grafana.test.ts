import { describe, expect, it } from 'vitest';
import grafana from '../../roles/grafana/index.js';
import { DATASOURCES, GRAFANA_INI, hostsDashboard } from '../../roles/grafana/render.js';
import { named, peer, roleContext, written } from './role-harness.js';

const SEED = [
  peer('vm1', '10.20.0.11', ['prometheus']),
  peer('vm2', '10.20.0.12', ['grafana']),
  peer('vm3', '10.20.0.13', ['loki', 'alertmanager'], { loki_port: 3101 }),
];
const SHA = 'a'.repeat(64);
const opsOf = (vars: Record<string, unknown> = {}, peers = SEED) =>
  grafana.operations(roleContext(grafana, { peers, host: 'vm2', vars: { grafana_admin_password: 's3cret#;pw', grafana_sha256: SHA, ...vars } }));
const json = (text: string) => JSON.parse(text.replace(/^#.*\n/, '')) as Record<string, any>;

describe('grafana role', () => {
  it("provisions the inventory's Prometheus and Loki as data sources; a missing one is deleted", () => {
    const ds = json(written(named(opsOf(), 'file', DATASOURCES)));
    expect(ds.datasources.map((d: { name: string; url: string; isDefault: boolean }) => `${d.name} ${d.url} ${d.isDefault}`)).toEqual([
      'Prometheus http://10.20.0.11:9090 true',
      'Loki http://10.20.0.13:3101 false',
    ]);
    expect(ds.deleteDatasources).toEqual([]);
    const noLoki = json(written(named(opsOf({}, SEED.slice(0, 2)), 'file', DATASOURCES)));
    expect(noLoki.datasources.map((d: { name: string }) => d.name)).toEqual(['Prometheus']);
    expect(noLoki.deleteDatasources).toEqual([{ name: 'Loki', orgId: 1 }]);
  });

  it('grafana.ini is a secret file (0640 root:grafana) with the admin password kept literal; postgres for enterprise', () => {
    const op = named(opsOf(), 'file', GRAFANA_INI)!;
    expect(op.secret).toBe(true);
    const p = op.plan({ stat: null, sha256: null }) as { diff: { masked?: boolean }; script: string };
    expect(p.diff.masked).toBe(true);
    expect(p.script).toContain('0640');
    const ini = written(op);
    expect(ini).toContain('admin_password = """s3cret#;pw"""');
    expect(ini).toContain('http_port = 3000');
    expect(ini).toContain('type = sqlite3');
    const pg = written(named(opsOf({ grafana_database: 'postgres', grafana_db_host: '10.20.0.10', grafana_db_password: 'dbpw' }), 'file', GRAFANA_INI));
    expect(pg).toMatch(/type = postgres\nhost = 10.20.0.10:5432\nname = grafana\nuser = """grafana"""\npassword = """dbpw"""/);
    expect(() => written(named(opsOf({ grafana_admin_password: 'a\nb' }), 'file', GRAFANA_INI))).toThrow(/no newlines/);
  });

  it('validates the pin and the database password; the dashboard uses the provisioned data sources', () => {
    const ctx = (vars: Record<string, unknown>) => roleContext(grafana, { peers: SEED, host: 'vm2', vars });
    expect(grafana.validate!(ctx({ grafana_sha256: SHA }))).toEqual([]);
    expect(grafana.validate!(ctx({ grafana_database: 'postgres' }))).toEqual([
      'grafana_sha256: required (the catalogue has no pinned Grafana release yet)',
      'grafana_db_password: required with grafana_database: postgres',
    ]);
    const uids = new Set((JSON.parse(hostsDashboard()) as { panels: Array<{ datasource: { uid: string } }> }).panels.map((p) => p.datasource.uid));
    expect([...uids].sort()).toEqual(['orch-loki', 'orch-prometheus']);
  });
});
