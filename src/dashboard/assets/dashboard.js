// The Tusker dashboard page: plain DOM, no framework. It polls the JSON API every 2 s and builds
// every cell with textContent (names, ids and errors are user data, never parsed as HTML). The
// token comes from the URL fragment (#token=…, never sent to a server by the browser), is kept in
// sessionStorage and sent as a header; the fragment is then removed from the address bar.
'use strict';
(function () {
  const REFRESH_MS = 2000;
  const TOKEN_KEY = 'tusker-dashboard-token';
  const STATES = ['available', 'claimed', 'delayed', 'stalled', 'failed', 'finished'];

  const fragment = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (fragment) {
    try {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fragment[1]));
    } catch {
      // a malformed #token= (a bad % escape): ignored, the page asks for the token instead
    }
    history.replaceState(null, '', location.pathname + location.search);
  }

  const view = { readOnly: true, queue: null, state: 'failed', page: 0, job: null, group: null, task: null };
  let timer = null;
  let chart = null;
  let chartEnd = Date.now() / 1000; // the x axis ends at the last sample (server time)

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'data') for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
      else if (key === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child === undefined || child === null ? '' : String(child)));
    return node;
  }

  const num = (n) => el('td', { class: 'num' }, n);
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
  function fill(tbody, rows, columns, emptyText) {
    tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty', colspan: columns }, emptyText))]));
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, method, body) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch('api/' + path, { method: method || 'GET', headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    const reply = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, reply.error || res.statusText);
    return reply;
  }

  const enc = encodeURIComponent;

  async function action(path, question, body) {
    if (question && !window.confirm(question)) return;
    try {
      await api(path, 'POST', body);
      status('done: ' + path);
    } catch (error) {
      status(error.message, true);
    }
    schedule(0);
  }

  function status(text, bad) {
    const s = $('status');
    s.textContent = text;
    s.classList.toggle('error', Boolean(bad));
  }

  function button(label, onclick, extra) {
    return el('button', Object.assign({ type: 'button', onclick }, extra || {}), label);
  }

  // --- overview -------------------------------------------------------------------------------

  function renderQueues(queues) {
    const rows = queues.map((q) =>
      el(
        'tr',
        { data: { queue: q.name }, class: q.name === view.queue ? 'selected' : undefined },
        el('td', {}, button(q.name, () => openQueue(q.name), { class: 'link' })),
        num(q.available), num(q.claimed), num(q.delayed), num(q.stalled), num(q.failed), num(q.finished),
        el('td', {}, q.paused ? 'yes' : 'no'),
        el(
          'td',
          {},
          ...(view.readOnly
            ? []
            : [
                q.paused
                  ? button('resume', () => action('queues/' + enc(q.name) + '/resume'), { data: { action: 'resume' } })
                  : button('pause', () => action('queues/' + enc(q.name) + '/pause'), { data: { action: 'pause' } }),
                q.failed > 0
                  ? button('retry failed', () => action('queues/' + enc(q.name) + '/retry-failed', 'Retry ' + q.failed + ' failed job(s) of ' + q.name + '?'), { class: 'danger', data: { action: 'retry-failed' } })
                  : '',
              ]),
        ),
      ),
    );
    fill($('queues').tBodies[0], rows, 9, 'no queues registered');
  }

  function renderGroups(groups) {
    const rows = groups.map((g) =>
      el(
        'tr',
        { data: { group: g.name }, class: g.name === view.group ? 'selected' : undefined },
        el('td', {}, button(g.name, () => openGroup(g.name), { class: 'link' })),
        num(g.open), num(g.locked), num(g.released), num(g.processing), num(g.failed), num(g.completed),
      ),
    );
    fill($('groups').tBodies[0], rows, 7, 'no task groups registered');
  }

  function renderLocks(locks) {
    const rows = locks.map((l) =>
      el(
        'tr',
        { data: { lock: l.name } },
        el('td', {}, l.name), el('td', {}, l.group || ''), el('td', {}, l.held ? 'yes' : 'no'), el('td', {}, l.owner || ''),
        num(l.fencingToken), el('td', {}, time(l.expiresAt)), num(l.waiting),
        el('td', {}, l.waiters.slice(0, 3).map((w) => w.owner).join(', ')),
      ),
    );
    fill($('locks').tBodies[0], rows, 8, 'no locks known');
  }

  function renderOnce(once) {
    const rows = once.map((o) =>
      el(
        'tr',
        { data: { once: o.key } },
        el('td', {}, o.key), el('td', {}, o.kind), el('td', {}, o.group || ''), el('td', {}, o.status), num(o.attempt),
        el('td', {}, o.owner || ''), el('td', {}, time(o.leaseEndsAt)), num(o.fencingToken),
      ),
    );
    fill($('once').tBodies[0], rows, 8, 'no run-once or paired tasks known');
  }

  function renderChart(series) {
    const data = [series.time, series.finished, series.failed];
    $('chart').dataset.samples = String(series.time.length);
    chartEnd = series.time.length ? series.time[series.time.length - 1] : Date.now() / 1000;
    if (typeof uPlot === 'undefined') return;
    const width = Math.max(320, $('chart').clientWidth || 800);
    if (!chart) {
      chart = new uPlot(
        {
          width,
          height: 200,
          series: [{}, { label: 'finished/s', stroke: '#2e8b57', width: 2 }, { label: 'failed/s', stroke: '#c0392b', width: 2 }],
          axes: [{}, { label: 'jobs/s' }],
          // always the last five minutes: one sample alone would otherwise stretch the axis over years
          scales: {
            x: { time: true, range: () => [chartEnd - 300, chartEnd] },
            y: { range: (u, min, max) => [0, Math.max(1, Number.isFinite(max) ? max : 0)] },
          },
        },
        data,
        $('chart'),
      );
    } else {
      chart.setData(data);
    }
  }

  // --- one queue ------------------------------------------------------------------------------

  function openQueue(name) {
    view.queue = name;
    view.page = 0;
    view.job = null;
    schedule(0);
  }

  function openJob(id) {
    view.job = id;
    schedule(0);
  }

  function renderTabs() {
    $('state-tabs').replaceChildren(
      ...STATES.map((s) =>
        button(s, () => {
          view.state = s;
          view.page = 0;
          schedule(0);
        }, { 'aria-pressed': s === view.state ? 'true' : 'false', data: { state: s } }),
      ),
    );
  }

  function jobActions(queue, j) {
    if (view.readOnly) return [];
    const base = 'queues/' + enc(queue) + '/jobs/' + enc(j.id);
    const out = [];
    if (j.state === 'failed' || j.state === 'stalled') out.push(button('retry', () => action(base + '/retry'), { data: { action: 'retry' } }));
    if (j.state === 'claimed') {
      out.push(button('cancel', () => action(base + '/cancel', 'Cancel running job ' + j.id + ' of ' + queue + '? It ends failed.', { reason: 'cancelled from the dashboard' }), { class: 'danger', data: { action: 'cancel' } }));
    }
    out.push(button('retract', () => action(base + '/retract', 'Retract (delete) job ' + j.id + ' of ' + queue + '?'), { class: 'danger', data: { action: 'retract' } }));
    return out;
  }

  function renderJobs(page) {
    $('queue-detail').hidden = false;
    $('queue-title').textContent = 'Queue ' + page.queue + ': ' + page.total + ' ' + page.state;
    renderTabs();
    const rows = page.jobs.map((j) =>
      el(
        'tr',
        { data: { job: j.id, state: j.state }, class: j.id === view.job ? 'selected' : undefined },
        el('td', {}, button(j.id, () => openJob(j.id), { class: 'link' })),
        el('td', { class: 'state-' + j.state }, j.state),
        el('td', { class: 'num' }, j.attempt + ' / ' + j.attempts),
        num(j.priority), num(j.cancelCount), el('td', { class: j.state === 'failed' ? 'error' : 'earlier-error' }, j.error || ''),
        el('td', {}, ...jobActions(page.queue, j)),
      ),
    );
    fill($('jobs').tBodies[0], rows, 7, 'no ' + page.state + ' jobs');
    const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
    $('pager').replaceChildren(
      page.page > 0 ? button('← newer', () => { view.page -= 1; schedule(0); }) : '',
      el('span', {}, ' page ' + (page.page + 1) + ' of ' + pages + ' '),
      page.page + 1 < pages ? button('older →', () => { view.page += 1; schedule(0); }) : '',
    );
  }

  function fields(dl, entries) {
    dl.replaceChildren(...entries.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { data: { field: k } }, v)]));
  }

  const json = (v) => (v === undefined ? '' : JSON.stringify(v, null, 2));

  // the job's timeline (ISO strings from the API), oldest first, states it never reached left out
  function timelineRows(timeline) {
    return Object.keys(timeline || {})
      .filter((state) => timeline[state])
      .sort((a, b) => Date.parse(timeline[a]) - Date.parse(timeline[b]))
      .map((state) => [state + ' at', new Date(timeline[state]).toLocaleString()]);
  }

  function renderJob(job) {
    const box = $('job-detail');
    box.hidden = false;
    box.dataset.job = job.id;
    box.dataset.state = job.state;
    $('job-title').textContent = 'Job ' + job.id;
    fields($('job-fields'), [
      ['state', job.state],
      ['attempt', job.attempt + ' of ' + job.attempts],
      ['priority', job.priority],
      ['cancelled', job.cancelCount + ' time(s)'],
      ['last error', job.error || ''],
      ['data', json(job.data)],
      ['result', json(job.result)],
    ].concat(timelineRows(job.timeline)));
  }

  // --- one task group -------------------------------------------------------------------------

  function openGroup(name) {
    view.group = name;
    view.task = null;
    schedule(0);
  }

  function renderGroup(page) {
    $('group-detail').hidden = false;
    $('group-title').textContent = 'Task group ' + page.group;
    const rows = page.failed.map((t) =>
      el(
        'tr',
        { data: { task: t.name } },
        el('td', {}, button(t.name, () => { view.task = t.name; schedule(0); }, { class: 'link' })),
        el('td', { class: 'num' }, (t.attempt || 0) + ' / ' + (t.attempts || '')),
        el('td', { class: 'error' }, t.error || ''),
        el('td', {}, time(t.failedAt)),
        el('td', {}, ...(view.readOnly ? [] : [button('retry', () => action('groups/' + enc(page.group) + '/tasks/' + enc(t.name) + '/retry-failed', 'Retry failed task ' + t.name + '?'), { class: 'danger', data: { action: 'retry-failed' } })])),
      ),
    );
    fill($('failed-tasks').tBodies[0], rows, 5, 'no failed tasks');
    const open = (name) => button(name, () => { view.task = name; schedule(0); }, { class: 'link' });
    const f = page.inFlight;
    const flying = [
      ...f.processing.map((p) => el('tr', { data: { task: p.task, what: 'handler' } }, el('td', {}, open(p.task)), el('td', {}, 'handler running'), el('td', {}, time(p.deadline)))),
      ...f.released.map((name) => el('tr', { data: { task: name, what: 'released' } }, el('td', {}, open(name)), el('td', {}, 'released, waiting for a handler'), el('td', {}, ''))),
      ...f.parts.map((p) => el('tr', { data: { task: p.task, what: 'part', part: p.part } }, el('td', {}, open(p.task)), el('td', {}, 'part ' + p.part), el('td', {}, time(p.deadline)))),
    ];
    fill($('in-flight').tBodies[0], flying, 3, 'nothing in flight');
  }

  function renderTask(t) {
    const box = $('task-detail');
    box.hidden = false;
    box.dataset.state = t.state;
    $('task-title').textContent = 'Task ' + t.name;
    const parts = t.parts.map((p) => p.name + ' until ' + time(p.deadline)).join('\n');
    fields($('task-fields'), [
      ['state', t.state],
      ['parts in flight', parts || 'none'],
      ['attempt', t.attempt === undefined ? '' : t.attempt + ' of ' + t.attempts],
      ['error', t.error || ''],
      ['closed', time(t.closedAt)],
      ['released', time(t.releasedAt)],
      ['completed', time(t.completedAt)],
      ['failed', time(t.failedAt)],
      ['info', json(t.info)],
    ]);
  }

  // --- the refresh loop -----------------------------------------------------------------------

  async function refresh() {
    try {
      const overview = await api('overview');
      view.readOnly = overview.readOnly;
      $('mode').textContent = overview.readOnly ? 'read-only' : '';
      renderQueues(overview.queues);
      renderGroups(overview.taskGroups);
      renderLocks(overview.locks);
      renderOnce(overview.once);
      renderChart(overview.throughput);
      if (view.queue !== null) {
        const q = 'queues/' + enc(view.queue) + '/jobs';
        renderJobs(await api(q + '?state=' + view.state + '&page=' + view.page));
        if (view.job !== null) {
          try {
            renderJob(await api(q + '/' + enc(view.job)));
          } catch (error) {
            if (error.status !== 404) throw error;
            $('job-detail').dataset.state = 'gone';
            fields($('job-fields'), [['state', 'no such job (retracted, or dropped by retention)']]);
          }
        }
      }
      if (view.group !== null) {
        const g = 'groups/' + enc(view.group);
        renderGroup(await api(g));
        if (view.task !== null) {
          try {
            renderTask(await api(g + '/tasks/' + enc(view.task)));
          } catch (error) {
            if (error.status !== 404) throw error;
            $('task-detail').hidden = false;
            $('task-title').textContent = 'Task ' + view.task;
            fields($('task-fields'), [['state', 'no such task']]);
          }
        }
      }
      $('token-form').hidden = true;
      status('updated ' + new Date().toLocaleTimeString());
    } catch (error) {
      if (error.status === 401) $('token-form').hidden = false;
      status(error.status === 401 ? 'this dashboard needs its token: open the URL with #token=… that `tusker dashboard` printed, or paste it' : 'refresh failed: ' + error.message, true);
    }
  }

  // one refresh at a time; asking for one while another runs (after an action) runs it right after
  let running = false;
  let again = false;
  function schedule(delay) {
    if (running) {
      if (delay === 0) again = true;
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(run, delay);
  }

  async function run() {
    running = true;
    try {
      await refresh();
    } finally {
      running = false;
    }
    const now = again;
    again = false;
    schedule(now ? 0 : REFRESH_MS);
  }

  $('token-save').addEventListener('click', () => {
    const token = $('token-input').value.trim();
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token-input').value = '';
      schedule(0);
    }
  });

  $('task-show').addEventListener('click', () => {
    const name = $('task-name').value.trim();
    if (name) {
      view.task = name;
      schedule(0);
    }
  });

  schedule(0);
})();
