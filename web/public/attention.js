/**
 * Sessions that wait for their user: the count in the tab title ("(2) CCManager"), a browser
 * notification when one starts waiting (if the user allowed them and is not looking at it), and
 * the `attention` highlight that the session list and tabs read from the store.
 */
import { h } from './dom.js';

export const BASE_TITLE = 'CCManager';
/** A notification for the same session replaces the previous one (same tag). */
const NOTIFICATION_TAG_PREFIX = 'ccm-waiting-';

export class Attention {
  /**
   * @param {import('./store.js').SessionStore} store
   * @param {() => string | null} activeSessionId the session the user is looking at, if any
   * @param {(sessionId: string) => void} openSession when a notification is clicked
   */
  constructor(store, activeSessionId, openSession) {
    this.store = store;
    this.activeSessionId = activeSessionId;
    this.openSession = openSession;
    store.subscribe(() => this.updateTitle());
  }

  updateTitle() {
    const n = this.store.waiting().length;
    document.title = n > 0 ? `(${n}) ${BASE_TITLE}` : BASE_TITLE;
  }

  /** A `session_state_changed` event (not the initial list: that is no news). */
  onStateChanged(sessionId, state, previousState) {
    if (state !== 'waiting_input' || previousState === 'waiting_input') return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const looking = document.visibilityState === 'visible' && this.activeSessionId() === sessionId;
    if (looking) return;
    const name = this.store.get(sessionId)?.name ?? 'A session';
    try {
      const n = new Notification(`${name} is waiting for you`, {
        body: 'Claude asks for an answer.',
        tag: NOTIFICATION_TAG_PREFIX + sessionId,
      });
      n.onclick = () => {
        window.focus();
        this.openSession(sessionId);
        n.close();
      };
    } catch {
      // Some browsers allow notifications only from a service worker; the title badge remains.
    }
  }

  /** A header button asking for permission (browsers allow the prompt only after a click). */
  permissionButton() {
    if (typeof Notification === 'undefined' || Notification.permission !== 'default') return null;
    const button = h(
      'button',
      {
        class: 'ghost small',
        type: 'button',
        title: 'Be notified when a session waits for you',
        onclick: async () => {
          await Notification.requestPermission();
          button.remove();
        },
      },
      'Notify me',
    );
    return button;
  }
}
