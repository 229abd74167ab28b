/* The console's helpers: calls to Aisle's JSON API with the session, and DOM building that
   only ever sets text (never HTML), so titles and queries cannot become markup. */
"use strict";

window.Console = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || "Request failed (" + status + ").");
      this.status = status;
      this.code = error.code || "error";
      this.details = error.details || {};
    }
  }

  async function api(path, options) {
    options = options || {};
    const headers = { Accept: "application/json" };
    const init = { method: options.method || "GET", headers: headers, credentials: "same-origin" };
    if (init.method !== "GET") {
      headers["X-CSRFToken"] = csrf;
    }
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) {
      throw new ApiError(response.status, body);
    }
    return body;
  }

  function el(tag, attrs) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of Array.prototype.slice.call(arguments, 2)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function errorText(error) {
    const fields = Object.entries(error.details || {})
      .map(([field, messages]) => field + ": " + [].concat(messages).map(
        (m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" "))
      .join("; ");
    return error.message + (fields ? " (" + fields + ")" : "");
  }

  function localToIso(value) {
    return value ? new Date(value).toISOString() : null;
  }

  return { api: api, el: el, errorText: errorText, localToIso: localToIso, ApiError: ApiError };
})();
