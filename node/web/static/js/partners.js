// Partners in a shared room: each other organization's node with its
// state in the room's header (connected, or offline since when), and
// under my own messages the organizations they were delivered to, from
// the partners' signed acknowledgements (GET /api/rooms/{id}/partners and
// /deliveries). Both follow the live stream's "receipt" and "partner"
// events. Rooms without partners' members make no request after the first.

import { request } from './api.js';
import { h, replace, debounce } from './dom.js';
import { t, fmtTime, fmtFull } from './i18n.js';

const BATCH = 200; // the most message IDs one /deliveries request takes

export class Partners {
  /** rv is the RoomView; list is its timeline's <ol> of message rows. */
  constructor(rv, list) {
    this.rv = rv;
    this.list = list;
    this.nodes = null; // /partners' nodes once loaded; [] in a room of my organization alone
    this.delivered = new Map(); // message_id → delivered_to (node IDs)
    this.el = h('div', { class: 'partners', role: 'status', 'aria-label': t('partners.label'), hidden: true });
    this.reload = debounce(() => this.load(), 200);
    this.recheck = debounce(() => this.check(true), 200);
    this.pendingCheck = debounce(() => this.check(false), 50);
    // Rows come and go (pages, live messages, edits re-render a row):
    // mark the new ones from what is known, and ask about the others.
    this.observer = new MutationObserver(() => this.pendingCheck());
    this.observer.observe(list, { childList: true });
  }

  destroy() {
    this.observer.disconnect();
    this.destroyed = true;
  }

  async load() {
    let r;
    try {
      r = await request('GET', `/api/rooms/${this.rv.id}/partners`);
    } catch {
      return; // shown as before; the next event or resync tries again
    }
    if (this.destroyed) return;
    this.nodes = (r && r.nodes) || [];
    this.render();
    this.check(true);
  }

  /** onReceipt: a partner acknowledged more of this node's events here. */
  onReceipt() {
    this.reload();
  }

  /** onPartner: a partner connected or went offline. */
  onPartner() {
    if (this.nodes && this.nodes.length) this.reload();
  }

  org(id) {
    const n = this.nodes && this.nodes.find((x) => x.node_id === id);
    return (n && n.organization_name) || `${id.slice(0, 12)}…`;
  }

  render() {
    const ns = this.nodes || [];
    this.el.hidden = ns.length === 0;
    replace(this.el, ...ns.map((n) => {
      const org = this.org(n.node_id);
      const on = n.state === 'connected';
      const since = !on && n.last_seen ? fmtTime(n.last_seen) : '';
      const state = on ? t('partners.connected') : since ? t('partners.offlinesince', { time: since }) : t('partners.offline');
      let title = `${org}: ${on ? t('partners.connected') : n.last_seen ? t('partners.offlinesince', { time: fmtFull(n.last_seen) }) : t('partners.offline')}`;
      if (n.last_sync) title += ` · ${t('partners.lastsync', { time: fmtFull(n.last_sync) })}`;
      if (!n.partner) title += ` · ${t('partners.notpartner')}`;
      return h('span', { class: 'partner', dataset: { node: n.node_id, state: on ? 'connected' : 'offline' }, title },
        h('span', { class: 'partner-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'partner-org' }, org),
        h('span', { class: 'partner-state' }, state));
    }));
  }

  /** check marks my messages' rows: from what is known, and, for rows
   * not yet known (or all, with all), from one /deliveries request per
   * BATCH of them. */
  async check(all) {
    if (this.destroyed || !this.nodes || this.nodes.length === 0) return;
    const ask = [];
    for (const li of this.list.querySelectorAll('li.msg.mine[data-mid]')) {
      const mid = li.dataset.mid;
      if (this.delivered.has(mid)) this.mark(li, this.delivered.get(mid));
      // A message delivered to every partner stays so.
      if (all ? !this.complete(mid) : !this.delivered.has(mid)) ask.push(mid);
    }
    for (let i = 0; i < ask.length; i += BATCH) {
      let r;
      try {
        r = await request('GET', `/api/rooms/${this.rv.id}/deliveries`, { query: { message_ids: ask.slice(i, i + BATCH).join(',') } });
      } catch {
        return;
      }
      if (this.destroyed) return;
      for (const m of (r && r.messages) || []) {
        this.delivered.set(m.message_id, m.delivered_to || []);
        const li = this.list.querySelector(`li.msg.mine[data-mid="${CSS.escape(m.message_id)}"]`);
        if (li) this.mark(li, m.delivered_to || []);
      }
    }
  }

  complete(mid) {
    const to = this.delivered.get(mid);
    return to && this.nodes.every((n) => to.includes(n.node_id));
  }

  /** mark shows under a row which organizations have the message, and
   * which not yet. */
  mark(li, to) {
    const main = li.querySelector('.msg-main');
    if (!main) return;
    const done = this.nodes.filter((n) => to.includes(n.node_id)).map((n) => this.org(n.node_id));
    const waiting = this.nodes.filter((n) => !to.includes(n.node_id)).map((n) => this.org(n.node_id));
    const key = `${done.join('\n')}|${waiting.join('\n')}`;
    let el = main.querySelector('.msg-delivered');
    if (el && el.dataset.key === key) return;
    const next = h('div', { class: 'msg-delivered', dataset: { key, state: waiting.length ? (done.length ? 'partial' : 'none') : 'all' } },
      done.length ? h('span', { class: 'delivered-to', title: t('partners.deliveredtip', { orgs: done.join(', ') }) },
        '✓ ', t('partners.delivered', { orgs: done.join(', ') })) : null,
      waiting.length ? h('span', { class: 'delivered-waiting', title: t('partners.waitingtip', { orgs: waiting.join(', ') }) },
        t('partners.waiting', { orgs: waiting.join(', ') })) : null);
    if (el) el.replaceWith(next);
    else main.appendChild(next);
  }
}
