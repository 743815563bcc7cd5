import { describe, expect, it } from 'vitest';
import { spoRunArgs } from './run-args.js';

describe('spoRunArgs', () => {
  it('the required flags, --port 0 and --json when nothing else is named', () => {
    expect(spoRunArgs({ topology: 't.json', magic: 42, source: 'r.json' })).toEqual([
      'run',
      '--topology',
      't.json',
      '--port',
      '0',
      '--magic',
      '42',
      '--source',
      'r.json',
      '--json',
    ]);
  });

  it('every named option as its flag, numbers as text; switches only when true', () => {
    expect(
      spoRunArgs({
        topology: 't.json',
        magic: 7,
        source: 'r.json',
        config: 'c.json',
        control: 'n.sock',
        dnsServer: '127.0.0.1:5353',
        host: '127.0.0.1',
        port: 3001,
        allowEmpty: true,
        allowPrivatePeers: false,
        peerShareDelay: '1s',
        churnInterval: '5s',
        snapshotInterval: '200ms',
        seed: 3,
        metricsPort: 0,
        json: false,
      }),
    ).toEqual([
      'run',
      '--topology',
      't.json',
      '--config',
      'c.json',
      '--control',
      'n.sock',
      '--dns-server',
      '127.0.0.1:5353',
      '--host',
      '127.0.0.1',
      '--port',
      '3001',
      '--magic',
      '7',
      '--source',
      'r.json',
      '--allow-empty',
      '--peer-share-delay',
      '1s',
      '--churn-interval',
      '5s',
      '--snapshot-interval',
      '200ms',
      '--seed',
      '3',
      '--metrics-port',
      '0',
    ]);
  });
});
