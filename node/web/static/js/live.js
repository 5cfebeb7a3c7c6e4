// The live event stream: an EventSource on /api/events that survives
// network drops without losing events.
//
// The server numbers events (SSE id = seq). While the browser reconnects by
// itself it resends Last-Event-ID; when it gives up (an HTTP error, or the
// server was down) we open a new stream with ?after=<last seq>. Events at or
// below the last seq seen are dropped, so a replay never applies twice.
// After any outage onResync runs, so the app can also re-read what it shows.

import { eventsURL, session } from './api.js';

const TYPES = ['message', 'message_updated', 'message_deleted', 'task', 'room', 'members', 'read', 'contact', 'notice', 'reaction', 'pin', 'receipt', 'partner'];

export class Live {
  /** handlers: {onEvent(type, data), onState('up'|'down'), onResync(outage), onLoggedOut()} */
  constructor(handlers) {
    this.h = handlers;
    this.seq = 0;
    this.es = null;
    this.timer = 0;
    this.backoff = 500;
    this.down = false;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
  }

  connect() {
    if (this.stopped) return;
    const es = new EventSource(eventsURL(this.seq));
    this.es = es;
    for (const type of TYPES) es.addEventListener(type, (e) => this.receive(type, e));
    es.addEventListener('open', () => {
      this.backoff = 500;
      const outage = this.down;
      if (outage) {
        this.down = false;
        this.h.onState('up');
      }
      // Whatever happened before the stream (re)opened is re-read: the
      // first time, changes between the app's first requests and the
      // stream; after an outage, anything the replay may not cover.
      this.h.onResync(outage);
    });
    es.addEventListener('error', () => {
      if (this.es !== es) return;
      if (!this.down) {
        this.down = true;
        this.h.onState('down');
      }
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (HTTP error status): retry ourselves.
        es.close();
        this.es = null;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.retry(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 10000);
      }
    });
  }

  async retry() {
    if (this.stopped) return;
    try {
      const s = await session();
      if (!s) {
        this.stop();
        this.h.onLoggedOut();
        return;
      }
    } catch {
      // unreachable: connect anyway and let the stream report again
    }
    this.connect();
  }

  receive(type, e) {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    const seq = Number(data.seq ?? e.lastEventId) || 0;
    if (seq && seq <= this.seq) return;
    if (seq) this.seq = seq;
    this.h.onEvent(type, data);
  }
}
