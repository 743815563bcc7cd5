import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mux } from '../../src/net/mux/mux.js';
import type { BearerSink } from '../../src/net/transport/bearer.js';
import { DelayedBearer, withLinkDelay } from '../../src/net/transport/delayed.js';
import { formatLinkDelays, parseLinkDelays } from '../../src/net/transport/delayed-links.js';
import { memoryPair } from '../../src/net/transport/memory.js';
import { Scheduler } from '../../src/sim/scheduler.js';

interface Recorder {
  sink: BearerSink;
  /** [virtual time, byte] for every byte received. */
  bytes: Array<[number, number]>;
  ended: number | undefined;
  closed: boolean;
  drains: number;
}

function recorder(clock: Scheduler): Recorder {
  const r: Recorder = {
    bytes: [],
    ended: undefined,
    closed: false,
    drains: 0,
    sink: {
      data: (chunk) => {
        for (const b of chunk) r.bytes.push([clock.now(), b]);
      },
      drain: () => {
        r.drains++;
      },
      end: () => {
        r.ended = clock.now();
      },
      close: () => {
        r.closed = true;
      },
    },
  };
  return r;
}

/** A memory pair with no delay of its own, the first endpoint wrapped in a DelayedBearer. */
function delayedPair(delayMs: number, highWaterMark?: number) {
  const clock = new Scheduler();
  const [a, b] = memoryPair({ clock });
  const delayed = new DelayedBearer(a, clock, delayMs, highWaterMark);
  const sender = recorder(clock);
  const receiver = recorder(clock);
  delayed.attach(sender.sink);
  b.attach(receiver.sink);
  return { clock, delayed, b, sender, receiver };
}

describe('DelayedBearer', () => {
  it('delivers each write no earlier than the delay after it was written, on the injected clock', () => {
    const { clock, delayed, receiver } = delayedPair(40);
    delayed.write(Uint8Array.of(1, 2));
    clock.at(15, () => delayed.write(Uint8Array.of(3)));
    clock.run({ until: 39 });
    expect(receiver.bytes).toEqual([]);
    clock.run({ until: 54 });
    expect(receiver.bytes).toEqual([
      [40, 1],
      [40, 2],
    ]);
    clock.run();
    expect(receiver.bytes.at(-1)).toEqual([55, 3]);
  });

  it('keeps byte order over any schedule of writes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.uint8Array({ minLength: 0, maxLength: 20 })), {
          maxLength: 40,
        }),
        (delay, writes) => {
          const { clock, delayed, receiver } = delayedPair(delay);
          const sent: number[] = [];
          const at: number[] = [];
          let t = 0;
          for (const [gap, bytes] of writes) {
            t += gap;
            clock.at(t, () => {
              delayed.write(bytes);
              for (const x of bytes) {
                sent.push(x);
                at.push(clock.now());
              }
            });
          }
          clock.run();
          expect(receiver.bytes.map(([, x]) => x)).toEqual(sent);
          // every byte arrives exactly the delay after it was written (the pair itself adds nothing)
          receiver.bytes.forEach(([time], i) => {
            expect(time).toBe((at[i] as number) + delay);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('copies what it holds: the writer may reuse its buffer', () => {
    const { clock, delayed, receiver } = delayedPair(10);
    const buf = Uint8Array.of(7, 7);
    delayed.write(buf);
    buf.fill(9);
    clock.run();
    expect(receiver.bytes.map(([, x]) => x)).toEqual([7, 7]);
  });

  it('sends the FIN after the bytes written before it', () => {
    const { clock, delayed, receiver } = delayedPair(25);
    delayed.write(Uint8Array.of(1));
    clock.at(5, () => {
      delayed.write(Uint8Array.of(2));
      delayed.end();
    });
    clock.run();
    expect(receiver.bytes).toEqual([
      [25, 1],
      [30, 2],
    ]);
    expect(receiver.ended).toBe(30);
  });

  it('a reset drops what is held', () => {
    const { clock, delayed, receiver } = delayedPair(25);
    delayed.write(Uint8Array.of(1, 2, 3));
    clock.at(10, () => delayed.reset());
    clock.run();
    expect(receiver.bytes).toEqual([]);
    expect(receiver.closed).toBe(true);
  });

  it('counts held bytes as buffered: back-pressure above the high-water mark, drain once released', () => {
    const { clock, delayed, sender } = delayedPair(30, 100);
    expect(delayed.write(new Uint8Array(60))).toBe(true);
    expect(delayed.writableLength).toBe(60);
    expect(delayed.write(new Uint8Array(60))).toBe(false);
    expect(delayed.held).toBe(120);
    clock.run();
    expect(delayed.held).toBe(0);
    expect(sender.drains).toBe(1);
  });

  it('carries a mux conversation: a ping answered across two delayed directions takes both delays', async () => {
    const clock = new Scheduler();
    const [a, b] = memoryPair({ clock });
    const left = new Mux(new DelayedBearer(a, clock, 30), { clock });
    const right = new Mux(new DelayedBearer(b, clock, 70), { clock });
    left.enable([8]);
    right.enable([8]);
    const leftCh = left.channel(8, 'initiator');
    const rightCh = right.channel(8, 'responder');
    let answeredAt: number | undefined;
    rightCh.attach((chunk) => {
      void rightCh.send(chunk.slice());
    });
    leftCh.attach(() => {
      answeredAt = clock.now();
    });
    void leftCh.send(Uint8Array.of(0x82, 0x00, 0x01));
    await clock.runAsync({ until: 1_000 });
    expect(answeredAt).toBe(100);
    left.abort();
    right.abort();
  });
});

describe('withLinkDelay and the link-delays file', () => {
  it('wraps a bearer by its remote IP, and leaves links without a delay alone', () => {
    const clock = new Scheduler();
    const [a] = memoryPair({ clock, b: { host: '127.0.0.3', port: 3001 } });
    const delays = parseLinkDelays(formatLinkDelays(new Map([['127.0.0.3', 12.5]])), 'delays.json');
    const wrapped = withLinkDelay(a, delays, clock);
    expect(wrapped).toBeInstanceOf(DelayedBearer);
    expect((wrapped as DelayedBearer).delayMs).toBe(12.5);
    expect(withLinkDelay(a, new Map([['127.0.0.4', 5]]), clock)).toBe(a);
    const [mapped] = memoryPair({ clock, b: { host: '::ffff:127.0.0.3', port: 3001 } });
    expect(withLinkDelay(mapped, delays, clock)).toBeInstanceOf(DelayedBearer);
  });

  it('refuses a file that is not a delay table, naming the entry', () => {
    expect(() => parseLinkDelays('[]', 'f.json')).toThrow(/linkDelays/);
    expect(() => parseLinkDelays('{"linkDelays":{"127.0.0.2":-1}}', 'f.json')).toThrow(/linkDelays\.127\.0\.0\.2/);
    expect(() => parseLinkDelays('{"linkDelays":{"127.0.0.2":"5"}}', 'f.json')).toThrow(/LINK|expected a delay/);
  });
});
