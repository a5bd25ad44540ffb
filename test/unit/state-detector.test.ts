import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import xtermHeadless from '@xterm/headless';
import { expect } from 'chai';
import type { IPty } from 'node-pty';
import pty from 'node-pty';
import type { SessionState } from '../../worker/state-detector.js';
import {
  BOTTOM_ROWS_EXAMINED,
  classifyClaudeScreen,
  classifyShell,
  IDLE_DEBOUNCE_MS,
  readShellProbe,
  StateTracker,
} from '../../worker/state-detector.js';

const { Terminal } = xtermHeadless;

const FAKE_CLAUDE = fileURLToPath(new URL('../fixtures/fake-claude', import.meta.url));
const SCREENS_DIR = new URL('../fixtures/screens/', import.meta.url);
const COLS = 80;
const ROWS = 24;
/** Upper bound for a screen to reach an expected look; a failure bound, not a speed assertion. */
const WAIT_TIMEOUT_MS = 10_000;
/** How often a waiting test re-reads the screen (the worker samples on a short interval too). */
const POLL_MS = 25;

function screen(name: string): string[] {
  return readFileSync(new URL(name, SCREENS_DIR), 'utf8').replace(/\n$/, '').split('\n');
}

describe('classifyClaudeScreen', () => {
  describe('recorded screens', () => {
    const cases: Array<[string, 'busy' | 'waiting_input' | 'idle']> = [
      ['claude1-idle.txt', 'idle'],
      ['claude2-idle-after-turn.txt', 'idle'],
      ['claude2-idle-typed-choice.txt', 'idle'],
      ['claude1-busy-esc.txt', 'busy'],
      ['claude1-busy-ctrlc.txt', 'busy'],
      ['claude2-busy-spinner.txt', 'busy'],
      ['claude2-busy-footer.txt', 'busy'],
      ['claude1-waiting-bash.txt', 'waiting_input'],
      ['claude2-waiting-question.txt', 'waiting_input'],
      ['claude2-waiting-below-stale-busy.txt', 'waiting_input'],
      ['fake-idle.txt', 'idle'],
      ['fake-busy.txt', 'busy'],
      ['fake-ask.txt', 'waiting_input'],
    ];
    for (const [name, expected] of cases) {
      it(`${name} → ${expected}`, () => {
        expect(classifyClaudeScreen(screen(name))).to.equal(expected);
      });
    }
  });

  const inputBox = ['╭──────────╮', '│ >        │', '╰──────────╯', '  ? for shortcuts'];

  describe('each busy cue alone', () => {
    it('esc to interrupt', () => {
      expect(classifyClaudeScreen(['  Running tool', '  (esc to interrupt)', '', ...inputBox])).to.equal('busy');
    });
    it('ctrl+c to interrupt', () => {
      expect(classifyClaudeScreen(['Googling. (ctrl+c to interrupt', '', ...inputBox])).to.equal('busy');
    });
    it('a spinner glyph with a …ing… label, for every glyph family', () => {
      for (const line of [
        '✻ Thinking…',
        '✽ Tempering…',
        '✶ Pouncing… (33s)',
        '✳ Simplifying…',
        '✢ Misting…',
        '· Pondering… (3s · ↑ 1.2k tokens)',
        '* Cooking…',
        '● Working…',
        '⠋ Processing…',
        '◐ Herding…',
      ]) {
        expect(classifyClaudeScreen([line, '', ...inputBox]), line).to.equal('busy');
      }
    });
    it('the footer hint below a 2.x input box', () => {
      const rule = '─'.repeat(40);
      expect(
        classifyClaudeScreen(['● Bash(ls)', '', rule, '❯ ', rule, '  ⏵⏵ auto mode on · esc to interrupt']),
      ).to.equal('busy');
    });
  });

  describe('each waiting cue alone', () => {
    it('Do you want … followed by options', () => {
      expect(classifyClaudeScreen(['Do you want to make this edit to test.txt?', '1. Yes', '2. No'])).to.equal(
        'waiting_input',
      );
      expect(classifyClaudeScreen(['Would you like to proceed?', '', '  Yes', '  No'])).to.equal('waiting_input');
    });
    it('a ❯ 1. numbered choice', () => {
      expect(classifyClaudeScreen(['Pick a theme', '❯ 1. Dark mode', '  2. Light mode'])).to.equal('waiting_input');
    });
    it('esc to cancel', () => {
      expect(classifyClaudeScreen(['Enter your message:', 'Press esc to cancel'])).to.equal('waiting_input');
    });
  });

  describe('what is not a cue', () => {
    it('an empty screen is idle', () => {
      expect(classifyClaudeScreen([])).to.equal('idle');
      expect(classifyClaudeScreen(Array(ROWS).fill(''))).to.equal('idle');
    });
    it('a finished turn (no ellipsis) and prose ending in … are idle', () => {
      expect(classifyClaudeScreen(['✻ Worked for 1m 52s', '', ...inputBox])).to.equal('idle');
      expect(classifyClaudeScreen(['● Let me check…', '', ...inputBox])).to.equal('idle');
    });
    it('a question in a reply above a live input box is idle', () => {
      expect(
        classifyClaudeScreen(['● Do you want me to:', '  1. Yes, add tests', '  2. No', '', ...inputBox]),
      ).to.equal('idle');
    });
    it('cue words the user typed into the input box are idle', () => {
      const typed = [
        '╭──────────────────────────────────────────╮',
        '│ > ✻ Thinking… esc to interrupt, esc to cancel │',
        '╰──────────────────────────────────────────╯',
        '  ? for shortcuts',
      ];
      expect(classifyClaudeScreen(['● Done.', '', ...typed])).to.equal('idle');
    });
    it('a spinner line left higher up in the transcript is idle', () => {
      expect(
        classifyClaudeScreen(['✻ Thinking… (esc to interrupt)', '● Done.', '', '● All tests pass.', '', ...inputBox]),
      ).to.equal('idle');
    });
    it('only the bottom rows count', () => {
      const rows = [
        'Do you want to proceed?',
        '❯ 1. Yes',
        '  esc to cancel',
        ...Array(BOTTOM_ROWS_EXAMINED).fill('output'),
      ];
      expect(classifyClaudeScreen(rows)).to.equal('idle');
    });
  });

  describe('which cue wins', () => {
    it('a dialog below a stale busy line is waiting', () => {
      expect(
        classifyClaudeScreen(['✻ Thinking… (esc to interrupt)', '', 'Do you want to proceed?', '❯ 1. Yes', '  2. No']),
      ).to.equal('waiting_input');
    });
    it('a new turn below an answered dialog is busy', () => {
      expect(
        classifyClaudeScreen([
          'Do you want to proceed?',
          '❯ 1. Yes',
          '  2. No',
          '',
          '✶ Working… (esc to interrupt)',
          '',
          ...inputBox,
        ]),
      ).to.equal('busy');
    });
    it('on one row the dialog wins over the busy hint', () => {
      expect(classifyClaudeScreen(['esc to cancel · esc to interrupt'])).to.equal('waiting_input');
    });
  });
});

describe('StateTracker', () => {
  const DEBOUNCE = 1000;

  function makeTracker() {
    let time = 0;
    const events: Array<[SessionState, SessionState]> = [];
    const tracker = new StateTracker({
      idleDebounceMs: DEBOUNCE,
      now: () => time,
      onChange: (state, previous) => events.push([state, previous]),
    });
    return { tracker, events, advance: (ms: number) => (time += ms) };
  }

  it('starts as starting and reports starting → busy → waiting_input → idle in order', () => {
    const { tracker, events, advance } = makeTracker();
    expect(tracker.state).to.equal('starting');
    tracker.observe('busy');
    tracker.observe('waiting_input');
    tracker.observe('idle');
    expect(tracker.state).to.equal('waiting_input');
    advance(DEBOUNCE);
    tracker.tick();
    expect(tracker.state).to.equal('idle');
    expect(events).to.deep.equal([
      ['busy', 'starting'],
      ['waiting_input', 'busy'],
      ['idle', 'waiting_input'],
    ]);
  });

  it('reports busy and waiting_input at once, and a repeated state only once', () => {
    const { tracker, events } = makeTracker();
    tracker.observe('busy');
    tracker.observe('busy');
    expect(events).to.deep.equal([['busy', 'starting']]);
  });

  it('suppresses idle flicker shorter than the debounce', () => {
    const { tracker, events, advance } = makeTracker();
    tracker.observe('busy');
    for (let i = 0; i < 10; i++) {
      tracker.observe('idle');
      advance(DEBOUNCE / 2);
      tracker.tick();
      tracker.observe('busy');
      advance(DEBOUNCE / 2);
      tracker.tick();
    }
    expect(events).to.deep.equal([['busy', 'starting']]);
  });

  it('commits idle through tick() once idle has lasted the debounce', () => {
    const { tracker, events, advance } = makeTracker();
    tracker.observe('busy');
    tracker.observe('idle');
    advance(DEBOUNCE - 1);
    tracker.tick();
    expect(tracker.state).to.equal('busy');
    advance(1);
    tracker.tick();
    expect(tracker.state).to.equal('idle');
    tracker.tick();
    tracker.observe('idle');
    expect(events).to.deep.equal([
      ['busy', 'starting'],
      ['idle', 'busy'],
    ]);
  });

  it('measures the debounce from the first idle observation, and observe() can commit it too', () => {
    const { tracker, advance } = makeTracker();
    tracker.observe('busy');
    tracker.observe('idle');
    advance(DEBOUNCE / 2);
    tracker.observe('idle');
    advance(DEBOUNCE / 2);
    tracker.observe('idle');
    expect(tracker.state).to.equal('idle');
  });

  it('treats exited as final', () => {
    const { tracker, events, advance } = makeTracker();
    tracker.observe('busy');
    tracker.observe('idle');
    tracker.exited();
    advance(DEBOUNCE * 2);
    tracker.tick();
    tracker.observe('waiting_input');
    tracker.exited();
    expect(tracker.state).to.equal('exited');
    expect(events).to.deep.equal([
      ['busy', 'starting'],
      ['exited', 'busy'],
    ]);
  });

  it('uses a debounce long enough to span redraw gaps', () => {
    expect(IDLE_DEBOUNCE_MS).to.equal(1500);
  });
});

// ---- real PTYs -------------------------------------------------------------------------------

interface PtyScreen {
  pty: IPty;
  rows(): string[];
  exited: Promise<number>;
  dispose(): Promise<void>;
}

function spawnOnScreen(file: string, args: string[]): PtyScreen {
  const term = new Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  const child = pty.spawn(file, args, {
    name: 'xterm-256color',
    cols: COLS,
    rows: ROWS,
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color' },
  });
  let alive = true;
  const exited = new Promise<number>((resolve) =>
    child.onExit(({ exitCode }) => {
      alive = false;
      resolve(exitCode);
    }),
  );
  child.onData((data) => term.write(data));
  return {
    pty: child,
    exited,
    rows() {
      const buffer = term.buffer.active;
      return Array.from(
        { length: term.rows },
        (_, i) => buffer.getLine(buffer.baseY + i)?.translateToString(true) ?? '',
      );
    },
    async dispose() {
      if (alive) {
        child.kill('SIGKILL');
        await exited;
      }
      term.dispose();
    },
  };
}

async function waitFor(what: string, s: PtyScreen, predicate: (rows: string[]) => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    if (predicate(s.rows())) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${s.rows().join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const showing = (text: string) => (rows: string[]) => rows.some((r) => r.includes(text));

describe('fake-claude in a real PTY', () => {
  let s: PtyScreen | undefined;
  afterEach(async () => {
    await s?.dispose();
    s = undefined;
  });

  it('reads idle at start, busy during `work 500`, idle after', async () => {
    s = spawnOnScreen(process.execPath, [FAKE_CLAUDE]);
    await waitFor('the prompt', s, showing('? for shortcuts'));
    expect(classifyClaudeScreen(s.rows())).to.equal('idle');
    s.pty.write('work 500\r');
    await waitFor('busy', s, (rows) => classifyClaudeScreen(rows) === 'busy');
    await waitFor('the result line', s, showing('● Worked for 500 ms'));
    expect(classifyClaudeScreen(s.rows())).to.equal('idle');
  });

  it('reads waiting_input during `ask`, idle once answered', async () => {
    s = spawnOnScreen(process.execPath, [FAKE_CLAUDE]);
    await waitFor('the prompt', s, showing('? for shortcuts'));
    s.pty.write('ask\r');
    await waitFor('the dialog', s, showing('esc to cancel'));
    expect(classifyClaudeScreen(s.rows())).to.equal('waiting_input');
    s.pty.write('1');
    await waitFor('the answer', s, showing('answered: yes'));
    expect(classifyClaudeScreen(s.rows())).to.equal('idle');
  });

  it('reports one busy and one idle through `flicker 3` when sampled into a tracker', async () => {
    s = spawnOnScreen(process.execPath, [FAKE_CLAUDE]);
    const current = s;
    const events: SessionState[] = [];
    const tracker = new StateTracker({ idleDebounceMs: IDLE_DEBOUNCE_MS, onChange: (state) => events.push(state) });
    const sampler = setInterval(() => {
      tracker.observe(classifyClaudeScreen(current.rows()));
      tracker.tick();
    }, POLL_MS);
    try {
      await waitFor('the first idle', s, () => tracker.state === 'idle');
      events.length = 0;
      s.pty.write('flicker 3\r');
      await waitFor('the end of the flicker', s, showing('● flicker done'));
      await waitFor('idle after the debounce', s, () => tracker.state === 'idle');
      expect(events).to.deep.equal(['busy', 'idle']);
    } finally {
      clearInterval(sampler);
    }
  });

  it('echoes typed text, prints numbered lines, and exits 0 on `exit`', async () => {
    s = spawnOnScreen(process.execPath, [FAKE_CLAUDE]);
    await waitFor('the prompt', s, showing('? for shortcuts'));
    s.pty.write('hello there');
    await waitFor('the echo in the box', s, showing('│ > hello there'));
    s.pty.write('\r');
    await waitFor('the echo line', s, showing('echo: hello there'));
    s.pty.write('print 3\r');
    await waitFor('line 3', s, showing('line 3'));
    const rows = s.rows();
    expect(rows.indexOf('line 1') + 2).to.equal(rows.indexOf('line 3'));
    s.pty.write('exit\r');
    expect(await s.exited).to.equal(0);
  });

  it('exits 0 on Ctrl-C twice', async () => {
    s = spawnOnScreen(process.execPath, [FAKE_CLAUDE]);
    await waitFor('the prompt', s, showing('? for shortcuts'));
    s.pty.write('\x03');
    await waitFor('the exit hint', s, showing('Press Ctrl-C again to exit'));
    s.pty.write('\x03');
    expect(await s.exited).to.equal(0);
  });
});

describe('shell profile', () => {
  let s: PtyScreen | undefined;
  afterEach(async () => {
    await s?.dispose();
    s = undefined;
  });

  it('classifies the probe', () => {
    expect(classifyShell({ foregroundIsShell: true })).to.equal('idle');
    expect(classifyShell({ foregroundIsShell: false })).to.equal('busy');
  });

  it('reads a foreground command as busy and a background job as idle, from /proc', async () => {
    s = spawnOnScreen('/bin/bash', ['--norc', '--noprofile', '-i']);
    const pid = s.pty.pid;
    const probed = (state: 'busy' | 'idle') => () => classifyShell(readShellProbe(pid)) === state;
    await waitFor('the shell prompt', s, probed('idle'));
    s.pty.write('sleep 30\r');
    await waitFor('sleep in the foreground', s, probed('busy'));
    s.pty.write('\x03');
    await waitFor('the prompt again', s, probed('idle'));
    s.pty.write('sleep 30 & echo started-$!\r');
    await waitFor('the background job', s, showing('started-'));
    expect(classifyShell(readShellProbe(pid))).to.equal('idle');
    s.pty.write('kill %1; exit\r');
    await s.exited;
  });

  it('reads a process that is gone as idle (its exit is reported elsewhere)', async () => {
    s = spawnOnScreen('/bin/sh', ['-c', 'exit 0']);
    const pid = s.pty.pid;
    await s.exited;
    expect(readShellProbe(pid)).to.deep.equal({ foregroundIsShell: true });
  });
});
