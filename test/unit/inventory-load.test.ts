import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { problemsOf, tempInventory } from '../helpers/inventory.js';
import { inventoryGraph } from '../../src/inventory/graph.js';
import { resolveHostVars } from '../../src/inventory/vars.js';

const projectRoot = join(import.meta.dirname, '..', 'fixtures');
const fixture = (name: string) => join(projectRoot, 'inventories', name);


describe('loadInventory: YAML', () => {
  const inv = loadInventory('yaml-basic', { projectRoot });

  it('keeps hosts in definition order, expanding ranges', () => {
    expect([...inv.hosts.keys()]).toEqual(['lonely', 'vm1', 'vm2', 'vm3', 'vm4', 'web01.example.com', 'web02.example.com']);
  });

  it('lists every group of a host, through children, including all', () => {
    expect(inv.hosts.get('vm1')!.groups).toEqual(['all', 'data', 'kafka', 'zookeeper']);
    expect(inv.hosts.get('vm4')!.groups).toEqual(['all', 'data', 'zookeeper']);
    expect(inv.hosts.get('web01.example.com')!.groups).toEqual(['all', 'web']);
  });

  it('puts hosts that are in no group into ungrouped', () => {
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['lonely']);
    expect(inv.hosts.get('lonely')!.groups).toEqual(['all', 'ungrouped']);
    expect(inv.groups.get('all')!.children.sort()).toEqual(['data', 'ungrouped', 'web']);
  });

  it('records groups, direct hosts and children', () => {
    expect(inv.groups.get('data')).toMatchObject({ children: ['kafka', 'zookeeper'], hosts: [] });
    expect(inv.groups.get('kafka')!.hosts).toEqual(['vm1', 'vm2', 'vm3']);
    expect(inv.groups.get('zookeeper')!.hosts).toEqual(['vm1', 'vm4']);
  });

  it('merges the vars of a host listed in several groups, and accepts null host vars', () => {
    const v = resolveHostVars(inv, 'vm1').values;
    expect(v).toMatchObject({ ansible_host: '10.0.0.1', zk_id: 1 });
    expect(inv.hosts.get('vm3')!.vars).toEqual([]);
  });

  it('sets ansible_port from host:port', () => {
    expect(resolveHostVars(inv, 'web02.example.com').values.ansible_port).toBe(2222);
  });

  it('keeps the origin of every value: file, line, key path', () => {
    const layer = inv.hosts.get('vm1')!.vars[0];
    expect(layer.origins.ansible_host).toEqual({
      file: 'test/fixtures/inventories/yaml-basic/hosts.yml',
      line: 15,
      key: 'all.children.data.children.kafka.hosts.vm1.ansible_host',
    });
    expect(inv.groups.get('all')!.vars[0].origins.env).toMatchObject({ line: 5, key: 'all.vars.env' });
  });

  it('reads group_vars as a file, a file without extension, or a directory in name order', () => {
    const kafka = inv.groups.get('kafka')!.vars;
    expect(kafka.map((l) => [l.label, l.kind])).toEqual([
      ['group kafka', 'inline'],
      ['group kafka (group_vars/kafka/10-main.yml)', 'file'],
      ['group kafka (group_vars/kafka/20-tuning.yaml)', 'file'],
    ]);
    expect(kafka[2].origins.kafka_heap).toEqual({ file: 'test/fixtures/inventories/yaml-basic/group_vars/kafka/20-tuning.yaml', line: 1, key: 'kafka_heap' });
    expect(resolveHostVars(inv, 'vm2').values).toMatchObject({ kafka_heap: '4g', kafka_version: '3.7.0', ntp_server: 'pool.ntp.org' });
    expect(resolveHostVars(inv, 'vm4').values.zk_port).toBe(2181);
  });

  it('reads host_vars as a file or a directory', () => {
    expect(resolveHostVars(inv, 'vm1').values).toMatchObject({ broker_id: 101, rack: 'r1' });
    expect(resolveHostVars(inv, 'vm2').values.rack).toBe('r2b');
  });

  it('resolves a directory path or a file path as well as a name', () => {
    expect([...loadInventory(fixture('yaml-basic')).hosts.keys()]).toHaveLength(7);
    const byFile = loadInventory(join(fixture('yaml-basic'), 'hosts.yml'));
    expect(resolveHostVars(byFile, 'vm1').values.rack).toBe('r1');
  });

  it('reads YAML 1.1 as Ansible does and the string forms of hosts/children', () => {
    const dir = tempInventory({
      'inventory.yml': 'all:\n  vars:\n    flag: yes\n    mode: 0755\n  children:\n    web:\n      hosts: w1\n    site:\n      children: web\n',
    });
    const inv = loadInventory(dir);
    expect(resolveHostVars(inv, 'w1').values).toMatchObject({ flag: true, mode: 493 });
    expect(inv.hosts.get('w1')!.groups).toEqual(['all', 'site', 'web']);
  });

  it('treats top-level groups other than all as children of all', () => {
    const dir = tempInventory({ 'hosts.yaml': 'web:\n  hosts:\n    w1:\ndb:\n  hosts:\n    d1:\n' });
    const inv = loadInventory(dir);
    expect(inv.groups.get('all')!.children.sort()).toEqual(['db', 'ungrouped', 'web']);
    expect(inv.hosts.get('d1')!.groups).toEqual(['all', 'db']);
  });
});

describe('loadInventory: INI', () => {
  const inv = loadInventory('ini-basic', { projectRoot });

  it('reads hosts before any section as ungrouped, sections, children and ranges', () => {
    expect([...inv.hosts.keys()]).toEqual(['bastion', 'vm1', 'vm2', 'vm3', 'vm4', 'zka.example.com', 'zkb.example.com']);
    expect(inv.hosts.get('bastion')!.groups).toEqual(['all', 'ungrouped']);
    expect(inv.hosts.get('vm1')!.groups).toEqual(['all', 'data', 'kafka', 'zookeeper']);
    expect(inv.groups.get('data')!.children).toEqual(['kafka', 'zookeeper']);
  });

  it("parses values as Ansible does: Python literals, quotes, booleans, and plain strings", () => {
    const v = resolveHostVars(inv, 'vm3').values;
    expect(v).toMatchObject({
      note: 'two words',
      quoted: 42, // quotes on a host line only group words (shlex), as in Ansible
      heap: '1g',
      retries: 3,
      ratio: 0.5,
      enabled: true,
      flags: ['a', 'b'],
      settings: { x: 1 },
      nothing: null,
      plain: 'hello world',
      ansible_user: 'deploy',
      kafka_version: '3.7.0',
    });
    expect(resolveHostVars(inv, 'vm1').values.ansible_become).toBe(true);
    expect(resolveHostVars(inv, 'vm2').values.ansible_become).toBe(true);
    expect(resolveHostVars(inv, 'zka.example.com').values.ansible_port).toBe(2200);
  });

  it('records the line of the host or vars line as origin', () => {
    const vm2 = inv.hosts.get('vm2')!.vars[0];
    expect(vm2.origins.broker_id).toEqual({ file: 'test/fixtures/inventories/ini-basic/hosts', line: 6, key: 'kafka.vm2.broker_id' });
    expect(inv.groups.get('data')!.vars[0].origins.retries).toMatchObject({ line: 19, key: 'data:vars.retries' });
  });

  it('accepts a child section naming a group declared later, as Ansible does', () => {
    const dir = tempInventory({ 'hosts.ini': '[site:children]\nweb\n\n[web]\nw1\n' });
    expect(loadInventory(dir).hosts.get('w1')!.groups).toEqual(['all', 'site', 'web']);
  });

  it('tells YAML from INI in a file without extension', () => {
    const dir = tempInventory({ hosts: 'all:\n  hosts:\n    y1:\n' });
    expect([...loadInventory(dir).hosts.keys()]).toEqual(['y1']);
    const dir2 = tempInventory({ hosts: 'h1\nh2 ansible_port=2200\n' });
    expect([...loadInventory(dir2).hosts.keys()]).toEqual(['h1', 'h2']);
  });
});

describe('loadInventory: finding the inventory', () => {
  it('names the paths tried and the inventories available', () => {
    const [p] = problemsOf(() => loadInventory('prdo', { projectRoot }));
    expect(p.message).toContain('inventory not found');
    expect(p.message).toContain('test/fixtures/inventories/prdo');
    expect(p.message).toContain('yaml-basic');
    expect(p.message).toContain('ini-basic');
  });

  it('reports a directory without an inventory file, and one with several', () => {
    expect(problemsOf(() => loadInventory(tempInventory({ 'README.md': '' }))).at(0)!.message).toContain('no inventory file');
    const two = tempInventory({ 'hosts.yml': 'all:\n', 'hosts.ini': 'h1\n' });
    expect(problemsOf(() => loadInventory(two)).at(0)!.message).toContain('several inventory files');
  });
});

describe('existing Ansible inventories load as they are', () => {
  const ini = loadInventory('ansible-docs-ini', { projectRoot });
  const yaml = loadInventory('ansible-docs-yaml', { projectRoot });

  it('gives the same hosts, groups and vars from the INI and the YAML form', () => {
    expect([...ini.hosts.keys()]).toEqual([...yaml.hosts.keys()]);
    for (const h of ini.hosts.keys()) {
      expect(ini.hosts.get(h)!.groups).toEqual(yaml.hosts.get(h)!.groups);
      expect(resolveHostVars(ini, h).values).toEqual(resolveHostVars(yaml, h).values);
    }
    expect(inventoryGraph(ini)).toEqual(inventoryGraph(yaml));
  });

  it('reads the guide example as Ansible does', () => {
    expect(ini.hosts.get('foo.example.com')!.groups).toEqual(['all', 'prod', 'webservers', 'east']); // by depth, then name
    expect(ini.groups.get('ungrouped')!.hosts).toEqual(['mail.example.com']);
    expect(resolveHostVars(ini, 'host2').values).toMatchObject({ http_port: 303, maxRequestsPerChild: 909, ntp_server: 'ntp.atlanta.example.com' });
    expect(resolveHostVars(ini, 'jumper').values).toMatchObject({ ansible_port: 5555, ansible_host: '192.0.2.50', ansible_ssh_common_args: '-o StrictHostKeyChecking=no' });
  });
});
