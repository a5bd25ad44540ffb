/**
 * Terminal state that @xterm/addon-serialize does not restore (DESIGN.md, verified here): a hidden
 * cursor, SGR mouse encoding (1006) and the scroll region (DECSTBM). The tracker watches the
 * parser for them and produces the sequences that re-establish them after a snapshot.
 */
import type { Terminal } from '@xterm/headless';

export class ModeTracker {
  private cursorHidden = false;
  private sgrMouse = false;
  private scrollRegion: { top: number; bottom: number } | undefined;
  private readonly disposables: { dispose(): void }[] = [];

  constructor(term: Terminal) {
    const setPrivateMode = (params: (number | number[])[], on: boolean): boolean => {
      for (const p of params) {
        if (p === 25) this.cursorHidden = !on;
        if (p === 1006) this.sgrMouse = on;
      }
      return false; // let xterm handle the mode too
    };
    this.disposables.push(
      term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, (p) => setPrivateMode(p, true)),
      term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, (p) => setPrivateMode(p, false)),
      term.parser.registerCsiHandler({ final: 'r' }, (params) => {
        const top = typeof params[0] === 'number' && params[0] > 0 ? params[0] : 1;
        const bottom = typeof params[1] === 'number' && params[1] > 0 ? params[1] : term.rows;
        this.scrollRegion = top === 1 && bottom >= term.rows ? undefined : { top, bottom };
        return false;
      }),
      term.parser.registerEscHandler({ final: 'c' }, () => {
        this.cursorHidden = false;
        this.sgrMouse = false;
        this.scrollRegion = undefined;
        return false;
      }),
      term.onResize(() => {
        // xterm resets the scroll region on resize.
        this.scrollRegion = undefined;
      }),
    );
  }

  /** Sequences to append to a serialized snapshot so a fresh terminal ends in the same modes. */
  restoreSequence(): string {
    let out = '';
    if (this.scrollRegion) {
      // DECSTBM homes the cursor: save and restore it around the region.
      out += `\x1b7\x1b[${this.scrollRegion.top};${this.scrollRegion.bottom}r\x1b8`;
    }
    if (this.sgrMouse) out += '\x1b[?1006h';
    if (this.cursorHidden) out += '\x1b[?25l';
    return out;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
