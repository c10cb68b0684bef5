// The SPARQL query editor (kg/server/editor.py): CodeMirror with SPARQL highlighting, examples from
// the named queries, prefix buttons, and a result table filled from /sparql over fetch.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("editor-data").textContent);
  const textarea = document.getElementById("query");
  // A query in the URL (`/sparql?query=...`, a link; or `#query=...`) is loaded and run at once.
  const linked = new URLSearchParams(location.search).get("query") || new URLSearchParams(location.hash.slice(1)).get("query");
  if (linked) textarea.value = linked;
  const editor = CodeMirror.fromTextArea(textarea, {
    mode: "application/sparql-query", lineNumbers: true, matchBrackets: true, indentUnit: 2,
    extraKeys: { "Ctrl-Enter": run, "Cmd-Enter": run },
  });
  window.sparqlEditor = editor;
  const status = document.getElementById("status");
  const results = document.getElementById("results");

  document.getElementById("examples").addEventListener("change", (event) => {
    const example = data.examples[event.target.value];
    if (example) { editor.setValue(example.sparql); status.textContent = example.description; }
  });
  for (const button of document.querySelectorAll("button.prefix")) {
    button.addEventListener("click", () => {
      const name = button.dataset.prefix;
      const declaration = `PREFIX ${name}: <${data.prefixes[name]}>`;
      if (!new RegExp(`^\\s*PREFIX\\s+${name}:`, "im").test(editor.getValue())) {
        editor.replaceRange(declaration + "\n", { line: 0, ch: 0 });
      }
      editor.focus();
    });
  }
  document.getElementById("run").addEventListener("click", run);
  if (linked) run();

  async function run() {
    const query = editor.getValue();
    history.replaceState(null, "", "#" + new URLSearchParams({ query }).toString());
    status.textContent = "Running…";
    results.replaceChildren();
    const started = performance.now();
    let response;
    try {
      response = await fetch("/sparql", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/sparql-results+json, text/turtle;q=0.9" },
        body: new URLSearchParams({ query }),
      });
    } catch (error) {
      status.textContent = `The server could not be reached: ${error}`;
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const type = response.headers.get("content-type") || "";
    if (!response.ok) {
      const problem = type.includes("json") ? (await response.json()).message : await response.text();
      status.textContent = `Error ${response.status}: ${problem}`;
      status.className = "error";
      return;
    }
    status.className = "";
    const limit = response.headers.get("x-result-limit");
    const cut = limit ? ` (cut at the server's limit of ${limit} results)` : "";
    if (type.startsWith("application/sparql-results+json")) {
      const json = await response.json();
      if ("boolean" in json) {
        status.textContent = `Answer in ${seconds} s`;
        results.append(element("p", "answer", json.boolean ? "yes" : "no"));
        return;
      }
      status.textContent = `${json.results.bindings.length} rows in ${seconds} s${cut}`;
      results.append(table(json.head.vars, json.results.bindings));
    } else {
      const text = await response.text();
      status.textContent = `Graph result in ${seconds} s${cut}`;
      results.append(element("pre", "graph", text));
    }
  }

  function table(names, rows) {
    const tableElement = element("table", "results");
    const head = tableElement.createTHead().insertRow();
    for (const name of names) head.append(element("th", "", name));
    const body = tableElement.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const name of names) {
        const cell = tr.insertCell();
        const term = row[name];
        if (!term) continue;
        const href = term.type === "uri" ? webLink(term.value) : null;
        if (href) {
          const link = element("a", "", term.value);
          link.href = href;
          cell.append(link);
        } else if (term.type === "uri") {
          cell.append(element("span", "iri", term.value));  // javascript:, data:, urn:… shown, never linked
        } else {
          cell.textContent = term.value;
          if (term["xml:lang"]) cell.append(element("small", "lang", `@${term["xml:lang"]}`));
        }
      }
    }
    return tableElement;
  }

  // The IRI as a link target when it is an http(s) URL, else null: a result value never becomes a
  // javascript: (or data:, vbscript:, …) link.
  function webLink(iri) {
    let url;
    try { url = new URL(iri); } catch (error) { return null; }
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
})();
