// The actor–event–claim graph (kg/server/views/visual.py): nodes and edges embedded in the page, drawn with
// cytoscape.js (from npm). Clicking a node opens its page on this server.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("picture-data").textContent);
  const RELATION_CLASS = { "asserts": "asserts", "denies": "denies", "takes part in": "takes-part", "contradicts": "contradicts",
                           "acts in": "acts", "is addressed in": "addressed" };
  const elements = [
    ...data.nodes.map((node) => ({
      data: { id: node.id, label: shorten(node.label), href: node.href, full: node.label },
      classes: node.kind + (node.id === data.focus ? " focus" : ""),
    })),
    ...data.edges.map((edge, index) => ({
      data: { id: `edge-${index}`, source: edge.source, target: edge.target, label: edge.relation },
      classes: RELATION_CLASS[edge.relation] || "",
    })),
  ];
  window.network = cytoscape({
    container: document.getElementById("network"),
    elements,
    layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 60000, nodeOverlap: 20,
              idealEdgeLength: () => 60, componentSpacing: 60, gravity: 80, numIter: 2500, padding: 30 },
    minZoom: 0.2, maxZoom: 1.3,
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 120,
                                   "min-zoomed-font-size": 4,
                                   "text-valign": "bottom", "text-margin-y": 4, "width": 22, "height": 22,
                                   "background-color": "#e3f6df", "border-width": 1, "border-color": "#2e7d32", "color": "#1d2330" } },
      { selector: "node.event, node.statement", style: { "shape": "round-rectangle", "background-color": "#d8ecff", "border-color": "#0b5cad" } },
      { selector: "node.claim", style: { "shape": "diamond", "background-color": "#fde2e1", "border-color": "#b3261e" } },
      { selector: "node.focus", style: { "border-width": 4, "width": 30, "height": 30, "font-weight": "bold" } },
      { selector: "edge", style: { "width": 2, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#8a93a3",
                                   "target-arrow-color": "#8a93a3", "font-size": 9, "color": "#5b6475",
                                   "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
      { selector: "edge.asserts", style: { "line-color": "#2e7d32", "target-arrow-color": "#2e7d32" } },
      { selector: "edge.denies", style: { "line-color": "#b3261e", "target-arrow-color": "#b3261e" } },
      { selector: "edge.takes-part", style: { "line-color": "#0b5cad", "target-arrow-color": "#0b5cad", "line-style": "dotted" } },
      { selector: "edge.contradicts", style: { "line-color": "#6a1b9a", "target-arrow-color": "#6a1b9a", "line-style": "dashed" } },
      { selector: "edge.acts", style: { "line-color": "#8a6d00", "target-arrow-color": "#8a6d00", "width": 1 } },
      { selector: "edge.addressed", style: { "line-color": "#8a6d00", "target-arrow-color": "#8a6d00", "width": 1, "line-style": "dashed" } },
    ],
  });
  window.network.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href) location.assign(href);
  });

  function shorten(text) {
    return text.length > 48 ? `${text.slice(0, 47)}…` : text;
  }
})();
