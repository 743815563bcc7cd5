/**
 * The events of a live node run in-process (`startLiveNode`, `startNodeRunner`), and waits on them
 * that end: with the event, with an error when the node stopped first, or at a time limit saying
 * what was awaited (never a sleep).
 */
import type { NodeEvent } from '../../src/node/snapshot.js';

export class NodeEventLog {
  readonly events: NodeEvent[] = [];
  private readonly waiters = new Set<() => void>();

  /** Give this as the node's `onEvent`. */
  readonly push = (e: NodeEvent): void => {
    this.events.push(e);
    for (const w of [...this.waiters]) w();
  };

  /** The first event from index `from` on that satisfies `pred`. */
  until(what: string, pred: (e: NodeEvent) => boolean, from = 0, timeoutMs = 45_000): Promise<NodeEvent> {
    return new Promise((resolve, reject) => {
      let seen = from;
      const end = (): void => {
        this.waiters.delete(check);
        clearTimeout(timer);
      };
      const check = (): void => {
        for (; seen < this.events.length; seen++) {
          const e = this.events[seen] as NodeEvent;
          if (pred(e)) {
            end();
            resolve(e);
            return;
          }
          if (e.event === 'stopped') {
            end();
            reject(new Error(`stopped before ${what}`));
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms (${this.events.length} events, the last: ${JSON.stringify(this.events.at(-1))})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}
