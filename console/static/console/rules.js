/* Rules: list, create, edit, enable/disable and delete query rules through the rules API. */
"use strict";

(function () {
  const { api, el, errorText, localToIso } = window.Console;
  const status = document.getElementById("status");
  const form = document.getElementById("rule-form");
  const body = document.querySelector("#rules-table tbody");
  const $ = (id) => document.getElementById(id);
  let editing = null; // the rule being edited, whole (its boosts and replacement are kept)

  function isoToLocal(value) {
    if (!value) return "";
    const d = new Date(value);
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function describe(rule) {
    const c = rule.consequence || {};
    const parts = [];
    for (const pin of c.pin || []) parts.push("pin #" + pin.product_id + " at " + pin.position);
    for (const id of c.hide || []) parts.push("hide #" + id);
    for (const boost of c.boost || []) parts.push("boost " + JSON.stringify(boost.filter) + " ×" + boost.factor);
    if (c.replace_query) parts.push("search “" + c.replace_query + "” instead");
    return parts.join("; ") || "nothing";
  }

  function parseIds(text) {
    return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => Number(s));
  }

  function parsePins(text) {
    return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      const [id, position] = s.split("@").map((x) => Number((x || "").trim()));
      return { product_id: id, position: position };
    });
  }

  // Every rule, a page of 200 at a time along the API's `next` links. Only their path is
  // fetched: behind a proxy the absolute link may name another scheme or host than the page's.
  async function allRules() {
    const rules = [];
    let path = "/api/search/rules/?page_size=200";
    while (path) {
      const page = await api(path);
      rules.push(...page.results);
      const next = page.next ? new URL(page.next, window.location.href) : null;
      path = next ? next.pathname + next.search : null;
    }
    return rules;
  }

  let loads = 0; // a later load's list wins over an earlier one still on its way

  async function load() {
    const mine = ++loads;
    let rules;
    try {
      rules = await allRules();
    } catch (error) {
      if (mine === loads) status.textContent = "Could not load rules: " + errorText(error);
      return;
    }
    if (mine !== loads) return;
    body.replaceChildren();
    for (const rule of rules) {
      const window_ = (rule.starts_at ? "from " + new Date(rule.starts_at).toLocaleString() : "")
        + (rule.ends_at ? " until " + new Date(rule.ends_at).toLocaleString() : "") || "always";
      let confirmDelete = false;
      const del = el("button", { type: "button", class: "danger", "aria-label": "Delete rule " + rule.id,
        onclick: async () => {
          if (!confirmDelete) {
            confirmDelete = true;
            del.textContent = "Confirm delete";
            return;
          }
          try {
            await api("/api/search/rules/" + rule.id + "/", { method: "DELETE" });
            status.textContent = "Deleted rule #" + rule.id + ".";
          } catch (error) {
            status.textContent = "Not deleted: " + errorText(error);
          }
          load();
        } }, "Delete");
      body.append(el("tr", { id: "rule-" + rule.id },
        el("td", { text: String(rule.id) }),
        el("td", {}, rule.name, ...(rule.warnings || []).map((w) => el("p", { class: "warning", text: typeof w === "string" ? w : JSON.stringify(w) }))),
        el("td", { text: rule.condition.query + " (" + rule.condition.match + ")" }),
        el("td", { text: rule.stores ? rule.stores.join(", ") : "all" }),
        el("td", { text: window_ }),
        el("td", { text: describe(rule) }),
        el("td", { text: rule.enabled ? "yes" : "no" }),
        el("td", { class: "shortcuts" },
          el("button", { type: "button", "aria-label": (rule.enabled ? "Disable" : "Enable") + " rule " + rule.id,
            onclick: async () => {
              try {
                await api("/api/search/rules/" + rule.id + "/", { method: "PATCH", body: { enabled: !rule.enabled } });
                status.textContent = (rule.enabled ? "Disabled" : "Enabled") + " rule #" + rule.id + ".";
              } catch (error) {
                status.textContent = "Not changed: " + errorText(error);
              }
              load();
            } }, rule.enabled ? "Disable" : "Enable"),
          el("button", { type: "button", "aria-label": "Edit rule " + rule.id, onclick: () => edit(rule) }, "Edit"),
          del)));
    }
    if (!rules.length) body.append(el("tr", {}, el("td", { colspan: 8, text: "No rules yet." })));
  }

  function edit(rule) {
    editing = rule;
    $("rule-form-heading").textContent = "Edit rule #" + rule.id;
    $("rule-save").textContent = "Save rule";
    $("rule-cancel").hidden = false;
    $("rule-name").value = rule.name;
    $("rule-query").value = rule.condition.query;
    $("rule-match").value = rule.condition.match;
    $("rule-priority").value = rule.priority;
    $("rule-pins").value = (rule.consequence.pin || []).map((p) => p.product_id + "@" + p.position).join(", ");
    $("rule-hides").value = (rule.consequence.hide || []).join(", ");
    for (const option of $("rule-stores").options) option.selected = (rule.stores || []).includes(Number(option.value));
    $("rule-starts").value = isoToLocal(rule.starts_at);
    $("rule-ends").value = isoToLocal(rule.ends_at);
    $("rule-enabled").checked = rule.enabled;
    $("rule-name").focus();
  }

  function reset() {
    editing = null;
    form.reset();
    $("rule-form-heading").textContent = "New rule";
    $("rule-save").textContent = "Create rule";
    $("rule-cancel").hidden = true;
  }

  $("rule-cancel").addEventListener("click", reset);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const stores = Array.from($("rule-stores").selectedOptions).map((o) => Number(o.value));
    const previous = editing ? editing.consequence : {};
    const rule = {
      name: $("rule-name").value.trim(),
      enabled: $("rule-enabled").checked,
      priority: Number($("rule-priority").value || 0),
      condition: { query: $("rule-query").value.trim(), match: $("rule-match").value },
      stores: stores.length ? stores : null,
      starts_at: localToIso($("rule-starts").value),
      ends_at: localToIso($("rule-ends").value),
      consequence: { pin: parsePins($("rule-pins").value), hide: parseIds($("rule-hides").value),
                     boost: previous.boost || [], replace_query: previous.replace_query || null },
    };
    try {
      const saved = editing
        ? await api("/api/search/rules/" + editing.id + "/", { method: "PUT", body: rule })
        : await api("/api/search/rules/", { method: "POST", body: rule });
      status.textContent = (editing ? "Saved" : "Created") + " rule #" + saved.id + ".";
      reset();
    } catch (error) {
      status.textContent = "Not saved: " + errorText(error);
      return;
    }
    load();
  });

  const query = new URLSearchParams(window.location.search).get("query");
  if (query) {
    $("rule-query").value = query;
    $("rule-name").value = "Rule for “" + query + "”";
  }
  load();
})();
