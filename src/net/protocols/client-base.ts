/**
 * What every mini-protocol client shares: its state machine, one request at a time (`Serial`),
 * errors reported as the caller should see them (`clientError`), and the closing message sent
 * once nothing is pending.
 */
import type { ProtocolPeer } from '../protocol/peer.js';
import { type ClientContext, clientError, Serial } from './types.js';

export abstract class ProtocolClient<M extends { type: string }, S extends string> {
  private readonly serial = new Serial();

  protected constructor(
    protected readonly peer: ProtocolPeer<M, S>,
    protected readonly ctx: ClientContext,
    /** The closing message and the state in which the client may send it. */
    private readonly closing: { state: S; message: M },
  ) {}

  /** True once the protocol ended (a new client must be opened to use it again). */
  get finished(): boolean {
    return this.peer.done;
  }

  /** A request is running or queued. */
  get busy(): boolean {
    return this.serial.busy;
  }

  /** Runs `f` after the requests before it; its error prefixed with the peer (or the cancellation's reason). */
  protected request<T>(f: () => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      try {
        return await f();
      } catch (e) {
        throw clientError(this.ctx, e);
      }
    });
  }

  /** Ends the protocol once no request is pending; a no-op when it cannot be sent. */
  done(): Promise<void> {
    return this.serial.run(async () => {
      if (this.peer.state === this.closing.state && !this.peer.failure)
        await this.peer.send(this.closing.message).catch(() => {});
    });
  }
}
