/* app.js - the dashboard of `wm serve`: three pages behind hash routes
   (#/ runs, #/run/ID, #/history), data from the REST API under api/v1,
   live updates over Server-Sent Events. The API key (role `run` for
   cancel and resume) is kept in sessionStorage only and sent as
   `Authorization: Bearer`; EventSource cannot send headers, so with a key
   the event stream is read through fetch instead. */
(function () {
	'use strict';
	const API = 'api/v1/';
	const app = document.getElementById('app');
	const esc = WM.esc;
	let page = null; /* the current page's cleanup function */

	/* ---- the API ---- */

	function key() { return sessionStorage.getItem('wm-key') || ''; }

	function headers(extra) {
		const h = Object.assign({ Accept: 'application/json' }, extra || {});
		if (key()) h.Authorization = 'Bearer ' + key();
		return h;
	}

	async function api(path, opts) {
		opts = opts || {};
		const r = await fetch(API + path, { method: opts.method || 'GET', headers: headers(opts.body ? { 'Content-Type': 'application/json' } : {}),
			body: opts.body ? JSON.stringify(opts.body) : undefined, signal: opts.signal });
		const text = await r.text();
		let body = null;
		try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text }; }
		if (!r.ok) {
			const msg = body && (body.error && (body.error.message || body.error)) || body && body.message || r.statusText;
			throw new Error(r.status + ': ' + (typeof msg === 'string' ? msg : JSON.stringify(msg)));
		}
		return body;
	}

	/* Server-Sent Events from url; onEvent(data) per message. Returns a
	   function that stops listening. Reconnects with Last-Event-ID. */
	function listen(url, onEvent) {
		if (!key()) {
			const es = new EventSource(API + url);
			es.onmessage = (m) => onEvent(m.data);
			['run', 'task', 'progress', 'end'].forEach((t) => es.addEventListener(t, (m) => onEvent(m.data)));
			return () => es.close();
		}
		const ctl = new AbortController();
		let last = null;
		(async function loop() {
			while (!ctl.signal.aborted) {
				try {
					const h = headers({ Accept: 'text/event-stream' });
					if (last) h['Last-Event-ID'] = last;
					const r = await fetch(API + url, { headers: h, signal: ctl.signal });
					const rd = r.body.getReader(), dec = new TextDecoder();
					let buf = '';
					for (;;) {
						const { value, done } = await rd.read();
						if (done) break;
						buf += dec.decode(value, { stream: true });
						let i;
						while ((i = buf.indexOf('\n\n')) >= 0) {
							const block = buf.slice(0, i);
							buf = buf.slice(i + 2);
							const data = [];
							block.split('\n').forEach((l) => {
								if (l.startsWith('data:')) data.push(l.slice(5).replace(/^ /, ''));
								else if (l.startsWith('id:')) last = l.slice(3).trim();
							});
							if (data.length) onEvent(data.join('\n'));
						}
					}
				} catch (e) { if (ctl.signal.aborted) return; }
				await new Promise((res) => setTimeout(res, 1000));
			}
		})();
		return () => ctl.abort();
	}

	/* Calls fn at most once per `ms`, and once more after the last call. */
	function throttle(fn, ms) {
		let timer = null, again = false;
		return function () {
			if (timer) { again = true; return; }
			fn();
			timer = setTimeout(function tick() {
				timer = null;
				if (again) { again = false; fn(); timer = setTimeout(tick, ms); }
			}, ms);
		};
	}

	function say(text) { document.getElementById('live').textContent = text; }

	function errorBox(e) { return '<p class="notice bad" role="alert">' + esc(e.message || e) + '</p>'; }

	/* ---- runs ---- */

	function runsOf(body) { return Array.isArray(body) ? body : (body && (body.runs || body.items)) || []; }

	function ms(v) { return typeof v === 'number' ? v : (v ? Date.parse(v) : 0); }

	function runDuration(r) {
		if (r.duration_ms != null) return r.duration_ms;
		const s = ms(r.started_ms || r.started), e = ms(r.ended_ms || r.ended);
		return s ? (e || Date.now()) - s : null;
	}

	function runRow(r) {
		const pct = r.total ? Math.round(100 * r.done / r.total) : 0;
		const pol = policies.get(r.id);
		return '<tr data-run="' + esc(r.id) + '" data-state="' + esc(r.state) + '" data-live="' + esc(!!r.live) + '"><td><a href="#/run/' + encodeURIComponent(r.id) +
			'" class="mono">' + esc(r.id) + '</a></td><td>' + esc(r.workflow || '\u2013') + '</td><td>' + WM.stateBadge(r.state) +
			'</td><td><span class="progress" aria-hidden="true"><span style="width:' + pct + '%"></span></span>' +
			esc(r.done + '/' + r.total) + '</td><td class="num">' + esc(WM.fmtDur(runDuration(r))) + '</td><td class="policy">' +
			esc(r.policy || (pol ? pol.text : '\u2026')) + '</td><td>' + esc(WM.fmtTime(ms(r.started_ms || r.started))) + '</td></tr>';
	}

	/* A run's policies, from its `wm status` object: the distinct policies
	   its tasks resolved to. Asked once per run (again while it runs, as
	   tasks resolve theirs), a few at a time. */
	const policies = new Map();
	let asking = 0;
	const queue = [];

	function askPolicy(id, live, done) {
		const known = policies.get(id);
		if (known && (known.final || !live || Date.now() - known.at < 5000)) { done(known.text); return; }
		queue.push(() => api('runs/' + encodeURIComponent(id)).then((st) => {
			const seen = new Set();
			Object.values(st.tasks || {}).forEach((t) => { if (t.policy) seen.add(t.policy); });
			const text = Array.from(seen).sort().join(', ') || '\u2013';
			policies.set(id, { text: text, final: !live, at: Date.now() });
			done(text);
		}, () => {}));
		pump();
	}

	function pump() {
		while (asking < 4 && queue.length) {
			asking++;
			queue.shift()().finally(() => { asking--; pump(); });
		}
	}

	function fillPolicies(tbody) {
		tbody.querySelectorAll('tr[data-run]').forEach((tr) => {
			askPolicy(tr.dataset.run, tr.dataset.live === 'true', (text) => {
				const cell = tr.querySelector('td.policy');
				if (cell) cell.textContent = text;
			});
		});
	}

	function runsPage() {
		app.innerHTML = '<h2>Runs</h2><p class="muted">Updated live as runs start, progress and end.</p>' +
			'<table id="runs"><caption class="sr-only">Runs, newest first</caption><thead><tr><th scope="col">run</th>' +
			'<th scope="col">workflow</th><th scope="col">state</th><th scope="col">progress</th><th scope="col" class="num">duration</th>' +
			'<th scope="col">policy</th><th scope="col">started</th></tr></thead><tbody></tbody></table><div id="runs-error"></div>';
		const tbody = app.querySelector('#runs tbody');
		const load = throttle(async () => {
			try {
				const runs = runsOf(await api('runs?limit=100'));
				tbody.innerHTML = runs.map(runRow).join('') ||
					'<tr><td colspan="7" class="muted">No run yet.</td></tr>';
				fillPolicies(tbody);
				app.querySelector('#runs-error').innerHTML = '';
			} catch (e) { app.querySelector('#runs-error').innerHTML = errorBox(e); }
		}, 400);
		load();
		const stop = listen('events', () => load());
		/* Durations of running runs grow between events. */
		const tick = setInterval(load, 5000);
		return () => { stop(); clearInterval(tick); };
	}

	/* ---- one run ---- */

	function actionsHtml(doc) {
		if (!key()) return '<p class="muted actions">Enter an API key with the <code>run</code> role to cancel or resume.</p>';
		const live = doc.status && doc.status.live;
		return '<div class="actions"><button type="button" id="cancel"' + (live ? '' : ' disabled') + '>Cancel run</button>' +
			'<button type="button" id="resume"' + (live || doc.state === 'succeeded' ? ' disabled' : '') + '>Resume run</button>' +
			'<span id="action-state" role="status"></span></div>';
	}

	function followLog(id, task, pre, ctl) {
		(async () => {
			try {
				const r = await fetch(API + 'runs/' + encodeURIComponent(id) + '/logs/' + encodeURIComponent(task) + '?follow=1',
					{ headers: headers({ Accept: 'text/plain' }), signal: ctl.signal });
				if (!r.ok) throw new Error(r.status + ' ' + r.statusText);
				const rd = r.body.getReader(), dec = new TextDecoder();
				pre.textContent = '';
				for (;;) {
					const { value, done } = await rd.read();
					if (done) break;
					pre.textContent += dec.decode(value, { stream: true });
					if (pre.textContent.length > 262144) pre.textContent = pre.textContent.slice(-131072);
					pre.scrollTop = pre.scrollHeight;
				}
			} catch (e) { if (!ctl.signal.aborted) pre.textContent += '\n[' + (e.message || e) + ']'; }
		})();
	}

	function runPage(id) {
		let selected = null, doc = null, follow = null;
		app.innerHTML = '<p><a href="#/">\u2190 all runs</a></p><div id="run"><p class="muted">Loading\u2026</p></div>' +
			'<section aria-labelledby="h-follow"><h3 id="h-follow">Live log</h3><p><button type="button" id="follow">Follow the selected task\u2019s log</button></p>' +
			'<pre class="log" id="follow-log" tabindex="0" aria-live="off"></pre></section>';
		const root = app.querySelector('#run');
		const act = async (what) => {
			const out = root.querySelector('#action-state');
			try {
				await api('runs/' + encodeURIComponent(id) + '/' + what, { method: 'POST', body: {} });
				out.textContent = what + ' requested';
				say(what + ' requested for run ' + id);
				load();
			} catch (e) { out.textContent = what + ' failed: ' + e.message; }
		};
		const draw = () => {
			WM.renderRun(root, doc, { actions: actionsHtml(doc), selected: selected, onSelect: (t) => { selected = t; } });
			const c = root.querySelector('#cancel'), r = root.querySelector('#resume');
			if (c) c.addEventListener('click', () => act('cancel'));
			if (r) r.addEventListener('click', () => act('resume'));
		};
		const load = throttle(async () => {
			try {
				doc = await api('runs/' + encodeURIComponent(id) + '/report');
				draw();
			} catch (e) { root.innerHTML = errorBox(e); }
		}, 500);
		load();
		app.querySelector('#follow').addEventListener('click', () => {
			if (follow) follow.abort();
			if (!selected) return;
			follow = new AbortController();
			followLog(id, selected, app.querySelector('#follow-log'), follow);
		});
		const stop = listen('runs/' + encodeURIComponent(id) + '/events', () => load());
		return () => { stop(); if (follow) follow.abort(); };
	}

	/* ---- history ---- */

	function pct(x) { return Math.round(100 * (x || 0)) + '%'; }

	function quantile(v, q) {
		if (!v.length) return null;
		const s = v.slice().sort((a, b) => a - b);
		return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
	}

	/* Durations of a workflow's runs, oldest first, as a small SVG: a bar per
	   run (height: duration; ✓ or ✗ in its title and a colour). */
	function runsChart(runs) {
		const W = 160, H = 32, max = Math.max(1, ...runs.map((r) => r.dur || 0)), bw = Math.max(2, Math.floor(W / Math.max(runs.length, 1)) - 1);
		return '<svg class="chart" width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(runs.length + ' runs, oldest first') + '">' +
			runs.slice(-Math.floor(W / (bw + 1))).map((r, i) => {
				const h = Math.max(2, Math.round((H - 2) * (r.dur || 0) / max)), ok = r.state === 'succeeded';
				return '<rect class="' + (ok ? 'ok' : 'bad') + '" x="' + (i * (bw + 1)) + '" y="' + (H - h) + '" width="' + bw + '" height="' + h +
					'"><title>' + esc(r.id + ': ' + (ok ? '\u2713 ' : '\u2717 ') + r.state + ', ' + WM.fmtDur(r.dur)) + '</title></rect>';
			}).join('') + '</svg>';
	}

	function workflowsHtml(runs) {
		const by = {};
		runs.slice().reverse().forEach((r) => {
			const w = r.workflow || '?';
			(by[w] = by[w] || []).push({ id: r.id, state: r.state, dur: runDuration(r) });
		});
		const rows = Object.keys(by).sort().map((w) => {
			const rs = by[w], done = rs.filter((r) => r.state === 'succeeded' || r.state === 'failed');
			const durs = rs.filter((r) => r.state === 'succeeded').map((r) => r.dur);
			return { w: w, n: rs.length, rate: done.length ? done.filter((r) => r.state === 'succeeded').length / done.length : null,
				p50: quantile(durs, 0.5), p95: quantile(durs, 0.95), runs: rs };
		});
		return WM.table([{ h: 'workflow', f: (r) => esc(r.w) }, { h: 'runs', num: 1, f: (r) => esc(r.n) },
			{ h: 'success', num: 1, f: (r) => esc(r.rate == null ? '\u2013' : pct(r.rate)) },
			{ h: 'p50', num: 1, f: (r) => esc(WM.fmtDur(r.p50)) }, { h: 'p95', num: 1, f: (r) => esc(WM.fmtDur(r.p95)) },
			{ h: 'durations over time', f: (r) => runsChart(r.runs) }], rows, 'No run yet.');
	}

	function rateBar(rate) {
		const w = Math.round(60 * (rate || 0));
		return '<svg class="chart" width="62" height="10" aria-hidden="true"><rect class="bad" x="1" y="1" width="60" height="8"/>' +
			'<rect class="ok" x="1" y="1" width="' + w + '" height="8"/></svg> ' + esc(pct(rate));
	}

	function tasksHtml(stats) {
		const tasks = stats.tasks || [];
		const flaky = tasks.filter((t) => t.retry_rate > 0 && t.success_rate > 0);
		return '<h3>Tasks</h3>' + WM.table([{ h: 'workflow', f: (t) => esc(t.workflow) }, { h: 'task', f: (t) => esc(t.task) },
			{ h: 'runs', num: 1, f: (t) => esc(t.runs) }, { h: 'success', f: (t) => rateBar(t.success_rate) },
			{ h: 'p50', num: 1, f: (t) => esc(WM.fmtDur(t.p50_ms)) }, { h: 'p95', num: 1, f: (t) => esc(WM.fmtDur(t.p95_ms)) },
			{ h: 'retried', num: 1, f: (t) => esc(pct(t.retry_rate)) }, { h: 'most frequent failure', f: (t) => esc(t.top_failure || '\u2013') }],
			tasks, 'No task has run yet.') +
			'<h3>Flaky tasks</h3>' + WM.table([{ h: 'task', f: (t) => esc(t.workflow + '/' + t.task) },
				{ h: 'needed retries in', num: 1, f: (t) => esc(pct(t.retry_rate)) + ' of runs' }], flaky, 'No task needed retries to succeed.') +
			'<h3>Recommendations</h3>' + ((stats.recommendations || []).length ? '<ul>' +
				stats.recommendations.map((r) => '<li>' + esc(r) + '</li>').join('') + '</ul>' : '<p class="muted">None.</p>');
	}

	function historyPage() {
		app.innerHTML = '<h2>History</h2><div id="history"><p class="muted">Loading\u2026</p></div>';
		const root = app.querySelector('#history');
		(async () => {
			try {
				const [runs, stats] = await Promise.all([api('runs?limit=1000'), api('stats')]);
				root.innerHTML = '<h3>Workflows</h3>' + workflowsHtml(runsOf(runs)) + tasksHtml(stats || {});
			} catch (e) { root.innerHTML = errorBox(e); }
		})();
		return () => {};
	}

	/* ---- routes and the key ---- */

	function route() {
		if (page) page();
		const h = location.hash.replace(/^#\/?/, '');
		const m = h.match(/^run\/([^/]+)$/);
		const name = m ? 'run' : (h === 'history' ? 'history' : 'runs');
		document.querySelectorAll('nav a').forEach((a) => {
			if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
			else a.removeAttribute('aria-current');
		});
		page = m ? runPage(decodeURIComponent(m[1])) : (name === 'history' ? historyPage() : runsPage());
		document.title = 'wm: ' + (m ? 'run ' + decodeURIComponent(m[1]) : name);
	}

	function showKey() {
		document.getElementById('key-state').textContent = key() ? 'key set' : 'no key';
	}

	document.getElementById('key-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const k = document.getElementById('key');
		if (k.value) sessionStorage.setItem('wm-key', k.value.trim());
		k.value = '';
		showKey();
		route();
	});
	document.getElementById('key-forget').addEventListener('click', () => {
		sessionStorage.removeItem('wm-key');
		showKey();
		route();
	});
	window.addEventListener('hashchange', route);
	showKey();
	route();
})();
