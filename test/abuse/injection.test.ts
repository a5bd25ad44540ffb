/**
 * Abuse 16 (issue 7): injection through every string a user controls — session name (create and
 * rename), cwd, username, API key name and value — with shell metacharacters, `-o`-style option
 * strings, `../`, SQL and template syntax, control characters. Figures: nothing executed (every
 * payload that would run a command `touch`es a file in a marker folder, which stays empty);
 * no option injected (each session's argv is exactly its profile's command); every value is
 * stored and returned as data, byte for byte, or refused with VALIDATION_FAILED (control
 * characters, invalid usernames) / INVALID_CWD (paths outside SESSION_ROOT).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cmdline, environOf } from '../faults/support/processes.js';
import { api, registerUser, uniqueName } from '../helpers/api.js';
import { GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const MARKERS = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-pwned-'));
/** Time for a command that an injection would have started to leave its marker. */
const SETTLE_MS = 500;

/** Printable payloads: legal as names, so they must come back exactly as sent. */
function printablePayloads(tag: string): string[] {
  const m = (what: string) => path.join(MARKERS, `${tag}-${what}`);
  return [
    `$(touch ${m('subst')})`,
    `\`touch ${m('backtick')}\``,
    `; touch ${m('semi')}`,
    `| touch ${m('pipe')}`,
    `&& touch ${m('and')} &`,
    `'; touch ${m('squote')}; '`,
    `"; touch ${m('dquote')}; "`,
    `\${IFS}touch\${IFS}${m('ifs')}`,
    `-o ProxyCommand=touch ${m('opt')}`,
    `--output=${m('longopt')}`,
    '--help',
    '-rf',
    '../../../../etc/passwd',
    "' OR '1'='1' --",
    '"; DROP TABLE sessions; --',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection payload, literally
    '{{7*7}} ${7*7} %(x)s <script>x</script>',
    'ａｄｍｉｎ ＄（ｔｏｕｃｈ）',
  ];
}

/** Control characters: refused (they would end up in other people's terminals). */
const CONTROL_PAYLOADS = [
  'a\nb',
  'a\rtouch x',
  'a\u0000b',
  '\u001b]0;evil title\u0007',
  '\u001b[2J',
  'tab\there',
  '\u007f',
];

describe('abuse: injection through session name, cwd, username, key name and value', function () {
  this.timeout(90_000);
  let g: GatewayProcess;
  let token = '';
  let c: TestClient;
  const sessionPids: { pid: number; profile: string }[] = [];

  before(async () => {
    // Many failed logins from one address are part of this test, not an attack to limit.
    g = await GatewayProcess.start({
      env: { WORKER_COUNT: '1', MAX_SESSIONS_PER_USER: '100', LOGIN_MAX_FAILURES_PER_ADDRESS: '100000' },
    });
    token = (await registerUser(g.url)).token;
    c = await TestClient.authed(g.wsUrl, token);
  });
  after(async () => {
    const list = await c.request({ type: 'list_sessions' }, 'sessions_list');
    for (const s of list.sessions.filter((x: { status: string }) => x.status === 'running')) {
      await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed', 20_000).catch(() => undefined);
    }
    await c.close();
    await g.stop();
    g.cleanup();
    fs.rmSync(MARKERS, { recursive: true, force: true });
  });

  /** Creates a session and waits for its program's exec: until then the forked PTY child still
   *  shows the worker's command line, environment and directory. */
  const created = async (params: Record<string, unknown>) => {
    const r = await c.request({ type: 'create_session', ...params });
    if (r.type === 'session_created') {
      sessionPids.push({ pid: r.session.pid, profile: r.session.profile });
      await waitFor(
        'the PTY program exec',
        () => {
          const argv = cmdline(r.session.pid);
          return argv !== '' && !argv.includes('worker/main');
        },
        5000,
      );
    }
    return r;
  };

  it('session names: stored and returned exactly (create, rename, list, info, REST), control characters refused', async () => {
    const wrong: string[] = [];
    const payloads = printablePayloads('name');
    for (const [i, name] of payloads.entries()) {
      const r = await created({ profile: i === 0 ? 'claude' : 'shell', name });
      if (r.type !== 'session_created' || r.session.name !== name) {
        wrong.push(`create ${JSON.stringify(name)}: ${r.type} ${r.code ?? r.session?.name}`);
        continue;
      }
      const info = await c.request({ type: 'get_session_info', sessionId: r.session.id }, 'session_info');
      if (info.session.name !== name) wrong.push(`info ${JSON.stringify(name)}: ${info.session.name}`);
      const renamed = payloads[(i + 1) % payloads.length] as string;
      const rr = await c.request({ type: 'rename_session', sessionId: r.session.id, name: renamed });
      if (rr.type !== 'session_renamed' || rr.name !== renamed)
        wrong.push(`rename to ${JSON.stringify(renamed)}: ${rr.type} ${rr.code ?? rr.name}`);
    }
    const rest = await api(g.url, 'GET', '/api/sessions', { token });
    const names = new Set(rest.body.sessions.map((s: { name: string }) => s.name));
    for (const p of payloads) if (!names.has(p)) wrong.push(`GET /api/sessions lacks ${JSON.stringify(p)}`);
    for (const name of CONTROL_PAYLOADS) {
      const r = await created({ profile: 'shell', name });
      if (r.type !== 'session_error' && r.type !== 'error')
        wrong.push(`control ${JSON.stringify(name)} accepted: ${r.type}`);
      else if (r.code !== 'VALIDATION_FAILED') wrong.push(`control ${JSON.stringify(name)}: ${r.code}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('cwd: hostile directory names are used literally; paths outside SESSION_ROOT are INVALID_CWD', async () => {
    const wrong: string[] = [];
    const root = g.env.SESSION_ROOT as string;
    const dirs = printablePayloads('cwd').filter((p) => !p.includes('..') && !p.includes('/'));
    for (const d of [
      '-rf',
      '--help',
      'a;b',
      'sp ace',
      '$(touch x)',
      `$(touch ${path.basename(MARKERS)}-cwd)`,
      '`id`',
      '-o ProxyCommand=x',
    ])
      dirs.push(d);
    for (const d of new Set(dirs)) {
      const full = path.join(root, d);
      fs.mkdirSync(full, { recursive: true });
      const r = await created({ profile: 'shell', cwd: d });
      if (r.type !== 'session_created') {
        wrong.push(`cwd ${JSON.stringify(d)}: ${r.type} ${r.code}`);
        continue;
      }
      if (r.session.cwd !== fs.realpathSync(full)) wrong.push(`cwd ${JSON.stringify(d)} stored as ${r.session.cwd}`);
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${r.session.pid}/cwd`);
      } catch {
        cwd = '(gone)';
      }
      if (cwd !== fs.realpathSync(full)) wrong.push(`cwd ${JSON.stringify(d)}: the PTY runs in ${cwd}`);
    }
    fs.symlinkSync('/etc', path.join(root, 'link-to-etc'));
    for (const outside of [
      '../',
      '../../../../etc',
      '/etc',
      '/',
      'link-to-etc',
      `${root}/../`,
      'does-not-exist',
      '%2e%2e',
      '\u0000',
      `$(touch ${MARKERS}/cwd-missing)`,
    ]) {
      const r = await created({ profile: 'shell', cwd: outside });
      if (r.type === 'session_created') wrong.push(`cwd ${JSON.stringify(outside)} accepted (${r.session.cwd})`);
      else if (!['INVALID_CWD', 'VALIDATION_FAILED'].includes(r.code))
        wrong.push(`cwd ${JSON.stringify(outside)}: ${r.code}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('usernames: every hostile one refused at registration (VALIDATION_FAILED); at login answered like an unknown user', async () => {
    const wrong: string[] = [];
    const unknown = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: uniqueName('nobody'), password: 'whatever pw' },
    });
    for (const username of [...printablePayloads('user'), ...CONTROL_PAYLOADS, 'admin\u0000', ' admin', 'admin ']) {
      const reg = await api(g.url, 'POST', '/api/auth/register', { body: { username, password: 'long enough pw' } });
      if (reg.status !== 400 || reg.body.error.code !== 'VALIDATION_FAILED')
        wrong.push(`register ${JSON.stringify(username)}: ${reg.status} ${reg.text.slice(0, 80)}`);
      const login = await api(g.url, 'POST', '/api/auth/login', { body: { username, password: 'whatever pw' } });
      if (login.status !== unknown.status || JSON.stringify(login.body) !== JSON.stringify(unknown.body)) {
        wrong.push(`login ${JSON.stringify(username)}: ${login.status} ${login.text.slice(0, 80)}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('API key names and values: stored as data; a hostile value reaches its session verbatim as ANTHROPIC_API_KEY', async function () {
    const probe = await api(g.url, 'GET', '/api/keys', { token });
    if (probe.status === 404) this.skip(); // /api/keys not there yet
    const wrong: string[] = [];
    for (const name of printablePayloads('key')) {
      const r = await api(g.url, 'POST', '/api/keys', { token, body: { name } });
      if (r.status !== 201 || r.body.key.name !== name)
        wrong.push(`key name ${JSON.stringify(name)}: ${r.status} ${r.text.slice(0, 80)}`);
    }
    for (const name of CONTROL_PAYLOADS) {
      const r = await api(g.url, 'POST', '/api/keys', { token, body: { name } });
      if (r.status !== 400) wrong.push(`control key name ${JSON.stringify(name)}: ${r.status}`);
    }
    const listed = new Set(
      (await api(g.url, 'GET', '/api/keys', { token })).body.keys.map((k: { name: string }) => k.name),
    );
    for (const p of printablePayloads('key'))
      if (!listed.has(p)) wrong.push(`GET /api/keys lacks ${JSON.stringify(p)}`);
    const value = `sk-ant-$(touch ${MARKERS}/keyvalue)\`touch ${MARKERS}/keyvalue2\`;-o x`;
    const key = await api(g.url, 'POST', '/api/keys', { token, body: { name: 'hostile value', value } });
    expect(key.status, key.text).to.equal(201);
    const r = await created({ profile: 'shell', apiKeyId: key.body.key.id });
    expect(r.type).to.equal('session_created');
    const env = await waitFor('session environ', () => environOf(r.session.pid) || false);
    if (!env.split('\0').includes(`ANTHROPIC_API_KEY=${value}`))
      wrong.push('the key value did not reach the session verbatim');
    expect(wrong).to.deep.equal([]);
  });

  it('no option injected: every session runs exactly its profile’s command', () => {
    const argv = sessionPids.map(({ pid, profile }) => [profile, cmdline(pid).split('\0').filter(Boolean)] as const);
    const odd = argv.filter(([profile, a]) =>
      profile === 'shell'
        ? !(a.length === 2 && /(^|\/)(ba)?sh$/.test(a[0] as string) && a[1] === '-l') &&
          !(a.length === 1 && a[0] === '-bash')
        : !(a.length === 2 && (a[1] as string).endsWith('fake-claude')),
    );
    expect(argv.length).to.be.greaterThan(20);
    expect(odd.map(([p, a]) => `${p}: ${JSON.stringify(a)}`)).to.deep.equal([]);
  });

  it('nothing executed: the marker folder is empty', async () => {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    expect(fs.readdirSync(MARKERS)).to.deep.equal([]);
    expect(fs.existsSync(path.join(g.env.SESSION_ROOT as string, 'x')), 'a `touch x` ran in SESSION_ROOT').to.equal(
      false,
    );
  });

  it('(marker sanity) the marker payload does run when a shell is actually asked to', async () => {
    const s = await created({ profile: 'shell' });
    const marker = path.join(MARKERS, `control-${crypto.randomBytes(3).toString('hex')}`);
    c.send({ type: 'terminal_input', sessionId: s.session.id, data: `$(touch ${marker})\r` });
    await waitFor('control marker', () => fs.existsSync(marker), 5000);
    fs.rmSync(marker);
  });
});
