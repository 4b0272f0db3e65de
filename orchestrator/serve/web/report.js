/* report.js - the page `wm report` writes: draws the run document that the
   page carries in <script type="application/json" id="wm-run">. */
(function () {
	'use strict';
	const doc = JSON.parse(document.getElementById('wm-run').textContent);
	document.title = 'wm report: ' + (doc.name || 'run') + ' ' + doc.run_id;
	WM.renderRun(document.getElementById('app'), doc, {});
	document.getElementById('generated').textContent = 'generated ' + WM.fmtTime(doc.generated_ms);
})();
