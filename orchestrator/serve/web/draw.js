/* draw.js - draws one run document (orchestrator/rundoc.h) into a page:
   summary, DAG by levels, Gantt timeline of every attempt, decisions,
   denials, limits, log tails, stats and the audit badge. Shared by the
   dashboard (app.js) and `wm report` (report.js); it fetches nothing.
   SVG is built as markup and parsed by the HTML parser, every text
   through esc(), so a task's name or log can never become markup. */
(function () {
	'use strict';

	const MARK = {
		succeeded: '\u2713', cached: '\u2713', failed: '\u2717', running: '\u25b6',
		waiting: '\u231b', pending: '\u25cb', skipped: '\u2212', cancelled: '\u2298',
		orphaned: '!', broken: '!', interrupted: '\u23f8'
	};

	function esc(s) {
		return String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({
			'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'
		})[c]);
	}

	function mark(state) { return MARK[state] || '?'; }

	/* A state as a badge: colour, marker and word. */
	function stateBadge(state) {
		return '<span class="state st-' + esc(state) + '">' + mark(state) + ' ' + esc(state) + '</span>';
	}

	function fmtDur(ms) {
		if (ms == null || ms < 0) return '\u2013';
		if (ms < 1000) return Math.round(ms) + 'ms';
		const s = ms / 1000;
		if (s < 60) return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + 's';
		const m = Math.floor(s / 60), h = Math.floor(m / 60);
		if (h) return h + 'h' + String(m % 60).padStart(2, '0') + 'm';
		return m + 'm' + String(Math.round(s % 60)).padStart(2, '0') + 's';
	}

	function fmtTime(ms) {
		if (!ms) return '\u2013';
		return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
	}

	function fmtSize(b) {
		if (!b) return '\u2013';
		const u = ['B', 'KiB', 'MiB', 'GiB'];
		let i = 0;
		while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
		return (i ? b.toFixed(1) : b) + ' ' + u[i];
	}

	function el(html) {
		const t = document.createElement('template');
		t.innerHTML = html.trim();
		return t.content.firstChild;
	}

	function runEnd(doc) {
		const st = doc.status || {};
		return st.ended_ms || doc.generated_ms || Date.now();
	}

	function critSet(doc) { return new Set(doc.critical_path || []); }

	/* ---- the DAG ---- */

	const NODE_W = 150, NODE_H = 34, COL_GAP = 60, ROW_GAP = 14, PAD = 12;

	function layoutDag(plan) {
		const cols = [], pos = {};
		plan.tasks.forEach((t) => { (cols[t.level] = cols[t.level] || []).push(t); });
		let rows = 0;
		cols.forEach((col, x) => {
			(col || []).forEach((t, y) => {
				pos[t.id] = { x: PAD + x * (NODE_W + COL_GAP), y: PAD + y * (NODE_H + ROW_GAP) };
			});
			rows = Math.max(rows, (col || []).length);
		});
		return { pos: pos, w: PAD * 2 + cols.length * (NODE_W + COL_GAP) - COL_GAP,
			h: PAD * 2 + rows * (NODE_H + ROW_GAP) - ROW_GAP };
	}

	function shortLabel(s, n) { return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }

	function dagSvg(doc) {
		const plan = doc.plan, crit = critSet(doc), L = layoutDag(plan);
		const onPath = (a, b) => crit.has(a) && crit.has(b) &&
			Math.abs(doc.critical_path.indexOf(a) - doc.critical_path.indexOf(b)) === 1;
		let s = '<svg class="dag" role="group" aria-label="Task graph" width="' + Math.max(L.w, 10) +
			'" height="' + Math.max(L.h, 10) + '" viewBox="0 0 ' + Math.max(L.w, 10) + ' ' + Math.max(L.h, 10) + '">';
		plan.edges.forEach((e) => {
			const a = L.pos[e.from], b = L.pos[e.to];
			if (!a || !b) return;
			const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2, mx = (x1 + x2) / 2;
			s += '<path class="edge' + (onPath(e.from, e.to) ? ' crit' : '') + '" data-from="' + esc(e.from) +
				'" data-to="' + esc(e.to) + '" d="M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 + '"/>';
		});
		plan.tasks.forEach((t) => {
			const p = L.pos[t.id], c = crit.has(t.id);
			s += '<g class="node st-' + esc(t.state) + (c ? ' crit' : '') + '" tabindex="0" role="button" data-task="' +
				esc(t.id) + '" data-state="' + esc(t.state) + '" aria-label="' + esc(t.id + ': ' + t.state +
				(c ? ', on the critical path' : '')) + '" transform="translate(' + p.x + ',' + p.y + ')">' +
				'<title>' + esc(t.id + ' \u2014 ' + t.state + (t.attempts > 1 ? ', ' + t.attempts + ' attempts' : '') +
				(c ? ', critical path' : '')) + '</title>' +
				'<rect width="' + NODE_W + '" height="' + NODE_H + '" rx="5"/>' +
				'<text x="8" y="' + (NODE_H / 2 + 4) + '"><tspan class="mark">' + mark(t.state) + '</tspan> ' +
				esc(shortLabel(t.id, 18)) + '</text></g>';
		});
		return s + '</svg>';
	}

	/* ---- the timeline ---- */

	const ROW_H = 22, LABEL_W = 170, CHART_W = 820;

	function ticks(span) {
		const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 3e4, 6e4,
			12e4, 3e5, 6e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];
		return steps.find((st) => span / st <= 8) || steps[steps.length - 1];
	}

	function barClass(a) {
		if (a.ended_ms == null) return 'running';
		if (a.outcome === 'retry') return 'retry';
		if (a.outcome === 'succeed' || (a.outcome == null && a.exit === 0)) return 'ok';
		if (a.outcome === 'skip' || a.outcome === 'cancel') return 'off';
		return 'bad';
	}

	const BAR_MARK = { ok: '\u2713', bad: '\u2717', retry: '\u21bb', running: '\u25b6', off: '\u2212' };

	function timelineRows(doc) {
		const rows = [], at = {};
		doc.attempts.forEach((a) => {
			if (!(a.task in at)) { at[a.task] = rows.length; rows.push({ task: a.task, attempts: [] }); }
			rows[at[a.task]].attempts.push(a);
		});
		return rows;
	}

	function timelineSvg(doc) {
		const rows = timelineRows(doc), crit = critSet(doc), end = runEnd(doc);
		let t0 = Infinity, t1 = 0;
		doc.attempts.forEach((a) => {
			t0 = Math.min(t0, a.queued_ms || a.started_ms);
			t1 = Math.max(t1, a.ended_ms || end);
		});
		if (!rows.length) return '<p class="muted">No task has started yet.</p>';
		const span = Math.max(t1 - t0, 1), step = ticks(span), H = 26 + rows.length * ROW_H + 6;
		const X = (ms) => LABEL_W + ((ms - t0) / span) * CHART_W;
		let s = '<svg class="timeline" role="group" aria-label="Timeline of every attempt" width="' +
			(LABEL_W + CHART_W + 20) + '" height="' + H + '" viewBox="0 0 ' + (LABEL_W + CHART_W + 20) + ' ' + H + '">' +
			'<defs><pattern id="wm-hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
			'<line class="hatch" x1="0" y1="0" x2="0" y2="5"/></pattern></defs><g class="axis">';
		for (let t = 0; t <= span; t += step) {
			s += '<line x1="' + X(t0 + t) + '" x2="' + X(t0 + t) + '" y1="18" y2="' + H + '"/>' +
				'<text x="' + (X(t0 + t) + 2) + '" y="13">' + esc(fmtDur(t)) + '</text>';
		}
		s += '</g>';
		rows.forEach((r, i) => {
			const y = 24 + i * ROW_H, c = crit.has(r.task);
			s += '<g class="row' + (c ? ' crit' : '') + '" tabindex="0" role="button" data-task="' + esc(r.task) +
				'" aria-label="' + esc(r.task + ': ' + r.attempts.length + ' attempt' + (r.attempts.length > 1 ? 's' : '') +
				(c ? ', on the critical path' : '')) + '"><text class="label" x="4" y="' + (y + 14) + '">' +
				(c ? '\u2605 ' : '') + esc(shortLabel(r.task, 22)) + '</text>';
			r.attempts.forEach((a) => {
				const q = a.queued_ms || a.started_ms, st = a.started_ms, en = a.ended_ms || end, k = barClass(a);
				if (st > q) {
					s += '<rect class="wait" data-task="' + esc(a.task) + '" x="' + X(q) + '" y="' + (y + 5) + '" width="' +
						Math.max(X(st) - X(q), 1) + '" height="' + (ROW_H - 10) + '"><title>' +
						esc(a.task + ' attempt ' + a.attempt + ' waited ' + fmtDur(st - q) + ' in the queue') + '</title></rect>';
				}
				const w = Math.max(X(en) - X(st), 2);
				s += '<rect class="bar ' + k + (c ? ' crit' : '') + '" data-task="' + esc(a.task) + '" data-attempt="' +
					esc(a.attempt) + '" data-outcome="' + esc(a.outcome || k) + '" x="' + X(st) + '" y="' + (y + 2) +
					'" width="' + w + '" height="' + (ROW_H - 4) + '" rx="2"><title>' +
					esc(a.task + ' attempt ' + a.attempt + ': ' + (a.outcome || k) + ', ' + fmtDur(en - st) +
						(a.exit != null ? ', exit ' + a.exit : '') + (a.signal ? ', signal ' + a.signal : '') +
						(a.limit ? ', limit ' + a.limit : '') + (a.why ? ' \u2014 ' + a.why : '')) + '</title></rect>';
				if (w > 14) s += '<text x="' + (X(st) + 3) + '" y="' + (y + 15) + '" aria-hidden="true">' + BAR_MARK[k] + '</text>';
			});
			s += '</g>';
		});
		return s + '</svg>';
	}

	const LEGEND = '<div class="legend" aria-hidden="true">' +
		'<span><span class="swatch st-succeeded"></span>\u2713 succeeded</span>' +
		'<span><span class="swatch st-failed"></span>\u2717 failed</span>' +
		'<span><span class="swatch st-waiting"></span>\u21bb retried</span>' +
		'<span><span class="swatch st-running"></span>\u25b6 running</span>' +
		'<span><span class="swatch wait"></span>queue wait</span>' +
		'<span><span class="swatch crit"></span>\u2605 critical path</span></div>';

	/* ---- tables ---- */

	function table(cols, rows, empty) {
		if (!rows.length) return '<p class="muted">' + esc(empty) + '</p>';
		return '<table><thead><tr>' + cols.map((c) => '<th scope="col"' + (c.num ? ' class="num"' : '') + '>' +
			esc(c.h) + '</th>').join('') + '</tr></thead><tbody>' + rows.map((r) => '<tr>' +
			cols.map((c) => '<td' + (c.num ? ' class="num"' : '') + '>' + c.f(r) + '</td>').join('') + '</tr>').join('') +
			'</tbody></table>';
	}

	function auditBadge(doc) {
		const a = doc.audit;
		if (!a) return '<span class="muted">audit not verified</span>';
		if (!a.verified) return '<span class="badge-bad" data-audit="unverified">? audit not verified: ' + esc(a.error) + '</span>';
		if (a.intact) return '<span class="badge-ok" data-audit="intact">\u2713 audit log intact (' + esc(a.lines) + ' lines)</span>';
		return '<span class="badge-bad" data-audit="tampered">\u2717 audit log NOT intact: ' +
			esc(a.problem === 'ok' ? a.notes : a.problem + ' at seq ' + a.first_bad_seq) + '</span>';
	}

	function summaryHtml(doc) {
		const st = doc.status || {}, tasks = doc.plan.tasks;
		const done = tasks.filter((t) => ['succeeded', 'cached', 'failed', 'skipped', 'cancelled'].includes(t.state)).length;
		const item = (k, v) => '<div><dt>' + esc(k) + '</dt><dd>' + v + '</dd></div>';
		const started = st.started_ms, ended = st.ended_ms;
		return '<dl class="summary">' + item('state', stateBadge(doc.state)) +
			item('progress', esc(done + ' / ' + tasks.length + ' tasks')) +
			item('duration', esc(started ? fmtDur((ended || doc.generated_ms) - started) + (ended ? '' : ' so far') : '\u2013')) +
			item('started', esc(fmtTime(started))) +
			item('critical path', esc(fmtDur(doc.critical_path_ms))) +
			item('audit', auditBadge(doc)) + '</dl>';
	}

	function decisionsHtml(doc, task) {
		const rows = doc.decisions.filter((d) => !task || d.task === task);
		return table([
			{ h: 'task', f: (d) => esc(d.task) }, { h: 'attempt', num: 1, f: (d) => esc(d.attempt) },
			{ h: 'time', f: (d) => esc(fmtTime(d.at_ms)) }, { h: 'decision', f: (d) => '<strong>' + esc(d.what) + '</strong>' },
			{ h: 'reason', f: (d) => esc(d.why) }], rows, 'No decision recorded.');
	}

	function statsHtml(doc) {
		const s = doc.stats || {};
		return '<p>wall ' + esc(fmtDur(s.wall_ms)) + ', busy ' + esc(fmtDur(s.busy_ms)) + ', parallelism ' +
			esc((s.parallelism || 0).toFixed(2)) + ' of -j ' + esc(s.max_parallel) + '; critical path: ' +
			esc((doc.critical_path || []).join(' \u2192 ') || '\u2013') + '</p>' +
			table([{ h: 'task', f: (t) => esc(t.task) }, { h: 'state', f: (t) => stateBadge(t.state) },
				{ h: 'attempts', num: 1, f: (t) => esc(t.attempts) }, { h: 'duration', num: 1, f: (t) => esc(fmtDur(t.duration_ms)) },
				{ h: 'peak memory', num: 1, f: (t) => esc(fmtSize(t.peak_memory)) },
				{ h: 'queued', num: 1, f: (t) => esc(fmtDur(t.wait_ms)) }], s.tasks || [], 'No statistics.');
	}

	function taskHtml(doc, id) {
		const t = doc.plan.tasks.find((x) => x.id === id);
		if (!t) return '<p class="muted">Select a task in the graph or the timeline.</p>';
		const log = (doc.logs || {})[id];
		const atts = doc.attempts.filter((a) => a.task === id);
		return '<h4>' + esc(t.id) + ' ' + stateBadge(t.state) + '</h4>' +
			(t.title && t.title !== t.id ? '<p>' + esc(t.title) + '</p>' : '') +
			'<p>policy <code>' + esc(t.policy || '\u2013') + '</code>; depends on ' +
			esc(t.depends.length ? t.depends.join(', ') : 'nothing') + '</p>' +
			table([{ h: 'attempt', num: 1, f: (a) => esc(a.attempt) }, { h: 'queued', num: 1, f: (a) => esc(fmtDur(a.started_ms - a.queued_ms)) },
				{ h: 'ran', num: 1, f: (a) => esc(fmtDur((a.ended_ms || runEnd(doc)) - a.started_ms)) },
				{ h: 'exit', num: 1, f: (a) => esc(a.signal ? 'signal ' + a.signal : (a.exit == null ? '\u2013' : a.exit)) },
				{ h: 'outcome', f: (a) => esc(a.outcome || (a.ended_ms ? '' : 'running')) },
				{ h: 'why', f: (a) => esc(a.why || a.limit || '') }], atts, 'Not started.') +
			'<h4>Decisions</h4>' + decisionsHtml(doc, id) +
			'<h4>Log' + (log && log.truncated ? ' (last ' + esc(fmtSize(log.tail.length)) + ' of ' + esc(fmtSize(log.size)) + ')' : '') +
			'</h4><pre class="log" data-log="' + esc(id) + '" tabindex="0">' + esc(log ? log.tail : '') + '</pre>';
	}

	/* ---- the whole run ---- */

	/* opts: actions (HTML put above the graph), onSelect(task) after a task is
	   picked, selected (task id to show first). */
	function renderRun(root, doc, opts) {
		opts = opts || {};
		const sel = opts.selected || (doc.plan.tasks.find((t) => t.state === 'failed') || doc.plan.tasks[0] || {}).id;
		root.innerHTML =
			'<h2>' + esc(doc.name || 'run') + ' <span class="muted mono">' + esc(doc.run_id) + '</span></h2>' +
			summaryHtml(doc) + (opts.actions || '') +
			(doc.plan.error ? '<p class="notice">No graph: ' + esc(doc.plan.error) + '</p>' : '') +
			'<section id="dag-section" aria-labelledby="h-dag"><h3 id="h-dag">Graph</h3><div class="scroll">' +
			dagSvg(doc) + '</div></section>' +
			'<section id="timeline-section" aria-labelledby="h-tl"><h3 id="h-tl">Timeline</h3>' + LEGEND +
			'<div class="scroll">' + timelineSvg(doc) + '</div></section>' +
			'<section id="task-section" aria-labelledby="h-task" aria-live="polite"><h3 id="h-task">Task</h3><div id="task-detail"></div></section>' +
			'<section aria-labelledby="h-dec"><h3 id="h-dec">Decisions</h3>' + decisionsHtml(doc) + '</section>' +
			'<section aria-labelledby="h-den"><h3 id="h-den">Denied system calls and limits hit</h3>' +
			table([{ h: 'task', f: (d) => esc(d.task) }, { h: 'what', f: (d) => d.syscall ? 'denied <code>' + esc(d.syscall) + '</code>' : 'limit <strong>' + esc(d.limit) + '</strong>' }],
				doc.denied.concat(doc.limits), 'No system call denied, no limit hit.') + '</section>' +
			'<section aria-labelledby="h-stats"><h3 id="h-stats">Statistics</h3>' + statsHtml(doc) + '</section>';
		const select = (id) => {
			root.querySelectorAll('.selected').forEach((n) => n.classList.remove('selected'));
			root.querySelectorAll('[data-task="' + CSS.escape(id) + '"].node, [data-task="' + CSS.escape(id) + '"].row')
				.forEach((n) => n.classList.add('selected'));
			root.querySelector('#task-detail').innerHTML = taskHtml(doc, id);
			if (opts.onSelect) opts.onSelect(id);
		};
		root.querySelectorAll('.node, .row').forEach((n) => {
			n.addEventListener('click', () => select(n.dataset.task));
			n.addEventListener('keydown', (ev) => {
				if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(n.dataset.task); }
			});
		});
		if (sel) select(sel);
		return { select: select };
	}

	window.WM = {
		esc: esc, mark: mark, stateBadge: stateBadge, fmtDur: fmtDur, fmtTime: fmtTime, fmtSize: fmtSize,
		el: el, table: table, renderRun: renderRun, dagSvg: dagSvg, timelineSvg: timelineSvg, auditBadge: auditBadge
	};
})();
