// The search page of `searchkit serve`. Everything that comes from a document
// (titles, paths, tags, snippets, text) reaches the page through textContent only;
// matches are marked from the character ranges the API gives, never from HTML.
"use strict";

const PAGE_SIZE = 10;
const FACETS = ["tag", "source", "author", "year"];
const FACET_FIELD = { tag: "tag", source: "source", author: "author", year: "date" };
const TYPING_DELAY_MS = 150;
const HIT_FIELDS = "snippet_text,snippet_ranges";

const box = document.getElementById("q");
const sortChoice = document.getElementById("sort");
const statusLine = document.getElementById("status");
const hitList = document.getElementById("hits");
const facetPanel = document.getElementById("facets");
const pager = document.getElementById("pager");
const resultsView = document.getElementById("results-view");
const docView = document.getElementById("doc");

const state = { offset: 0, prefix: false, selected: -1, hits: [], doc: null, pushed: false };
let composing = false;
let typingTimer = 0;
let latestSearch = 0;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// Python counts characters in code points, JavaScript strings in UTF-16 units.
function utf16Ranges(text, ranges) {
  if (!/[\uD800-\uDFFF]/.test(text)) return ranges;
  const offsets = [];
  let unit = 0;
  for (const character of text) {
    offsets.push(unit);
    unit += character.length;
  }
  offsets.push(unit);
  return ranges.map(([start, end]) => [offsets[start], offsets[end]]);
}

// `text` with <mark> around `ranges` (UTF-16 offsets), as DOM nodes.
function appendMarked(parent, text, ranges, from = 0, to = text.length) {
  let cursor = from;
  for (const [rangeStart, rangeEnd] of ranges) {
    const start = Math.max(rangeStart, cursor);
    const end = Math.min(rangeEnd, to);
    if (start >= end) continue;
    if (start > cursor) parent.append(text.slice(cursor, start));
    parent.append(element("mark", "", text.slice(start, end)));
    cursor = end;
  }
  if (cursor < to) parent.append(text.slice(cursor, to));
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function showStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// ---- the address: /?q=…&sort=…&offset=…&doc=… ----

function pageAddress(extra = {}) {
  const params = new URLSearchParams();
  if (box.value.trim()) params.set("q", box.value);
  if (sortChoice.value !== "relevance") params.set("sort", sortChoice.value);
  if (state.offset) params.set("offset", String(state.offset));
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

function readAddress() {
  state.pushed = false;
  const params = new URLSearchParams(location.search);
  box.value = params.get("q") || "";
  const sort = params.get("sort") || "relevance";
  sortChoice.value = [...sortChoice.options].some((o) => o.value === sort) ? sort : "relevance";
  state.offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
  state.prefix = false;
  const doc = params.get("doc");
  if (doc) openDocument(doc, false);
  else {
    showResults();
    search();
  }
}

// ---- searching ----

function scheduleSearch() {
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    state.offset = 0;
    state.prefix = !/\s$/.test(box.value);
    search();
  }, TYPING_DELAY_MS);
}

async function search() {
  const number = ++latestSearch;
  const query = box.value;
  if (!state.doc) history.replaceState(null, "", pageAddress());
  if (!query.trim()) {
    renderEmpty();
    return;
  }
  const params = new URLSearchParams({
    q: query,
    limit: String(PAGE_SIZE),
    offset: String(state.offset),
    sort: sortChoice.value,
    facets: FACETS.join(","),
    fields: HIT_FIELDS,
  });
  if (state.prefix) params.set("prefix", "1");
  try {
    const results = await getJson(`/api/search?${params}`);
    if (number !== latestSearch) return; // a newer search was sent meanwhile
    renderResults(results);
  } catch (error) {
    if (number !== latestSearch) return;
    showStatus(error instanceof TypeError ? "the server cannot be reached" : error.message, true);
  }
}

function renderEmpty() {
  state.hits = [];
  state.selected = -1;
  hitList.replaceChildren();
  facetPanel.replaceChildren();
  pager.replaceChildren();
  showStatus("");
}

function renderResults(results) {
  const count = `${results.total} document${results.total === 1 ? "" : "s"}`;
  const kind = results.match === "partial" ? "match some of the words, best first" : "match every word";
  let line = `${count} ${kind} · ${results.took_ms} ms`;
  if (Object.keys(results.corrected).length) {
    const fixes = Object.entries(results.corrected).map(([typed, fixed]) => `${typed} → ${fixed}`);
    line += ` · also searched for ${fixes.join(", ")}`;
  }
  if (results.topic) line += ` · with the notes tagged ${results.topic}`;
  showStatus(line);
  state.hits = results.hits;
  state.selected = -1;
  hitList.replaceChildren(...results.hits.map(renderHit));
  renderFacets(results.facets || {});
  renderPager(results);
}

function renderHit(hit, index) {
  const item = element("li", "hit");
  item.dataset.index = String(index);
  const title = element("a", "title", hit.title);
  title.href = pageAddress({ doc: hit.path });
  title.addEventListener("click", (event) => {
    event.preventDefault();
    openDocument(hit.path, true);
  });
  const meta = element("div", "meta");
  meta.append(element("span", "path", hit.path));
  if (hit.date) meta.append(element("span", "date", hit.date));
  if (hit.tags.length) meta.append(element("span", "tags", hit.tags.map((tag) => `#${tag}`).join(" ")));
  const snippet = element("p", "snippet");
  appendMarked(snippet, hit.snippet_text, utf16Ranges(hit.snippet_text, hit.snippet_ranges));
  item.append(title, meta, snippet);
  return item;
}

// ---- facets: a click adds the filter to the query, or takes it out ----

function filterToken(name, value) {
  const field = FACET_FIELD[name];
  if (!/[\s()"“”「」『』]/.test(value)) return `${field}:${value}`;
  return value.includes('"') ? `${field}:「${value}」` : `${field}:"${value}"`;
}

function queryTokens() {
  return box.value.match(/\S+:"[^"]*"|\S+:「[^」]*」|\S+/g) || [];
}

function toggleFilter(token) {
  const tokens = queryTokens();
  const kept = tokens.filter((t) => t !== token);
  if (kept.length === tokens.length) kept.push(token);
  box.value = kept.join(" ");
  state.offset = 0;
  state.prefix = false;
  search();
}

function renderFacets(facets) {
  const present = new Set(queryTokens());
  const sections = [];
  for (const name of FACETS) {
    const counts = facets[name] || [];
    if (!counts.length) continue;
    const section = element("section", "facet-group");
    section.append(element("h3", "", name));
    const list = element("ul");
    for (const [value, count] of counts.slice(0, 12)) {
      const token = filterToken(name, value);
      const button = element("button", present.has(token) ? "facet active" : "facet");
      button.type = "button";
      button.title = present.has(token) ? `remove ${token}` : `add ${token}`;
      button.append(element("span", "label", value), element("span", "count", String(count)));
      button.addEventListener("click", () => toggleFilter(token));
      const item = element("li");
      item.append(button);
      list.append(item);
    }
    section.append(list);
    sections.push(section);
  }
  facetPanel.replaceChildren(...sections);
}

function renderPager(results) {
  pager.replaceChildren();
  if (results.total <= PAGE_SIZE) return;
  const first = results.offset + 1;
  const last = results.offset + results.hits.length;
  const previous = element("button", "page", "← previous");
  previous.type = "button";
  previous.disabled = results.offset === 0;
  previous.addEventListener("click", () => turnPage(-PAGE_SIZE));
  const next = element("button", "page", "next →");
  next.type = "button";
  next.disabled = last >= results.total;
  next.addEventListener("click", () => turnPage(PAGE_SIZE));
  pager.append(previous, element("span", "", `${first}–${last} of ${results.total}`), next);
}

function turnPage(step) {
  state.offset = Math.max(0, state.offset + step);
  search();
  window.scrollTo(0, 0);
}

// ---- the keyboard ----

function select(index) {
  const items = hitList.querySelectorAll(".hit");
  if (!items.length) return;
  state.selected = Math.max(0, Math.min(index, items.length - 1));
  items.forEach((item, i) => item.classList.toggle("selected", i === state.selected));
  items[state.selected].scrollIntoView({ block: "nearest" });
}

function onKey(event) {
  const typingElsewhere = event.target !== box && /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
  if (event.key === "/" && event.target !== box && !typingElsewhere) {
    event.preventDefault();
    box.focus();
    box.select();
  } else if (event.key === "Escape" && state.doc) {
    event.preventDefault();
    backToResults();
  } else if (state.doc || typingElsewhere || event.isComposing || composing) {
    return;
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    select(state.selected + (event.key === "ArrowDown" ? 1 : -1));
  } else if (event.key === "Enter" && state.selected >= 0 && state.hits[state.selected]) {
    event.preventDefault();
    openDocument(state.hits[state.selected].path, true);
  }
}

// ---- the document view ----

function showResults() {
  state.doc = null;
  docView.hidden = true;
  resultsView.hidden = false;
  document.title = box.value.trim() ? `${box.value} · searchkit` : "searchkit";
}

function backToResults() {
  if (state.pushed) {
    history.back(); // popstate shows the results again
    return;
  }
  showResults();
  search();
}

async function openDocument(path, remember) {
  state.doc = path;
  const address = pageAddress({ doc: path });
  if (remember) history.pushState(null, "", address);
  else history.replaceState(null, "", address);
  state.pushed = remember || state.pushed;
  resultsView.hidden = true;
  docView.hidden = false;
  const params = new URLSearchParams({ path });
  if (box.value.trim()) params.set("q", box.value);
  if (state.prefix) params.set("prefix", "1"); // mark what the hits marked: `Clau` as Claude
  try {
    const doc = await getJson(`/api/document?${params}`);
    if (state.doc !== path) return;
    renderDocument(doc);
    showStatus(`${doc.matches.length} match${doc.matches.length === 1 ? "" : "es"} in this note`);
    loadRelated(path);
  } catch (error) {
    if (state.doc !== path) return;
    showStatus(error.message, true);
  }
}

function renderDocument(doc) {
  document.title = `${doc.title} · searchkit`;
  document.getElementById("doc-title").textContent = doc.title;
  document.getElementById("back").href = pageAddress();
  const meta = document.getElementById("doc-meta");
  meta.replaceChildren(element("span", "path", doc.path));
  for (const value of [doc.date, doc.author, doc.source]) if (value) meta.append(element("span", "", value));
  if (doc.tags.length) meta.append(element("span", "tags", doc.tags.map((tag) => `#${tag}`).join(" ")));
  renderOpenLinks(doc);
  const text = document.getElementById("doc-text");
  text.replaceChildren(...markdownLines(doc.text, utf16Ranges(doc.text, doc.matches)));
  const first = text.querySelector("mark");
  if (first) first.scrollIntoView({ block: "center" });
  else window.scrollTo(0, 0);
}

function renderOpenLinks(doc) {
  const open = document.getElementById("doc-open");
  open.replaceChildren();
  if (doc.obsidian) {
    const link = element("a", "", "Open in Obsidian");
    link.href = doc.obsidian;
    open.append(link);
  }
  if (doc.url && /^https?:\/\//i.test(doc.url)) {
    const original = element("a", "", "Original");
    original.href = doc.url;
    original.rel = "noreferrer noopener";
    original.target = "_blank";
    open.append(original);
  }
  const file = element("code", "file", doc.file);
  const copy = element("button", "", "Copy path");
  copy.type = "button";
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(doc.file);
      copy.textContent = "Copied";
    } catch {
      getSelection().selectAllChildren(file);
    }
  });
  open.append(file, copy);
}

// The note as readable text: headings, list items, quotes and code blocks by line;
// the rest of the Markdown is shown as written.
function markdownLines(text, ranges) {
  const lines = [];
  let inCode = false;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    let kind = "line p";
    let from = start;
    let heading;
    if (/^\s*(```|~~~)/.test(line)) {
      inCode = !inCode;
      kind = "line code";
    } else if (inCode) {
      kind = "line code";
    } else if (!line.trim()) {
      kind = "blank";
    } else if ((heading = /^(#{1,6})[ \t]+/.exec(line))) {
      kind = `line h h${Math.min(heading[1].length, 3)}`;
      from = start + heading[0].length;
    } else if (/^\s*>/.test(line)) {
      kind = "line quote";
      from = start + /^\s*>\s?/.exec(line)[0].length;
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      kind = "line li";
    }
    const block = element("div", kind);
    if (kind.includes("code")) appendMarked(block, text, ranges, from, end);
    else if (kind !== "blank") appendInline(block, text, ranges, from, end);
    lines.push(block);
    start = end + 1;
  }
  return lines;
}

// **bold** shown bold, without its asterisks (the offsets stay those of the text).
function appendInline(parent, text, ranges, from, to) {
  const bold = /\*\*(?=\S)(.+?)\*\*/g;
  bold.lastIndex = from;
  let cursor = from;
  let found;
  while ((found = bold.exec(text)) && found.index + found[0].length <= to) {
    appendMarked(parent, text, ranges, cursor, found.index);
    const strong = element("strong");
    appendMarked(strong, text, ranges, found.index + 2, found.index + found[0].length - 2);
    parent.append(strong);
    cursor = found.index + found[0].length;
  }
  appendMarked(parent, text, ranges, cursor, to);
}

async function loadRelated(path) {
  const list = document.getElementById("related");
  list.replaceChildren();
  try {
    const related = await getJson(`/api/related?${new URLSearchParams({ path, limit: "8" })}`);
    if (state.doc !== path) return;
    list.replaceChildren(
      ...related.hits.map((hit) => {
        const item = element("li");
        const link = element("a", "", hit.title);
        link.href = pageAddress({ doc: hit.path });
        link.addEventListener("click", (event) => {
          event.preventDefault();
          openDocument(hit.path, true);
        });
        item.append(link, " ", element("span", "tag", hit.path));
        return item;
      }),
    );
  } catch (error) {
    list.replaceChildren(element("li", "", error.message));
  }
}

// ---- wiring ----

box.addEventListener("compositionstart", () => {
  composing = true;
  clearTimeout(typingTimer);
});
box.addEventListener("compositionend", () => {
  composing = false;
  scheduleSearch();
});
box.addEventListener("input", (event) => {
  if (composing || event.isComposing) return;
  if (state.doc) {
    state.doc = null;
    showResults();
  }
  scheduleSearch();
});
document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typingTimer);
  if (state.selected >= 0 && state.hits[state.selected]) {
    openDocument(state.hits[state.selected].path, true);
    return;
  }
  state.offset = 0;
  state.prefix = false;
  if (state.doc) showResults();
  search();
});
sortChoice.addEventListener("change", () => {
  state.offset = 0;
  search();
});
document.getElementById("back").addEventListener("click", (event) => {
  event.preventDefault();
  backToResults();
});
document.addEventListener("keydown", onKey);
window.addEventListener("popstate", readAddress);
readAddress();
