// Loaded before the npm libraries of a page. Some of them (YASR's column resizer, vis-timeline's bundled CSS,
// cytoscape's container rule) add <style> elements to <head>, which the pages' Content-Security-Policy (no
// inline style) refuses. Their rules go into constructed stylesheets instead (CSSOM, which the policy
// allows), kept in step with the element's text; an inert <template> stands in the element's place, since
// the column resizer removes "the last child of <head>" when a drag ends.
"use strict";
(function () {
  const head = document.head;
  const append = head.appendChild.bind(head);
  const insertBefore = head.insertBefore.bind(head);
  const remove = head.removeChild.bind(head);
  const adopted = new WeakMap();  // stand-in element -> its constructed sheet

  function standIn(style) {
    const sheet = new CSSStyleSheet();
    const copy = () => sheet.replaceSync(style.textContent || "");
    copy();
    new MutationObserver(copy).observe(style, { childList: true, characterData: true, subtree: true });
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    const element = document.createElement("template");
    element.dataset.adoptedStyle = style.id || "";
    if (style.id) element.id = style.id;  // cytoscape looks its element up by id, so as not to add it twice
    adopted.set(element, sheet);
    return element;
  }

  head.appendChild = (node) => append(node instanceof HTMLStyleElement ? standIn(node) : node);
  head.insertBefore = (node, before) => insertBefore(node instanceof HTMLStyleElement ? standIn(node) : node, before);
  head.removeChild = (node) => {
    const sheet = adopted.get(node);
    if (sheet) document.adoptedStyleSheets = document.adoptedStyleSheets.filter((other) => other !== sheet);
    return remove(node);
  };
})();
