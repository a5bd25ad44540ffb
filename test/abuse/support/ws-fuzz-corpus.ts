/**
 * The generated message corpus for WebSocket fuzzing: random JSON, wrong types, huge numbers,
 * odd unicode, deep nesting, prototype keys, broken and oversized values. Every case says what
 * the contract requires as its answer; the product's own schema is the oracle for "valid or not"
 * (the test checks the answers, not the schema), and V8's JSON.parse for "JSON or not".
 */
import { clientMessageSchema } from '../../../common/protocol.js';
import type { Prng } from '../../faults/support/prng.js';

export type Expect =
  /** One `error` with this code and no requestId. */
  | { kind: 'error-no-id'; code: string }
  /** Exactly one message echoing `requestId`, of one of these types (and, for errors, this code). */
  | { kind: 'reply'; requestId: string | number; types: string[]; code?: string }
  /** No answer at all (input, resize, ack on the caller's own session). */
  | { kind: 'none'; requestId: string | number };

export interface FuzzCase {
  text: string;
  expect: Expect;
  /** How to deliver it: one frame, 1-byte fragments, or 1 byte per TCP write. */
  delivery: 'frame' | 'fragments' | 'dribble';
}

const TYPES = [
  'authenticate',
  'create_session',
  'attach_session',
  'detach_session',
  'terminal_input',
  'resize_terminal',
  'close_session',
  'list_sessions',
  'get_session_info',
  'get_session_buffer',
  'rename_session',
  'ack',
] as const;
const SESSION_SCOPED = new Set(TYPES.filter((t) => !['authenticate', 'create_session', 'list_sessions'].includes(t)));

/** A file that only an executed fuzz string would create (the test checks it never exists). */
export const FUZZ_MARKER = '/tmp/ccm-fuzz-pwned-marker';

/** A UUID-shaped id from the seeded generator (so a corpus replays exactly). */
function uuid(rng: Prng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Strings that break naive code: unicode edge cases, control characters, injection, huge. */
function nastyString(rng: Prng): string {
  const pool = [
    '',
    ' ',
    '\u0000',
    '\ud800', // lone high surrogate
    '\udfff',
    '🦄'.repeat(rng.int(1, 50)),
    '\u202e\u0644\u0627', // RTL override + Arabic
    '\u200b\ufeff', // zero width, BOM
    'e\u0301'.repeat(20), // combining marks
    '\x1b[2J\x1b]0;title\x07',
    `$(touch ${FUZZ_MARKER})`,
    `\`touch ${FUZZ_MARKER}\`;`,
    "'; DROP TABLE sessions; --",
    '../../../../etc/passwd',
    '__proto__',
    'constructor',
    '%s%n%x',
    'x'.repeat(rng.int(100, 300_000 / 2)),
    String.fromCharCode(...Array.from({ length: rng.int(1, 40) }, () => rng.int(0, 0xffff))),
  ];
  return rng.pick(pool);
}

function nastyNumber(rng: Prng): number {
  return rng.pick([
    0,
    -0,
    -1,
    1,
    1.5,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 63),
    1e308,
    -1e308,
    5e-324,
    1e21,
    // Beyond 2^53: what the client sent is not what a double holds.
    Number('123456789012345678'),
  ]);
}

function randomValue(rng: Prng, depth = 0): unknown {
  const r = rng.int(0, depth > 3 ? 4 : 7);
  switch (r) {
    case 0:
      return nastyString(rng);
    case 1:
      return nastyNumber(rng);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return uuid(rng);
    case 5:
      return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i--)
        o[rng.pick(['type', 'sessionId', 'data', 'a', '__proto__', 'constructor', 'cols'])] = randomValue(
          rng,
          depth + 1,
        );
      return o;
    }
  }
}

/** A deeply nested array, as text (JSON.stringify would recurse). */
function deepNesting(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function plausible(rng: Prng, type: string, ownSession: string): Record<string, unknown> {
  const sessionId = rng.chance(0.4) ? ownSession : rng.chance(0.5) ? uuid(rng) : randomValue(rng);
  const m: Record<string, unknown> = { type };
  if (SESSION_SCOPED.has(type as never)) m.sessionId = sessionId;
  switch (type) {
    case 'authenticate':
      m.token = rng.chance(0.5) ? nastyString(rng) : randomValue(rng);
      break;
    case 'create_session':
      // Never a valid create: a fuzz run must not spawn PTYs. cols is always out of range.
      m.cols = rng.pick([0, -1, 1001, 1e308, '80', null, 2 ** 53]);
      m.rows = randomValue(rng);
      m.cwd = nastyString(rng);
      m.name = nastyString(rng);
      m.profile = rng.pick(['claude', 'shell', 'root', '', null]);
      break;
    case 'terminal_input':
      m.data = rng.chance(0.7) ? nastyString(rng) : randomValue(rng);
      break;
    case 'resize_terminal':
      m.cols = rng.chance(0.5) ? rng.int(1, 1000) : nastyNumber(rng);
      m.rows = rng.chance(0.5) ? rng.int(1, 500) : nastyNumber(rng);
      break;
    case 'attach_session':
      if (rng.chance(0.5)) m.since = rng.chance(0.5) ? nastyNumber(rng) : randomValue(rng);
      break;
    case 'rename_session':
      m.name = rng.chance(0.5) ? `fuzz ${rng.int(0, 1e6)}` : nastyString(rng);
      break;
    case 'ack':
      m.bytes = rng.chance(0.5) ? rng.int(0, 1e6) : nastyNumber(rng);
      break;
    default:
      break;
  }
  // Extra keys: prototype names and junk are ignored or refused, never acted on.
  if (rng.chance(0.2)) m[rng.pick(['__proto__', 'constructor', 'prototype', 'extra'])] = randomValue(rng);
  // The close of the caller's own session would end the run; those go to an unknown id.
  if (type === 'close_session' && m.sessionId === ownSession) m.sessionId = uuid(rng);
  return m;
}

/** What the contract requires for a message object `m` that carries `requestId` (or not). */
function expectFor(m: Record<string, unknown>, ownSession: string): Expect {
  const rid = m.requestId;
  const echoed = typeof rid === 'string' || (typeof rid === 'number' && Number.isFinite(rid)) ? rid : undefined;
  const parsed = clientMessageSchema.safeParse(m);
  if (!parsed.success) {
    return echoed === undefined
      ? { kind: 'error-no-id', code: 'VALIDATION_FAILED' }
      : { kind: 'reply', requestId: echoed, types: ['error'], code: 'VALIDATION_FAILED' };
  }
  const msg = parsed.data;
  const own = 'sessionId' in msg && msg.sessionId === ownSession;
  if (echoed === undefined) throw new Error('valid fuzz messages always carry a requestId');
  if ('sessionId' in msg && !own)
    return { kind: 'reply', requestId: echoed, types: ['session_error'], code: 'SESSION_NOT_FOUND' };
  switch (msg.type) {
    case 'authenticate':
      return { kind: 'reply', requestId: echoed, types: ['authenticated'] };
    case 'list_sessions':
      return { kind: 'reply', requestId: echoed, types: ['sessions_list'] };
    case 'attach_session':
    case 'get_session_buffer':
      return { kind: 'reply', requestId: echoed, types: ['session_buffer'] };
    case 'detach_session':
      return { kind: 'reply', requestId: echoed, types: ['session_detached'] };
    case 'get_session_info':
      return { kind: 'reply', requestId: echoed, types: ['session_info'] };
    case 'rename_session':
      return { kind: 'reply', requestId: echoed, types: ['session_renamed'] };
    case 'terminal_input':
    case 'resize_terminal':
    case 'ack':
      return { kind: 'none', requestId: echoed };
    default:
      throw new Error(`unexpected valid fuzz message ${msg.type}`);
  }
}

/** Cases stay below the frame limit (that one is tested on its own); dribbled ones stay short. */
const MAX_CASE_BYTES = 250 * 1024;
const MAX_DRIBBLE_BYTES = 2048;

export function generateCase(rng: Prng, n: number, ownSession: string): FuzzCase {
  for (;;) {
    const c = generateAny(rng, n, ownSession);
    const bytes = Buffer.byteLength(c.text);
    if (bytes > MAX_CASE_BYTES) continue;
    if (c.delivery !== 'frame' && bytes > MAX_DRIBBLE_BYTES) c.delivery = 'frame';
    return c;
  }
}

function generateAny(rng: Prng, n: number, ownSession: string): FuzzCase {
  const delivery: FuzzCase['delivery'] = rng.chance(0.01) ? 'fragments' : rng.chance(0.005) ? 'dribble' : 'frame';
  const roll = rng.next();
  if (roll < 0.08) {
    // Not JSON at all (checked with the same parser the gateway uses).
    const text = rng.pick([
      '{',
      '{"type":',
      '}{',
      "{'type':'list_sessions'}",
      'NaN',
      'undefined',
      '[1,]',
      '\u0000',
      nastyString(rng).slice(0, 500) || '{x',
    ]);
    try {
      JSON.parse(text);
    } catch {
      return { text, expect: { kind: 'error-no-id', code: 'INVALID_JSON' }, delivery };
    }
    return { text: `{${text}`, expect: { kind: 'error-no-id', code: 'INVALID_JSON' }, delivery };
  }
  if (roll < 0.16) {
    // JSON, but not an object.
    const text = rng.pick([
      '1e400',
      '-0',
      'null',
      'true',
      '"list_sessions"',
      '[]',
      '[{"type":"list_sessions"}]',
      deepNesting(rng.int(1000, 100_000)),
      String(nastyNumber(rng)),
    ]);
    return { text, expect: { kind: 'error-no-id', code: 'VALIDATION_FAILED' }, delivery };
  }
  const requestId = `f${n}`;
  let m: Record<string, unknown>;
  if (roll < 0.26) {
    // Unknown, missing or mistyped `type`.
    m = {
      type: rng.pick([
        undefined,
        '',
        'LIST_SESSIONS',
        'list_sessions ',
        'shell',
        'exec',
        '__proto__',
        42,
        null,
        ['list_sessions'],
        { $eq: 'x' },
      ]),
      requestId,
    };
    if (m.type === undefined) delete m.type;
  } else if (roll < 0.3) {
    // Odd request ids: non-echoable kinds are not echoed; long or numeric ones are.
    m = {
      type: 'list_sessions',
      requestId: rng.pick([{ a: 1 }, ['x'], true, null, 'r'.repeat(rng.int(129, 1000)), 1e308, -0, 7.5]),
    };
  } else if (roll < 0.33) {
    // Deep nesting inside an ignored field of a valid message.
    return {
      text: `{"type":"list_sessions","requestId":"${requestId}","deep":${deepNesting(rng.int(1000, 100_000))}}`,
      expect: { kind: 'reply', requestId, types: ['sessions_list'] },
      delivery,
    };
  } else {
    m = { ...plausible(rng, rng.pick(TYPES), ownSession), requestId };
  }
  let text = JSON.stringify(m);
  if (rng.chance(0.05)) text = text.replace(/^\{/, '{"__proto__":{"polluted":true},');
  return { text, expect: expectFor(JSON.parse(text) as Record<string, unknown>, ownSession), delivery };
}
