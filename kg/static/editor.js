// The SPARQL query editor (kg/server/views/editor.py): YASGUI from npm, set up for this endpoint only.
// - results: YASR's table (sorting, paging, filtering) with prefixed names, this dataset's IRIs linking to
//   this server's pages (never off-site, never javascript:), a chart of the numbers, the raw response;
// - completion of this dataset's prefixes, classes and properties (from the page, no other site asked);
// - downloads as CSV, TSV and JSON, and the address bar always holding /sparql?query=... (shareable);
// - the named queries of queries/ as examples. A query in the URL is run when the page opens.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("editor-data").textContent);
  const endpoint = new URL("/sparql", location.href).href;
  const status = document.getElementById("status");
  const { Yasqe, Yasr } = Yasgui;

  // An IRI's place on this server (its page) when the server publishes it, else the IRI itself when it is
  // an http(s) URL, else null: a result value never becomes a javascript: (or data:, ...) link.
  function pageFor(iri) {
    for (const [namespace, path] of data.local) {
      if (iri.startsWith(namespace)) return path + iri.slice(namespace.length);
    }
    let url;
    try { url = new URL(iri); } catch (error) { return null; }
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  }

  // YASR's table, its IRI links pointing at this server's pages.
  class LocalTable extends Yasr.plugins.table {
    getUriLinkFromBinding(binding, prefixes) {
      const template = document.createElement("template");
      template.innerHTML = super.getUriLinkFromBinding(binding, prefixes);  // sanitized by YASR (DOMPurify)
      const link = template.content.querySelector("a");
      if (link) {
        const href = pageFor(binding.value);
        if (href) link.setAttribute("href", href); else link.replaceWith(link.textContent);
        link.removeAttribute("target");
      }
      return template.innerHTML;
    }
  }
  Yasr.registerPlugin("table", LocalTable);
  Yasr.registerPlugin("chart", numbersChart());

  // Completion from this dataset only (YASQE's own property and class completers ask another site).
  const storageSuffix = data.release ? `-${data.release}` : "";
  Yasqe.forkAutocompleter("prefixes", {
    name: "dataset-prefixes", persistenceId: null,
    get: () => Object.entries(data.prefixes).map(([name, iri]) => `${name}: <${iri}>`).sort(),
  }, false);
  Yasqe.forkAutocompleter("property", {
    name: "dataset-properties", bulk: true, persistenceId: "dataset-properties" + storageSuffix,
    get: () => data.terms ? data.terms.properties : distinct("SELECT DISTINCT ?term WHERE { ?s ?term ?o } LIMIT 2000"),
  }, false);
  Yasqe.forkAutocompleter("class", {
    name: "dataset-classes", bulk: true, persistenceId: "dataset-classes" + storageSuffix,
    get: () => data.terms ? data.terms.classes : distinct("SELECT DISTINCT ?term WHERE { ?s a ?term } LIMIT 2000"),
  }, false);

  // A query in the URL (`/sparql?query=...`, or YASGUI's `#query=...`) is put in the open tab and run.
  const linked = new URLSearchParams(location.search).get("query") ?? new URLSearchParams(location.hash.slice(1)).get("query");
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: {
      endpoint, method: "POST",
      acceptHeaderSelect: "application/sparql-results+json,*/*;q=0.9",
      acceptHeaderGraph: "text/turtle,*/*;q=0.9",
    },
    endpointCatalogueOptions: { getData: () => [{ endpoint }] },
    copyEndpointOnNewTab: true,
    persistenceId: "diplomacy-kg-editor",
    populateFromUrl: false,  // done below, so that a linked query is always run afresh
    yasqe: {
      value: data.start,
      autocompleters: ["dataset-prefixes", "variables", "dataset-properties", "dataset-classes"],
      prefixCcApi: null,
      createShareableLink: (yasqe) => shareLink(yasqe.getValue()),
    },
    yasr: {
      prefixes: () => ({ ...data.prefixes, ...yasgui.getTab().getYasqe().getPrefixesFromQuery() }),
      pluginOrder: ["table", "chart", "response"],
      defaultPlugin: "table",
      getPlainQueryLinkToEndpoint: () => shareLink(yasgui.getTab().getQuery()),
    },
  });
  window.yasgui = yasgui;
  labelControls();
  new MutationObserver(labelControls).observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  yasgui.on("query", (instance, tab) => {
    status.textContent = "Running…";
    status.className = "";
    history.replaceState(null, "", shareLink(tab.getQuery()));
    showDownloads(tab.getQuery());
  });
  yasgui.on("queryResponse", (instance, tab) => {
    setTimeout(() => {  // the tab hands the response to its YASR right after this event
      status.textContent = describe(tab.getYasr().results);
      status.className = status.textContent.startsWith("Error") ? "error" : "";
    }, 0);
  });

  const examples = document.getElementById("examples");
  data.examples.forEach((example, index) => examples.add(new Option(example.title, String(index))));
  examples.addEventListener("change", () => {
    const example = data.examples[examples.value];
    if (!example) return;
    yasgui.getTab().setQuery(example.sparql);
    status.textContent = example.description;
    status.className = "";
  });

  if (linked !== null) {
    yasgui.getTab().setQuery(linked);
    yasgui.getTab().query().catch(() => {});
  }

  // Names for YASGUI's unnamed controls, and its "new tab" button out of the tab list (a tablist holds tabs
  // only), so that screen readers can tell what each is; run again whenever YASGUI draws.
  function labelControls() {
    const names = [
      [".yasqe textarea", "SPARQL query"], [".autocomplete", "SPARQL endpoint"],
      [".tableSizer", "Rows per page"], [".tableFilter", "Filter the results"],
    ];
    for (const [selector, name] of names) {
      for (const control of document.querySelectorAll(`#yasgui ${selector}:not([aria-label])`)) control.setAttribute("aria-label", name);
    }
    for (const tabs of document.querySelectorAll("#yasgui [role=tablist]")) {
      for (const button of tabs.querySelectorAll("button.addTab")) tabs.after(button.closest("[role=presentation]") || button);
    }
  }

  // YASR counts the rows; this says what it does not: that the server cut the result at its limit (only
  // when it did), or the server's message when the query failed.
  function describe(results) {
    if (!results) return "";
    if (results.hasError()) {
      const error = results.getError() || {};
      let message = error.text || error.statusText || "the query failed";
      let code = error.status;
      try {  // the server's one error shape: {"status", "error", "message"}
        const body = JSON.parse(message);
        message = body.message || message;
        code = body.status || code;
      } catch (notJson) { /* a plain message */ }
      return `Error${code ? ` ${code}` : ""}: ${message}`;
    }
    const limit = results.res && results.res.headers && results.res.headers.get("x-result-limit");
    return limit ? `Only the first ${limit} results are shown: the result was cut at the server's limit.` : "";
  }

  function shareLink(query) {
    return `/sparql?${new URLSearchParams({ query })}`;
  }

  function showDownloads(query) {
    for (const format of ["csv", "tsv", "json"]) {
      document.getElementById(`download-${format}`).href = `/sparql?${new URLSearchParams({ query, format })}`;
    }
    document.getElementById("share").href = shareLink(query);
    document.getElementById("downloads").hidden = false;
  }

  async function distinct(query) {
    const response = await fetch(endpoint, {
      method: "POST", body: new URLSearchParams({ query }),
      headers: { Accept: "application/sparql-results+json" },
    });
    if (!response.ok) return [];
    return (await response.json()).results.bindings.map((row) => row.term.value);
  }

  // A YASR plugin drawing the numeric columns of a result as a bar chart (Chart.js from npm), one bar
  // group per row, labelled by the row's first non-numeric value.
  function numbersChart() {
    const NUMERIC = /#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger|positiveInteger|unsignedInt|unsignedLong)$/;
    return class NumbersChart {
      constructor(yasr) {
        this.yasr = yasr;
        this.label = "Chart";
        this.priority = 5;
        this.hideFromSelection = false;
      }
      columns() {
        const results = this.yasr.results;
        const bindings = results && results.getBindings && results.getBindings();
        if (!bindings || bindings.length === 0) return null;
        const variables = results.getVariables();
        const numeric = variables.filter((name) => bindings.every(
          (row) => !row[name] || (row[name].type !== "uri" && NUMERIC.test(row[name].datatype || ""))));
        const labels = variables.filter((name) => !numeric.includes(name));
        if (numeric.length === 0 || !bindings.some((row) => numeric.some((name) => row[name]))) return null;
        return { bindings, numeric, label: labels[0] };
      }
      canHandleResults() { return this.columns() !== null; }
      getIcon() {
        const icon = document.createElement("span");
        icon.className = "chart-icon";
        icon.textContent = "▮▮";
        icon.setAttribute("aria-hidden", "true");
        return icon;
      }
      draw() {
        const { bindings, numeric, label } = this.columns();
        const prefixes = this.yasr.getPrefixes();
        const shorten = (term) => {
          if (!term) return "";
          if (term.type !== "uri") return term.value;
          for (const [name, iri] of Object.entries(prefixes)) {
            if (term.value.startsWith(iri)) return `${name}:${term.value.slice(iri.length)}`;
          }
          return term.value;
        };
        const figure = document.createElement("figure");
        figure.className = "numbers-chart";
        const canvas = document.createElement("canvas");
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", `Bar chart of ${numeric.join(", ")}${label ? ` by ${label}` : ""}`);
        figure.append(canvas);
        this.yasr.resultsEl.append(figure);
        this.chart = new Chart(canvas, {
          type: "bar",
          data: {
            labels: bindings.map((row, index) => label ? shorten(row[label]) : String(index + 1)),
            datasets: numeric.map((name) => ({ label: name, data: bindings.map((row) => row[name] ? Number(row[name].value) : null) })),
          },
          options: { responsive: true, maintainAspectRatio: false, animation: false },
        });
      }
      destroy() { if (this.chart) this.chart.destroy(); this.chart = null; }
      download() {
        return undefined;
      }
    };
  }
})();
