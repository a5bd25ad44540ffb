/**
 * Abuse 12 (issue 7): HTTP fuzzing of every route: bad JSON, huge and compressed bodies, wrong
 * content types and charsets, path traversal and SQL/FTS metacharacters in ids and query
 * strings, odd methods and authorization headers, malformed HTTP on a raw socket. Figures: 0
 * responses of 5xx; 0 stack traces or file paths in bodies; every /api error carries a catalogue
 * code; the gateway serves /health afterwards and logged no unhandled request error.
 */
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { ERROR_CODES } from '../../common/errors.js';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess, ROOT } from '../helpers/gateway-process.js';

/** Above the JSON body limit (64 kB) by a little and by a lot. */
const OVER_LIMIT_BODY = 65 * 1024 + 1;
const HUGE_BODY = 5 * 1024 * 1024;
/** Signs of a leaked stack trace or server path in a response body. */
const LEAK = new RegExp(
  String.raw`\bat [\w$.<>]+ \(|\bat (?:async )?[\w$.]+ \(?/|node_modules|${ROOT.replaceAll('/', '\\/')}|\.ts:\d+:\d+|\bSqliteError\b|\bZodError\b`,
);

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send the body with chunked encoding (no Content-Length). */
  chunked?: boolean;
}

interface Res {
  status: number;
  body: string;
  error?: string;
  /** Written by Node's HTTP parser (clientError), not by the app: helmet's headers are missing. */
  nodeLevel?: boolean;
  /** The request body was large and the server answered and closed before taking all of it. */
  closedEarly?: boolean;
}

/** Bodies above this may be cut off by an early answer (the JSON limit is 64 kB). */
const EARLY_CLOSE_OK_BYTES = 64 * 1024;
/** A raw exchange is over once the server closed, or after this long (keep-alive). */
const RAW_WAIT_MS = 800;

/** A connection per request: a server that answers a huge body early closes the connection,
 *  and a pooled socket would then fail the next, unrelated request. */
const agent = new http.Agent({ keepAlive: false });

function send(port: number, r: Req): Promise<Res> {
  return new Promise((resolve) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string | number> = { ...r.headers };
    if (body && !r.chunked) headers['content-length'] = body.length;
    let res: Res | undefined;
    const req = http.request(
      { host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (c: Buffer) => chunks.push(c));
        incoming.on('end', () => {
          res = {
            status: incoming.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            nodeLevel: incoming.headers['content-security-policy'] === undefined,
          };
          resolve(res);
        });
        incoming.on('error', () => resolve(res ?? { status: incoming.statusCode ?? 0, body: '' }));
      },
    );
    req.on('error', (err) => {
      // A server may answer a huge body early and close: the answer is what counts.
      if (!res)
        resolve({ status: -1, body: '', error: err.message, closedEarly: (body?.length ?? 0) > EARLY_CLOSE_OK_BYTES });
    });
    if (body) req.end(body);
    else req.end();
  });
}

/** One raw HTTP/1.1 exchange on a fresh socket: returns the status line's code (0: none). */
function sendRaw(port: number, bytes: string): Promise<Res> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (d) => (data += d.toString('latin1')));
    const done = () =>
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0),
        body: data.slice(data.indexOf('\r\n\r\n') + 4),
      });
    s.on('close', done);
    s.on('error', () => undefined);
    s.write(bytes);
    setTimeout(() => s.destroy(), RAW_WAIT_MS);
  });
}

function deepJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('abuse: HTTP fuzzing of every route', function () {
  this.timeout(120_000);
  let g: GatewayProcess;
  let adminToken = '';
  let userToken = '';
  const results: { req: string; res: Res }[] = [];

  const routes = (id: string): [string, string][] => [
    ['POST', '/api/auth/register'],
    ['POST', '/api/auth/login'],
    ['POST', '/api/auth/logout'],
    ['GET', '/api/auth/me'],
    ['GET', '/api/keys'],
    ['POST', '/api/keys'],
    ['PUT', `/api/keys/${id}`],
    ['DELETE', `/api/keys/${id}`],
    ['GET', '/api/sessions'],
    ['GET', '/api/sessions/active'],
    ['GET', '/api/sessions/search'],
    ['GET', `/api/sessions/${id}/history`],
    ['GET', `/api/sessions/${id}/recent`],
    ['GET', '/api/admin/users'],
    ['PATCH', `/api/admin/users/${id}`],
    ['GET', '/api/monitoring/metrics'],
    ['GET', '/api/monitoring/metrics/history'],
    ['GET', '/api/monitoring/metrics/average'],
    ['GET', '/health'],
    ['GET', '/metrics'],
    ['GET', '/'],
    ['GET', `/vendor/xterm/${id}`],
  ];

  const bodies: [string, string | Buffer, string][] = [
    ['truncated object', '{"username":', 'application/json'],
    ['lone brace', '{', 'application/json'],
    ['array', '[]', 'application/json'],
    ['null', 'null', 'application/json'],
    ['string', '"username"', 'application/json'],
    ['number', '1e400', 'application/json'],
    [
      'operator injection',
      '{"username":{"$ne":null},"password":{"$gt":""},"name":{"$ne":1},"role":"admin"}',
      'application/json',
    ],
    [
      'prototype keys',
      '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"x":1}},"name":"p","username":"proto1","password":"long enough pw"}',
      'application/json',
    ],
    ['duplicate keys', '{"name":"a","name":{"x":1},"role":"admin","role":"root"}', 'application/json'],
    ['BOM', '\ufeff{"name":"bom"}', 'application/json'],
    ['NUL bytes', '{"name":"a\u0000b","username":"a\u0000b","password":"x\u0000xxxxxxxx"}', 'application/json'],
    ['deep nesting', deepJson(30_000), 'application/json'],
    ['deep object', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, 'application/json'],
    [
      'SQL in fields',
      `{"username":"admin' OR '1'='1","password":"' OR 1=1 --","name":"x'); DROP TABLE users; --","value":"'\\""}`,
      'application/json',
    ],
    [
      'wrong types',
      '{"username":1,"password":[],"name":true,"value":{},"role":1,"disabled":"yes","provider":null}',
      'application/json',
    ],
    ['huge strings', JSON.stringify({ username: 'u'.repeat(60_000), name: 'n'.repeat(1000) }), 'application/json'],
    ['over the body limit', JSON.stringify({ name: 'x'.repeat(OVER_LIMIT_BODY) }), 'application/json'],
    ['5 MB', Buffer.alloc(HUGE_BODY, 0x61), 'application/json'],
    ['text/plain', '{"name":"x"}', 'text/plain'],
    ['form', 'username=a&password=b', 'application/x-www-form-urlencoded'],
    [
      'multipart',
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b--',
      'multipart/form-data; boundary=b',
    ],
    ['xml', '<a/>', 'application/xml'],
    ['utf-16', Buffer.from('{"name":"x"}', 'utf16le'), 'application/json; charset=utf-16'],
    ['latin1 charset', Buffer.from('{"name":"\xe9"}', 'latin1'), 'application/json; charset=latin1'],
    ['bogus charset', '{"name":"x"}', 'application/json; charset=ebcdic-xx'],
    ['uppercase type', '{"name":"x"}', 'APPLICATION/JSON'],
    ['a list of types', '{"name":"x"}', 'application/json, text/plain'],
    ['no content type', '{"name":"x"}', ''],
  ];

  const ids = [
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '..%252F..%252Fetc%252Fpasswd',
    '%2e%2e',
    '%00',
    'x%00y',
    "'%20OR%20'1'%3D'1",
    '1%20OR%201%3D1',
    '%22%3B%20DROP%20TABLE%20users%3B--',
    '*',
    '%25',
    '%E0%A4%A',
    '%F0%9F%A6%84',
    '%EF%BF%BD',
    '..%5C..%5Cwindows',
    'a'.repeat(10_000),
    '-1',
    '0',
    '00000000-0000-0000-0000-000000000000',
  ];

  const queries = [
    'after=1%20OR%201%3D1',
    'after=-1',
    'after=1e999',
    'after=1&after=2',
    'after[]=1',
    'limit=0',
    'limit=5001',
    'limit=abc',
    'limit=9007199254740993',
    'q=%22',
    'q=*',
    'q=NEAR(a%20b',
    "q='",
    'q=a%20OR',
    'q=col%3Ax',
    'q=%5E',
    'q=-',
    `q=${'a'.repeat(600)}`,
    'lines=-5',
    'lines=1001',
    'window=1y',
    'window=15m&window=1h',
    'from=garbage&to=%27',
    'from=2020-13-45T99:99:99Z',
    'limit=-1&from=0',
    "all=1'%20OR%20'1'%3D'1",
    '__proto__[x]=1',
  ];

  before(async () => {
    g = await GatewayProcess.start({
      env: { WORKER_COUNT: '1', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_ADDRESS: '100000' },
    });
    adminToken = (await registerUser(g.url)).token;
    userToken = (await registerUser(g.url)).token;
  });
  after(async () => {
    agent.destroy();
    const statuses = new Map<number, number>();
    for (const r of results) statuses.set(r.res.status, (statuses.get(r.res.status) ?? 0) + 1);
    const early = results.filter((r) => r.res.closedEarly).length;
    const nodeLevel = results.filter((r) => r.res.nodeLevel && r.res.status >= 400).length;
    console.log(
      `      ${results.length} requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `closed early on a large body ${early}; answered by Node's parser ${nodeLevel}`,
    );
    await g.stop();
    g.cleanup();
  });

  async function run(label: string, r: Req): Promise<void> {
    results.push({ req: `${label}: ${r.method} ${r.path.slice(0, 100)}`, res: await send(g.port, r) });
  }

  it('fuzzes bodies, content types, ids, queries, methods and headers on every route', async () => {
    // 20 MB of spaces, 20 kB compressed: the body limit must apply to the inflated size.
    const gzipBomb = zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
    const tokens = [adminToken, userToken, ''];
    for (const [method, path] of routes('00000000-0000-0000-0000-000000000000')) {
      for (const token of tokens) {
        const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        for (const [name, body, type] of bodies) {
          // Bodies also go to GET routes: a body where none is expected must not matter either.
          await run(`body ${name}`, {
            method,
            path,
            headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
            body,
          });
        }
        await run('gzip bomb', {
          method,
          path,
          headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: gzipBomb,
        });
        await run('junk gzip', {
          method,
          path,
          headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: 'not gzip',
        });
        await run('unknown encoding', {
          method,
          path,
          headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'br, x-evil' },
          body: '{}',
        });
        await run('chunked 2 MB', {
          method,
          path,
          headers: { ...auth, 'content-type': 'application/json' },
          body: Buffer.alloc(2 * 1024 * 1024, 0x7b),
          chunked: true,
        });
        for (const q of queries) await run(`query ${q.slice(0, 30)}`, { method, path: `${path}?${q}`, headers: auth });
      }
    }
    for (const id of ids) {
      for (const [method, path] of routes(id)) {
        if (!path.includes(id)) continue;
        for (const token of [adminToken, userToken]) {
          await run(`id ${id.slice(0, 30)}`, {
            method,
            path,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{"name":"x","role":"user"}',
          });
        }
      }
    }
    for (const [, path] of routes('x')) {
      for (const method of ['TRACE', 'PROPFIND', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'M-SEARCH', 'PURGE']) {
        await run(`method ${method}`, { method, path, headers: { authorization: `Bearer ${adminToken}` } });
      }
    }
    for (const header of [
      'Bearer',
      'Bearer  ',
      `Bearer ${adminToken} extra`,
      'Basic YWRtaW46YWRtaW4=',
      `bearer ${adminToken}`,
      `Bearer ${'a'.repeat(10_000)}`,
      'Bearer \u00e9\u00e9',
      'Bearer .',
      'Bearer ..',
      'Bearer ...',
    ]) {
      for (const [method, path] of routes('x'))
        await run(`authorization ${header.slice(0, 20)}`, { method, path, headers: { authorization: header } });
    }
    const fivexx = results.filter((r) => r.res.status >= 500 || (r.res.status === -1 && !r.res.closedEarly));
    expect(
      fivexx.map((r) => `${r.req} → ${r.res.status} ${r.res.error ?? r.res.body.slice(0, 100)}`).slice(0, 20),
      `${fivexx.length} 5xx or no answer`,
    ).to.deep.equal([]);
  });

  it('0 stack traces or server paths in any body; every /api error has a catalogue code', () => {
    // Static files (the web page) may contain anything; answers of the API and every error may not.
    const checked = results.filter(
      (r) => r.req.includes(' /api/') || r.res.status >= 400 || r.req.includes(' /health') || r.req.startsWith('raw'),
    );
    expect(checked.length).to.be.greaterThan(1000);
    const leaks = checked.filter((r) => LEAK.test(r.res.body)).map((r) => `${r.req}: ${r.res.body.slice(0, 200)}`);
    expect(leaks.slice(0, 10), `${leaks.length} bodies leak`).to.deep.equal([]);
    const uncoded = results
      .filter(
        (r) =>
          r.req.includes(' /api/') &&
          r.res.status >= 400 &&
          !r.res.nodeLevel &&
          r.req.split(': ')[1]?.split(' ')[0] !== 'HEAD',
      )
      .filter((r) => {
        try {
          return !ERROR_CODES.includes(JSON.parse(r.res.body).error.code);
        } catch {
          return true;
        }
      })
      .map((r) => `${r.req} → ${r.res.status} ${r.res.body.slice(0, 80)}`);
    expect(uncoded.slice(0, 10), `${uncoded.length} /api errors without a catalogue code`).to.deep.equal([]);
  });

  it('malformed HTTP on a raw socket: 4xx or a closed socket, never 5xx', async () => {
    const p = g.port;
    const raws = [
      `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
      `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
      'GET /\r\n\r\n',
      `GET http://evil.test/api/auth/me HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`,
      `GET /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n b\r\n\r\n`,
      `GET /api/auth/me HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\n\r\n`,
      `GET /api/sessions/../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /api/sessions/%2e%2e/%2e%2e/health HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`,
      `GET / HTTP/9.9\r\nHost: x\r\n\r\n`,
      `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`,
      `\u0000\u0001\u0002 garbage\r\n\r\n`,
    ];
    const bad: string[] = [];
    for (const bytes of raws) {
      const r = await sendRaw(p, bytes);
      results.push({ req: `raw ${JSON.stringify(bytes.slice(0, 40))}`, res: r });
      if (r.status >= 500 || (r.status >= 400 && LEAK.test(r.body)))
        bad.push(`${JSON.stringify(bytes.slice(0, 60))} → ${r.status} ${r.body.slice(0, 80)}`);
    }
    expect(bad).to.deep.equal([]);
  });

  it('the gateway still serves /health and logged no unhandled request error', async () => {
    expect(g.exitCode).to.equal(null);
    expect((await fetch(`${g.url}/health`)).status).to.equal(200);
    const log = g.logs();
    expect(log.includes('unhandled error in request'), 'unhandled error in request').to.equal(false);
    expect(log.includes('uncaught exception'), 'uncaught exception').to.equal(false);
  });
});
