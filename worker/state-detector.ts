// Session state from what a viewer would see: Claude Code's rendered screen (claude profile) or
// the PTY's foreground process group (shell profile), plus a tracker that debounces idle.
//
// Claude Code has no machine-readable state on its terminal, so we read the same cues the public
// detectors read (CCManager `src/services/stateDetector/claude.ts`, claude-squad, agent-deck,
// cli-agent-orchestrator): an interrupt hint or an animated spinner label means a turn is running;
// a question with numbered options, a `❯ 1.` cursor or `esc to cancel` means a dialog waits for the
// user; anything else is idle. Two lessons from their bug trackers shape the matching:
//   - Old frames stay on screen (a spinner line left in the transcript, a numbered list in a
//     reply), so cues are only taken from where the live UI is drawn: the block right above the
//     input box and the rows below it. Without an input box (a dialog replaced it) the bottom-most
//     cue wins, so a dialog under a stale spinner line reads as waiting.
//   - A finished turn leaves `✻ Worked for 1m 52s` (no ellipsis): only `<glyph> <Word>…` is busy.
import { readFileSync } from 'node:fs';

export type SessionState = 'starting' | 'busy' | 'waiting_input' | 'idle' | 'exited';
export type Profile = 'claude' | 'shell';
export type ObservedState = 'busy' | 'waiting_input' | 'idle';

/** Only the live UI at the bottom matters; older rows are transcript and hold stale cues. */
export const BOTTOM_ROWS_EXAMINED = 30;

/** How far below a `Do you want …` line its options may start (a diff or blank rows sit between). */
const QUESTION_OPTIONS_LOOKAHEAD_ROWS = 8;

// Spinner frames seen in Claude Code versions and terminals: the ornament stars, the middle dot,
// ASCII `*`, the record/bullet circles, quarter circles (2.1.228+) and the braille block (≤ 1.x).
const SPINNER_GLYPHS = '✻✽✶✳✢✱✲✴✵✷✸✹✺✼✾✿❀❁❂❃❇❈❉❊❋✣✤✥✦✧✨⁂⁕※·•∙⋅*●⏺◐◑◒◓\u2800-\u28ff';
// `✻ Thinking…`, `· Pondering… (3s · ↑ 1.2k tokens)`: a glyph, then ONE word glued to `…`. One word
// (not CCManager's `\S+ing.*…`) keeps `● Let me check…` prose out and admits custom spinnerVerbs.
const SPINNER_LABEL = new RegExp(`^\\s*[${SPINNER_GLYPHS}]\\s+\\p{L}[\\p{L}'-]*\u2026(?:\\s|$)`, 'u');
const INTERRUPT_HINT = /\b(?:esc|ctrl\+c) to interrupt\b/i;
const CANCEL_HINT = /\besc to cancel\b/i;
const NUMBERED_CHOICE_CURSOR = /^❯\s*\d+[.)]\s/;
const QUESTION = /\b(?:do you want|would you like)\b/i;
const OPTION_ROW = /^(?:[❯›>]\s*)?(?:\d+[.)]\s+\S|(?:yes|no)\b)/i;
// The input line of the prompt box: `> ` (1.x inside ╭─╮) or `❯ ` (2.x between ─ rules).
const INPUT_LINE = /^[>❯](?:\s|$)/;
const RULE_ROW = /^─{3,}$/;

/** The row's text without the `│ … │` of a box around it. */
function unboxed(row: string): string {
  return row
    .trim()
    .replace(/^[│┃]\s?/, '')
    .replace(/\s?[│┃]$/, '')
    .trim();
}

function isBoxTop(row: string): boolean {
  const t = row.trim();
  return t.startsWith('╭') || RULE_ROW.test(t);
}

function isBoxBottom(row: string): boolean {
  const t = row.trim();
  return t.startsWith('╰') || RULE_ROW.test(t);
}

/**
 * The bottom-most input box as [top border, bottom border] row indexes. A dialog box has a title
 * or question on its first row, so requiring the input line there tells the two apart — even when
 * the user typed `1. fix it` into the input box.
 */
function findInputBox(rows: string[]): [number, number] | undefined {
  for (let top = rows.length - 2; top >= 0; top--) {
    if (!isBoxTop(rows[top] ?? '') || !INPUT_LINE.test(unboxed(rows[top + 1] ?? ''))) continue;
    for (let bottom = top + 2; bottom < rows.length; bottom++) {
      if (isBoxBottom(rows[bottom] ?? '')) return [top, bottom];
    }
  }
  return undefined;
}

/** Start of the contiguous non-blank block directly above `end` (blank and rule rows skipped). */
function recentBlockStart(rows: string[], end: number): number {
  let last = end - 1;
  while (last >= 0 && (unboxed(rows[last] ?? '') === '' || RULE_ROW.test(unboxed(rows[last] ?? '')))) last--;
  let start = last;
  while (start > 0 && unboxed(rows[start - 1] ?? '') !== '') start--;
  return Math.max(start, 0);
}

function waitingCueAt(rows: string[], i: number): boolean {
  const text = unboxed(rows[i] ?? '');
  if (CANCEL_HINT.test(text) || NUMBERED_CHOICE_CURSOR.test(text)) return true;
  if (!QUESTION.test(text)) return false;
  const last = Math.min(rows.length - 1, i + QUESTION_OPTIONS_LOOKAHEAD_ROWS);
  for (let j = i + 1; j <= last; j++) if (OPTION_ROW.test(unboxed(rows[j] ?? ''))) return true;
  return false;
}

function busyCueAt(rows: string[], i: number): boolean {
  const text = unboxed(rows[i] ?? '');
  return INTERRUPT_HINT.test(text) || SPINNER_LABEL.test(text);
}

/** Classify one rendered screen (its rows as plain text, top to bottom; only the bottom ~30 rows matter). */
export function classifyClaudeScreen(rows: string[]): ObservedState {
  const bottom = rows.slice(-BOTTOM_ROWS_EXAMINED).map((r) => r.trimEnd());
  const box = findInputBox(bottom);
  // Where each kind of cue may come from. With an input box: busy from the block right above it
  // (the spinner) or below it (2.x footer `esc to interrupt`), waiting only below it (a dialog
  // replaces the input box, so a question above a live box is prose in a reply). The box's own
  // rows are what the user is typing and never count.
  const busyFrom = box ? recentBlockStart(bottom, box[0]) : 0;
  const waitingFrom = box ? box[1] + 1 : 0;
  for (let i = bottom.length - 1; i >= 0; i--) {
    if (box && i >= box[0] && i <= box[1]) continue;
    // On one row the dialog is checked first: it is the newer state, drawn during a busy turn.
    if (i >= waitingFrom && waitingCueAt(bottom, i)) return 'waiting_input';
    if (i >= busyFrom && busyCueAt(bottom, i)) return 'busy';
  }
  return 'idle';
}

// ---- shell profile ---------------------------------------------------------------------------

export interface ShellProbe {
  foregroundIsShell: boolean;
}

export function classifyShell(probe: ShellProbe): 'busy' | 'idle' {
  return probe.foregroundIsShell ? 'idle' : 'busy';
}

/**
 * Is the shell itself the PTY's foreground process group? An interactive shell with job control
 * (node-pty makes it a session leader on the PTY, so its pgid is its pid) hands the terminal to a
 * new process group for every foreground job and takes it back at the prompt. So field 8 of
 * /proc/<pid>/stat (`tpgid`, the terminal's foreground group) equals field 5 (`pgrp`) exactly when
 * the shell waits at its prompt. Unlike counting children this ignores background jobs (`sleep &`)
 * and needs one procfs read (no disk I/O, so a synchronous read is fine on an interval).
 * A non-interactive shell (`sh -c`) does no job control and always reads as idle.
 */
export function readShellProbe(shellPid: number): ShellProbe {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${shellPid}/stat`, 'utf8');
  } catch (err) {
    // The shell is gone; its exit is reported by the PTY's onExit, not by this probe.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') {
      return { foregroundIsShell: true };
    }
    throw err;
  }
  // `comm` (field 2) is in parentheses and may itself contain spaces or `)`: split after the last `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]); // field 5
  const tpgid = Number(fields[5]); // field 8; -1 when there is no controlling terminal
  return { foregroundIsShell: tpgid === -1 || tpgid === pgrp };
}

// ---- debounced tracker -----------------------------------------------------------------------

/**
 * How long a screen must look idle before idle is reported. Claude Code redraws its lower area
 * between tool calls and between a tool result and the next spinner frame, and for those moments
 * the screen looks idle; reporting them would flash every viewer's badge and write the session row.
 * 1.5 s spans those gaps (CCManager settled on the same value) and is still short enough for a
 * person glancing at the list to see a finished turn as finished.
 */
export const IDLE_DEBOUNCE_MS = 1500;

export class StateTracker {
  private current: SessionState = 'starting';
  /** When the current run of idle observations began; undefined when none is pending. */
  private idleSince: number | undefined;
  private readonly idleDebounceMs: number;
  private readonly now: () => number;
  private readonly onChange: (state: SessionState, previous: SessionState) => void;

  constructor(opts: {
    idleDebounceMs: number;
    now?: () => number;
    onChange: (state: SessionState, previous: SessionState) => void;
  }) {
    this.idleDebounceMs = opts.idleDebounceMs;
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange;
  }

  get state(): SessionState {
    return this.current;
  }

  /** Feed the latest observation: busy and waiting_input are reported at once, idle once it has lasted the debounce. */
  observe(observed: ObservedState): void {
    if (this.current === 'exited') return;
    if (observed !== 'idle') {
      this.idleSince = undefined;
      this.transition(observed);
      return;
    }
    if (this.current === 'idle') return;
    this.idleSince ??= this.now();
    this.tick();
  }

  /** Commit a pending idle once the debounce has elapsed (the owner calls this on an interval). */
  tick(): void {
    if (this.idleSince === undefined || this.current === 'exited') return;
    if (this.now() - this.idleSince < this.idleDebounceMs) return;
    this.idleSince = undefined;
    this.transition('idle');
  }

  /** The process ended: final, later observations are ignored. */
  exited(): void {
    this.idleSince = undefined;
    this.transition('exited');
  }

  private transition(next: SessionState): void {
    const previous = this.current;
    if (previous === next || previous === 'exited') return;
    this.current = next;
    this.onChange(next, previous);
  }
}
