/**
 * Abuse 13 (issue 7): password guessing at BCRYPT_ROUNDS=12 (the cost matters here). Figures:
 *  - ATTEMPTS wrong passwords against one account, each from another source address
 *    (127.0.0.x: Linux routes all of 127/8 on lo), are limited per account after
 *    LOGIN_MAX_FAILURES_PER_ACCOUNT; the right password is refused too while limited; another
 *    account still logs in;
 *  - bcrypt does not run once limited: the gateway's own counter says so
 *    (ccm_login_attempts_total{result="failure"} counts only verifications) and every limited
 *    answer comes faster than the fastest real verification;
 *  - the same limit holds for a parallel burst (attempts in flight count too);
 *  - LOGIN_MAX_FAILURES_PER_ADDRESS limits one address trying many accounts.
 */
import http from 'node:http';
import { expect } from 'chai';
import { registerUser, uniqueName } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';

const ATTEMPTS = 200;
const MAX_PER_ACCOUNT = 5;
const MAX_PER_ADDRESS = 10;
/** Parallel guesses in one burst (sequentially limited ones would cost nothing; these are in flight together). */
const BURST = 40;

interface Attempt {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  ms: number;
}

function login(port: number, username: string, password: string, localAddress: string): Promise<Attempt> {
  const body = JSON.stringify({ username, password });
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/auth/login',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          let code: string | undefined;
          try {
            code = JSON.parse(text).error?.code;
          } catch {
            code = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            code,
            retryAfter: res.headers['retry-after'] as string | undefined,
            ms,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** 127.0.<a>.<b> for the i-th attempt of a block (never .0 or .255). */
const address = (block: number, i: number) => `127.0.${block}.${2 + (i % 250)}`;

async function loginCounts(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^ccm_login_attempts_total\{result="(\w+)"\} (\d+)/gm))
    out[m[1] as string] = Number(m[2]);
  return out;
}

describe('abuse: brute force against the login (BCRYPT_ROUNDS=12)', function () {
  this.timeout(120_000);
  let g: GatewayProcess;

  before(async () => {
    g = await GatewayProcess.start({
      env: {
        WORKER_COUNT: '1',
        BCRYPT_ROUNDS: '12',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_PER_ACCOUNT),
        LOGIN_MAX_FAILURES_PER_ADDRESS: String(MAX_PER_ADDRESS),
      },
    });
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it(`${ATTEMPTS} wrong passwords from ${ATTEMPTS} addresses: limited after ${MAX_PER_ACCOUNT}, bcrypt not run once limited, another account logs in`, async () => {
    const victim = await registerUser(g.url, uniqueName('victim'), 'the right password');
    const other = await registerUser(g.url, uniqueName('other'), 'another right password');
    const before = await loginCounts(g.url);
    const attempts: Attempt[] = [];
    for (let i = 0; i < ATTEMPTS; i++)
      attempts.push(await login(g.port, victim.user.username, `wrong password ${i}`, address(1, i)));
    const right = await login(g.port, victim.user.username, 'the right password', address(1, ATTEMPTS));
    const otherLogin = await login(g.port, other.user.username, 'another right password', address(1, 0));
    const after = await loginCounts(g.url);

    const verified = attempts.slice(0, MAX_PER_ACCOUNT);
    const limited = attempts.slice(MAX_PER_ACCOUNT);
    const fastestVerify = Math.min(...verified.map((a) => a.ms));
    const slowestLimited = Math.max(...limited.map((a) => a.ms));
    console.log(
      `      verified ${verified.length} (fastest ${fastestVerify.toFixed(0)} ms); limited ${limited.length} (slowest ${slowestLimited.toFixed(1)} ms); ` +
        `counter delta ${JSON.stringify(Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)])))}`,
    );
    expect(verified.map((a) => a.code)).to.deep.equal(
      Array.from({ length: MAX_PER_ACCOUNT }, () => 'INVALID_CREDENTIALS'),
    );
    expect(new Set(limited.map((a) => `${a.status} ${a.code}`))).to.deep.equal(new Set(['429 RATE_LIMITED']));
    expect(
      limited.every((a) => Number(a.retryAfter) > 0),
      'Retry-After on every 429',
    ).to.equal(true);
    expect([right.status, right.code]).to.deep.equal([429, 'RATE_LIMITED']);
    expect(otherLogin.status).to.equal(200);
    // bcrypt ran exactly for the attempts before the limit (and the other account's login).
    expect((after.failure ?? 0) - (before.failure ?? 0)).to.equal(MAX_PER_ACCOUNT);
    expect((after.rate_limited ?? 0) - (before.rate_limited ?? 0)).to.equal(ATTEMPTS - MAX_PER_ACCOUNT + 1);
    expect(slowestLimited, 'every limited answer is faster than the fastest bcrypt verification').to.be.lessThan(
      fastestVerify,
    );
  });

  it(`a parallel burst of ${BURST} guesses is limited the same way (at most ${MAX_PER_ACCOUNT} verified)`, async () => {
    const victim = await registerUser(g.url, uniqueName('burst'), 'the right password');
    const before = await loginCounts(g.url);
    const attempts = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        login(g.port, victim.user.username, `wrong password ${i}`, address(2, i)),
      ),
    );
    const after = await loginCounts(g.url);
    const verified = attempts.filter((a) => a.code === 'INVALID_CREDENTIALS').length;
    console.log(
      `      burst: ${verified} verified (bcrypt ran), ${attempts.filter((a) => a.code === 'RATE_LIMITED').length} limited`,
    );
    expect((after.failure ?? 0) - (before.failure ?? 0), 'bcrypt verifications in the burst').to.be.at.most(
      MAX_PER_ACCOUNT,
    );
    expect(verified).to.be.at.most(MAX_PER_ACCOUNT);
  });

  it(`one address trying many accounts is limited after ${MAX_PER_ADDRESS} failures; other addresses are not`, async () => {
    const from = address(3, 0);
    const results: Attempt[] = [];
    for (let i = 0; i <= MAX_PER_ADDRESS; i++)
      results.push(await login(g.port, uniqueName('ghost'), 'wrong password', from));
    expect(results.slice(0, MAX_PER_ADDRESS).map((a) => a.code)).to.deep.equal(
      Array.from({ length: MAX_PER_ADDRESS }, () => 'INVALID_CREDENTIALS'),
    );
    expect(results.at(-1)?.code).to.equal('RATE_LIMITED');
    const elsewhere = await registerUser(g.url, uniqueName('fine'), 'a right password');
    expect((await login(g.port, elsewhere.user.username, 'a right password', address(3, 1))).status).to.equal(200);
    expect(
      (await login(g.port, elsewhere.user.username, 'a right password', from)).status,
      'the limited address',
    ).to.equal(429);
  });
});
