import os from 'node:os';
import { Piscina } from 'piscina';
import { siblingModule } from '../../common/paths.js';
import type { HashTask } from './hash-worker.js';

/** Hash threads: one per core leaves the event loop's core shared, not starved (2 cores here). */
export const HASH_THREADS = Math.max(1, os.availableParallelism());
/** Lower priority (nice +10) for hash threads than for the event loops that serve terminals. */
export const HASH_THREAD_NICE = 10;

export class PasswordHasher {
  private readonly pool: Piscina;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly rounds: number) {
    this.pool = new Piscina({
      filename: siblingModule(import.meta.url, 'hash-worker').href,
      minThreads: 1,
      maxThreads: HASH_THREADS,
      // Hashing yields the CPU to PTY I/O and sockets (Linux thread priority via @napi-rs/nice):
      // a burst of logins must not delay keystroke echo.
      niceIncrement: HASH_THREAD_NICE,
    });
  }

  hash(password: string): Promise<string> {
    return this.pool.run({ op: 'hash', password, rounds: this.rounds } satisfies HashTask);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.pool.run({ op: 'verify', password, hash } satisfies HashTask);
  }

  /**
   * Verifies against a throw-away hash of the same cost, so that an unknown username takes as
   * long as a wrong password and the two cannot be told apart by timing.
   */
  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash('not-a-real-password-but-same-cost');
    await this.verify(password, await this.dummyHash);
    return false;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
