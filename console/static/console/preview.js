/* Preview: search as a shopper at a store sees it, with suggestions, facets, sort, paging, the
   "why" of each result, and one-click pin/hide (query rules through the rules API). */
"use strict";

(function () {
  const { api, el, errorText, localToIso } = window.Console;
  const PAGE_SIZE = 20;
  const form = document.getElementById("search-form");
  const input = document.getElementById("q");
  const storeSelect = document.getElementById("store");
  const sortSelect = document.getElementById("sort");
  const list = document.getElementById("suggestions");
  const status = document.getElementById("status");
  const facetsBox = document.getElementById("facets");
  const results = document.getElementById("results");
  const summary = document.getElementById("summary");
  const pager = document.getElementById("pager");
  const scopeStore = document.getElementById("scope-store");
  const scopeFrom = document.getElementById("scope-from");
  const scopeUntil = document.getElementById("scope-until");

  const state = { q: "", store_id: "", sort: "", page: 1, category: "", brands: [],
                  min_price: "", max_price: "", in_stock: "" };
  let explainServed = true;
  let lastFocus = null;

  function fromUrl() {
    const params = new URLSearchParams(window.location.search);
    state.q = params.get("q") || "";
    state.store_id = params.get("store_id") || "";
    state.sort = params.get("sort") || "";
    state.page = Math.max(parseInt(params.get("page") || "1", 10) || 1, 1);
    state.category = params.get("category") || "";
    state.brands = params.getAll("brand");
    state.min_price = params.get("min_price") || "";
    state.max_price = params.get("max_price") || "";
    state.in_stock = params.get("in_stock") || "";
    input.value = state.q;
    storeSelect.value = state.store_id;
    sortSelect.value = state.sort;
  }

  function queryString(withExplain) {
    const params = new URLSearchParams();
    for (const name of ["q", "store_id", "sort", "category", "min_price", "max_price", "in_stock"]) {
      if (state[name]) params.set(name, state[name]);
    }
    for (const brand of state.brands) params.append("brand", brand);
    if (state.page > 1) params.set("page", String(state.page));
    if (withExplain) {
      params.set("page_size", String(PAGE_SIZE));
      if (explainServed) params.set("explain", "true");
    }
    return params.toString();
  }

  /* ---- suggestions ---- */
  let suggestTimer = null;
  let suggestSeq = 0;
  let active = -1;

  function closeSuggestions() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function options() {
    return Array.from(list.querySelectorAll('[role="option"]'));
  }

  function setActive(index) {
    const all = options();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", all[active].id);
  }

  function choose(option) {
    input.value = option.dataset.value;
    closeSuggestions();
    submit();
  }

  async function suggest() {
    const q = input.value.trim();
    if (q.length < 3) {
      closeSuggestions();
      return;
    }
    const seq = ++suggestSeq;
    const params = new URLSearchParams({ q: q, products: "4" });
    if (storeSelect.value) params.set("store_id", storeSelect.value);
    let body;
    try {
      body = await api("/api/search/suggest/?" + params.toString());
    } catch (error) {
      return; // suggestions are a convenience: a failed one leaves the box as typed
    }
    if (seq !== suggestSeq) return;
    list.replaceChildren();
    let n = 0;
    for (const title of body.results || []) {
      list.append(el("li", { role: "option", id: "sugg-" + n++, class: "suggestion",
                             "aria-selected": "false", dataset: { value: title } }, title));
    }
    for (const product of body.products || []) {
      list.append(el("li", { role: "option", id: "sugg-" + n++, class: "suggestion product",
                             "aria-selected": "false", dataset: { value: product.title } },
        product.image_url ? el("img", { src: product.image_url, alt: "", width: 24, height: 24 }) : null,
        el("span", { text: product.title }),
        el("span", { class: "muted", text: " " + product.price + (product.in_stock ? "" : " · out of stock") })));
    }
    if (!n) {
      closeSuggestions();
      return;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }

  input.addEventListener("input", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); setActive(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); setActive(active - 1); }
    else if (event.key === "Escape") { event.preventDefault(); closeSuggestions(); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(options()[active]); }
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 150));
  list.addEventListener("mousedown", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) { event.preventDefault(); choose(option); }
  });

  /* ---- search ---- */
  function submit() {
    state.q = input.value.trim();
    state.store_id = storeSelect.value;
    state.sort = sortSelect.value;
    state.page = 1;
    search();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    closeSuggestions();
    submit();
  });
  storeSelect.addEventListener("change", () => { if (state.q || results.children.length) submit(); });
  sortSelect.addEventListener("change", () => { if (state.q || results.children.length) submit(); });

  async function search(focusProductId) {
    window.history.replaceState(null, "", "?" + queryString(false));
    status.textContent = "Searching…";
    let body;
    try {
      body = await api("/api/search/products/?" + queryString(true));
    } catch (error) {
      if (error.status === 403 && explainServed) {
        explainServed = false; // this API does not serve explain to this session: search without
        return search(focusProductId);
      }
      status.textContent = "Search failed: " + errorText(error);
      return;
    }
    render(body);
    status.textContent = body.count + (body.count === 1 ? " result" : " results") + ".";
    if (focusProductId) {
      const target = results.querySelector('[data-product-id="' + focusProductId + '"] h3');
      if (target) target.focus();
    } else if (lastFocus) {
      const again = document.getElementById(lastFocus);
      if (again) again.focus();
    }
    lastFocus = null;
  }

  function render(body) {
    renderSummary(body);
    renderFacets(body.facets || {});
    renderResults(body);
    renderPager(body.count);
  }

  function renderSummary(body) {
    summary.replaceChildren();
    const parts = [];
    if (body.did_you_mean) {
      parts.push(el("span", {}, "Did you mean ",
        el("button", { type: "button", class: "link", onclick: () => {
          input.value = body.did_you_mean; submit(); } }, body.did_you_mean), "?"));
    }
    if (body.relaxed) {
      parts.push(el("span", { class: "note" }, "Nothing matched as typed; relaxed to “",
        body.query_used || "", "”."));
    }
    if (body.rules_applied && body.rules_applied.length) {
      parts.push(el("span", { class: "note rules-applied" }, "Rules applied: ",
        body.rules_applied.map((r) => (r.name || "") + " (#" + r.id + ")"
          + (r.effects && r.effects.length ? ": " + r.effects.join("; ") : "")).join(" · ")));
    }
    for (const part of parts) summary.append(part, " ");
  }

  // A range's `to` is exclusive and `max_price` inclusive; prices are in whole cents, so the
  // filter stops one cent below `to` and selects exactly the products the range counted.
  function centBelow(to) {
    if (to === null || to === undefined || to === "") return "";
    return ((Math.round(parseFloat(to) * 100) - 1) / 100).toFixed(2);
  }

  function facetButton(label, count, pressed, onclick) {
    return el("li", {}, el("button", { type: "button", class: "facet", "aria-pressed": String(pressed), onclick: onclick },
      label, el("span", { class: "count", text: " " + count })));
  }

  function refine(change) {
    change();
    state.page = 1;
    search();
  }

  function renderFacets(facets) {
    facetsBox.replaceChildren(el("h2", { text: "Filters" }));
    const groups = [];
    const categories = (facets.categories || []).map((c) => facetButton(c.name, c.count,
      state.category === String(c.id),
      () => refine(() => { state.category = state.category === String(c.id) ? "" : String(c.id); })));
    groups.push(["Category", categories]);
    const brands = (facets.brands || []).map((b) => facetButton(b.name, b.count,
      state.brands.includes(b.name),
      () => refine(() => {
        state.brands = state.brands.includes(b.name)
          ? state.brands.filter((x) => x !== b.name) : state.brands.concat([b.name]);
      })));
    groups.push(["Brand", brands]);
    const prices = (facets.price_ranges || []).filter((p) => p.count > 0).map((p) => {
      const label = p.from === null ? "under " + p.to : p.to === null ? p.from + " and up" : p.from + " – " + p.to;
      const upTo = centBelow(p.to);
      const on = state.min_price === (p.from || "") && state.max_price === upTo;
      return facetButton(label, p.count, on, () => refine(() => {
        state.min_price = on ? "" : (p.from || "");
        state.max_price = on ? "" : upTo;
      }));
    });
    groups.push(["Price", prices]);
    groups.push(["Availability", [facetButton(state.store_id ? "In stock at this store" : "In stock",
      facets.in_stock || 0, state.in_stock === "true",
      () => refine(() => { state.in_stock = state.in_stock === "true" ? "" : "true"; }))]]);
    for (const [name, items] of groups) {
      if (!items.length) continue;
      facetsBox.append(el("h3", { text: name }), el("ul", { class: "facets" }, ...items));
    }
  }

  function explainNode(value) {
    if (value === null || value === undefined) return el("p", { text: "—" });
    if (typeof value !== "object") return el("p", { text: String(value) });
    if (Array.isArray(value)) {
      return el("ul", {}, ...value.map((item) => el("li", {}, typeof item === "object" ? explainNode(item) : String(item))));
    }
    const dl = el("dl");
    for (const [key, item] of Object.entries(value)) {
      dl.append(el("dt", { text: key.replace(/_/g, " ") }), el("dd", {}, explainNode(item)));
    }
    return dl;
  }

  function isEmpty(value) {
    return value === null || value === undefined || (Array.isArray(value) && !value.length)
      || (typeof value === "object" && !Array.isArray(value) && !Object.keys(value).length);
  }

  /* The API's explanation: its sentences first, then the details that are not empty. */
  function explanation(explain) {
    if (explain === undefined) {
      return el("p", { text: "No explanation: this API did not return `explain` for the session." });
    }
    if (explain === null || typeof explain !== "object" || Array.isArray(explain)) return explainNode(explain);
    const box = el("div");
    if (Array.isArray(explain.summary) && explain.summary.length) {
      box.append(el("ul", { class: "summary" }, ...explain.summary.map((line) => el("li", { text: line }))));
    }
    const details = {};
    for (const [key, item] of Object.entries(explain)) {
      if (key !== "summary" && !isEmpty(item)) details[key] = item;
    }
    if (Object.keys(details).length) box.append(explainNode(details));
    return box;
  }

  function renderResults(body) {
    results.replaceChildren();
    const offset = (state.page - 1) * PAGE_SIZE;
    results.setAttribute("start", String(offset + 1));
    body.results.forEach((hit, i) => {
      const position = offset + i + 1;
      const whyId = "why-" + hit.id;
      const stock = state.store_id
        ? (hit.inventory_quantity > 0 ? hit.inventory_quantity + " in stock at this store" : "Out of stock at this store")
        : (hit.in_stock ? "In stock" : "Out of stock everywhere");
      const why = el("div", { class: "why", id: whyId, hidden: true },
        explanation(hit.explain));
      const whyButton = el("button", { type: "button", class: "why-toggle", id: "why-btn-" + hit.id,
        "aria-expanded": "false", "aria-controls": whyId,
        onclick: () => {
          const open = whyButton.getAttribute("aria-expanded") !== "true";
          whyButton.setAttribute("aria-expanded", String(open));
          why.hidden = !open;
        } }, "Why here?");
      const pinInput = el("input", { type: "number", min: 1, max: 100, value: 1, class: "pin-position",
                                     id: "pin-pos-" + hit.id });
      const item = el("li", { class: "hit", dataset: { productId: String(hit.id), position: String(position) } },
        hit.image_url ? el("img", { src: hit.image_url, alt: "", width: 72, height: 72, class: "thumb" })
                      : el("div", { class: "thumb none", "aria-hidden": "true" }),
        el("div", { class: "body" },
          el("h3", { tabindex: "-1", class: "title", text: hit.title }),
          el("p", { class: "meta" },
            el("span", { class: "position", text: "#" + position }),
            hit.brand ? el("span", { class: "brand", text: hit.brand }) : null,
            el("span", { class: "price", text: hit.price }),
            el("span", { class: "stock" + (stock.startsWith("Out") ? " out" : ""), text: stock }),
            hit.sku ? el("span", { class: "sku muted", text: "SKU " + hit.sku }) : null),
          el("div", { class: "actions" },
            whyButton,
            el("label", { for: "pin-pos-" + hit.id, text: "Position" }),
            pinInput,
            el("button", { type: "button", class: "pin", id: "pin-" + hit.id,
              onclick: () => act("pin", hit, parseInt(pinInput.value, 10)) }, "Pin"),
            el("button", { type: "button", class: "hide", id: "hide-" + hit.id,
              onclick: () => act("hide", hit) }, "Hide")),
          why));
      results.append(item);
    });
    if (!body.results.length) {
      results.append(el("li", { class: "empty", text: "No results." }));
    }
  }

  function renderPager(count) {
    pager.replaceChildren();
    const pages = Math.max(Math.ceil(Math.min(count, 10000) / PAGE_SIZE), 1);
    // After a page turn focus goes to the results' heading: the button pressed may be disabled
    // now, and the next Tab reaches the new page's first result.
    const go = (page) => () => { state.page = page; lastFocus = "results-heading"; search(); };
    pager.append(
      el("button", { type: "button", id: "page-prev", disabled: state.page <= 1, onclick: go(state.page - 1) }, "Previous"),
      el("span", { class: "page-of", text: " Page " + state.page + " of " + pages + " " }),
      el("button", { type: "button", id: "page-next", disabled: state.page >= pages, onclick: go(state.page + 1) }, "Next"));
  }

  /* ---- pin and hide: one rule per click, for this exact query ---- */
  async function act(kind, hit, position) {
    if (!state.q) {
      status.textContent = "Type a query first: pins and hides apply to a query.";
      return;
    }
    if (kind === "pin" && !(position >= 1 && position <= 100)) {
      status.textContent = "A pin position is a whole number from 1 to 100.";
      return;
    }
    const storeOnly = scopeStore.checked && state.store_id;
    const consequence = { pin: [], hide: [], boost: [], replace_query: null };
    if (kind === "pin") consequence.pin.push({ product_id: hit.id, position: position });
    else consequence.hide.push(hit.id);
    const rule = {
      name: (kind === "pin" ? "Pin #" + hit.id + " at " + position : "Hide #" + hit.id) + " for “" + state.q + "”"
        + (storeOnly ? " at store " + state.store_id : ""),
      enabled: true,
      priority: 0,
      condition: { query: state.q, match: "exact" },
      stores: storeOnly ? [parseInt(state.store_id, 10)] : null,
      starts_at: localToIso(scopeFrom.value),
      ends_at: localToIso(scopeUntil.value),
      consequence: consequence,
    };
    try {
      const saved = await api("/api/search/rules/", { method: "POST", body: rule });
      status.textContent = (kind === "pin" ? "Pinned" : "Hid") + " “" + hit.title + "” (rule #" + saved.id + ").";
    } catch (error) {
      status.textContent = "Not saved: " + errorText(error);
      return;
    }
    if (kind === "pin" && (state.sort === "" || state.sort === "relevance")) state.page = Math.ceil(position / PAGE_SIZE);
    const message = status.textContent;
    await search(kind === "pin" ? hit.id : null);
    status.textContent = message + " " + status.textContent;
    if (kind === "hide") input.focus();
  }

  fromUrl();
  if (state.q || window.location.search) search();
})();
