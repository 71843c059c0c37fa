// Paging with the API's opaque cursors: the cursors of the pages before this one are kept, so Newer goes back.
import { h } from './dom.js';

export class cursor_pager {
  constructor() {
    this.previous = []; // cursors of the pages before the current one ('' = the first page)
    this.current = '';
    this.next = null; // next_cursor of the current page
  }

  forward() {
    if (!this.next) return;
    this.previous.push(this.current);
    this.current = this.next;
  }

  back() {
    if (!this.previous.length) return;
    this.current = this.previous.pop();
  }

  reset() {
    this.previous = [];
    this.current = '';
    this.next = null;
  }

  // The page number, from 1.
  page() {
    return this.previous.length + 1;
  }

  // Previous / Next buttons; onMove() is called after either moves.
  controls(label, onMove, older = 'Next', newer = 'Previous') {
    const back = h('button', { type: 'button', class: 'quiet', disabled: !this.previous.length,
      'data-focus-key': `${label}:back`, 'data-focus-group': label }, `← ${newer}`);
    const forward = h('button', { type: 'button', class: 'quiet', disabled: !this.next,
      'data-focus-key': `${label}:forward`, 'data-focus-group': label }, `${older} →`);
    back.addEventListener('click', () => { this.back(); onMove(); });
    forward.addEventListener('click', () => { this.forward(); onMove(); });
    return h('nav', { class: 'pager', 'aria-label': label }, back, h('span', {}, `Page ${this.page()}`), forward);
  }
}
