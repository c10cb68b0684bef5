// The timeline page (kg/server/views/visual.py): the events and statements embedded in the page, drawn with
// vis-timeline (from npm). Each item is a link to its page; texts are set as text, never as markup. A date
// known to the year or month only ("2018", "2019-02") spans that year or month, never a made-up day.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("picture-data").textContent);
  const DAY = 24 * 60 * 60 * 1000;
  const items = data.items.map((item, index) => {
    const link = document.createElement("a");
    link.href = localHref(item.iri);
    link.textContent = item.label;
    const [start, startEnd] = span(item.start);
    const end = item.end ? span(item.end)[1] : startEnd;
    const entry = { id: index, content: link, start, className: item.kind, title: `${item.start}${item.end ? ` – ${item.end}` : ""}: ${item.label}` };
    if (end - start > DAY) { entry.end = end; entry.type = "range"; } else { entry.type = "box"; }
    return entry;
  }).filter((entry) => !Number.isNaN(entry.start.getTime()));
  const timeline = new vis.Timeline(document.getElementById("timeline"), new vis.DataSet(items), {
    stack: true, zoomMin: DAY, maxHeight: 640, orientation: "top", showCurrentTime: false, align: "left",
  });
  window.timeline = timeline;
  // Open on the most recent items (up to RECENT of them, at most a year back); "Show all" fits every item.
  const RECENT = 25;
  if (items.length) {
    const starts = items.map((entry) => entry.start.getTime()).sort((a, b) => b - a);
    const latest = Math.max(...items.map((entry) => (entry.end || entry.start).getTime()));
    const from = Math.max(starts[Math.min(RECENT, starts.length) - 1], latest - 365 * DAY);
    timeline.setWindow(new Date(from - DAY), new Date(latest + 2 * DAY), { animation: false });
  }
  const all = document.getElementById("timeline-all");
  if (all) all.addEventListener("click", () => timeline.fit());

  // [first instant, end of the period] of an xsd:date, xsd:gYearMonth or xsd:gYear value, in UTC.
  function span(value) {
    const [year, month, day] = String(value).split("-").map(Number);
    if (day) return [new Date(Date.UTC(year, month - 1, day)), new Date(Date.UTC(year, month - 1, day + 1))];
    if (month) return [new Date(Date.UTC(year, month - 1, 1)), new Date(Date.UTC(year, month, 1))];
    return [new Date(Date.UTC(year, 0, 1)), new Date(Date.UTC(year + 1, 0, 1))];
  }

  function localHref(iri) {
    const listed = document.querySelector(`.timeline-list a[data-iri="${CSS.escape(iri)}"]`);
    return listed ? listed.getAttribute("href") : iri;
  }
})();
