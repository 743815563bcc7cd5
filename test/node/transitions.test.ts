/** The oracle itself: the reference's valid-transition tables (governor.md §8.3, §10.2) and the chain and timeout checks. */
import { describe, expect, it } from 'vitest';
import {
  ALL_CM_STATES,
  type CmSt,
  chainErrors,
  type RemoteStOrNone,
  timeoutViolations,
  validCmTransition,
  validRemoteTransition,
} from '../../src/node/transitions.js';

describe('validCmTransition (verifyAbstractTransition)', () => {
  it('accepts the named transitions and the identities the reference allows', () => {
    for (const [a, b] of [
      ['Unknown', 'ReservedOutbound'],
      ['Terminated', 'ReservedOutbound'],
      ['ReservedOutbound', 'UnnegotiatedIn'], // Overwritten
      ['UnnegotiatedOut', 'UnnegotiatedIn'], // SelfConn
      ['InboundIdleUni', 'OutboundUni'], // SelfConn^-1
      ['OutboundDupTicking', 'OutboundDupExpired'], // TimeoutExpired
      ['OutboundIdleDup', 'OutboundIdleDup'],
      ['OutboundIdleUni', 'OutboundIdleUni'],
      ['OutboundDupTicking', 'OutboundDupTicking'],
      ['OutboundDupExpired', 'OutboundDupExpired'],
      ['InboundIdleDup', 'InboundIdleDup'],
      ['Terminating', 'UnnegotiatedIn'],
      ['Duplex', 'Terminated'],
      ['Terminated', 'Unknown'],
    ] as Array<[CmSt, CmSt]>) {
      expect(validCmTransition(a, b), `${a}>${b}`).toBe(true);
    }
  });

  it('forbids Terminated -> Terminated, Unknown -> Unknown and everything not in the table', () => {
    expect(validCmTransition('Terminated', 'Terminated')).toBe(false);
    expect(validCmTransition('Unknown', 'Unknown')).toBe(false);
    for (const [a, b] of [
      ['InboundIdleUni', 'InboundIdleUni'],
      ['InboundDup', 'InboundDup'],
      ['Duplex', 'Duplex'],
      ['OutboundUni', 'OutboundDupTicking'],
      ['OutboundIdleDup', 'InboundIdleDup'],
      ['InboundIdleUni', 'OutboundDupTicking'],
      ['Unknown', 'Duplex'],
      ['Terminating', 'ReservedOutbound'],
      ['OutboundDupExpired', 'InboundIdleDup'],
    ] as Array<[CmSt, CmSt]>) {
      expect(validCmTransition(a, b), `${a}>${b}`).toBe(false);
    }
    // every state may end in Terminated (errors) and in Unknown (removal), but not repeat them
    for (const s of ALL_CM_STATES) {
      expect(validCmTransition(s, 'Terminated')).toBe(s !== 'Terminated');
      expect(validCmTransition(s, 'Unknown')).toBe(s !== 'Unknown');
    }
  });
});

describe('validRemoteTransition (verifyRemoteTransition)', () => {
  it('is the reference table', () => {
    const states: RemoteStOrNone[] = [null, 'RemoteIdle', 'RemoteCold', 'RemoteWarm', 'RemoteHot'];
    const valid = new Set([
      'null>RemoteIdle',
      'RemoteIdle>RemoteWarm',
      'RemoteIdle>RemoteHot',
      'RemoteCold>RemoteWarm',
      'RemoteCold>RemoteHot',
      'RemoteWarm>RemoteHot',
      'RemoteHot>RemoteWarm',
      'RemoteWarm>RemoteIdle',
      'RemoteHot>RemoteIdle',
      'RemoteIdle>RemoteCold',
      'RemoteIdle>null',
      'RemoteCold>null',
      'RemoteWarm>null',
      'RemoteHot>null',
      'null>null',
      'RemoteWarm>RemoteWarm',
      'RemoteIdle>RemoteIdle',
      'RemoteCold>RemoteCold',
    ]);
    for (const a of states)
      for (const b of states) expect(validRemoteTransition(a, b), `${a}>${b}`).toBe(valid.has(`${a}>${b}`));
  });
});

describe('chain and timeout checks', () => {
  it('reports a transition that does not start where the last ended, and a connection not ended', () => {
    const ok = [
      { conn: 1, from: 'Unknown', to: 'ReservedOutbound', at: 0 },
      { conn: 2, from: 'Unknown', to: 'UnnegotiatedIn', at: 0 },
      { conn: 1, from: 'ReservedOutbound', to: 'Terminated', at: 1 },
      { conn: 1, from: 'Terminated', to: 'Unknown', at: 1 },
    ] as const;
    expect(chainErrors([...ok], ['Unknown'], ['Unknown'])).toEqual(['conn 2: ends in UnnegotiatedIn']);
    const broken = [...ok, { conn: 2, from: 'InboundIdleDup' as CmSt, to: 'Terminated' as CmSt, at: 2 }];
    expect(chainErrors(broken, ['Unknown'])).toEqual([
      'conn 2: Unknown->UnnegotiatedIn then InboundIdleDup->Terminated',
    ]);
  });

  it('measures a stay across a timed family and flags more than 1.1x the timeout', () => {
    const timeouts = { handshake: 10_000, protocolIdle: 5_000, outboundIdle: 5_000, timeWait: 60_000 };
    const tr = (conn: number, from: CmSt, to: CmSt, at: number) => ({ conn, from, to, at });
    // the remote's idle timer runs on across InboundIdleDup -> OutboundDupTicking
    const fine = [
      tr(1, 'UnnegotiatedIn', 'InboundIdleDup', 0),
      tr(1, 'InboundIdleDup', 'OutboundDupTicking', 3_000),
      tr(1, 'OutboundDupTicking', 'OutboundDupExpired', 5_500),
    ];
    expect(timeoutViolations(fine, timeouts, 10_000)).toEqual([]);
    const late = [
      tr(1, 'UnnegotiatedIn', 'InboundIdleDup', 0),
      tr(1, 'InboundIdleDup', 'OutboundDupTicking', 3_000),
      tr(1, 'OutboundDupTicking', 'OutboundDupExpired', 5_501),
    ];
    expect(timeoutViolations(late, timeouts, 10_000)).toHaveLength(1);
    // a connection still in TIME_WAIT at the end is measured to the end
    expect(timeoutViolations([tr(2, 'InboundIdleDup', 'Terminating', 0)], timeouts, 66_001)).toHaveLength(1);
  });
});
