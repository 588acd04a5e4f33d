// The alarm banner: red, on every screen, while an alarm against a partner's log is not
// acknowledged. Polled, since alarms are rare and come from the witness, not the event stream.
import { h, clear } from './dom.js';
import { t, dateTime } from './i18n.js';
import { api } from './api.js';

const POLL_MS = 30000;

export function alarmBanner(el) {
  let timer = 0;
  let stopped = false;

  async function refresh() {
    clearTimeout(timer);
    let alarms = [];
    try {
      const r = await api('/json/alarms');
      alarms = (Array.isArray(r) ? r : r.alarms || []).filter((a) => !a.acked_at && !a.acked_by);
    } catch {
      alarms = [];
    }
    if (stopped) return;
    clear(el);
    el.hidden = alarms.length === 0;
    if (alarms.length) {
      el.append(
        h('strong', {}, t('alarm.title', { n: alarms.length })),
        h(
          'ul',
          {},
          alarms.slice(0, 5).map((a) => {
            const btn = h('button', { type: 'button', testid: 'alarm-ack' }, t('alarm.ack'));
            btn.addEventListener('click', async () => {
              btn.disabled = true;
              try {
                await api(`/json/alarms/${encodeURIComponent(a.id)}/ack`, { method: 'POST' });
              } catch {
                btn.disabled = false;
              }
              refresh();
            });
            return h(
              'li',
              {},
              h('bdi', { class: 'partner' }, String(a.partner || '')),
              ': ',
              h('bdi', {}, String(a.reason || a.detail || a.kind || '')),
              a.time ? [' — ', dateTime(a.time)] : null,
              ' ',
              btn,
            );
          }),
        ),
      );
    }
    timer = setTimeout(refresh, POLL_MS);
  }
  refresh();
  return {
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
