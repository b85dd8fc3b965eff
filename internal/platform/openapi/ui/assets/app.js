// The API documentation page: fetches the OpenAPI document next to the page and renders it.
// Plain DOM calls only (no innerHTML), so nothing in the document can inject markup.
'use strict';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];
const CONSTRAINTS = ['format', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'pattern', 'default'];

// el builds an element: el('td', {class: 'x'}, 'text', child, …). Strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// resolve follows a local $ref ("#/components/schemas/User") and returns [schema, name].
function resolve(doc, schema) {
  if (!schema || !schema.$ref) return [schema || {}, null];
  const target = schema.$ref.replace(/^#\//, '').split('/').reduce((node, key) => node && node[key], doc);
  return [target || {}, schema.$ref.split('/').pop()];
}

function typeLabel(schema) {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  return type || (schema.anyOf || schema.oneOf ? '' : 'any');
}

function constraintText(schema) {
  return CONSTRAINTS.filter((k) => schema[k] !== undefined).map((k) => `${k}: ${JSON.stringify(schema[k])}`).join(', ');
}

// schemaView renders a schema as a nested list; seen stops recursive types.
function schemaView(doc, raw, seen = new Set()) {
  const [schema, name] = resolve(doc, raw);
  if (name && seen.has(name)) return el('span', {class: 'type'}, `${name} (recursive)`);
  const inner = name ? new Set([...seen, name]) : seen;
  const head = el('span', {class: 'type'}, name ? `${name} ` : '', typeLabel(schema));
  const extra = constraintText(schema);
  const parts = [head, extra ? el('span', {class: 'constraint'}, ` ${extra}`) : null];
  if (raw && raw.description && raw !== schema) parts.push(el('span', {class: 'desc'}, ` — ${raw.description}`));
  if (schema.description) parts.push(el('span', {class: 'desc'}, ` — ${schema.description}`));
  const variants = schema.anyOf || schema.oneOf;
  if (variants) {
    parts.push(el('ul', {}, variants.map((v) => el('li', {}, 'one of: ', schemaView(doc, v, inner)))));
  }
  if (schema.items) parts.push(el('ul', {}, el('li', {}, 'items: ', schemaView(doc, schema.items, inner))));
  if (schema.properties) {
    const required = new Set(schema.required || []);
    parts.push(el('ul', {}, Object.entries(schema.properties).map(([prop, sub]) =>
      el('li', {}, el('code', {class: 'prop'}, prop), required.has(prop) ? el('span', {class: 'req'}, '*') : null,
        ': ', schemaView(doc, sub, inner)))));
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    parts.push(el('ul', {}, el('li', {}, 'values: ', schemaView(doc, schema.additionalProperties, inner))));
  }
  return el('div', {class: 'schema'}, parts);
}

// example builds a sample value for a schema, to start the "Try it" body from.
function example(doc, raw, depth = 0) {
  const [schema] = resolve(doc, raw);
  if (depth > 5) return null;
  if (schema.examples && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf || schema.oneOf) return example(doc, (schema.anyOf || schema.oneOf)[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out = {};
      for (const [prop, sub] of Object.entries(schema.properties || {})) out[prop] = example(doc, sub, depth + 1);
      return out;
    }
    case 'array': return [example(doc, schema.items, depth + 1)];
    case 'integer': case 'number': return schema.minimum ?? schema.exclusiveMinimum ?? 0;
    case 'boolean': return false;
    case 'string':
      if (schema.format === 'email') return 'user@example.com';
      if (schema.format === 'date-time') return new Date().toISOString();
      return 'string';
    default: return null;
  }
}

function parametersTable(doc, params) {
  return el('table', {class: 'params'},
    el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'In'), el('th', {}, 'Schema'), el('th', {}, 'Description')),
    params.map((p) => el('tr', {},
      el('td', {}, el('code', {}, p.name), p.required ? el('span', {class: 'req'}, '*') : null),
      el('td', {}, p.in), el('td', {}, schemaView(doc, p.schema)), el('td', {}, p.description || ''))));
}

function responsesView(doc, responses) {
  return Object.entries(responses).map(([status, res]) => {
    const [body] = resolve(doc, res);
    const content = Object.entries(body.content || {});
    return el('details', {class: `response status-${status[0]}xx`},
      el('summary', {}, el('strong', {}, status), ' ', body.description || ''),
      content.length ? content.map(([type, media]) => el('div', {}, el('div', {class: 'muted'}, type), schemaView(doc, media.schema)))
        : el('p', {class: 'muted'}, 'No body.'));
  });
}

// tryIt is a form that sends the operation from the page's origin and shows the answer.
function tryIt(doc, method, path, op) {
  const params = op.parameters || [];
  const inputs = params.map((p) => ({p, input: el('input', {placeholder: p.name, value: example(doc, p.schema) ?? '',
    'aria-label': p.name})}));
  const media = op.requestBody && op.requestBody.content['application/json'];
  const body = media ? el('textarea', {rows: 8, spellcheck: 'false', 'aria-label': 'Request body'}) : null;
  if (body) body.value = JSON.stringify(example(doc, media.schema), null, 2);
  const output = el('pre', {class: 'output', hidden: true});

  async function send(event) {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    const headers = {Accept: 'application/json'};
    for (const {p, input} of inputs) {
      const value = input.value.trim();
      if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(value));
      else if (value === '') continue;
      else if (p.in === 'query') query.append(p.name, value);
      else if (p.in === 'header') headers[p.name] = value;
    }
    if (query.toString()) url += `?${query}`;
    const token = document.getElementById('token').value.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body) headers['Content-Type'] = 'application/json';
    output.hidden = false;
    output.textContent = `${method.toUpperCase()} ${url} …`;
    try {
      const res = await fetch(url, {method: method.toUpperCase(), headers, body: body ? body.value : undefined,
        credentials: 'same-origin'});
      const text = await res.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: show as is */ }
      output.textContent = `${res.status} ${res.statusText}\n${res.headers.get('content-type') || ''}\n\n${shown}`;
    } catch (err) {
      output.textContent = `Request failed: ${err.message}`;
    }
  }

  return el('form', {class: 'try', onsubmit: send},
    inputs.map(({p, input}) => el('label', {}, el('span', {}, `${p.name} (${p.in})`), input)),
    body ? el('label', {}, el('span', {}, 'Body (JSON)'), body) : null,
    el('button', {type: 'submit'}, 'Send'), output);
}

function operationView(doc, method, path, op) {
  const text = [method, path, op.summary, op.operationId, ...(op.tags || [])].join(' ').toLowerCase();
  const id = op.operationId || `${method}-${path}`;
  return el('details', {class: `op ${method}`, id, 'data-search': text, open: location.hash === `#${id}`},
    el('summary', {},
      el('span', {class: 'method'}, method.toUpperCase()), el('code', {class: 'path'}, path),
      el('span', {class: 'summary'}, op.summary || ''),
      op.security && op.security.length ? el('span', {class: 'lock', title: 'Requires the session cookie or a Bearer token'}, 'auth') : null),
    el('div', {class: 'body'},
      op.description ? el('p', {}, op.description) : null,
      op.parameters ? [el('h4', {}, 'Parameters'), parametersTable(doc, op.parameters)] : null,
      op.requestBody ? [el('h4', {}, 'Request body'),
        schemaView(doc, (op.requestBody.content['application/json'] || {}).schema)] : null,
      el('h4', {}, 'Responses'), responsesView(doc, op.responses || {}),
      el('h4', {}, 'Try it'), tryIt(doc, method, path, op)));
}

function render(doc) {
  document.title = `${doc.info.title} — API`;
  document.getElementById('title').textContent = doc.info.title;
  document.getElementById('version').textContent = doc.info.version;
  document.getElementById('description').textContent = doc.info.description || '';

  const groups = new Map((doc.tags || []).map((t) => [t.name, {tag: t, ops: []}]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS.filter((m) => item[m])) {
      const name = (item[method].tags || ['other'])[0];
      if (!groups.has(name)) groups.set(name, {tag: {name}, ops: []});
      groups.get(name).ops.push(operationView(doc, method, path, item[method]));
    }
  }
  const main = document.getElementById('operations');
  main.replaceChildren(...[...groups.values()].filter((g) => g.ops.length).map(({tag, ops}) =>
    el('section', {}, el('h2', {}, tag.name), tag.description ? el('p', {class: 'muted'}, tag.description) : null, ops)));
  // A link to #operationId opens that operation.
  const linked = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (linked) linked.scrollIntoView();
}

function filter(term) {
  term = term.trim().toLowerCase();
  for (const section of document.querySelectorAll('main section')) {
    let visible = 0;
    for (const op of section.querySelectorAll('details.op')) {
      op.hidden = term !== '' && !op.dataset.search.includes(term);
      if (!op.hidden) visible++;
    }
    section.hidden = visible === 0;
  }
}

document.addEventListener('DOMContentLoaded', async () => {
  document.getElementById('filter').addEventListener('input', (e) => filter(e.target.value));
  try {
    const res = await fetch('api-docs/openapi.json', {headers: {Accept: 'application/json'}});
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    render(await res.json());
  } catch (err) {
    document.getElementById('operations').replaceChildren(el('p', {class: 'error'}, `Could not load the API document: ${err.message}`));
  }
});
