// The timeline page (kg/server/views/visual.py): the events and statements embedded in the page, drawn with
// vis-timeline (from npm). Each item is a link to its page; texts are set as text, never as markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("picture-data").textContent);
  const container = document.getElementById("timeline");
  const items = data.items.map((item, index) => {
    const link = document.createElement("a");
    link.href = localHref(item.iri);
    link.textContent = item.label;
    const entry = { id: index, content: link, start: item.start, className: item.kind, title: item.label };
    if (item.end && item.end > item.start) { entry.end = item.end; entry.type = "range"; } else { entry.type = "box"; }
    return entry;
  });
  window.timeline = new vis.Timeline(container, new vis.DataSet(items), {
    stack: true, zoomMin: 1000 * 60 * 60 * 24, maxHeight: 640, orientation: "top", showCurrentTime: false,
  });

  function localHref(iri) {
    const listed = document.querySelector(`.timeline-list a[data-iri="${CSS.escape(iri)}"]`);
    return listed ? listed.getAttribute("href") : iri;
  }
})();
