/** Every benchmark, in the order `npm run bench` runs them (the issue 6 numbering). */
import { aggregateThroughput } from './aggregate-throughput.js';
import { attach } from './attach.js';
import { echoLatency } from './echo-latency.js';
import { historyPersist } from './history-persist.js';
import type { Benchmark } from './lib/types.js';
import { logins } from './logins.js';
import { manySessions } from './many-sessions.js';
import { search } from './search.js';
import { startup } from './startup.js';
import { throughput } from './throughput.js';

export const SUITE: readonly Benchmark[] = [
  throughput,
  aggregateThroughput,
  echoLatency,
  manySessions,
  historyPersist,
  attach,
  logins,
  startup,
  search,
];
