/**
 * The web terminal page end to end: the real gateway (real workers, PTYs, SQLite), the page it
 * serves, and a real headless Chromium. Between the browser and the gateway sits a TCP proxy the
 * test can cut, to drop the network under the page for real.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Dialog, Page } from 'playwright-core';
import { launchChromium, screenshot, terminalRows } from '../helpers/browser.js';
import { GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { CuttableProxy } from './cuttable-proxy.js';

const PASSWORD = 'correct horse battery';
/** How long the network stays down in the drop test: longer than the command's output spans. */
const OUTAGE_MS = 2500;
/** Waits for something the page shows (a browser on 2 busy cores can be slow). */
const UI_TIMEOUT_MS = 15_000;
/** Frequent samples so the monitoring plot has a history within the test. */
const MONITORING_INTERVAL_MS = 500;

/** Records notifications while keeping the real ones (permission is granted to the context). */
const RECORD_NOTIFICATIONS = `
  (() => {
    const Real = window.Notification;
    if (!Real) return;
    window.__notifications = [];
    class Recording extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notifications.push({ title, tag: options && options.tag });
      }
    }
    window.Notification = Recording;
  })();
`;

interface Watched {
  page: Page;
  dialogs: string[];
  wsUrls: string[];
  errors: string[];
  /** Console errors: CSP violations and failed loads show up here. */
  consoleErrors: string[];
}

describe('web terminal page (e2e, Chromium)', function () {
  this.timeout(120_000);
  let proxy: CuttableProxy;
  let gw: GatewayProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let alice: Watched;
  let base: string;
  let shellId = '';
  let claudeId = '';

  async function newPage(opts: Parameters<Browser['newContext']>[0] = {}): Promise<Watched> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
    contexts.push(context);
    await context.grantPermissions(['notifications'], { origin: base });
    await context.addInitScript(RECORD_NOTIFICATIONS);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const watched: Watched = { page, dialogs: [], wsUrls: [], errors: [], consoleErrors: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') watched.consoleErrors.push(m.text());
    });
    page.on('dialog', (d: Dialog) => {
      watched.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('websocket', (ws) => watched.wsUrls.push(ws.url()));
    page.on('pageerror', (err) => watched.errors.push(String(err)));
    return watched;
  }

  async function register(w: Watched, username: string): Promise<void> {
    await w.page.goto(base);
    await w.page.getByRole('button', { name: 'No account? Register' }).click();
    await w.page.getByLabel('Username').fill(username);
    await w.page.getByLabel('Password').fill(PASSWORD);
    await w.page.getByRole('button', { name: 'Register' }).click();
    await w.page.locator('.topbar .user', { hasText: username }).waitFor();
    await w.page.locator('#conn-status[data-status="ready"]').waitFor();
  }

  async function startSession(w: Watched, profile: 'shell' | 'claude', name: string): Promise<string> {
    const form = w.page.locator('form.new-session');
    await form.getByLabel('Profile').selectOption(profile);
    await form.getByLabel('Name').fill(name);
    await form.getByRole('button', { name: 'Start session' }).click();
    const tab = w.page.locator('.tab.active', { hasText: name });
    await tab.waitFor();
    return (await tab.getAttribute('data-session-id')) as string;
  }

  async function type(w: Watched, text: string): Promise<void> {
    await w.page.locator('.term-pane:not([hidden]) .xterm').click();
    await w.page.keyboard.type(text);
    await w.page.keyboard.press('Enter');
  }

  /** Types a command once the shell shows its prompt (typeahead would land before the prompt). */
  async function shell(w: Watched, command: string): Promise<void> {
    await waitFor(
      'the shell prompt',
      async () => {
        const rows = (await rowsOf(w)).filter((r) => r !== '');
        return isPrompt(rows.at(-1) ?? '');
      },
      UI_TIMEOUT_MS,
      50,
    );
    await type(w, command);
  }

  function rowsOf(w: Watched): Promise<string[]> {
    return terminalRows(w.page);
  }

  async function waitForRow(w: Watched, pred: (row: string) => boolean, what: string): Promise<string[]> {
    return waitFor(
      what,
      async () => {
        const rows = await rowsOf(w);
        return rows.some(pred) ? rows : undefined;
      },
      UI_TIMEOUT_MS,
      50,
    );
  }

  const count = (rows: string[], line: string) => rows.filter((r) => r === line).length;
  const isPrompt = (r: string) => /[$#] ?$/.test(r);

  before(async () => {
    proxy = await CuttableProxy.start();
    // PORT=0: the default allowed origins would name port 0, so name the proxy's origin.
    gw = await GatewayProcess.start({
      env: { ALLOWED_ORIGINS: proxy.origin, MONITORING_INTERVAL: String(MONITORING_INTERVAL_MS) },
    });
    proxy.targetPort = gw.port;
    base = proxy.origin;
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await proxy?.close();
    await gw?.stop();
    gw?.cleanup();
  });

  it('shows the login page and registers a user (token not in any URL)', async () => {
    alice = await newPage();
    await alice.page.goto(base);
    await alice.page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(alice.page, '01-login');
    await register(alice, 'alice');
    const token = await alice.page.evaluate(() => sessionStorage.getItem('ccm.token'));
    expect(token).to.be.a('string').and.not.empty;
    expect(alice.page.url()).not.to.include(token as string);
    expect(alice.wsUrls).to.deep.equal([`ws://127.0.0.1:${proxy.port}/ws`]);
  });

  it('opens a shell session, types echo hi and sees hi', async () => {
    shellId = await startSession(alice, 'shell', 'my shell');
    await shell(alice, 'echo hi');
    await waitForRow(alice, (r) => r === 'hi', 'hi on the screen');
    const row = alice.page.locator(`.session[data-session-id="${shellId}"]`);
    await row.locator('.badge').waitFor();
    expect(await row.locator('.profile').textContent()).to.equal('shell');
    await screenshot(alice.page, '02-sessions-and-terminal');
  });

  it('reloads the page and finds the same screen', async () => {
    const before = (await rowsOf(alice)).filter((r) => r !== '');
    await alice.page.reload();
    await alice.page.locator('#conn-status[data-status="ready"]').waitFor();
    await alice.page.locator(`.tab.active[data-session-id="${shellId}"]`).waitFor();
    await alice.page.locator(`.term-pane[data-session-id="${shellId}"][data-resume="snapshot"]`).waitFor();
    const after = await waitFor('the replayed screen', async () => {
      const rows = (await rowsOf(alice)).filter((r) => r !== '');
      return rows.length >= before.length ? rows : undefined;
    });
    expect(after).to.deep.equal(before);
  });

  it('reconnects by itself after the network drops, with no duplicated or missing line', async () => {
    const { page } = alice;
    // Output that starts before the cut, goes on while the network is down, and ends after it.
    await shell(alice, 'for i in 1 2 3 4 5 6 7 8; do echo L$i; sleep 0.5; done; echo D""ONE');
    await waitForRow(alice, (r) => r === 'L1', 'the first line before the cut');
    const socketsBefore = alice.wsUrls.length;
    proxy.cut(OUTAGE_MS);
    await page.locator('#conn-status[data-status="reconnecting"]').waitFor();
    await page.locator('#conn-status[data-status="ready"]').waitFor({ timeout: OUTAGE_MS + 20_000 });
    expect(alice.wsUrls.length).to.be.greaterThan(socketsBefore);
    const rows = await waitForRow(alice, (r) => r === 'DONE', 'the end of the output');
    for (let i = 1; i <= 8; i++) expect(count(rows, `L${i}`), `L${i} once`).to.equal(1);
    const order = rows.filter((r) => /^L\d$/.test(r));
    expect(order).to.deep.equal(['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8']);
    expect(count(rows, 'hi'), 'earlier output not replayed twice').to.equal(1);
    // It resumed from its seq (a delta), not by repainting the whole screen.
    expect(await page.locator(`.term-pane[data-session-id="${shellId}"]`).getAttribute('data-resume')).to.equal(
      'delta',
    );
    // Typing works again.
    await shell(alice, 'echo back');
    await waitForRow(alice, (r) => r === 'back', 'input after the reconnect');
  });

  it('shows a fake-claude session waiting for input: badge, highlight, title count, notification', async () => {
    const { page } = alice;
    claudeId = await startSession(alice, 'claude', 'claude one');
    await waitForRow(alice, (r) => r.includes('Welcome to Fake Claude Code'), 'the fake claude screen');
    // Busy first, then a question; meanwhile the user looks at another tab.
    await type(alice, 'work 3000');
    await type(alice, 'ask');
    await page.locator(`.tab[data-session-id="${shellId}"] .tab-open`).click();
    const row = page.locator(`.session[data-session-id="${claudeId}"]`);
    await row.locator('.badge[data-state="waiting_input"]').waitFor();
    expect(await row.locator('.badge').textContent()).to.equal('waiting');
    expect(await row.getAttribute('class')).to.include('attention');
    expect(await page.locator(`.tab[data-session-id="${claudeId}"]`).getAttribute('class')).to.include('attention');
    await waitFor('the title count', async () => (await page.title()) === '(1) CCManager');
    const notes = await page.evaluate(
      () => (window as unknown as { __notifications: { title: string }[] }).__notifications,
    );
    expect(notes).to.have.length(1);
    expect(notes[0]?.title).to.include('claude one');
    await screenshot(page, '03-waiting-input');
    // Answering clears it.
    await page.locator(`.tab[data-session-id="${claudeId}"] .tab-open`).click();
    await waitForRow(alice, (r) => r.includes('Do you want to proceed?'), 'the question');
    await page.keyboard.press('1');
    await waitForRow(alice, (r) => r.includes('answered: yes'), 'the answer');
    await waitFor('the title without a count', async () => (await page.title()) === 'CCManager', UI_TIMEOUT_MS);
    expect(await row.getAttribute('class')).not.to.include('attention');
  });

  it('renders an escape-sequence title and HTML-looking output as text', async () => {
    const { page } = alice;
    await page.locator(`.tab[data-session-id="${shellId}"] .tab-open`).click();
    await shell(alice, "printf '\\e]0;<b>x</b>\\a'; echo '<img src=x onerror=alert(1)>'");
    await waitForRow(alice, (r) => r === '<img src=x onerror=alert(1)>', 'the html-looking line');
    await page.locator('.term-title').waitFor();
    expect(await page.locator('.term-title').textContent()).to.equal('<b>x</b>');
    expect(await page.locator('.term-title b').count()).to.equal(0);
    expect(await page.locator('.tab-open[title="<b>x</b>"]').count()).to.equal(1);
    // A session name is user text too.
    const row = page.locator(`.session[data-session-id="${shellId}"]`);
    await row.getByRole('button', { name: 'Rename' }).click();
    await row.locator('input.rename').fill('<img src=x onerror=alert(2)>');
    await row.locator('input.rename').press('Enter');
    await row.locator('.session-name', { hasText: '<img src=x onerror=alert(2)>' }).waitFor();
    await page.locator('.tab.active .tab-name', { hasText: '<img src=x onerror=alert(2)>' }).waitFor();
    expect(await page.locator('img').count()).to.equal(0);
    expect(alice.dialogs).to.deep.equal([]);
    expect(alice.errors).to.deep.equal([]);
  });

  it('pages through history and searches it', async () => {
    const { page } = alice;
    // Push the lines above off the screen into history.
    await shell(alice, 'seq 1 80');
    await waitForRow(alice, (r) => r === '80', 'seq output');
    await page.getByRole('link', { name: 'History' }).click();
    const search = page.getByLabel('Search history');
    await search.fill('onerror');
    await page.getByRole('button', { name: 'Search' }).click();
    const result = page.locator('.result-list .result').first();
    await result.waitFor();
    expect(await result.locator('mark').first().textContent()).to.equal('onerror');
    expect(await result.locator('.snippet').textContent()).to.include('<img src=x');
    await result.click();
    await page.locator('.history-lines li.hit').waitFor();
    expect(await page.locator('.history-lines li.hit .text').textContent()).to.equal('<img src=x onerror=alert(1)>');
    await page.getByRole('button', { name: 'First' }).click();
    await page.locator('.history-lines li[data-line="1"]').waitFor();
    expect(await page.locator('img').count()).to.equal(0);
    await screenshot(page, '04-history');
    // A bad query is explained, not a crash.
    await search.fill('"unterminated');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('.search-results .form-error').waitFor();
  });

  it('manages API keys: add, hint, set value, offer it for new sessions, delete', async () => {
    const { page } = alice;
    const secret = 'sk-ant-test-0000wxyz';
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('.keys-view [role="status"]', { hasText: 'No API keys yet.' }).waitFor();
    await page.getByPlaceholder('name, e.g. work').fill('work <i>key</i>');
    await page.getByPlaceholder('value (optional, can be set later)').fill(secret);
    await page.getByRole('button', { name: 'Add key' }).click();
    const row = page.locator('table.keys tbody tr', { hasText: 'work <i>key</i>' });
    await row.waitFor();
    expect(await row.locator('td.mono').textContent()).to.equal('••••wxyz');
    expect(await page.locator('table.keys i').count()).to.equal(0);
    await row.getByLabel('Value of work <i>key</i>').fill('sk-ant-test-1111abcd');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('table.keys td.mono', { hasText: '••••abcd' }).waitFor();
    expect(await page.content()).not.to.include('0000wxyz');
    await screenshot(page, '05-keys');
    // The new-session form offers it.
    await page.getByRole('link', { name: 'Terminal' }).click();
    const option = page.locator('form.new-session select[name="apiKeyId"] option', {
      hasText: 'work <i>key</i> (…abcd)',
    });
    expect(await option.count()).to.equal(1);
    // Delete asks twice.
    await page.getByRole('link', { name: 'API keys' }).click();
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Really delete?' }).click();
    await page.locator('.keys-view [role="status"]', { hasText: 'No API keys yet.' }).waitFor();
    await page.getByRole('link', { name: 'Terminal' }).click();
    expect(await page.locator('form.new-session select[name="apiKeyId"] option').count()).to.equal(1);
  });

  it('shows admins the monitoring page: the current sample and a plot of the history', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Monitoring' }).click();
    await page.locator('.monitor-view .card').first().waitFor();
    expect(await page.locator('.monitor-view .card-label').allTextContents()).to.include.members([
      'CPU',
      'Memory',
      'Sessions',
    ]);
    // Wait for a plot with two series drawn from at least a few samples (refreshes every 10 s).
    await waitFor(
      'plotted samples',
      async () => {
        await page.getByRole('link', { name: 'Terminal' }).click();
        await page.getByRole('link', { name: 'Monitoring' }).click();
        await page.locator('svg.plot').waitFor();
        const d = await page
          .locator('svg.plot path.series')
          .first()
          .getAttribute('d', { timeout: 1000 })
          .catch(() => null);
        return d !== null && d.split('L').length >= 3;
      },
      UI_TIMEOUT_MS,
      500,
    );
    expect(await page.locator('svg.plot path.series').count()).to.equal(2);
    await screenshot(page, '06-monitoring');
    await page.getByRole('link', { name: 'Terminal' }).click();
    expect(alice.errors).to.deep.equal([]);
  });

  it("shows another user none of the first user's sessions", async () => {
    const bob = await newPage();
    await register(bob, 'bob');
    await bob.page.locator('.sidebar .empty-note').waitFor();
    expect(await bob.page.locator('.session').count()).to.equal(0);
    // Not even when his page is told to reopen alice's session.
    await bob.page.evaluate(
      (id) => sessionStorage.setItem('ccm.tabs', JSON.stringify({ open: [id], active: id })),
      shellId,
    );
    await bob.page.reload();
    await bob.page.locator('#conn-status[data-status="ready"]').waitFor();
    expect(await bob.page.locator('.tab').count()).to.equal(0);
    expect(await bob.page.locator('.session').count()).to.equal(0);
    await bob.page.getByRole('link', { name: 'History' }).click();
    await bob.page.getByLabel('Search history').fill('onerror');
    await bob.page.getByRole('button', { name: 'Search' }).click();
    await bob.page.locator('.search-results', { hasText: 'No matches.' }).waitFor();
    expect(await bob.page.locator('.nav-link[data-route="monitor"]').count(), 'bob is no admin').to.equal(0);
  });

  it('works on a phone: narrow layout and the extra keys send the right bytes', async () => {
    const phone = await newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const { page } = phone;
    await page.goto(base);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#conn-status[data-status="ready"]').waitFor();
    await page.locator(`.session[data-session-id="${shellId}"] .session-name`).tap();
    await page.locator(`.tab.active[data-session-id="${shellId}"]`).waitFor();
    await waitForRow(phone, isPrompt, 'the prompt');
    expect(await page.locator('.sidebar').isVisible(), 'the list gets out of the way').to.equal(false);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(390);
    // The PTY has the size of the phone's terminal (fit + resize_terminal).
    await shell(phone, 'stty size');
    const sizeRow = (await waitForRow(phone, (r) => /^\d+ \d+$/.test(r), 'stty output')).find((r) =>
      /^\d+ \d+$/.test(r),
    ) as string;
    const [rows, cols] = sizeRow.split(' ').map(Number) as [number, number];
    const token = await page.evaluate(() => sessionStorage.getItem('ccm.token'));
    const active = await (
      await fetch(`${gw.url}/api/sessions/active`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    const info = active.sessions.find((x: { id: string }) => x.id === shellId);
    expect({ cols: info.cols, rows: info.rows }).to.deep.equal({ cols, rows });
    expect(cols).to.be.within(30, 60);
    // ↑ recalls the last command (bash reads ESC [ A), then Ctrl-C abandons the line.
    await shell(phone, '');
    await page.locator('.extra-keys .key[data-key="up"]').tap();
    await waitForRow(phone, (r) => r !== 'stty size' && r.endsWith('# stty size'), 'the recalled command');
    await page.locator('.extra-keys .key[data-key="ctrl-c"]').tap();
    await waitForRow(phone, (r) => r.endsWith('# stty size^C'), 'the interrupted line');
    await screenshot(page, '07-phone');
    await page.locator('.list-toggle').tap();
    expect(await page.locator('.sidebar').isVisible()).to.equal(true);
    await screenshot(page, '08-phone-list');
  });

  it('closes a session from the list (asking twice): it moves to the ended ones', async () => {
    const { page } = alice;
    const row = page.locator(`.session-list:not(.ended) .session[data-session-id="${claudeId}"]`);
    await row.getByRole('button', { name: 'Close' }).click();
    await row.getByRole('button', { name: 'Really close?' }).click();
    await page
      .locator(`.session-list.ended .session[data-session-id="${claudeId}"] .badge[data-state="exited"]`)
      .waitFor({ state: 'attached' });
    expect(await row.count()).to.equal(0);
    await page.locator(`.tab[data-session-id="${claudeId}"] .tab-open`).click();
    await page.locator('.term-status.status-ended').waitFor();
  });

  it('logs out: the token is gone from the page and no longer works', async () => {
    const { page } = alice;
    const token = (await page.evaluate(() => sessionStorage.getItem('ccm.token'))) as string;
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('ccm.token'))).to.equal(null);
    const res = await fetch(`${gw.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(401);
    expect(alice.errors).to.deep.equal([]);
    // Expected: connection attempts refused during the deliberate outage, the deliberately bad query.
    const expected = [/^WebSocket connection to .* failed: /, /status of 400 \(Bad Request\)/];
    const unexpected = alice.consoleErrors.filter((e) => !expected.some((re) => re.test(e)));
    expect(unexpected, 'no CSP violation, no failed load').to.deep.equal([]);
  });
});
