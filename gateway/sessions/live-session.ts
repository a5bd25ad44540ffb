/**
 * Gateway-side state of one running session: its worker, its viewers, and the credit-based
 * flow control between them. The worker pauses the PTY when credit runs out; the gateway
 * grants credit as each viewer's socket takes the data (and, for clients that `ack`, as they
 * acknowledge parsing it), so a viewer that stops reading stalls only until it is dropped.
 */
import type { WorkerHandle } from '../supervisor/worker-handle.js';
import type { Viewer } from './viewer.js';

/** A viewer whose socket holds more than this unsent is dropped at once. */
export const VIEWER_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** A viewer that takes no output for this long while output waits for it is dropped. */
export const VIEWER_STALL_TIMEOUT_MS = 10_000;
/** Output queued for a viewer while its snapshot is being made; beyond it the viewer is dropped. */
export const ATTACH_QUEUE_MAX_CHARS = 4 * 1024 * 1024;

export interface QueuedOutput {
  seq: number;
  chars: number;
  frame: Buffer;
}

export class ViewerState {
  attaching = true;
  queue: QueuedOutput[] = [];
  queuedChars = 0;
  /** Output seq handed to this viewer's socket. */
  sentSeq = 0;
  /** Output seq this viewer's socket has taken (write callbacks). */
  writtenSeq = 0;
  /** Set once the client sends its first `ack`: then its acks, not the socket, say it is done. */
  ackMode = false;
  ackedSeq = 0;
  lastProgressAt = Date.now();

  startAt(seq: number): void {
    this.sentSeq = seq;
    this.writtenSeq = seq;
    this.ackedSeq = seq;
    this.lastProgressAt = Date.now();
  }

  get doneSeq(): number {
    return this.ackMode ? Math.min(this.ackedSeq, this.writtenSeq) : this.writtenSeq;
  }

  get behind(): boolean {
    return this.sentSeq > this.doneSeq;
  }
}

export class LiveSession {
  readonly viewers = new Map<Viewer, ViewerState>();
  lastSeq = 0;
  creditedSeq = 0;
  lastActivityAt = Date.now();
  activityDirty = false;
  /** When the last viewer left (for SESSION_IDLE_TIMEOUT); null while someone is attached. */
  unattachedSince: number | null = null;
  closing = false;
  /** The socket that asked to close: it gets the reply with its requestId, not the broadcast. */
  closeRequester: Viewer | undefined;
  private endedResolve!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.endedResolve = resolve));

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly worker: WorkerHandle,
  ) {}

  markEnded(): void {
    this.endedResolve();
  }

  /** Credit the worker for everything every live viewer is done with. */
  grantCredit(): void {
    let target = this.lastSeq;
    for (const state of this.viewers.values()) {
      if (!state.attaching) target = Math.min(target, state.doneSeq);
    }
    if (target > this.creditedSeq) {
      this.worker.command({ type: 'credit', sessionId: this.id, chars: target - this.creditedSeq });
      this.creditedSeq = target;
    }
  }
}
