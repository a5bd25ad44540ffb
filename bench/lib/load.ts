/**
 * Background load for latency benchmarks: N sessions, each on its own socket, streaming
 * gen-output at full speed (their history is written as usual) until stopped.
 */
import type { BenchGateway } from './gateway.js';
import { type RunningStream, streamGenerator, waitForPrompt } from './stream.js';

/** Each loader prints at most this much: far more than a measurement lasts, but bounded. */
export const LOAD_MB_PER_SESSION = 2000;

export interface Load {
  sessionIds: string[];
  /** PTY pids of the loaders (their parent is the worker that runs them). */
  pids: number[];
  /** Bytes the loaders' viewers received so far. */
  bytes(): number;
  stop(): Promise<void>;
}

/** `extraArgs` go to gen-output (e.g. `--cr`: the same output without history). */
export async function startLoad(gw: BenchGateway, count: number, cols = 120, rows = 30, extraArgs = ''): Promise<Load> {
  const sessions = await Promise.all(
    Array.from({ length: count }, async () => {
      const client = await gw.client();
      const s = await client.createShell(cols, rows);
      await waitForPrompt(client, s.id);
      return { client, id: s.id, pid: s.pid };
    }),
  );
  const runs: RunningStream[] = sessions.map(({ client, id }) =>
    streamGenerator(client, id, `--mb ${LOAD_MB_PER_SESSION} ${extraArgs}`),
  );
  await Promise.all(runs.map((r) => r.started));
  return {
    sessionIds: sessions.map((s) => s.id),
    pids: sessions.map((s) => s.pid),
    bytes: () => runs.reduce((sum, r) => sum + r.receivedBytes(), 0),
    async stop() {
      for (const r of runs) r.cancel();
      await Promise.all(sessions.map(({ client, id }) => client.closeSession(id).catch(() => undefined)));
    },
  };
}
