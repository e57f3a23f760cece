import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inventoryGraph } from '../../src/inventory/graph.js';
import { loadInventory } from '../../src/inventory/load.js';

const projectRoot = join(import.meta.dirname, '..', 'fixtures');

describe('inventoryGraph', () => {
  it('renders the tree like ansible-inventory --graph', () => {
    expect(inventoryGraph(loadInventory('yaml-basic', { projectRoot }))).toBe(
      [
        '@all:',
        '  |--@data:',
        '  |  |--@kafka:',
        '  |  |  |--vm1',
        '  |  |  |--vm2',
        '  |  |  |--vm3',
        '  |  |--@zookeeper:',
        '  |  |  |--vm1',
        '  |  |  |--vm4',
        '  |--@ungrouped:',
        '  |  |--lonely',
        '  |--@web:',
        '  |  |--web01.example.com',
        '  |  |--web02.example.com',
      ].join('\n'),
    );
  });

  it('starts from another group when asked', () => {
    expect(inventoryGraph(loadInventory('ini-basic', { projectRoot }), 'zookeeper')).toBe(
      ['@zookeeper:', '  |--vm1', '  |--zka.example.com', '  |--zkb.example.com'].join('\n'),
    );
  });
});
